"""The SVD-free nuclear-norm bounds (``nuclear_quadrature``): certified, exact where the
quadrature rules are exact, as accurate as the docstring says, and twin-equal in numba."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory.geometry import get_norm, nuclear_norm_bounds
from nalr_theory.geometry import _kernels as kernels

from .strategies import KINDS, SPECTRAL_NORMS, make_matrix, matrices, shapes

# The closed forms take the square root of a Hankel determinant that cancels to ~eps when
# the spectrum is nearly two-point or spans many decades, which turns eps-level rounding
# into ~1e-9 relative at worst (measured: 9e-13 on the 8-decade family).
ROUNDING = 1e-9
# On spectra {0, one value} (rank one, ...) det J cancels to 0 and the certified square root
# of its rounding allowance (64 eps) makes the bounds reproducible to ~sqrt(64 eps) only.
REPRODUCIBLE = 2e-7


def nuclear(Z):
    return float(np.sum(np.linalg.svd(Z, compute_uv=False)))


def with_singular_values(values, shape, seed):
    rng = np.random.default_rng(seed)
    m, n = shape
    k = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    V, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return (U * np.asarray(values, dtype=float)) @ V.T


@given(Z=matrices(kinds=KINDS))
@settings(max_examples=300)
def test_bounds_bracket_the_nuclear_norm(Z):
    lower, upper = nuclear_norm_bounds(Z)
    exact = nuclear(Z)
    assert lower <= exact * (1 + ROUNDING) + 1e-300
    assert upper >= exact * (1 - ROUNDING)
    # never looser than the one-node rules F^3 / ||Z Z^T||_F and sqrt(k) F
    F = np.linalg.norm(Z)
    if F > 0:
        one_node_lower = F**3 / np.linalg.norm(Z @ Z.T)
        assert lower >= one_node_lower * (1 - ROUNDING)
        assert upper <= np.sqrt(min(Z.shape)) * F * (1 + ROUNDING)


@given(Z=matrices(kinds=["ill_conditioned", "rank_deficient", "single"]))
@settings(max_examples=1000)
def test_bounds_bracket_on_degenerate_spectra(Z):
    # where the closed forms cancel: eight decades of singular values, rank deficiency
    lower, upper = nuclear_norm_bounds(Z)
    exact = nuclear(Z)
    assert lower <= exact * (1 + ROUNDING) and upper >= exact * (1 - ROUNDING)


@given(data=st.data(), shape=shapes(max_dim=9), seed=st.integers(0, 2**32 - 1))
def test_exact_on_two_point_spectra(data, shape, seed):
    k = min(shape)
    high, low = data.draw(st.floats(0.1, 10)), data.draw(st.floats(0.1, 10))
    count = data.draw(st.integers(0, k))
    # at most two distinct nonzero values, then zeros: the Radau (lower) rule is exact
    zeros = data.draw(st.integers(0, k - count))
    values = [high] * count + [low] * (k - count - zeros) + [0.0] * zeros
    Z = with_singular_values(values, shape, seed)
    lower, upper = nuclear_norm_bounds(Z)
    assert lower == pytest.approx(sum(values), rel=1e-9, abs=1e-12)
    # at most two distinct values counting zeros: the Gauss (upper) rule is exact too
    Z = with_singular_values([high] * count + [low] * (k - count), shape, seed)
    assert nuclear_norm_bounds(Z)[1] == pytest.approx(high * count + low * (k - count), rel=1e-9)


@given(Z=matrices(kinds=["gaussian", "rank_deficient", "single"]), scale=st.floats(1e-3, 1e3),
       seed=st.integers(0, 2**32 - 1))
def test_bounds_depend_only_on_singular_values(Z, scale, seed):
    rng = np.random.default_rng(seed)
    Q1, _ = np.linalg.qr(rng.standard_normal((Z.shape[0],) * 2))
    Q2, _ = np.linalg.qr(rng.standard_normal((Z.shape[1],) * 2))
    reference = np.array(nuclear_norm_bounds(Z))
    transformed = np.array(nuclear_norm_bounds(-scale * (Q1 @ Z @ Q2)))
    np.testing.assert_allclose(transformed, scale * reference, rtol=REPRODUCIBLE)
    np.testing.assert_allclose(nuclear_norm_bounds(Z.T), reference, rtol=REPRODUCIBLE)


NOISE = {
    "gaussian": lambda rng, shape: rng.standard_normal(shape),
    "uniform": lambda rng, shape: rng.uniform(-1, 1, shape),
    "rademacher": lambda rng, shape: rng.choice([-1.0, 1.0], shape),
    "student_t3": lambda rng, shape: rng.standard_t(3, shape),
    "difference_of_two_uniform": lambda rng, shape: rng.uniform(-1, 1, shape) - rng.uniform(-1, 1, shape),
}


# (lower / exact range, upper / exact range), as the module docstring states them
RANGES = {"light_tailed": ((0.92, 0.995), (1.0, 1.075)), "student_t3": ((0.88, 0.995), (1.0, 1.09))}


@pytest.mark.parametrize("distribution", list(NOISE))
@pytest.mark.parametrize("shape", [(16, 16), (32, 32), (64, 64), (128, 128), (32, 128), (200, 50)])
def test_accuracy_on_noise_matrices(distribution, shape):
    # the docstring's claim for i.i.d. noise, 3 seeds each
    LOWER_RANGE, UPPER_RANGE = RANGES["student_t3" if distribution == "student_t3" else "light_tailed"]
    for seed in range(3):
        Z = NOISE[distribution](np.random.default_rng(seed), shape)
        lower, upper = nuclear_norm_bounds(Z)
        exact = nuclear(Z)
        assert LOWER_RANGE[0] <= lower / exact <= LOWER_RANGE[1], lower / exact
        assert UPPER_RANGE[0] <= upper / exact <= UPPER_RANGE[1], upper / exact


def test_decaying_spectrum_is_the_hard_case():
    # singular values 1/i: the bracket opens to [0.61, 1.41] (docstring)
    Z = with_singular_values(1.0 / np.arange(1, 65), (64, 64), 0)
    lower, upper = nuclear_norm_bounds(Z)
    exact = nuclear(Z)
    assert lower / exact == pytest.approx(0.606, abs=0.005)
    assert upper / exact == pytest.approx(1.413, abs=0.005)


@given(Z=matrices(kinds=KINDS))
@settings(max_examples=200)
def test_numba_twin(Z):
    reference = np.array(nuclear_norm_bounds(Z))
    twin = np.array(kernels.nuclear_norm_bounds(Z))
    scale = max(nuclear(Z), 1e-300)
    assert np.max(np.abs(twin - reference)) <= REPRODUCIBLE * scale


def test_numba_twin_is_tight_on_generic_matrices():
    for seed, shape in enumerate([(8, 8), (16, 40), (40, 16), (64, 64)]):
        Z = make_matrix("gaussian", shape, seed)
        np.testing.assert_allclose(kernels.nuclear_norm_bounds(Z), nuclear_norm_bounds(Z), rtol=1e-12)


@given(name=st.sampled_from(SPECTRAL_NORMS + ("frobenius", "max_abs", "col_norm", "row_norm")),
       shape=shapes(), seed=st.integers(0, 2**32 - 1))
def test_norm_dual_bounds(name, shape, seed):
    norm = get_norm(name, shape)
    G = make_matrix("gaussian", shape, seed)
    lower, upper = norm.dual_bounds(G)
    dual = norm.dual(G)
    assert lower <= dual * (1 + ROUNDING) and upper >= dual * (1 - ROUNDING)
    if norm.base != "spectral":
        assert lower == upper == dual


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="^Z:"):
        nuclear_norm_bounds(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="^Z:"):
        nuclear_norm_bounds(np.ones(3))
    with pytest.raises(ValueError, match="^G:"):
        get_norm("spectral", (2, 2)).dual_bounds(np.ones((3, 3)))


def test_zero_matrix():
    assert nuclear_norm_bounds(np.zeros((3, 4))) == (0.0, 0.0)
    assert kernels.nuclear_norm_bounds(np.zeros((3, 4))) == (0.0, 0.0)
