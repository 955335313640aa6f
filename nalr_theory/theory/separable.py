"""Which layer weights the bound prefers on separable problems, and whether LANTON's win.

Problem
    For a separable objective ``f = sum_l f_l(X^l)`` (diagonal smoothness ``L_l``, per-layer
    gaps ``Delta_l = f_l(X_1^l) - inf f_l``) and fixed positive weights ``w_l``, which ``w``
    minimises the bound on the plain stationarity ``S = sum_l ||g^l||_*``, and do the
    noise-adaptive weights ``w_l = sigma_min / sigma_l`` beat uniform weights in it?

Algorithm
    :func:`separable_layer_bound_symbol` applies L1 and L4 of :mod:`.lemmas` to the
    one-layer problem ``f_l`` (``p = 1``), sums over ``t = 1..T`` (``f_l`` telescopes to
    ``Delta_l``, ``sum_t beta^t <= beta/(1-beta)``) and divides by ``eta w_l T``::

        (1/T) sum_t E||g_t^l||_* <= Delta_l/(eta w_l T) + eta w_l L_l c
            + 2 sigma_l min(1, rho_l sqrt((1-beta)/(1+beta))) + 2 beta/((1-beta) T) ||g_1^l||_*

    with ``c = 2 beta/(1-beta) + 1/2``. The noise and ``g_1`` terms do not involve
    ``w_l``; sympy minimises over ``w_l`` (:func:`separable_optimal_weights_symbol`) and,
    after summing the layers, over ``eta`` (:func:`separable_tuned_symbols`): the
    ``w``-dependent part becomes ``2 sqrt(c/T) sqrt(F(w))``,
    ``F(w) = (sum_l Delta_l/w_l)(sum_l w_l L_l)``.

Guarantee
    ``w_l* prop. to sqrt(Delta_l/L_l)`` whatever the noise; by Cauchy-Schwarz
    ``F(w) >= (sum_l sqrt(Delta_l L_l))^2`` with equality iff ``w prop. to sqrt(Delta/L)``. With
    each method at its own tuned ``eta``, LANTON's weights beat uniform ones in this bound
    iff ``F(sigma_min/sigma) < F(1)``: they help only as far as ``1/sigma_l`` tracks
    ``sqrt(Delta_l/L_l)``. At ``p = 1`` the per-layer bound is the theorem's plain-measure
    bound (tests).

References
    :mod:`nalr_theory.theory.lemmas` (L1, L4); :mod:`nalr_theory.theory.theorem`; Hao et
    al., LANTON, arXiv 2510.14009 (2025).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from . import _validation as check
from .adaptivity import oracle_noise_weights
from .lemmas import lemma_l1, lemma_l4, momentum_coefficient_sums
from .symbols import (L, T, beta, eps_norm, eta, f_now, g1_norm, grad_norm, kappa_hi, kappa_lo, l, p, rho, sigma, t,
                      w_fixed, w_hi, w_path)

#: Per-layer gap ``Delta_l = f_l(X_1^l) - inf f_l``.
Delta_layer = sp.IndexedBase("Delta_layer")
#: Aggregates ``D = sum_l Delta_l / w_l`` and ``M = sum_l w_l L_l`` of the summed bound.
D_sum = sp.Symbol("D_w", positive=True)
M_sum = sp.Symbol("M_w", positive=True)
TERMS = ("initial_gap", "curvature", "noise", "g1")
_TERM_MARKERS = (Delta_layer[l], L[l, l], sigma[l], g1_norm[l])


def _one_layer(expression):
    """A lemma's right-hand side on the one-layer problem ``f_l`` (``p = 1``, index 1 -> ``l``)."""
    rename = {w_path[1]: w_fixed[l], w_hi[1]: w_fixed[l], grad_norm[1]: grad_norm[l], eps_norm[1]: eps_norm[l],
              L[1, 1]: L[l, l], g1_norm[1]: g1_norm[l], sigma[1]: sigma[l], rho[1]: rho[l]}
    exact = {kappa_lo: 1, kappa_hi: 1}  # exact LMO
    return sp.expand(expression.subs(exact).subs(l, 1).subs(p, 1).doit().xreplace(rename))


