"""Issue 11: traps found by trying the library as a new user.

1. ``Layer`` fields after ``norm`` are keyword-only and validated at construction; errors
   name the field the user wrote.
2. Norms, duals, LMOs, Newton-Schulz and the nuclear-norm bounds are right (finite, nonzero,
   homogeneous) for matrices whose squared entries overflow or underflow, on both backends.
3. Complex input and non-finite ``ns_scalar_map`` arguments raise instead of being
   silently truncated or propagated.
4. The package cites what it ships, not the spec files it does not.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nalr_theory.geometry as geometry
from nalr_theory.geometry import (
    Layer,
    Layout,
    as_layers,
    get_norm,
    newton_schulz,
    ns_coefficients,
    ns_scalar_map,
    nuclear_norm_bounds,
)
from nalr_theory.geometry import _kernels as kernels
from nalr_theory.geometry.nuclear_quadrature import nuclear_norm_lower

from .strategies import NONZERO_KINDS, SPECTRAL_NORMS, matrices, norm_and_matrix

REL = 1e-12


def raises(prefix):
    return pytest.raises(ValueError, match=rf"^{re.escape(prefix)}")


# --- 1. Layer: keyword-only fields, validated at construction --------------------------------

def test_fields_after_norm_are_keyword_only():
    with pytest.raises(TypeError):
        Layer("a", (6, 4), "spectral", "ns5")  # used to make "ns5" the group, silently
    layer = Layer("a", (6, 4), "spectral", lmo_method="ns5")
    assert layer.group_name == "spectral" and layer.lmo_method == "ns5"
    assert Layer("a", (6, 4), "spectral", group="hidden", radius=2.0).group_name == "hidden"


@pytest.mark.parametrize("group", ["", 3, ("a",)])
def test_group_is_a_non_empty_string_or_none(group):
    with raises("group:"):
        Layer("a", (6, 4), group=group)


@pytest.mark.parametrize("radius", [0.0, -1.0, np.nan, np.inf, "1", True])
def test_radius_is_positive_or_none(radius):
    with raises("radius:"):
        Layer("a", (6, 4), radius=radius)


@pytest.mark.parametrize("method", ["ns7", "SVD", (1.0, 2.0), np.ones((2, 4))])
def test_lmo_method_is_validated_at_construction(method):
    with raises("lmo_method:"):
        Layer("a", (6, 4), lmo_method=method)
    with raises("lmo_method:"):
        get_norm("spectral", (6, 4), lmo_method=method)


def test_newton_schulz_on_a_non_spectral_layer():
    with raises("lmo_method:"):
        Layer("a", (6, 4), "frobenius", lmo_method="ns5")


@pytest.mark.parametrize("shape", [(0, 4), (6,), (6, 4, 1), (6.5, 4), (True, 4), "ab", 6, None])
def test_shape_is_a_pair_of_positive_ints(shape):
    with raises("shape:"):
        Layer("a", shape)


def test_shape_is_normalised_to_a_tuple_of_ints():
    layer = Layer("a", [np.int64(6), 4])
    assert layer.shape == (6, 4) and all(type(d) is int for d in layer.shape)
    hash(layer)


@pytest.mark.parametrize("name", ["", 3, None])
def test_name_is_a_non_empty_string(name):
    with raises("name:"):
        Layer(name, (6, 4))


def test_unknown_norm_names_the_norm_and_the_layer():
    with pytest.raises(ValueError, match=r"^norm: unknown norm 'foo' for layer 'a'; known: spectral, "):
        Layer("a", (6, 4), "foo")
    with raises("norm: unknown norm 'foo' for layer 'a'; known:"):
        Layout([("a", (6, 4), "foo")])
    with raises("shape:"):  # a vector norm on a matrix layer
        Layer("a", (6, 4), "l2")


def test_as_layers_takes_two_or_three_item_tuples_only():
    assert as_layers([("a", (6, 4)), ("b", (4, 1), "l2")])[1].norm == "l2"
    with pytest.raises(ValueError, match=r"^layers\[0\]: .*keyword") as info:
        as_layers([("a", (6, 4), "spectral", "hidden")])
    assert "group" in str(info.value) and "lmo_method" in str(info.value)
    with raises("layers[1]:"):
        as_layers([("a", (6, 4)), 5])
    with raises("layers[0]:"):
        as_layers([{"name": "a", "shape": (6, 4), "grop": "x"}])


def test_as_layers_and_layout_prefixes():
    with raises("layers: duplicate"):
        Layout([("a", (2, 3)), ("a", (2, 3))])
    with raises("layers: at least one"):
        Layout([])
    with raises("shape:"):
        Layout([("a", (0, 3))])
    with raises("name:"):
        as_layers([("", (2, 3))])
    with raises("group:"):
        as_layers([{"name": "a", "shape": (2, 3), "group": ""}])


# --- 2. scale robustness -------------------------------------------------------------------

#: exact (powers of two) and rounded scalings whose squared entries overflow or underflow
SCALES = [2.0**531, 1e160, 2.0**-565, 1e-170]
BIG_SCALES = [2.0**531, 1e160]


def close(value, expected, scale, rel=REL):
    difference = np.max(np.abs(np.asarray(value, dtype=float) - np.asarray(expected, dtype=float)))
    return bool(np.all(np.isfinite(value))) and difference <= rel * scale


def lmo_tolerance(name, G):
    # the polar factor is conditioned by 1 / (smallest kept singular value): allow for the
    # rounding LAPACK's own rescaling makes at extreme scales
    if get_norm(name, G.shape).base != "spectral":
        return REL
    s = np.linalg.svd(G, compute_uv=False)
    kept = s[s > geometry.rank_tolerance(G.shape) * s[0]]
    return REL * s[0] / kept[-1]


@given(case=norm_and_matrix(kinds=NONZERO_KINDS), c=st.sampled_from(SCALES))
@settings(max_examples=300)
def test_norms_duals_and_lmos_are_homogeneous_at_extreme_scales(case, c):
    name, shape, G = case
    norm = get_norm(name, shape)
    primal, dual, lmo = norm.norm(G), norm.dual(G), norm.lmo(G)
    assert primal > 0 and dual > 0
    H = c * G
    coefficients = norm.ns_coefficients
    args = (norm.code, norm.radius)
    tolerance = lmo_tolerance(name, G)
    # reference
    assert close(norm.norm(H), c * primal, c * primal)
    assert close(norm.dual(H), c * dual, c * dual)
    assert close(norm.lmo(H), lmo, norm.radius, tolerance)
    assert close(norm.dual_estimate(H), c * dual, c * dual, 1e-11)
    # numba twin
    assert close(kernels.primal_norm(*args, H), c * primal, c * primal)
    assert close(kernels.dual_norm(*args, H), c * dual, c * dual)
    assert close(kernels.lmo(*args, H, coefficients, norm.ns_eps), lmo, norm.radius, tolerance)


@given(G=matrices(kinds=NONZERO_KINDS), c=st.sampled_from(SCALES), axis=st.sampled_from([0, 1]))
def test_zero_lines_stay_zero_and_others_are_unit(G, c, axis):
    # col_norm / row_norm LMO on an extreme-scale matrix with one zeroed column / row
    name = "col_norm" if axis == 0 else "row_norm"
    H = c * G
    if axis == 0:
        H[:, 0] = 0.0
    else:
        H[0, :] = 0.0
    norm = get_norm(name)
    for D in (norm.lmo(H), kernels.lmo(norm.code, 1.0, H, norm.ns_coefficients, norm.ns_eps)):
        lengths = np.sqrt(np.sum(D * D, axis=axis))
        expected = (np.max(np.abs(H), axis=axis) > 0).astype(float)
        np.testing.assert_allclose(lengths, expected, rtol=1e-14, atol=0)


def test_mixed_scale_columns():
    G = np.array([[1e160, 1e-170, 1.0], [2e160, -3e-170, 0.0]])
    expected = np.array([np.sqrt(5.0) * 1e160, np.sqrt(10.0) * 1e-170, 1.0])
    for name, axis in (("col_norm", 0), ("row_norm", 1)):
        norm = get_norm(name)
        H = G if axis == 0 else G.T.copy()
        lmo = norm.lmo(H)
        twin = kernels.lmo(norm.code, 1.0, H, norm.ns_coefficients, norm.ns_eps)
        for D in (lmo, twin):
            np.testing.assert_allclose(np.sqrt(np.sum(D * D, axis=axis)), 1.0, rtol=1e-14)
        assert norm.norm(H) == pytest.approx(expected.max(), rel=1e-14)
        assert norm.dual(H) == pytest.approx(expected.sum(), rel=1e-14)
        assert kernels.primal_norm(norm.code, 1.0, H) == pytest.approx(expected.max(), rel=1e-14)
        assert kernels.dual_norm(norm.code, 1.0, H) == pytest.approx(expected.sum(), rel=1e-14)


def test_frobenius_beyond_the_largest_square():
    # ||G||_F itself overflows: inf is the right answer, not an error or nan
    G = np.full((3, 3), 1e308)
    assert get_norm("frobenius").norm(G) == np.inf
    assert kernels.primal_norm(get_norm("frobenius").code, 1.0, G) == np.inf
    # the LMO is still defined: every entry of -G / ||G||_F
    direction = newton_schulz(G, "ns5")
    assert np.all(np.isfinite(direction)) and np.linalg.norm(direction, 2) > 0.5


@given(G=matrices(kinds=NONZERO_KINDS), c=st.sampled_from(BIG_SCALES),
       method=st.sampled_from(["ns5", "ns_cubic"]))
def test_newton_schulz_at_huge_scales(G, c, method):
    # eps is absolute: NS(c G) = NS(G) with eps / c (exactly so for c a power of two)
    coefficients = ns_coefficients(method)
    expected = newton_schulz(G, method, eps=1e-7 / c)
    rel = REL if np.log2(c) == int(np.log2(c)) else 1e-9
    assert close(newton_schulz(c * G, method), expected, 1.0, rel)
    assert close(kernels.newton_schulz(c * G, coefficients, 1e-7), expected, 1.0, rel)
    assert np.max(np.abs(expected)) > 0


def nuclear(Z):
    return float(np.sum(np.linalg.svd(Z, compute_uv=False)))


@given(Z=matrices(kinds=NONZERO_KINDS), c=st.sampled_from(SCALES))
@settings(max_examples=300)
def test_nuclear_bounds_at_extreme_scales(Z, c):
    exact = nuclear(c * Z)
    # exact scalings reproduce the bounds to rounding; decimal ones perturb the input by
    # one ulp, which the closed forms amplify as much as any perturbation (2e-7, see
    # test_geo_nuclear_quadrature.REPRODUCIBLE). Each backend is compared with itself at
    # scale 1: the two backends round differently, and on nearly rank-deficient Z the closed
    # forms amplify that to ~1e-9 (their agreement is test_geo_nuclear_quadrature's concern)
    rel = REL if np.log2(c) == int(np.log2(c)) else 2e-7
    for bounds, lower_bound in ((nuclear_norm_bounds, nuclear_norm_lower),
                                (kernels.nuclear_norm_bounds, kernels.nuclear_norm_lower)):
        lower, upper = bounds(Z)
        got_lower, got_upper = bounds(c * Z)
        assert np.isfinite(got_lower) and np.isfinite(got_upper) and got_lower > 0
        assert got_lower == pytest.approx(c * lower, rel=rel)
        assert got_upper == pytest.approx(c * upper, rel=rel)
        assert got_lower <= exact * (1 + 1e-9) and got_upper >= exact * (1 - 1e-9)
        assert lower_bound(c * Z) == pytest.approx(c * lower, rel=rel)


@pytest.mark.parametrize("name", ["spectral"] + [n for n in SPECTRAL_NORMS if n != "spectral"])
def test_dual_bounds_at_extreme_scales(name):
    G = np.random.default_rng(0).standard_normal((6, 4))
    norm = get_norm(name, G.shape)
    for c in SCALES:
        lower, upper = norm.dual_bounds(c * G)
        assert lower <= c * norm.dual(G) * (1 + 1e-9) <= upper * (1 + 2e-9)
        assert lower > 0 and np.isfinite(upper)


def test_fast_path_is_unchanged_on_ordinary_inputs():
    # nothing overflows or underflows: the plain formulas, to the last bit
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (3, 5), (17, 9), (64, 64)]:
        G = rng.standard_normal(shape)
        flat = G.ravel()
        assert get_norm("frobenius").norm(G) == np.sqrt(flat.dot(flat))
        assert get_norm("col_norm").dual(G) == np.sum(np.sqrt(np.sum(G * G, axis=0)))
        assert get_norm("row_norm").norm(G) == np.max(np.sqrt(np.sum(G * G, axis=1)))
        assert np.array_equal(get_norm("col_norm").lmo(G), -G * (1.0 / np.sqrt(np.sum(G * G, axis=0))))
        assert np.array_equal(get_norm("frobenius").lmo(G), -G / np.sqrt(flat.dot(flat)))


# --- 3. complex input, non-finite scalar-map input ------------------------------------------

@pytest.mark.parametrize("value", [np.ones((2, 2)) * (1 + 1j), np.ones((2, 2), dtype=complex),
                                   [[1 + 2j, 0.0]], np.complex128(1.0)])
def test_complex_input_is_rejected(value):
    with pytest.raises(ValueError, match=r"^G: complex arrays are not supported"):
        get_norm("spectral").lmo(value)
    with pytest.raises(ValueError, match=r"^X: complex"):
        get_norm("frobenius").norm(value)
    with pytest.raises(ValueError, match=r"^Z: complex"):
        nuclear_norm_bounds(value)
    with pytest.raises(ValueError, match=r"^G: complex"):
        newton_schulz(value)


@pytest.mark.parametrize("s", [np.nan, np.inf, [0.5, np.nan], np.array([[0.1], [-np.inf]])])
def test_scalar_map_rejects_non_finite_input(s):
    with raises("s:"):
        ns_scalar_map(s)


@pytest.mark.parametrize("s", ["a", [0.5 + 1j]])
def test_scalar_map_rejects_non_real_input(s):
    with raises("s:"):
        ns_scalar_map(s)


# --- 4. no citation of spec files the package does not ship ---------------------------------

def test_geometry_cites_what_it_ships():
    folder = pathlib.Path(geometry.__file__).parent
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(folder.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"(GEOMETRY|THEORY|ALGORITHMS)\.md", line)
    ]
    assert not offenders, offenders
