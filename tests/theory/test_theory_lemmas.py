"""Lemmas L1-L4: symbolic identities and numeric checks (L3 by Monte-Carlo, tightness)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from _theory_mc_problem import dual_norm

from nalr_theory.theory import (
    l4_bound,
    lemma_l1,
    lemma_l1_inexact,
    lemma_l2,
    lemma_l3,
    lemma_l4,
    lemma_l4_finite,
    rho_branch_threshold,
    verify_geometric_sums,
    verify_l2,
)
from nalr_theory.theory.lemmas import (
    gradient,
    martingale_cap,
    momentum_coefficient_sums,
    momentum_error_by_algorithm,
    noise,
)
from nalr_theory.theory.symbols import beta, k, kappa_hi, kappa_lo, rho_scalar, t


def test_l1_exact_is_the_inexact_statement_at_kappa_1():
    inexact = lemma_l1_inexact()
    assert sp.simplify(inexact.rhs.subs({kappa_lo: 1, kappa_hi: 1}) - lemma_l1().rhs) == 0
    assert sp.simplify(inexact.rhs.subs({kappa_lo: sp.Rational(1, 2), kappa_hi: 1}) - lemma_l1().rhs) != 0


def test_l2_unrolled_error_is_verified_for_t_1_to_5():
    assert verify_l2(5)
    assert lemma_l2().relation == "="


def test_l2_check_detects_a_wrong_closed_form():
    """Negative control: a plausible typo (beta^(t-k) in the drift sum) is caught."""
    wrong = lambda step: (-beta**step * gradient[1]  # noqa: E731
                          + sp.Sum(beta ** (step - k) * (gradient[k - 1] - gradient[k]), (k, 2, step))
                          + (1 - beta) * sp.Sum(beta ** (step - k) * noise[k], (k, 1, step)))
    algorithm = momentum_error_by_algorithm(3)
    assert sp.expand(wrong(3).doit() - algorithm[2]) != 0


def test_geometric_sums_closed_forms():
    assert verify_geometric_sums()
    sums = momentum_coefficient_sums()
    b, steps = 0.83, 7
    c = (1 - b) * b ** (steps - np.arange(1, steps + 1))
    assert float(sums["sum_sq"].subs({beta: b, t: steps})) == pytest.approx(np.sum(c**2), rel=1e-13)
    assert float(sums["sum_abs"].subs({beta: b, t: steps})) == pytest.approx(np.sum(np.abs(c)), rel=1e-13)
    drift = sum(b ** (steps - kk + 1) for kk in range(2, steps + 1))
    assert float(sums["drift"].subs({beta: b, t: steps})) == pytest.approx(drift, rel=1e-13)
    horizon = sp.Symbol("T", positive=True)
    assert float(sums["drift_time"].subs({beta: b, horizon: 11})) == pytest.approx(
        sum(sum(b**i for i in range(1, tt)) for tt in range(1, 12)), rel=1e-13)


def test_rho_branch_threshold_is_2_over_rho_squared_plus_1():
    threshold = rho_branch_threshold()
    assert sp.simplify(threshold - 2 / (rho_scalar**2 + 1)) == 0
    rng = np.random.default_rng(0)
    for rho_value in rng.uniform(1.01, 50, size=20):
        edge = 2 / (rho_value**2 + 1)
        for one_minus, below in ((edge * 0.99, True), (min(edge * 1.01, 1.0), False)):
            beta_value = 1 - one_minus
            beats_sigma = rho_value * np.sqrt((1 - beta_value) / (1 + beta_value)) < 1
            assert beats_sigma == below
    assert martingale_cap(4.0, sp.Rational(1, 2)) == 1  # rho sqrt(1/3) > 1: triangle branch


def _momentum_coefficients(beta_value, steps):
    return (1 - beta_value) * beta_value ** (steps - np.arange(1, steps + 1))


@pytest.mark.parametrize("norm, shape", [("spectral", (4, 4)), ("max_abs", (3, 2)), ("frobenius", (3, 3))])
def test_l3_monte_carlo_and_the_min_of_both_branches(norm, shape):
    rng = np.random.default_rng(1)
    rho_value = {"spectral": 2.0, "max_abs": np.sqrt(6.0), "frobenius": 1.0}[norm]
    for beta_value, steps in ((0.9, 30), (0.3, 5), (0.99, 60)):
        c = _momentum_coefficients(beta_value, steps)
        D = rng.standard_normal((4000, steps) + shape)
        s = rng.uniform(0.5, 1.0, size=(4000, steps))
        xi = (s / dual_norm(D, norm))[..., None, None] * D
        sigma_value = np.sqrt(np.mean(s**2))  # A2v level (estimated; s independent of direction)
        Z = np.einsum("k,rkij->rij", c, xi)
        values = dual_norm(Z, norm)
        cap = min(rho_value * sigma_value * np.sqrt(np.sum(c**2)), sigma_value * np.sum(np.abs(c)))
        assert values.mean() <= cap * 1.01 + 4 * values.std() / np.sqrt(values.size)


def test_l3_is_attained_on_orthogonal_rank_one_and_single_entry_noise():
    """Both branches equal and attained: k equal coefficients on orthogonal rank-one (spectral,
    k = min(m, n)) or single-entry (max_abs, k = m n) directions with random signs."""
    rng = np.random.default_rng(2)
    sigma_value, coefficient = 0.7, 0.3
    # spectral, 4 x 3: rank-one u_k v_k^T, orthonormal u and v
    U, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    for _ in range(10):
        signs = rng.choice([-1.0, 1.0], size=3)
        Z = sum(coefficient * sign * sigma_value * np.outer(U[:, kk], V[:, kk]) for kk, sign in enumerate(signs))
        value = np.sum(np.linalg.svd(Z, compute_uv=False))
        rho_branch = np.sqrt(3) * sigma_value * np.sqrt(3 * coefficient**2)
        triangle = sigma_value * 3 * coefficient
        assert value == pytest.approx(rho_branch, rel=1e-12) and value == pytest.approx(triangle, rel=1e-12)
    # max_abs, 3 x 2: single entries
    Z = np.zeros((3, 2))
    for index in range(6):
        Z.flat[index] = coefficient * sigma_value * rng.choice([-1.0, 1.0])
    assert np.sum(np.abs(Z)) == pytest.approx(np.sqrt(6) * sigma_value * np.sqrt(6 * coefficient**2), rel=1e-12)


def test_l3_first_branch_is_loose_by_sqrt_min_dim_for_isotropic_gaussian_spectral_noise():
    rng = np.random.default_rng(3)
    n, steps, beta_value = 16, 40, 0.9
    c = _momentum_coefficients(beta_value, steps)
    G = rng.standard_normal((400, steps, n, n))
    nuclear = dual_norm(G, "spectral")
    scale = 1.0 / np.sqrt(np.mean(nuclear**2))  # E||xi||_*^2 = 1 = sigma^2
    Z = np.einsum("k,rkij->rij", c, scale * G)
    measured = dual_norm(Z, "spectral").mean()
    rho_branch = np.sqrt(n) * 1.0 * np.sqrt(np.sum(c**2))
    assert rho_branch / measured / np.sqrt(n) == pytest.approx(1.0, abs=0.1)


def test_l4_finite_form_is_below_the_asymptotic_form_and_converges_to_it():
    rng = np.random.default_rng(4)
    for _ in range(20):
        p = 3
        args = dict(beta_value=float(rng.uniform(0, 0.999)), eta_value=float(rng.uniform(1e-4, 0.1)),
                    g1=rng.uniform(0, 2, p), L_matrix=rng.uniform(0, 2, (p, p)), w_hi_values=rng.uniform(0.1, 1, p),
                    sigma_values=rng.uniform(0, 1, p), rho_values=rng.uniform(1, 10, p))
        steps = np.arange(1, 200)
        finite = l4_bound(steps, finite=True, **args)
        asymptotic = l4_bound(steps, finite=False, **args)
        assert np.all(finite <= asymptotic * (1 + 1e-12) + 1e-15)
        late = l4_bound(10**6, finite=True, **args)
        if args["beta_value"] < 0.99:
            assert late == pytest.approx(l4_bound(10**6, finite=False, **args), rel=1e-9)


def test_l4_statements_mention_kappa_hi_and_the_finite_sums():
    assert lemma_l4().rhs.has(kappa_hi)
    assert lemma_l4_finite().rhs.has(beta ** (t - 1)) or lemma_l4_finite().rhs.has(beta ** (2 * t))
    assert lemma_l3().relation == "<="


def test_l4_bound_rejects_bad_input():
    args = dict(eta_value=0.1, g1=[1.0], L_matrix=[[1.0]], w_hi_values=[1.0], sigma_values=[1.0], rho_values=[1.0])
    with pytest.raises(ValueError, match="beta"):
        l4_bound(3, 1.0, **args)
    with pytest.raises(ValueError, match="t"):
        l4_bound(0, 0.5, **args)
    with pytest.raises(ValueError, match="t_max"):
        verify_l2(0)
