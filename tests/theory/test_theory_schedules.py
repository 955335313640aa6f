"""Schedules: the expansion, leading powers, A B C, optimal constants, feasibility."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize

import nalr_theory.theory
from nalr_theory.theory import (
    LeadingCoefficients,
    OptimalConstants,
    bound,
    every_T_envelope,
    feasibility_horizon,
    leading_coefficients,
    leading_powers,
    optimal_constants,
    predicted_curve,
    rho_regime_horizon,
    schedule_expansion,
    tuned_schedule,
)
from nalr_theory.theory.schedules import leading_coefficient_symbols, optimal_constant_symbols
from nalr_theory.theory.symbols import G1, N, Q, A_coef, B_coef, C_coef, Delta, c_beta, c_eta, kappa_hi, kappa_lo

EXAMPLE = dict(Delta=10.0, L=np.diag([2.0, 4.0, 8.0, 16.0]), rho=np.full(4, np.sqrt(32.0)),
               sigma=np.array([0.1, 0.2, 0.4, 0.8]), g1=np.ones(4))


def _random_problem(rng, layers=None, g1=True):
    p = layers or int(rng.integers(1, 6))
    L = rng.uniform(0, 1, size=(p, p)) * (rng.uniform(size=(p, p)) < 0.5) + np.diag(rng.uniform(0.5, 10, size=p))
    return dict(
        Delta=float(rng.uniform(0.1, 100)),
        L=L,
        rho=rng.uniform(1.0, 30.0, size=p),
        sigma=rng.uniform(0.01, 2.0, size=p),
        g1=rng.uniform(0, 5, size=p) if g1 else np.zeros(p),
    )


# --- the exact expansion of THEORY.md --------------------------------------------------------

def test_expansion_coefficients_match_theory_md():
    """THEORY.md: [Delta/c_eta + 2Q c_eta/c_beta + sqrt2 N sqrt(c_beta)] s + 2 G1/c_beta s^2
    + (sqrt2/4 N c_beta^(3/2) - 3/2 Q c_eta) s^3 (exact LMO, asymptotic)."""
    expansion = {power: value.subs({kappa_lo: 1, kappa_hi: 1}) for power, value in schedule_expansion("asymptotic").items()}
    typed = {
        1: Delta / c_eta + 2 * Q * c_eta / c_beta + sp.sqrt(2) * N * sp.sqrt(c_beta),
        2: 2 * G1 / c_beta,
        3: sp.sqrt(2) / 4 * N * c_beta ** sp.Rational(3, 2) - sp.Rational(3, 2) * Q * c_eta,
    }
    for power, value in typed.items():
        assert sp.simplify(expansion[power] - value) == 0, power
    assert 0 not in expansion  # no constant term: the bound vanishes as T -> infinity


def test_expansion_agrees_with_numeric_bound_to_fourth_order():
    """Independent route: the numeric theorem along the schedule minus the s^1..s^3 series is O(s^4)."""
    constants = dict(EXAMPLE)
    c_b, c_e = 1.7, 0.6
    expansion = schedule_expansion("asymptotic")
    values = {Delta: constants["Delta"], Q: float(np.ones(4) @ constants["L"] @ np.ones(4)),
              N: float(np.sum(constants["rho"] * constants["sigma"])), G1: float(np.sum(constants["g1"])),
              c_beta: c_b, c_eta: c_e, kappa_lo: 1, kappa_hi: 1}
    coefficients = {power: float(value.subs(values)) for power, value in expansion.items()}
    remainders = []
    for T in (1e8, 16e8, 256e8):
        s = T**-0.25
        exact = bound(T, c_e * T**-0.75, 1 - c_b * T**-0.5, form="theorem", **constants)
        series = sum(coefficients[k] * s**k for k in (1, 2, 3))
        remainders.append(abs(exact - series))
    # s^4 scaling: each factor 16 in T divides the remainder by about 16.
    assert remainders[0] / remainders[1] == pytest.approx(16, rel=0.05)
    assert remainders[1] / remainders[2] == pytest.approx(16, rel=0.05)


def test_leading_coefficient_symbols_match_theory_md():
    A, B, C = leading_coefficient_symbols("every_T")
    exact = {kappa_lo: 1, kappa_hi: 1}
    assert sp.simplify(A.subs(exact) - Delta) == 0
    assert sp.simplify(B.subs(exact) - 2 * Q) == 0
    assert sp.simplify(C.subs(exact) - 2 * N) == 0
    _, _, C_asymptotic = leading_coefficient_symbols("asymptotic")
    assert sp.simplify(C_asymptotic.subs(exact) - sp.sqrt(2) * N) == 0


def test_optimal_constant_symbols_match_theory_md():
    star = optimal_constant_symbols()
    c_beta_star, c_eta_star, K_star = star.c_beta, star.c_eta, star.K
    A, B, C = A_coef, B_coef, C_coef
    assert sp.simplify(c_beta_star - 2 * sp.sqrt(A * B) / C) == 0
    assert sp.simplify(c_eta_star - sp.sqrt(A * c_beta_star / B)) == 0
    assert sp.simplify(c_eta_star - sp.sqrt(2) * A ** sp.Rational(3, 4) * B ** sp.Rational(-1, 4) * C ** sp.Rational(-1, 2)) == 0
    assert sp.simplify(K_star - 2 ** sp.Rational(3, 2) * (A * B) ** sp.Rational(1, 4) * sp.sqrt(C)) == 0


# --- optimal constants vs a numeric minimiser ----------------------------------------------

def test_optimal_constants_match_scipy_minimize():
    rng = np.random.default_rng(0)
    for _ in range(25):
        A, B, C = np.exp(rng.uniform(-4, 4, size=3))

        def objective(log_c):
            cb, ce = np.exp(log_c)
            return A / ce + B * ce / cb + C * np.sqrt(cb)

        best = min(
            (minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 20000})
             for start in (np.zeros(2), np.array([3.0, -3.0]), np.array([-3.0, 3.0]))),
            key=lambda result: result.fun,
        )
        constants = optimal_constants(A, B, C)
        c_b, c_e, K = constants.c_beta, constants.c_eta, constants.K
        assert K == pytest.approx(best.fun, rel=1e-9)
        assert np.exp(best.x) == pytest.approx([c_b, c_e], rel=1e-4)
        assert objective(np.log([c_b, c_e])) == pytest.approx(K, rel=1e-12)


def test_optimal_constants_broadcast_over_arrays():
    constants = optimal_constants(np.array([1.0, 2.0]), 3.0, 4.0)
    assert constants.c_beta.shape == (2,) and constants.c_eta.shape == (2,)
    assert constants.K[1] == pytest.approx(optimal_constants(2.0, 3.0, 4.0).K)



def test_optimal_constants_is_a_named_record():
    constants = optimal_constants(2.0, 3.0, 5.0)
    assert isinstance(constants, OptimalConstants)
    assert [f.name for f in dataclasses.fields(constants)] == ["c_eta", "c_beta", "K"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        constants.K = 0.0
    with pytest.raises(TypeError):  # no positional unpacking: c_beta and c_eta cannot be swapped silently
        c_b, c_e, K = constants
    assert "OptimalConstants" in nalr_theory.theory.__all__


@pytest.mark.parametrize("A, B, C", [(2.0, 3.0, 5.0), (0.01, 40.0, 0.3), (7.0, 0.2, 11.0)])
def test_optimal_constants_fields_match_the_former_positions(A, B, C):
    """The former return value was ``(c_beta*, c_eta*, K*)``: same numbers, now by name."""
    constants = optimal_constants(A, B, C)
    former = (2 * np.sqrt(A * B) / C, np.sqrt(2) * A**0.75 * B**-0.25 * C**-0.5, 2**1.5 * (A * B) ** 0.25 * C**0.5)
    assert (constants.c_beta, constants.c_eta, constants.K) == pytest.approx(former, rel=1e-12)
    coefficients = LeadingCoefficients(A, B, C, "every_T", 1.0, 1.0)
    assert coefficients.optimal() == constants
    schedule = tuned_schedule([100.0], A, B, C)
    assert (schedule.c_beta, schedule.c_eta) == pytest.approx((constants.c_beta, constants.c_eta), rel=1e-12)
    star = optimal_constant_symbols()
    values = {A_coef: A, B_coef: B, C_coef: C}
    assert [float(getattr(star, name).subs(values)) for name in ("c_eta", "c_beta", "K")] == pytest.approx(
        [constants.c_eta, constants.c_beta, constants.K], rel=1e-12)

def test_leading_coefficients_of_the_example_problem():
    every = leading_coefficients(EXAMPLE["Delta"], EXAMPLE["L"], EXAMPLE["rho"], EXAMPLE["sigma"])
    A, B, C = every  # unpacks as three numbers
    assert (A, B) == (10.0, 60.0)
    assert C == pytest.approx(2 * np.sqrt(32) * 1.5)
    assert every.variant == "every_T" and "every T" in every.label
    asymptotic = leading_coefficients(EXAMPLE["Delta"], EXAMPLE["L"], EXAMPLE["rho"], EXAMPLE["sigma"], variant="asymptotic")
    assert asymptotic.C == pytest.approx(every.C / np.sqrt(2))
    assert "asymptotic" in asymptotic.label
    assert every.feasibility_horizon == pytest.approx(4 * A * B / C**2)


def test_inexact_lmo_coefficients():
    base = dict(Delta=3.0, L=[[1.0, 0.2], [0.2, 2.0]], rho=[1.0, 2.0], sigma=[0.5, 0.3])
    exact = leading_coefficients(**base)
    lo, hi = 0.7, 1.2
    inexact = leading_coefficients(**base, kappa_lo=lo, kappa_hi=hi)
    assert inexact.A == pytest.approx(exact.A / lo)
    assert inexact.B == pytest.approx(exact.B / 2 * (lo + hi) * hi / lo)
    assert inexact.C == pytest.approx(exact.C / 2 * (lo + hi) / lo)


# --- leading powers vs numeric slopes ---------------------------------------------------------

def _slope(T, values):
    return np.polyfit(np.log(T), np.log(values), 1)[0]


def test_leading_powers_match_numeric_loglog_slopes_of_the_exact_bound():
    powers = leading_powers()
    expected = {"initial_gap": -0.25, "initial_gradient": -0.5, "drift": -0.25, "quadratic": -0.75, "noise": -0.25}
    assert {name: float(power) for name, (_, power) in powers.items()} == expected
    coefficients = leading_coefficients(**{k: EXAMPLE[k] for k in ("Delta", "L", "rho", "sigma")}, variant="asymptotic")
    T = np.array([1e10, 1e11, 1e12])
    schedule = tuned_schedule(T, *coefficients)
    terms = bound(schedule.T, schedule.eta, schedule.beta, terms=True, **EXAMPLE)
    for name, power in expected.items():
        assert _slope(T, terms[name]) == pytest.approx(power, abs=2e-3), name
    total = bound(schedule.T, schedule.eta, schedule.beta, **EXAMPLE)
    assert _slope(T, total) == pytest.approx(-0.25, abs=2e-3)
    # the leading coefficient itself: T^(1/4) Bound(T) -> K* (asymptotic variant)
    gaps = np.abs(total * T**0.25 / schedule.K - 1)
    assert gaps[-1] < 3e-3 and gaps[-1] < gaps[0]


def test_every_T_envelope_bounds_the_theorem_at_every_feasible_T():
    rng = np.random.default_rng(1)
    T = np.unique(np.round(np.logspace(0, 9, 50)))
    for _ in range(20):
        problem = _random_problem(rng)
        coefficients = leading_coefficients(problem["Delta"], problem["L"], problem["rho"], problem["sigma"],
                                            g1=problem["g1"])
        schedule = tuned_schedule(T, *coefficients)
        theorem = bound(schedule.T, schedule.eta, schedule.beta, form="theorem", **problem)
        exact = bound(schedule.T, schedule.eta, schedule.beta, form="exact", **problem)
        envelope = every_T_envelope(T, coefficients)
        feasible = schedule.feasible
        assert np.all(exact <= theorem * (1 + 1e-12))
        assert np.all(theorem[feasible] <= envelope[feasible] * (1 + 1e-12))


def test_asymptotic_constant_is_not_an_every_T_envelope():
    """Negative control: with C = sqrt(2) N in place of 2N the envelope fails at moderate T."""
    problem = dict(Delta=1.0, L=[[1.0]], rho=[1.0], sigma=[1.0], g1=[0.0])
    every = leading_coefficients(1.0, [[1.0]], [1.0], [1.0])
    asymptotic = leading_coefficients(1.0, [[1.0]], [1.0], [1.0], variant="asymptotic")
    T = np.unique(np.round(np.logspace(0, 6, 40)))
    schedule = tuned_schedule(T, *asymptotic)
    theorem = bound(schedule.T, schedule.eta, schedule.beta, form="theorem", **problem)
    claimed = schedule.K * T**-0.25
    assert np.any((theorem > claimed * (1 + 1e-9)) & schedule.feasible)
    schedule_every = tuned_schedule(T, *every)
    theorem_every = bound(schedule_every.T, schedule_every.eta, schedule_every.beta, form="theorem", **problem)
    assert np.all(theorem_every[schedule_every.feasible] <= every_T_envelope(T, every)[schedule_every.feasible])


# --- feasibility ------------------------------------------------------------------------------

def test_feasibility_rule_on_small_horizons():
    A, B, C = 10.0, 60.0, 4.0  # 4AB/C^2 = 150
    horizon = feasibility_horizon(A, B, C)
    assert horizon == pytest.approx(150.0)
    T = np.arange(1, 400)
    schedule = tuned_schedule(T, A, B, C)
    assert np.array_equal(schedule.feasible, T >= horizon - 1e-9)
    assert np.all(schedule.beta[~schedule.feasible] == 0.0)
    assert np.all((schedule.beta[schedule.feasible] >= 0) & (schedule.beta[schedule.feasible] < 1))
    assert np.allclose(schedule.eta, schedule.c_eta * T**-0.75)
    curve = predicted_curve(T, **EXAMPLE)
    assert np.all(np.isnan(curve["leading"][~curve["feasible"]]))
    assert np.all(np.isfinite(curve["bound"]))


# --- the single-layer Euclidean case ---------------------------------------------------------

def test_single_layer_euclidean_is_normalised_sgd_with_momentum():
    """p = 1, Frobenius (rho = 1): the LMO step is -B/||B||_F (NSGD-M, Cutkosky & Mehta 2020),
    and the tuned bound has the shape (Delta L)^(1/4) sigma^(1/2) T^(-1/4)."""
    rng = np.random.default_rng(2)
    B = rng.standard_normal((4, 3))
    frobenius_lmo = -B / np.linalg.norm(B)
    assert np.allclose(frobenius_lmo, -B / np.sqrt(np.sum(B * B)))

    def tuned_constant(Delta, L, sigma, T=1e12):
        coefficients = leading_coefficients(Delta, [[L]], [1.0], [sigma], variant="asymptotic")
        schedule = tuned_schedule(T, *coefficients)
        return bound(T, schedule.eta, schedule.beta, Delta=Delta, L=[[L]], rho=[1.0], sigma=[sigma], g1=[1.0]) * T**0.25

    base = tuned_constant(1.0, 1.0, 1.0)
    assert tuned_constant(16.0, 1.0, 1.0) / base == pytest.approx(2.0, rel=2e-3)
    assert tuned_constant(1.0, 16.0, 1.0) / base == pytest.approx(2.0, rel=2e-3)
    assert tuned_constant(1.0, 1.0, 4.0) / base == pytest.approx(2.0, rel=2e-3)
    assert tuned_constant(3.0, 1 / 3.0, 1.0) / base == pytest.approx(1.0, rel=2e-3)  # only Delta L matters
    # exact constant: K* = 2^(3/2) (2 Delta L)^(1/4) (2 sigma)^(1/2) (every-T variant)
    K = optimal_constants(*leading_coefficients(2.0, [[3.0]], [1.0], [0.5])).K
    assert K == pytest.approx(2**1.5 * (2 * 2.0 * 3.0) ** 0.25 * (2 * 0.5) ** 0.5)


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, name", [
    ((-1.0, 1.0, 1.0), "A"),
    ((1.0, -1.0, 1.0), "B"),
    ((1.0, 1.0, 0.0), "C"),
    ((np.nan, 1.0, 1.0), "A"),
])
def test_optimal_constants_reject_bad_input(arguments, name):
    with pytest.raises(ValueError, match=name):
        optimal_constants(*arguments)


def test_leading_coefficients_reject_bad_input():
    with pytest.raises(ValueError, match="variant"):
        leading_coefficients(1.0, [[1.0]], [1.0], [1.0], variant="sometimes")
    with pytest.raises(ValueError, match="Delta"):
        leading_coefficients(-1.0, [[1.0]], [1.0], [1.0])
    with pytest.raises(ValueError, match="sigma"):
        leading_coefficients(1.0, [[1.0]], [1.0], [-1.0])
    with pytest.raises(ValueError, match="L"):
        leading_coefficients(1.0, [[-1.0]], [1.0], [1.0])
    with pytest.raises(ValueError, match="T"):
        tuned_schedule(0, 1.0, 1.0, 1.0)


def test_rho_regime_horizon_marks_where_every_cap_is_in_its_rho_branch():
    rho = np.array([1.0, 5.0, 3.0])
    c_b = 2.5
    horizon = rho_regime_horizon(c_b, rho)
    for T, inside in ((np.ceil(horizon * 1.001), True), (np.floor(horizon * 0.999), False)):
        beta_value = 1 - c_b / np.sqrt(T)
        caps = rho * np.sqrt((1 - beta_value) / (1 + beta_value))
        assert bool(np.all(caps <= 1)) == inside