@lru_cache(maxsize=None)
def separable_layer_terms() -> dict[str, sp.Expr]:
    """The per-layer bound split into the additive terms of :data:`TERMS` (derived, see module doc)."""
    l1 = _one_layer(lemma_l1().rhs)
    descent = -l1.coeff(grad_norm[l])  # eta w_l
    error = l1.coeff(eps_norm[l])  # 2 eta w_l
    quadratic = sp.simplify(l1 - f_now + descent * grad_norm[l] - error * eps_norm[l])
    l4 = _one_layer(lemma_l4().rhs)
    g1_coefficient = l4.coeff(g1_norm[l])
    if sp.simplify(g1_coefficient - beta**t) != 0 or (l4 - g1_coefficient * g1_norm[l]).has(t):  # pragma: no cover
        raise AssertionError("L4 is not beta^t ||g_1|| plus a t-free part")
    time_sum = momentum_coefficient_sums()["geometric"] * g1_norm[l] + T * (l4 - g1_coefficient * g1_norm[l])
    # descent * sum_t E||g_t|| <= (f(X_1) - f(X_{T+1})) + error * sum_t E||eps_t|| + T * quadratic
    total = sp.expand((Delta_layer[l] + error * time_sum + T * quadratic) / (descent * T))
    terms = {name: sp.Add(*[a for a in total.args if a.has(marker)]) for name, marker in zip(TERMS, _TERM_MARKERS)}
    if sp.simplify(sp.Add(*terms.values()) - total) != 0 or not descent.has(w_fixed[l]):  # pragma: no cover
        raise AssertionError("per-layer bound does not split into the four terms")
    return {name: sp.simplify(term) for name, term in terms.items()}


@lru_cache(maxsize=None)
def separable_layer_bound_symbol() -> sp.Expr:
    """Bound on ``(1/T) sum_t E||g_t^l||_*`` for fixed weight ``w[l]`` (``f_first - f_inf -> Delta_layer[l]``)."""
    return sp.Add(*separable_layer_terms().values())


def _minimiser(expression, variable, positive: dict):
    """The unique positive critical point of ``expression`` in ``variable``, checked to be a minimum.

    ``positive`` maps the expression's layer quantities to positive symbols for the solve;
    ``beta = b/(1+b)`` with ``b >= 0`` encodes ``0 <= beta < 1`` for the sign checks.
    """
    x = sp.Symbol("x", positive=True)
    b = sp.Symbol("b", nonnegative=True)
    objective = expression.xreplace({**positive, variable: x})
    roots = [r for r in sp.solve(sp.diff(objective, x), x) if r.is_positive is not False]
    curvature = sp.simplify(sp.diff(objective, x, 2).subs(x, roots[0]).subs(beta, b / (1 + b))) if roots else None
    if len(roots) != 1 or not (curvature.is_positive and roots[0].subs(beta, b / (1 + b)).is_positive):
        raise AssertionError(f"no unique minimiser over {variable}")  # pragma: no cover
    return sp.simplify(roots[0].xreplace({value: key for key, value in positive.items()}))


@lru_cache(maxsize=None)
def separable_optimal_weights_symbol() -> sp.Expr:
    """The minimiser over ``w[l] > 0`` of the per-layer bound: ``sqrt(Delta_l/(L_l c))/(eta sqrt T)``."""
    positive = {Delta_layer[l]: sp.Symbol("Delta_l", positive=True), L[l, l]: sp.Symbol("L_l", positive=True)}
    return _minimiser(separable_layer_bound_symbol(), w_fixed[l], positive)


@lru_cache(maxsize=None)
def separable_tuned_symbols() -> dict[str, sp.Expr]:
    """Summed bound's ``w``-dependent part in ``D = sum Delta_l/w_l``, ``M = sum w_l L_l``, its
    optimal ``eta`` and minimised value (keys ``part``, ``eta``, ``value``, ``c``)."""
    terms = separable_layer_terms()
    # Each term is linear in Delta_l / w_l (resp. w_l L_l); summing over l replaces them by D (resp. M).
    gap = sp.simplify(terms["initial_gap"].subs(Delta_layer[l], D_sum * w_fixed[l]))
    curvature = sp.simplify(terms["curvature"].subs(L[l, l], M_sum / w_fixed[l]))
    if gap.has(w_fixed[l]) or curvature.has(w_fixed[l]):  # pragma: no cover
        raise AssertionError("terms are not of the form Delta_l/w_l, w_l L_l")
    part = gap + curvature
    step = _minimiser(part, eta, {})
    value = sp.simplify(sp.powsimp(sp.factor(part.subs(eta, step)), force=True))
    return {"part": part, "eta": step, "value": value, "c": sp.simplify(curvature / (eta * M_sum))}


@lru_cache(maxsize=None)
def _numeric():
    layer = sp.symbols("w_l Delta_l L_l sigma_l rho_l g1_l", nonnegative=True)
    plain = dict(zip((w_fixed[l], Delta_layer[l], L[l, l], sigma[l], rho[l], g1_norm[l]), layer))
    terms = {name: sp.lambdify((T, eta, beta) + layer, term.xreplace(plain), "numpy")
             for name, term in separable_layer_terms().items()}
    return terms, sp.lambdify((T, beta, D_sum, M_sum), separable_tuned_symbols()["eta"], "numpy")


