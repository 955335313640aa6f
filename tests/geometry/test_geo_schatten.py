"""The Schatten-q norms (``nalr_theory.geometry.schatten``): the geometry checks every norm
passes (Hoelder, LMO optimality, unit norm, duality, equivalence constants and their
attaining matrices), the end points q = 2 (Frobenius) and q = inf (spectral), the sharp
form, scale robustness, the numba twins and bad input."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import nalr_theory.geometry as geometry
from nalr_theory.geometry import (
    BASE_NORMS,
    Layer,
    SchattenNorm,
    get_norm,
    schatten_constants,
    schatten_lmo,
    schatten_norm,
    schatten_sharp,
)
from nalr_theory.geometry import _kernels as kernels
from nalr_theory.geometry import by_code
from nalr_theory.geometry.schatten import (
    _lmo_from_svd,
    schatten_attaining,
    schatten_dual_exponent,
)

from .strategies import KINDS, NONZERO_KINDS, make_matrix, matrices, shapes

REL = 1e-12
#: the exponents of the twin tests; LMO exponents exclude q = 1, sharp ones need q >= 2
QS = [1.0, 1.5, 2.0, 3.0, 4.0, 8.0, math.inf]
LMO_QS = [q for q in QS if q > 1.0]
SHARP_QS = [q for q in QS if q >= 2.0]
SCALES = [2.0**531, 1e160, 2.0**-565, 1e-170]

exponents = st.sampled_from(QS)
lmo_exponents = st.sampled_from(LMO_QS)
seeds = st.integers(0, 2**32 - 1)


def raises(prefix):
    return pytest.raises(ValueError, match=rf"^{re.escape(prefix)}")


def pair(A, B) -> float:
    return float(np.sum(A * B))


def close(x, y, rel=1e-10):
    return abs(x - y) <= rel * max(1.0, abs(x), abs(y))


def assert_close(value, expected, scale, rel=REL):
    difference = np.max(np.abs(np.asarray(value, dtype=float) - np.asarray(expected, dtype=float)))
    assert np.all(np.isfinite(value)), value
    assert difference <= rel * max(scale, 1e-300), (difference, scale)


def dual(q):
    return schatten_dual_exponent(q)


# --- the GEOMETRY checks: Hoelder, LMO optimality, unit norm, duality -----------------------

@given(A=matrices(), seed=seeds, q=exponents)
def test_hoelder(A, seed, q):
    B = np.random.default_rng(seed).standard_normal(A.shape)
    bound = schatten_norm(A, q) * schatten_norm(B, dual(q))
    assert pair(A, B) <= bound * (1 + 1e-12) + 1e-300
    assert abs(pair(A, B)) <= bound * (1 + 1e-12) + 1e-300


@given(G=matrices(), q=lmo_exponents)
def test_lmo_attains_the_dual_norm_and_has_unit_norm(G, q):
    D = schatten_lmo(G, q)
    assert D.shape == G.shape
    assert close(pair(G, D), -schatten_norm(G, dual(q)))
    if np.any(G != 0):
        assert close(schatten_norm(D, q), 1.0)
    else:
        assert np.all(D == 0)


@given(G=matrices(kinds=NONZERO_KINDS), q=lmo_exponents, seed=seeds)
@settings(max_examples=80)
def test_no_feasible_point_beats_the_lmo(G, q, seed):
    lmo = schatten_lmo(G, q)
    best = pair(G, lmo)
    slack = 1e-10 * max(1.0, abs(best))
    rng = np.random.default_rng(seed)
    m, n = G.shape
    for _ in range(20):
        # random directions, random spectra, and small perturbations of the LMO itself
        D = rng.standard_normal(G.shape)
        D /= schatten_norm(D, q)
        assert pair(G, D) >= best - slack
        U, _ = np.linalg.qr(rng.standard_normal((m, m)))
        V, _ = np.linalg.qr(rng.standard_normal((n, n)))
        spectrum = rng.exponential(size=min(m, n)) ** rng.uniform(0.2, 5)
        D = (U[:, : min(m, n)] * spectrum) @ V[:, : min(m, n)].T
        D /= schatten_norm(D, q)
        assert pair(G, D) >= best - slack
        D = lmo + 1e-3 * rng.standard_normal(G.shape)
        D /= schatten_norm(D, q)
        assert pair(G, D) >= best - slack


@given(G=matrices(kinds=NONZERO_KINDS), q=lmo_exponents)
def test_dual_of_the_dual_is_the_primal(G, q):
    # ||G||_{S_q} = max over the dual ball: attained by the LMO of the dual exponent
    q_star = dual(q)
    if q_star == 1.0:
        return  # the LMO of S_1 is not provided
    D = -schatten_lmo(G, q_star)
    assert close(schatten_norm(D, q_star), 1.0)
    assert close(pair(G, D), schatten_norm(G, q))


@pytest.mark.parametrize("q", QS)
def test_dual_exponent(q):
    q_star = dual(q)
    assert dual(q_star) == pytest.approx(q, rel=1e-15) if math.isfinite(q) else dual(q_star) == q
    if math.isfinite(q) and math.isfinite(q_star):
        assert 1.0 / q + 1.0 / q_star == pytest.approx(1.0, rel=1e-15)
    assert dual(1.0) == math.inf and dual(math.inf) == 1.0 and dual(2.0) == 2.0


# --- monotonicity, invariance -----------------------------------------------------------------

@given(X=matrices(), q1=exponents, q2=exponents)
def test_norm_is_non_increasing_in_q(X, q1, q2):
    low, high = min(q1, q2), max(q1, q2)
    assert schatten_norm(X, high) <= schatten_norm(X, low) * (1 + 1e-12) + 1e-300


@given(X=matrices(kinds=NONZERO_KINDS), q=exponents, seed=seeds)
def test_norm_is_orthogonally_invariant(X, q, seed):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((X.shape[0],) * 2))
    V, _ = np.linalg.qr(rng.standard_normal((X.shape[1],) * 2))
    assert close(schatten_norm(U @ X @ V, q), schatten_norm(X, q), 1e-12)


# --- equivalence constants and their attaining matrices ----------------------------------------

@given(Z=matrices(kinds=NONZERO_KINDS), q=exponents)
def test_equivalence_constants_hold(Z, q):
    a, b, rho = schatten_constants(Z.shape, q)
    frobenius = schatten_norm(Z, 2.0)
    value = schatten_norm(Z, dual(q))
    assert value <= a * frobenius * (1 + 1e-12)
    assert frobenius <= b * value * (1 + 1e-12)
    assert rho == a * b and a >= 1.0 and b >= 1.0


@given(shape=shapes(), q=exponents)
def test_equivalence_constants_are_attained(shape, q):
    a, b, _ = schatten_constants(shape, q)
    attaining = schatten_attaining(shape, q)
    Za, Zb = attaining["a"], attaining["b"]
    assert Za.shape == shape and Zb.shape == shape
    assert close(schatten_norm(Za, dual(q)), a * schatten_norm(Za, 2.0), 1e-12)
    assert close(schatten_norm(Zb, 2.0), b * schatten_norm(Zb, dual(q)), 1e-12)


@given(shape=shapes())
def test_constants_match_the_frobenius_and_spectral_rows(shape):
    assert schatten_constants(shape, 2.0) == (1.0, 1.0, 1.0)
    for q, base in ((2.0, "frobenius"), (math.inf, "spectral")):
        a, b = BASE_NORMS[base].equivalence(shape)
        assert schatten_constants(shape, q) == (a, b, a * b)
        assert get_norm("schatten", shape, q=q).constants() == get_norm(base, shape).constants()
    spectral = BASE_NORMS["spectral"]
    attaining = schatten_attaining(shape, math.inf)
    assert np.array_equal(attaining["a"], spectral.attain_a(shape))
    assert np.array_equal(attaining["b"], spectral.attain_b(shape))


def test_constants_by_hand():
    assert schatten_constants((3, 5), 4.0) == pytest.approx((3**0.25, 1.0, 3**0.25), rel=1e-15)
    assert schatten_constants((4, 4), math.inf) == (2.0, 1.0, 2.0)
    assert schatten_constants((4, 9), 1.0) == (1.0, 2.0, 2.0)
    assert schatten_constants((4, 1), 3.0) == (1.0, 1.0, 1.0)  # a vector: one singular value


# --- end points -------------------------------------------------------------------------------

@given(G=matrices())
def test_q2_is_frobenius_and_qinf_is_spectral(G):
    frobenius, spectral = get_norm("frobenius"), get_norm("spectral")
    assert np.array_equal(schatten_lmo(G, 2.0), frobenius.lmo(G))
    assert np.array_equal(schatten_lmo(G, math.inf), spectral.lmo(G))
    assert schatten_norm(G, 2.0) == frobenius.norm(G)
    assert schatten_norm(G, math.inf) == spectral.norm(G)
    assert schatten_norm(G, 1.0) == spectral.dual(G)
    for q, base in ((2.0, frobenius), (math.inf, spectral)):
        norm = get_norm("schatten", G.shape, q=q)
        assert_close(norm.dual(G), base.dual(G), abs(base.dual(G)))
        assert_close(norm.lmo(G), base.lmo(G), 1.0)


@given(G=matrices(kinds=["gaussian"]))
def test_the_general_formula_agrees_with_the_end_point_branches(G):
    # the interior formula evaluated at the end points: q = 2 and q -> inf
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    tolerance = geometry.rank_tolerance(G.shape)
    assert_close(_lmo_from_svd(U, s, Vt, 2.0, tolerance), schatten_lmo(G, 2.0), 1.0, 1e-12)
    # q = 1e12: t^(1/(q-1)) = 1 - O(1e-12 |log t|) (generic Gaussian: t not tiny)
    assert_close(_lmo_from_svd(U, s, Vt, 1e12, tolerance), schatten_lmo(G, math.inf), 1.0, 1e-9)
    assert_close(schatten_norm(G, 2.0 + 1e-13), schatten_norm(G, 2.0), schatten_norm(G, 2.0), 1e-11)


@given(G=matrices())
def test_sharp_end_points(G):
    at_two = schatten_sharp(G, 2.0)
    assert np.array_equal(at_two, G) and at_two is not G
    assert np.array_equal(schatten_sharp(G, math.inf), -get_norm("spectral").lmo(G))


@given(G=matrices(kinds=["gaussian"]), q=st.sampled_from(SHARP_QS[1:-1]))
def test_sharp_is_the_steepest_descent_direction_of_the_penalty(G, q):
    # D = sharp(G) maximises <G, D> - ||D||_{S_q}^q / q: stationarity along D (the scale)
    # and the closed form <G, D> = ||G||_{S_q*}^q*, ||D||_{S_q}^q = ||G||_{S_q*}^q*
    D = schatten_sharp(G, q)
    value = schatten_norm(G, dual(q)) ** dual(q)
    assert close(pair(G, D), value, 1e-10)
    assert close(schatten_norm(D, q) ** q, value, 1e-10)
    # the direction of the sharp form is the LMO's
    assert_close(-D / schatten_norm(D, q), schatten_lmo(G, q), 1.0, 1e-10)


def test_lmo_and_sharp_by_hand():
    G = np.diag([3.0, 1.0, 0.0])
    # q = 3: q* = 3/2, lmo = -diag(s^(1/2)) / ||s||_{3/2}^(1/2)
    norm = (3.0**1.5 + 1.0) ** (2.0 / 3.0)
    expected = -np.diag([3**0.5, 1.0, 0.0]) / norm**0.5
    np.testing.assert_allclose(schatten_lmo(G, 3.0), expected, rtol=1e-15)
    np.testing.assert_allclose(schatten_sharp(G, 3.0), np.diag([3**0.5, 1.0, 0.0]), rtol=1e-15)
    assert schatten_norm(G, 3.0) == pytest.approx(28.0 ** (1 / 3), rel=1e-15)
    for q in LMO_QS:
        assert np.array_equal(schatten_lmo(np.zeros((2, 3)), q), np.zeros((2, 3)))
    for q in SHARP_QS:
        assert np.array_equal(schatten_sharp(np.zeros((2, 3)), q), np.zeros((2, 3)))
    for q in QS:
        assert schatten_norm(np.zeros((2, 3)), q) == 0.0


# --- scale robustness ---------------------------------------------------------------------------

def lmo_tolerance(G):
    # the singular vectors are conditioned by the gaps of the spectrum: allow, as for the
    # spectral LMO, for the rounding of LAPACK's own rescaling at extreme scales
    s = np.linalg.svd(G, compute_uv=False)
    kept = s[s > geometry.rank_tolerance(G.shape) * s[0]]
    return REL * s[0] / kept[-1]


@given(G=matrices(kinds=NONZERO_KINDS), c=st.sampled_from(SCALES), q=exponents)
@settings(max_examples=150)
def test_homogeneous_at_extreme_scales(G, c, q):
    H = c * G
    primal = schatten_norm(G, q)
    assert close(schatten_norm(H, q), c * primal, REL)
    assert close(kernels.schatten_norm(H, q), c * primal, REL)
    if q > 1.0:
        lmo = schatten_lmo(G, q)
        tolerance = lmo_tolerance(G)
        assert_close(schatten_lmo(H, q), lmo, 1.0, tolerance)
        assert_close(kernels.schatten_lmo(H, q), lmo, 1.0, tolerance)
    if q >= 2.0:
        # sharp(c G) = c^(1/(q-1)) sharp(G)
        factor = c ** (1.0 / (q - 1.0))
        expected = factor * schatten_sharp(G, q)
        scale = float(np.max(np.abs(expected)))
        assert_close(schatten_sharp(H, q), expected, scale, lmo_tolerance(G))
        assert_close(kernels.schatten_sharp(H, q), expected, scale, lmo_tolerance(G))


@pytest.mark.parametrize("c", [1e160, 1e-170, 1e300, 1e-300])
def test_extreme_entries_by_hand(c):
    G = c * np.diag([3.0, 4.0])
    assert schatten_norm(G, 2.0) == pytest.approx(5.0 * c, rel=1e-15)
    assert schatten_norm(G, 3.0) == pytest.approx(91.0 ** (1 / 3) * c, rel=1e-14)
    assert kernels.schatten_norm(G, 3.0) == pytest.approx(91.0 ** (1 / 3) * c, rel=1e-14)
    D = schatten_lmo(G, 3.0)
    assert np.all(np.isfinite(D)) and schatten_norm(D, 3.0) == pytest.approx(1.0, rel=1e-14)


# --- the norm object and get_norm ----------------------------------------------------------------

@given(G=matrices(kinds=NONZERO_KINDS), q=lmo_exponents, radius=st.floats(0.01, 100))
def test_norm_object_and_radius(G, q, radius):
    norm = get_norm("schatten", G.shape, radius=radius, q=q)
    assert isinstance(norm, SchattenNorm) and norm.name == "schatten" and norm.q == q
    assert close(norm.norm(G), schatten_norm(G, q) / radius, 1e-14)
    assert close(norm.dual(G), radius * schatten_norm(G, dual(q)), 1e-14)
    assert_close(norm.lmo(G), radius * schatten_lmo(G, q), radius, 1e-15)
    assert close(norm.dual_estimate(G), norm.dual(G))
    assert close(norm.norm(norm.lmo(G)), 1.0)
    a, b, rho = norm.constants()
    a1, b1, rho1 = schatten_constants(G.shape, q)
    assert (a, b, rho) == (radius * a1, b1 / radius, rho1)
    assert norm.dual(G) <= a * schatten_norm(G, 2.0) * (1 + 1e-12)
    assert schatten_norm(G, 2.0) <= b * norm.dual(G) * (1 + 1e-12)
    attaining = norm.attaining()
    assert close(norm.dual(attaining["a"]), a * schatten_norm(attaining["a"], 2.0), 1e-12)
    assert close(schatten_norm(attaining["b"], 2.0), b * norm.dual(attaining["b"]), 1e-12)


def test_get_norm_parses_q():
    assert get_norm("schatten", q="inf").q == math.inf
    assert get_norm("schatten", q=float("inf")).q == math.inf
    assert get_norm("schatten", q=np.int64(3)).q == 3.0
    assert get_norm("schatten", (4, 3), q=2).shape == (4, 3)
    assert get_norm("schatten", q=1).q == 1.0
    with raises("shape:"):
        get_norm("schatten", q=3.0).constants()
    with raises("G:"):
        get_norm("schatten", (4, 3), q=3.0).lmo(np.ones((3, 4)))


# --- numba twins and by_code --------------------------------------------------------------------

@given(G=matrices(kinds=KINDS), q=exponents)
@settings(max_examples=300)
def test_numba_twins_equal_the_reference(G, q):
    reference = by_code.schatten_norm(G, q)
    assert reference == schatten_norm(G, q)
    assert_close(kernels.schatten_norm(G, q), reference, abs(reference))
    if q > 1.0:
        reference = by_code.schatten_lmo(G, q)
        assert np.array_equal(reference, schatten_lmo(G, q))
        assert_close(kernels.schatten_lmo(G, q), reference, 1.0)
    if q >= 2.0:
        reference = by_code.schatten_sharp(G, q)
        assert np.array_equal(reference, schatten_sharp(G, q))
        assert_close(kernels.schatten_sharp(G, q), reference, float(np.max(np.abs(reference))))


@pytest.mark.parametrize("name", ["schatten_norm", "schatten_lmo", "schatten_sharp"])
def test_twins_have_the_same_names_and_signatures(name):
    reference = inspect.signature(getattr(by_code, name))
    twin = inspect.signature(getattr(kernels, name).py_func)
    assert list(reference.parameters) == list(twin.parameters) == [
        "X" if name == "schatten_norm" else "G", "q"]


@njit(cache=False)
def _a_rule(geo_lmo, geo_sharp, geo_norm, U, A, q, r):
    # how an optimizer rule compiled by numba calls the kernels
    return geo_lmo(U, q), geo_sharp(U, q), geo_norm(A, r)


def test_kernels_compose_inside_numba_with_infinite_exponents():
    rng = np.random.default_rng(1)
    flat = rng.standard_normal(60)
    U = flat[0:24].reshape(4, 6)  # the engine's layout: reshaped slices of a flat vector
    A = flat[24:60].reshape(6, 6)
    for q, r in ((3.0, math.inf), (math.inf, 1.5), (2.0, 1.0)):
        lmo, sharp, value = _a_rule(kernels.schatten_lmo, kernels.schatten_sharp,
                                    kernels.schatten_norm, U, A, q, r)
        assert_close(lmo, schatten_lmo(U, q), 1.0)
        assert_close(sharp, schatten_sharp(U, q), float(np.max(np.abs(sharp))))
        assert_close(value, schatten_norm(A, r), schatten_norm(A, r))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("q", QS)
def test_twins_on_larger_random_shapes(seed, q):
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in rng.integers(1, 40, size=2))
    G = make_matrix(["gaussian", "ill_conditioned", "rank_deficient"][seed % 3], shape, seed)
    assert_close(kernels.schatten_norm(G, q), schatten_norm(G, q), schatten_norm(G, q))
    if q > 1.0:
        assert_close(kernels.schatten_lmo(G, q), schatten_lmo(G, q), 1.0)
    if q >= 2.0:
        sharp = schatten_sharp(G, q)
        assert_close(kernels.schatten_sharp(G, q), sharp, float(np.max(np.abs(sharp))))


# --- bad input ----------------------------------------------------------------------------------

BAD_QS = [0.5, 0.0, -1.0, -math.inf, math.nan, "two", "nan", True, None, 1j, [2.0]]


@pytest.mark.parametrize("q", BAD_QS)
def test_bad_exponent_names_q(q):
    G = np.ones((3, 2))
    with raises("q:"):
        schatten_norm(G, q)
    with raises("q:"):
        schatten_lmo(G, q)
    with raises("q:"):
        schatten_sharp(G, q)
    with raises("q:"):
        schatten_constants((3, 2), q)
    with raises("q:"):
        get_norm("schatten", (3, 2), q=q)
    with raises("q:"):
        SchattenNorm(q)


def test_exponent_ranges_of_the_lmo_and_the_sharp_form():
    G = np.ones((3, 2))
    with raises("q:"):
        schatten_lmo(G, 1.0)
    with raises("q:"):
        get_norm("schatten", q=1.0).lmo(G)
    with raises("q:"):
        get_norm("schatten", q=1.0).dual_estimate(G)
    for q in (1.0, 1.5, 1.999):
        with raises("q:"):
            schatten_sharp(G, q)


def test_q_is_required_by_schatten_and_refused_by_the_others():
    with raises("q:"):
        get_norm("schatten", (3, 2))
    for name in ("spectral", "frobenius", "muon", "l2"):
        with raises("q:"):
            get_norm(name, q=2.0)
    with raises("lmo_method:"):
        get_norm("schatten", q=3.0, lmo_method="ns5")
    with raises("ns_steps:"):
        get_norm("schatten", q=3.0, ns_steps=3)
    with raises("radius:"):
        get_norm("schatten", q=3.0, radius=0.0)
    with raises("shape:"):
        get_norm("schatten", (0, 3), q=3.0)
    with raises("name:"):
        get_norm("schaten", q=3.0)


def test_layers_keep_the_base_norms():
    with raises("norm: unknown norm 'schatten'"):
        Layer("a", (6, 4), "schatten")


@pytest.mark.parametrize("bad", [np.ones((2, 2)) * (1 + 1j), np.array([[1.0, np.nan]]),
                                 np.array([[np.inf, 1.0]]), np.ones(3), np.ones((2, 2, 2))])
def test_bad_arrays_name_the_argument(bad):
    with raises("X:"):
        schatten_norm(bad, 3.0)
    with raises("G:"):
        schatten_lmo(bad, 3.0)
    with raises("G:"):
        schatten_sharp(bad, 3.0)
    norm = get_norm("schatten", q=3.0)
    with raises("X:"):
        norm.norm(bad)
    with raises("G:"):
        norm.dual(bad)
    with raises("G:"):
        norm.lmo(bad)


def test_complex_arrays_are_refused_explicitly():
    with pytest.raises(ValueError, match="^G: complex"):
        schatten_lmo(np.eye(2, dtype=complex), 2.0)
