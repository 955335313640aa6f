"""The general theorem, its special cases by substitution, and the numeric bound."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from nalr_theory.theory import (
    bound,
    derive_theorem,
    l4_bound,
    lanton_special_case,
    lanton_weight_interval,
    layer_function,
    special_case,
    theorem_exact_lmo,
    theorem_general,
)
from nalr_theory.theory.symbols import G1, Q, Delta, T, beta, eta, kappa_hi, kappa_lo, sigma_max, w_hi, w_lo
from nalr_theory.theory.theorem import NOISE_SUM


def _problem(rng, p=3):
    L = rng.uniform(0, 1, size=(p, p)) + np.diag(rng.uniform(1, 5, size=p))
    return dict(Delta=float(rng.uniform(1, 20)), L=L, rho=rng.uniform(1, 6, size=p),
                sigma=rng.uniform(0.05, 1.0, size=p), g1=rng.uniform(0, 3, size=p))


def _theory_md_display(T_, eta_, beta_, Delta_, L_, rho_, sigma_, g1_, w_hi_):
    """THEORY.md's theorem, typed independently of the derivation."""
    Q_ = w_hi_ @ L_ @ w_hi_
    cap = np.minimum(1.0, rho_ * np.sqrt((1 - beta_) / (1 + beta_)))
    return (Delta_ / (eta_ * T_) + 2 * beta_ / ((1 - beta_) * T_) * np.sum(w_hi_ * g1_)
            + eta_ * (2 * beta_ / (1 - beta_) + 0.5) * Q_ + 2 * np.sum(w_hi_ * sigma_ * cap))


def test_derived_theorem_equals_theory_md_symbolically():
    aggregated = derive_theorem("theorem").aggregated.subs({kappa_lo: 1, kappa_hi: 1})
    typed = (Delta / (eta * T) + 2 * beta / ((1 - beta) * T) * G1
             + eta * (2 * beta / (1 - beta) + sp.Rational(1, 2)) * Q + 2 * NOISE_SUM)
    assert sp.simplify(aggregated - typed) == 0


def test_numeric_bound_equals_theory_md_display():
    rng = np.random.default_rng(0)
    for _ in range(20):
        problem = _problem(rng)
        w = rng.uniform(0.2, 1.0, size=3)
        T_, eta_, beta_ = int(rng.integers(1, 10**6)), float(rng.uniform(1e-4, 0.1)), float(rng.uniform(0, 0.999))
        value = bound(T_, eta_, beta_, w_hi=w, form="theorem", **problem)
        typed = _theory_md_display(T_, eta_, beta_, problem["Delta"], problem["L"], problem["rho"],
                                   problem["sigma"], problem["g1"], w)
        assert value == pytest.approx(typed, rel=1e-12)


def test_exact_form_equals_direct_summation_of_lemma_l4_and_is_sharper():
    """Independent route for the exact form: sum L4's finite form over t directly."""
    rng = np.random.default_rng(1)
    for kappa in ((1.0, 1.0), (0.7, 1.2)):
        for _ in range(5):
            problem = _problem(rng)
            w = rng.uniform(0.3, 1.0, size=3)
            T_, eta_, beta_ = int(rng.integers(1, 3000)), float(rng.uniform(1e-3, 0.05)), float(rng.uniform(0, 0.99))
            steps = np.arange(1, T_ + 1)
            per_step = l4_bound(steps, beta_, eta_, problem["g1"], problem["L"], w, problem["sigma"],
                                problem["rho"], kappa_hi_value=kappa[1], finite=True)
            direct = (problem["Delta"] / (eta_ * T_) + (kappa[0] + kappa[1]) * np.sum(per_step @ w) / T_
                      + eta_ * kappa[1] ** 2 / 2 * (w @ problem["L"] @ w)) / kappa[0]
            value = bound(T_, eta_, beta_, w_hi=w, kappa_lo=kappa[0], kappa_hi=kappa[1], **problem)
            assert value == pytest.approx(direct, rel=1e-10)
            assert value <= bound(T_, eta_, beta_, w_hi=w, kappa_lo=kappa[0], kappa_hi=kappa[1], form="theorem", **problem)