def _layers(Delta):
    values = check.layer_vector(Delta, "Delta", None)
    if values.size == 0 or not np.any(values > 0):
        raise ValueError("Delta: expected one gap per layer, at least one of them > 0")
    return values


def bound_optimal_weights(Delta, L) -> np.ndarray:
    """``sqrt(Delta_l / L_l)`` scaled so that the largest weight is 1."""
    gaps = _layers(Delta)
    weights = np.sqrt(gaps / check.layer_vector(L, "L", gaps.size, strictly_positive=True))
    return weights / np.max(weights)


def weight_efficiency(weights, Delta, L) -> float:
    """``F(w) = (sum_l Delta_l / w_l) (sum_l w_l L_l)`` (scale-free; smaller is better)."""
    gaps = _layers(Delta)
    w = check.layer_vector(weights, "weights", gaps.size, strictly_positive=True)
    return float(np.sum(gaps / w) * np.sum(w * check.layer_vector(L, "L", gaps.size)))


def tuned_separable_bound(T, beta, weights, Delta, L, rho, sigma, g1) -> dict:
    """Plain-measure bound at its optimal ``eta``: keys ``eta``, ``bound`` and :data:`TERMS`."""
    horizon, momentum = check.horizon(T, "T"), check.momentum(beta, "beta")
    if horizon.ndim or momentum.ndim:
        raise ValueError("T, beta: expected scalars")
    gaps = _layers(Delta)
    p_ = gaps.size
    w = check.layer_vector(weights, "weights", p_, strictly_positive=True)
    smooth = check.layer_vector(L, "L", p_, strictly_positive=True)
    layer = (w, gaps, smooth, check.layer_vector(sigma, "sigma", p_),
             check.layer_vector(rho, "rho", p_, strictly_positive=True), check.layer_vector(g1, "g1", p_))
    term_functions, step_function = _numeric()
    step = float(step_function(float(horizon), float(momentum), np.sum(gaps / w), np.sum(w * smooth)))
    result = {name: float(np.sum(np.broadcast_to(f(float(horizon), step, float(momentum), *layer), (p_,))))
              for name, f in term_functions.items()}
    return {"eta": step, "bound": sum(result.values()), **result}


@dataclass(frozen=True)
class SeparablePrediction:
    """Does LANTON (``w = sigma_min/sigma``) beat uniform weights in the tuned separable bound?"""

    weights_lanton: np.ndarray
    weights_optimal: np.ndarray
    efficiency_ratio: float  # sqrt(F(w_lanton) / F(1)): ratio of the w-dependent parts
    bound_ratio: float  # whole tuned bounds at T, LANTON / uniform
    alignment: float  # cosine between 1/sigma and sqrt(Delta/L): descriptive, F decides
    lanton_predicted_to_win: bool
    reason: str


def _cosine(a, b) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def predict_adaptivity(Delta, L, sigma, rho, g1, T, beta) -> SeparablePrediction:
    """The prediction of the module docstring (oracle LANTON weights vs uniform, each at its tuned ``eta``)."""
    optimal = bound_optimal_weights(Delta, L)
    gaps = _layers(Delta)
    noise = check.layer_vector(sigma, "sigma", gaps.size, strictly_positive=True)
    lanton, uniform = oracle_noise_weights(noise), np.ones(gaps.size)
    ratio = float(np.sqrt(weight_efficiency(lanton, gaps, L) / weight_efficiency(uniform, gaps, L)))
    tuned = [tuned_separable_bound(T, beta, w, gaps, L, rho, noise, g1)["bound"] for w in (lanton, uniform)]
    alignment = _cosine(1 / noise, optimal)
    wins = ratio < 1
    reason = (f"1/sigma_l {'tracks' if wins else 'does not track'} sqrt(Delta_l/L_l) better than uniform weights do "
              f"in the bound's sense, F(sigma_min/sigma)/F(1) = {ratio ** 2:.4g} {'<' if wins else '>='} 1 "
              f"(cosine {alignment:.3f}; the noise and g1 terms are the same for both weightings).")
    return SeparablePrediction(lanton, optimal, ratio, tuned[0] / tuned[1], alignment, wins, reason)


__all__ = [
    "SeparablePrediction", "bound_optimal_weights", "predict_adaptivity", "separable_layer_bound_symbol",
    "separable_layer_terms", "separable_optimal_weights_symbol", "separable_tuned_symbols",
    "tuned_separable_bound", "weight_efficiency",
]
