"""Separable problems: the bound's preferred weights, the tuned step, and the LANTON prediction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from nalr_theory.theory import bound
from nalr_theory.theory.separable import (
    D_sum,
    Delta_layer,
    M_sum,
    SeparablePrediction,
    bound_optimal_weights,
    predict_adaptivity,
    separable_layer_bound_symbol,
    separable_layer_terms,
    separable_optimal_weights_symbol,
    separable_tuned_symbols,
    tuned_separable_bound,
    weight_efficiency,
)
from nalr_theory.theory.symbols import L, T, beta, eta, g1_norm, l, rho, sigma, w_fixed

C_TYPED = 2 * beta / (1 - beta) + sp.Rational(1, 2)


def _typed_layer_bound():
    """The per-layer bound as stated (typed, not derived)."""
    return (Delta_layer[l] / (eta * w_fixed[l] * T) + eta * w_fixed[l] * L[l, l] * C_TYPED
            + 2 * sigma[l] * sp.Min(1, rho[l] * sp.sqrt((1 - beta) / (1 + beta)))
            + 2 * beta / ((1 - beta) * T) * g1_norm[l])


def _typed_numeric(T_, eta_, beta_, w, Delta, L_, rho_, sigma_, g1):
    c = 2 * beta_ / (1 - beta_) + 0.5
    return (Delta / (eta_ * w * T_) + eta_ * w * L_ * c
            + 2 * sigma_ * np.minimum(1, rho_ * np.sqrt((1 - beta_) / (1 + beta_)))
            + 2 * beta_ / ((1 - beta_) * T_) * g1)


def _instance(rng, p=None):
    p = p or int(rng.integers(1, 6))
    return dict(Delta=rng.uniform(0.1, 20, p), L=rng.uniform(0.1, 10, p), rho=rng.uniform(1, 30, p),
                sigma=rng.uniform(0.01, 3, p), g1=rng.uniform(0, 5, p))


def test_layer_bound_matches_the_stated_formula():
    derived = separable_layer_bound_symbol()
    free = lambda e: e.subs({sigma[l]: 0})  # noqa: E731
    assert sp.simplify(free(derived) - free(_typed_layer_bound())) == 0
    assert sp.simplify(separable_layer_terms()["noise"].subs(rho[l], 0)) == 0
    values = (T, eta, beta, w_fixed[l], Delta_layer[l], L[l, l], rho[l], sigma[l], g1_norm[l])
    f = sp.lambdify(values, derived - _typed_layer_bound(), "numpy")
    rng = np.random.default_rng(0)
    for _ in range(50):
        point = (rng.integers(1, 10**5), rng.uniform(1e-4, 1), rng.uniform(0, 0.999), *rng.uniform(0.01, 40, 6))
        assert abs(f(*point)) < 1e-9 * (1 + abs(sp.lambdify(values, derived, "numpy")(*point)))
    assert not separable_layer_terms()["noise"].has(w_fixed[l]) and not separable_layer_terms()["g1"].has(w_fixed[l])


def test_optimal_weight_symbol_is_the_closed_form_and_a_numeric_minimum():
    closed = sp.sqrt(Delta_layer[l] / (L[l, l] * C_TYPED)) / (eta * sp.sqrt(T))
    derived = separable_optimal_weights_symbol()
    b, d, s = sp.symbols("b d s", positive=True)
    assert sp.simplify((derived / closed).subs({beta: b / (1 + b), Delta_layer[l]: d, L[l, l]: s})) == 1
    f = sp.lambdify((T, eta, beta, Delta_layer[l], L[l, l]), derived, "numpy")
    rng = np.random.default_rng(1)
    for _ in range(20):
        T_, eta_, beta_ = int(rng.integers(1, 10**4)), rng.uniform(1e-3, 0.1), rng.uniform(0, 0.99)
        D, L_ = rng.uniform(0.1, 10, 2)
        grid = np.geomspace(1e-4, 1e4, 200001)
        values = _typed_numeric(T_, eta_, beta_, grid, D, L_, 3.0, 0.5, 1.0)
        assert f(T_, eta_, beta_, D, L_) == pytest.approx(grid[np.argmin(values)], rel=1e-3)


def test_tuned_step_and_value():
    tuned = separable_tuned_symbols()
    b = sp.Symbol("b", positive=True)
    on_domain = lambda e: sp.simplify(e.subs(beta, b / (1 + b)))  # noqa: E731
    assert on_domain(tuned["c"] - C_TYPED) == 0
    assert on_domain(tuned["eta"] / sp.sqrt(D_sum / (T * C_TYPED * M_sum))) == 1
    assert on_domain(tuned["value"] / (2 * sp.sqrt(C_TYPED / T) * sp.sqrt(D_sum * M_sum))) == 1


def test_tuned_bound_terms_and_optimality():
    rng = np.random.default_rng(2)
    for _ in range(30):
        inst = _instance(rng)
        p = inst["Delta"].size
        w = rng.uniform(0.05, 1, p)
        T_, beta_ = int(rng.integers(1, 10**6)), float(rng.uniform(0, 0.99))
        out = tuned_separable_bound(T_, beta_, w, **inst)
        typed = lambda e: np.sum(_typed_numeric(T_, e, beta_, w, inst["Delta"], inst["L"], inst["rho"],  # noqa: E731
                                                inst["sigma"], inst["g1"]))
        assert out["bound"] == pytest.approx(typed(out["eta"]), rel=1e-10)
        terms = sum(out[k] for k in ("initial_gap", "curvature", "noise", "g1"))
        assert out["bound"] == pytest.approx(terms, rel=1e-12)
        assert typed(out["eta"] * 1.01) > out["bound"] and typed(out["eta"] / 1.01) > out["bound"]
        c = 2 * beta_ / (1 - beta_) + 0.5
        part = 2 * np.sqrt(c / T_) * np.sqrt(weight_efficiency(w, inst["Delta"], inst["L"]))
        assert out["initial_gap"] + out["curvature"] == pytest.approx(part, rel=1e-10)
        assert out["initial_gap"] == pytest.approx(out["curvature"], rel=1e-10)


positive = st.floats(0.01, 100, allow_nan=False, allow_infinity=False)


@given(st.integers(1, 6).flatmap(lambda p: st.tuples(*[st.lists(positive, min_size=p, max_size=p)] * 3)))
def test_cauchy_schwarz_F_minimised_by_sqrt_delta_over_L(data):
    Delta, L_, w = map(np.array, data)
    minimum = np.sum(np.sqrt(Delta * L_)) ** 2
    best = bound_optimal_weights(Delta, L_)
    assert np.max(best) == pytest.approx(1.0)
    assert weight_efficiency(best, Delta, L_) == pytest.approx(minimum, rel=1e-9)
    assert weight_efficiency(w, Delta, L_) >= minimum * (1 - 1e-9)
    assert weight_efficiency(7.3 * w, Delta, L_) == pytest.approx(weight_efficiency(w, Delta, L_), rel=1e-12)


def test_F_numeric_minimiser_and_two_layer_sympy_minimiser():
    rng = np.random.default_rng(3)
    for _ in range(10):
        Delta, L_ = rng.uniform(0.1, 10, 4), rng.uniform(0.1, 10, 4)
        result = minimize(lambda v: weight_efficiency(np.exp(v), Delta, L_), np.zeros(4), method="BFGS")
        found = np.exp(result.x) / np.max(np.exp(result.x))
        np.testing.assert_allclose(found, bound_optimal_weights(Delta, L_), rtol=1e-4)
    d1, d2, l1, l2, r = sp.symbols("d1 d2 l1 l2 r", positive=True)
    F = (d1 + d2 / r) * (l1 + r * l2)
    assert sp.solve(sp.diff(F, r), r) == [sp.sqrt(d2 * l1 / (d1 * l2))]
    assert sp.simplify(F.subs(r, sp.sqrt(d2 * l1 / (d1 * l2))) - (sp.sqrt(d1 * l1) + sp.sqrt(d2 * l2)) ** 2) == 0


@pytest.mark.parametrize("weight", [1.0, 0.37])
def test_one_layer_agrees_with_the_theorem(weight):
    rng = np.random.default_rng(4)
    for _ in range(20):
        inst = _instance(rng, p=1)
        T_, eta_, beta_ = int(rng.integers(1, 10**6)), float(rng.uniform(1e-4, 0.5)), float(rng.uniform(0, 0.999))
        general = bound(T_, eta_, beta_, Delta=inst["Delta"][0], L=inst["L"], rho=inst["rho"], sigma=inst["sigma"],
                        g1=inst["g1"], w_hi=[weight], form="theorem", measure="plain")
        f = sp.lambdify((T, eta, beta, w_fixed[l], Delta_layer[l], L[l, l], rho[l], sigma[l], g1_norm[l]),
                        separable_layer_bound_symbol(), "numpy")
        ours = f(T_, eta_, beta_, weight, *(inst[k][0] for k in ("Delta", "L", "rho", "sigma", "g1")))
        assert ours == pytest.approx(general, rel=1e-12)


def test_several_layers_uniform_equal_theorem_and_never_worse_than_coupled_plain_bound():
    rng = np.random.default_rng(5)
    for _ in range(30):
        inst = _instance(rng)
        p = inst["Delta"].size
        T_, eta_, beta_ = int(rng.integers(1, 10**6)), float(rng.uniform(1e-4, 0.5)), float(rng.uniform(0, 0.999))
        common = dict(Delta=np.sum(inst["Delta"]), L=np.diag(inst["L"]), rho=inst["rho"], sigma=inst["sigma"],
                      g1=inst["g1"], form="theorem", measure="plain")
        for w in (np.ones(p), rng.uniform(0.05, 1, p)):
            ours = np.sum(_typed_numeric(T_, eta_, beta_, w, inst["Delta"], inst["L"], inst["rho"], inst["sigma"],
                                         inst["g1"]))
            general = bound(T_, eta_, beta_, w_hi=w, **common)
            assert ours <= general * (1 + 1e-12)
            if np.all(w == 1):
                assert ours == pytest.approx(general, rel=1e-12)


def test_hand_case_lanton_equals_bound_optimal_weights():
    result = predict_adaptivity([1, 1], [1, 4], [1, 2], rho=[2, 3], g1=[0.3, 0.4], T=1000, beta=0.9)
    np.testing.assert_allclose(result.weights_lanton, [1, 0.5])
    np.testing.assert_allclose(result.weights_optimal, [1, 0.5])
    assert result.efficiency_ratio == pytest.approx(3 / np.sqrt(10))  # sqrt((1 + 2)^2 / (2 * 5))
    minimum, uniform = np.sum(np.sqrt([1 * 1, 1 * 4])) ** 2, weight_efficiency([1, 1], [1, 1], [1, 4])
    assert result.efficiency_ratio == pytest.approx(np.sqrt(minimum / uniform))  # the Cauchy-Schwarz minimum
    assert result.efficiency_ratio < 1 and result.lanton_predicted_to_win
    assert result.efficiency_ratio < result.bound_ratio < 1
    assert result.alignment == pytest.approx(1.0) and "tracks" in result.reason


def test_case_where_lanton_loses():
    result = predict_adaptivity([1, 1], [1, 1], [1, 4], rho=[2, 3], g1=[0.3, 0.4], T=1000, beta=0.9)
    assert result.efficiency_ratio == pytest.approx(1.25)  # sqrt((1 + 4)(1 + 1/4) / 4)
    assert not result.lanton_predicted_to_win and 1 < result.bound_ratio < result.efficiency_ratio
    assert "does not track" in result.reason
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.bound_ratio = 0.0
    assert isinstance(result, SeparablePrediction)


def test_bound_ratio_direction_follows_efficiency_ratio():
    rng = np.random.default_rng(6)
    for _ in range(50):
        inst = _instance(rng, p=int(rng.integers(2, 6)))
        r = predict_adaptivity(inst["Delta"], inst["L"], inst["sigma"], inst["rho"], inst["g1"], 10**4, 0.9)
        assert (r.bound_ratio < 1) == r.lanton_predicted_to_win == (r.efficiency_ratio < 1)
        assert min(1, r.efficiency_ratio) <= r.bound_ratio <= max(1, r.efficiency_ratio)


@pytest.mark.parametrize("call, name", [
    (lambda: bound_optimal_weights([1, 1], [1, 1, 1]), "L"),
    (lambda: bound_optimal_weights([1, 1], [1, 0]), "L"),
    (lambda: bound_optimal_weights([1, -1], [1, 1]), "Delta"),
    (lambda: bound_optimal_weights([0, 0], [1, 1]), "Delta"),
    (lambda: bound_optimal_weights([], []), "Delta"),
    (lambda: weight_efficiency([1, 0], [1, 1], [1, 1]), "weights"),
    (lambda: weight_efficiency([1, 1], [1, np.nan], [1, 1]), "Delta"),
    (lambda: weight_efficiency([1, 1], [1, 1], [1, np.inf]), "L"),
    (lambda: tuned_separable_bound(0, 0.9, [1], [1], [1], [1], [1], [1]), "T"),
    (lambda: tuned_separable_bound(10, 1.0, [1], [1], [1], [1], [1], [1]), "beta"),
    (lambda: tuned_separable_bound(10, 0.9, [1], [1], [1], [1], [-1], [1]), "sigma"),
    (lambda: tuned_separable_bound(10, 0.9, [1], [1], [1], [1], [1], [1, 2]), "g1"),
    (lambda: tuned_separable_bound(10, 0.9, [1], [1], [1], [0], [1], [1]), "rho"),
    (lambda: predict_adaptivity([1, 1], [1, 1], [1, 0], [1, 1], [1, 1], 10, 0.9), "sigma"),
    (lambda: predict_adaptivity([1, 1], [1, 1], [1, 2, 3], [1, 1], [1, 1], 10, 0.9), "sigma"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()
