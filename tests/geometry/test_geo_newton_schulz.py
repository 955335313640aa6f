"""Newton-Schulz: cubic convergence to the polar factor, the ns5 band, kappa constants and
the generalised lemma L1 they feed (GEOMETRY.md "Approximate LMOs")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory.geometry import (
    get_norm,
    lmo_quality,
    newton_schulz,
    ns_band,
    ns_coefficients,
    ns_scalar_map,
)

from .strategies import NONZERO_KINDS, matrices, shapes

NS5_LO, NS5_HI = ns_band("ns5")


def polar(G):
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


def test_documented_ns5_band():
    # the docstring states [0.6818, 1.2024] for s / ||G||_F >= 2e-3
    assert 0.681 < NS5_LO < 0.682 and 1.202 < NS5_HI < 1.203
    s = np.linspace(0, 1, 10001)
    assert ns_scalar_map(s, "ns5").max() <= NS5_HI + 1e-9


def test_scalar_map_is_the_matrix_map_on_singular_values():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((6, 4))
    s = np.linalg.svd(G, compute_uv=False)
    out = np.linalg.svd(newton_schulz(G, "ns5"), compute_uv=False)
    expected = np.sort(ns_scalar_map(s / (np.linalg.norm(G) + 1e-7), "ns5"))[::-1]
    assert np.allclose(np.sort(out)[::-1], expected, rtol=1e-10)


@given(shape=shapes(), seed=st.integers(0, 2**32 - 1), log_condition=st.floats(0, 2))
@settings(max_examples=50)
def test_ns_cubic_converges_to_the_polar_factor(shape, seed, log_condition):
    rng = np.random.default_rng(seed)
    k = min(shape)
    U, _ = np.linalg.qr(rng.standard_normal((shape[0], k)))
    V, _ = np.linalg.qr(rng.standard_normal((shape[1], k)))
    G = (U * np.logspace(0, -log_condition, k)) @ V.T
    assert np.allclose(newton_schulz(G, "ns_cubic", steps=40), U @ V.T, atol=1e-10)


@given(G=matrices(kinds=NONZERO_KINDS))
def test_ns5_singular_values_stay_in_the_band(G):
    out = np.linalg.svd(newton_schulz(G, "ns5"), compute_uv=False)
    s = np.linalg.svd(G, compute_uv=False)
    relative = s / (np.linalg.norm(G) + 1e-7)
    assert np.all(out <= NS5_HI + 1e-9)
    # singular values are mapped monotonically in order; those above 2e-3 land in the band
    assert np.all(out[relative >= 2e-3] >= NS5_LO - 1e-9)


@given(G=matrices(kinds=NONZERO_KINDS))
def test_kappa_constants_on_random_and_ill_conditioned_inputs(G):
    kappa_lo, kappa_hi = lmo_quality(G, "ns5")
    s = np.linalg.svd(G, compute_uv=False)
    resolved = s >= 2e-3 * (np.linalg.norm(G) + 1e-7)
    # kappa_lo = sum phi(s_i) s_i / sum s_i, so it is at least band_lo times the share of
    # the nuclear norm carried by resolved singular values
    assert kappa_lo >= NS5_LO * s[resolved].sum() / s.sum() - 1e-9
    assert kappa_lo <= NS5_HI + 1e-9
    assert kappa_hi <= NS5_HI + 1e-9
    exact_lo, exact_hi = lmo_quality(G, "svd")
    assert abs(exact_lo - 1) < 1e-10 and abs(exact_hi - 1) < 1e-10


def test_kappa_on_a_trajectory_is_the_worst_case():
    rng = np.random.default_rng(5)
    stack = rng.standard_normal((4, 5, 3))
    pairs = [lmo_quality(G, "ns5") for G in stack]
    assert lmo_quality(stack, "ns5") == (min(p[0] for p in pairs), max(p[1] for p in pairs))


@given(g=matrices(kinds=NONZERO_KINDS), seed=st.integers(0, 2**32 - 1), scale=st.floats(0, 2))
def test_generalised_lemma_l1(g, seed, scale):
    """<g, D(B)> <= -kappa_lo ||g||_* + (kappa_lo + kappa_hi) ||B - g||_*, kappa at B."""
    B = g + scale * np.linalg.norm(g) * np.random.default_rng(seed).standard_normal(g.shape)
    if not np.any(B):
        return
    nuclear = get_norm("spectral")
    kappa_lo, kappa_hi = lmo_quality(B, "ns5")
    D = -newton_schulz(B, "ns5")
    rhs = -kappa_lo * nuclear.dual(g) + (kappa_lo + kappa_hi) * nuclear.dual(B - g)
    assert np.sum(g * D) <= rhs + 1e-10 * max(1.0, abs(rhs))


def test_a_too_short_direction_breaks_the_exact_form():
    # GEOMETRY/THEORY: with d = lmo / 2 the exact L1 (kappa = 1) fails; kappa_lo = 1/2 repairs it
    g = np.diag([1.0, 1.0])
    d = get_norm("spectral").lmo(g) / 2
    assert np.sum(g * d) > -get_norm("spectral").dual(g)


def test_user_triples_and_schedules():
    G = np.random.default_rng(2).standard_normal((4, 6))
    triple = newton_schulz(G, (1.5, -0.5, 0.0), steps=30)
    assert np.allclose(triple, newton_schulz(G, "ns_cubic", steps=30))
    schedule = np.array([[3.4445, -4.7750, 2.0315]] * 5)
    assert np.array_equal(newton_schulz(G, schedule), newton_schulz(G, "ns5"))
    assert ns_coefficients("svd").shape == (0, 3)


def test_input_is_never_modified():
    G = np.random.default_rng(4).standard_normal((7, 3))
    copy = G.copy()
    for method in ("svd", "ns5", "ns_cubic"):
        newton_schulz(G, method)
        get_norm("spectral", lmo_method=method).lmo(G)
    assert np.array_equal(G, copy)


@pytest.mark.parametrize("method", ["ns5", "ns_cubic"])
def test_zero_matrix_maps_to_zero(method):
    assert np.all(newton_schulz(np.zeros((3, 2)), method) == 0)


@given(G=matrices(kinds=NONZERO_KINDS), method=st.sampled_from(["svd", "ns5", "ns_cubic"]))
def test_cheap_nuclear_estimate_is_kappa_lo_times_the_dual(G, method):
    norm = get_norm("spectral", lmo_method=method)
    kappa_lo, _ = lmo_quality(G, method)
    assert abs(norm.dual_estimate(G) - kappa_lo * norm.dual(G)) <= 1e-10 * norm.dual(G)