def test_bound_is_vectorised_over_T_eta_beta():
    problem = _problem(np.random.default_rng(2))
    T_ = np.array([1, 10, 100, 10**4, 10**7])
    values = bound(T_, 0.01, 0.9, **problem)
    assert values.shape == (5,)
    for index, horizon in enumerate(T_):
        assert values[index] == pytest.approx(bound(int(horizon), 0.01, 0.9, **problem), rel=1e-13)
    grid = bound(T_[:, None], np.array([0.01, 0.02])[None, :], 0.5, **problem)
    assert grid.shape == (5, 2)


# --- special cases by substitution -------------------------------------------------------------

def _evaluate(statement, p, problem, T_, eta_, beta_, **extra):
    function = layer_function(statement.rhs, p)
    values = dict(T=T_, eta=eta_, beta=beta_, Delta=problem["Delta"], L=problem["L"], rho=problem["rho"],
                  sigma=problem["sigma"], g1=problem["g1"], kappa_lo=1.0, kappa_hi=1.0)
    values.update(extra)
    names = set(function.scalar_names) | set(function.base_names)
    return function(**{name: value for name, value in values.items() if name in names})


def test_general_bound_at_w_equal_1_is_the_uniform_case_by_substitution():
    uniform = special_case("uniform", theorem_exact_lmo())
    assert not uniform.rhs.has(w_hi) and not uniform.lhs.has(w_lo)
    assert "w_hi = 1" in uniform.substitutions
    rng = np.random.default_rng(3)
    for _ in range(5):
        problem = _problem(rng)
        T_, eta_, beta_ = 1000, 0.01, 0.9
        by_substitution = _evaluate(uniform, 3, problem, T_, eta_, beta_)
        general_at_one = _evaluate(theorem_exact_lmo(), 3, problem, T_, eta_, beta_, w_hi=np.ones(3))
        numeric = bound(T_, eta_, beta_, form="theorem", **problem)
        typed = _theory_md_display(T_, eta_, beta_, problem["Delta"], problem["L"], problem["rho"],
                                   problem["sigma"], problem["g1"], np.ones(3))
        assert by_substitution == pytest.approx(general_at_one, rel=1e-13)
        assert by_substitution == pytest.approx(numeric, rel=1e-12)
        assert by_substitution == pytest.approx(typed, rel=1e-12)
        # and the general bound with some w != 1 is a different number (the test can fail)
        other = _evaluate(theorem_exact_lmo(), 3, problem, T_, eta_, beta_, w_hi=np.array([1.0, 0.5, 0.25]))
        assert abs(other - by_substitution) > 1e-6


def test_uniform_noise_accounting_replaces_sigma_by_sigma_max():
    statement = special_case("uniform_noise", theorem_exact_lmo())
    assert statement.rhs.has(sigma_max)
    problem = _problem(np.random.default_rng(4))
    value = _evaluate(statement, 3, problem, 500, 0.01, 0.95, sigma_max=float(np.max(problem["sigma"])))
    numeric = bound(500, 0.01, 0.95, form="theorem", **{**problem, "sigma": np.full(3, np.max(problem["sigma"]))})
    assert value == pytest.approx(numeric, rel=1e-12)
    assert value >= bound(500, 0.01, 0.95, form="theorem", **problem)


def test_fixed_layerwise_case_and_inexact_lmo_substitution():
    problem = _problem(np.random.default_rng(5))
    w = np.array([1.0, 0.4, 0.7])
    fixed = special_case("fixed_layerwise", theorem_general())
    value = _evaluate(fixed, 3, problem, 200, 0.02, 0.8, w=w, kappa_lo=0.8, kappa_hi=1.1)
    assert value == pytest.approx(bound(200, 0.02, 0.8, w_hi=w, kappa_lo=0.8, kappa_hi=1.1, form="theorem", **problem), rel=1e-12)
    exact_lmo = special_case("exact_lmo", theorem_general())
    assert sp.simplify(exact_lmo.rhs - theorem_exact_lmo().rhs) == 0
    assert bound(200, 0.02, 0.8, kappa_lo=0.8, kappa_hi=1.1, **problem) > bound(200, 0.02, 0.8, **problem)


def test_lanton_special_case_matches_weight_interval_and_numeric_bound():
    groups = ["hidden", "hidden", "hidden", "head"]
    problem = _problem(np.random.default_rng(6), p=4)
    h_lo = np.array([0.5, 1.0, 2.0, 0.3])
    h_hi = np.array([1.5, 1.2, 4.0, 0.9])
    statement = lanton_special_case(groups, theorem_exact_lmo())
    value = _evaluate(statement, 4, problem, 700, 0.01, 0.9, h_lo=h_lo, h_hi=h_hi)
    w_lo_values, w_hi_values = lanton_weight_interval(h_lo, h_hi, groups)
    assert w_hi_values[3] == 1.0 and w_lo_values[3] == 1.0  # a one-layer group
    numeric = bound(700, 0.01, 0.9, w_hi=w_hi_values, w_lo=w_lo_values, form="theorem", **problem)
    assert value == pytest.approx(numeric, rel=1e-12)
    # the left-hand side carries the tight w_lo (layer itself excluded from the minimum)
    assert not statement.lhs.has(w_lo) and not statement.rhs.has(w_hi)
    first = sp.Min(1, sp.sqrt(sp.Min(sp.IndexedBase("h_lo")[2], sp.IndexedBase("h_lo")[3]) / sp.IndexedBase("h_hi")[1]))
    assert statement.lhs.has(first)


def test_weighted_on_path_form_uses_w_hi_equal_1():
    statement = special_case("weighted_on_path", theorem_exact_lmo())
    assert not statement.rhs.has(w_hi)
    problem = _problem(np.random.default_rng(7))
    w = np.array([0.3, 1.0, 0.6])
    assert bound(300, 0.01, 0.9, **problem) >= bound(300, 0.01, 0.9, w_hi=w, **problem)


def test_measures_rescale_the_weighted_bound():
    problem = _problem(np.random.default_rng(8))
    w_hi_values = np.array([1.0, 0.8, 0.5])
    w_lo_values = np.array([0.5, 0.4, 0.25])
    weighted = bound(100, 0.01, 0.9, w_hi=w_hi_values, w_lo=w_lo_values, **problem)
    plain = bound(100, 0.01, 0.9, w_hi=w_hi_values, w_lo=w_lo_values, measure="plain", **problem)
    normalised = bound(100, 0.01, 0.9, w_hi=w_hi_values, w_lo=w_lo_values, measure="noise_normalised", **problem)
    assert plain == pytest.approx(weighted / 0.25)
    assert normalised == pytest.approx(weighted / np.min(w_lo_values * problem["sigma"]))
    with pytest.raises(ValueError, match="w_lo"):
        bound(100, 0.01, 0.9, w_lo=np.array([0.0, 1.0, 1.0]), measure="plain", **problem)


def test_statements_carry_their_prose():
    statement = theorem_general()
    assert statement.relation == "<=" and statement.hypotheses and statement.proof_sketch
    assert theorem_general("exact").rhs.has(sp.Sum)  # the exact finite noise sum over t


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, name", [
    (dict(T=0), "T"),
    (dict(T=2.5), "T"),
    (dict(beta=1.0), "beta"),
    (dict(beta=-0.1), "beta"),
    (dict(eta=0.0), "eta"),
    (dict(Delta=-1.0), "Delta"),
    (dict(sigma=[-0.1, 0.1]), "sigma"),
    (dict(rho=[0.0, 1.0]), "rho"),
    (dict(L=[[1.0, -0.1], [0.0, 1.0]]), "L"),
    (dict(g1=[-1.0, 0.0]), "g1"),
    (dict(w_hi=[1.0, -1.0]), "w_hi"),
    (dict(w_lo=[1.0, 1.0], w_hi=[0.5, 1.0]), "w_lo"),
    (dict(kappa_lo=1.2, kappa_hi=1.0), "kappa_lo"),
    (dict(kappa_hi=-1.0), "kappa_hi"),
    (dict(sigma=[0.1, 0.1, 0.1]), "sigma"),
    (dict(form="loose"), "form"),
    (dict(measure="other"), "measure"),
])
def test_bound_rejects_bad_input_naming_the_parameter(changes, name):
    arguments = dict(T=10, eta=0.1, beta=0.5, Delta=1.0, L=np.eye(2), rho=[1.0, 1.0], sigma=[0.1, 0.2], g1=[0.0, 0.0])
    arguments.update(changes)
    with pytest.raises(ValueError, match=name):
        bound(arguments.pop("T"), arguments.pop("eta"), arguments.pop("beta"), **arguments)
