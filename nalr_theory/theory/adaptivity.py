"""The honest statement of when adaptive (layerwise) weights help.

Problem
    With fixed weights ``w`` the theorem's tuned constant (every-``T`` variant, exact LMO) is
    ``K(w) = 2^(3/2) (2 Delta w^T L w)^(1/4) (2 sum_l w_l rho_l sigma_l)^(1/2)`` for the
    weighted stationarity ``S_w = sum_l w_l ||grad_l f||_*``. Scaling ``(w, eta) -> (c w,
    eta / c)`` is the same algorithm, so weightings must be compared in a fixed measure.

Algorithm
    ``K(w)`` is ``K*`` of :func:`~nalr_theory.theory.schedules.optimal_constants` at the
    leading coefficients of weights ``w`` (substitution, not retyping). Then

    (i) plain stationarity ``S = sum_l ||grad_l f||_* <= S_w / min_l w_l``: constant
        ``K(w) / min_l w_l = K(w / min_l w_l) >= K(1)`` (``K`` is 1-homogeneous and
        nondecreasing in every ``w_l``), with equality only for constant ``w`` when every
        ``sigma_l > 0``;
    (ii) noise-normalised stationarity ``S_sigma = sum_l ||grad_l f||_* / sigma_l <=
         S_w / min_l (w_l sigma_l)``; with ``w = sigma_min / sigma`` the ratio to uniform is
         ``(w^T L w / 1^T L 1)^(1/4) (sigma_min sum rho / sum rho sigma)^(1/2) <= 1``, strict
         exactly when the ``sigma_l`` differ.

Guarantee
    No weighting improves the theorem's plain-stationarity constant; noise-proportional
    weights improve the noise-normalised one. Tested on random instances (and (i) against a
    numeric minimisation over ``w``).

References
    ``nalr_theory.theory.schedules`` (``optimal_constants``, ``leading_coefficients``);
    Hao et al., LANTON, arXiv 2510.14009 (2025).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import _validation as check
from .schedules import leading_coefficient_symbols, leading_coefficients, optimal_constant_symbols, optimal_constants
from .statement import Statement
from .symbols import A_coef, B_coef, C_coef, kappa_hi, kappa_lo, min_weight, weighting_ratio


@lru_cache(maxsize=None)
def adaptivity_constant_symbol() -> sp.Expr:
    """``K(w)`` as a sympy expression of ``Delta, Q = w^T L w, N = sum w rho sigma``."""
    A, B, C = leading_coefficient_symbols("every_T")
    K_star = optimal_constant_symbols().K
    value = K_star.subs({A_coef: A, B_coef: B, C_coef: C}).subs({kappa_lo: 1, kappa_hi: 1})
    return sp.simplify(sp.powsimp(value, force=True))


def adaptivity_constant(weights, Delta, L, rho, sigma) -> float:
    """``K(w)``: the tuned leading constant for the ``w``-weighted stationarity."""
    coefficients = leading_coefficients(Delta, L, rho, sigma, weights, "every_T")
    if coefficients.B == 0 or coefficients.C == 0:
        raise ValueError("L, sigma: K(w) needs w^T L w > 0 and sum_l w_l rho_l sigma_l > 0")
    return float(optimal_constants(*coefficients).K)


def _weights(weights, layers: int) -> np.ndarray:
    values = check.layer_vector(weights, "weights", layers, strictly_positive=True)
    return values


def plain_stationarity_constant(weights, Delta, L, rho, sigma) -> float:
    """``K(w) / min_l w_l``: the constant for ``S = sum_l ||grad_l f||_*``."""
    L = check.coupling_matrix(L)
    w = _weights(weights, L.shape[0])
    return adaptivity_constant(w, Delta, L, rho, sigma) / float(np.min(w))


def noise_normalised_constant(weights, Delta, L, rho, sigma) -> float:
    """``K(w) / min_l (w_l sigma_l)``: the constant for ``S_sigma = sum_l ||grad_l f||_* / sigma_l``."""
    L = check.coupling_matrix(L)
    w = _weights(weights, L.shape[0])
    noise = check.layer_vector(sigma, "sigma", L.shape[0], strictly_positive=True)
    return adaptivity_constant(w, Delta, L, rho, noise) / float(np.min(w * noise))


def oracle_noise_weights(sigma) -> np.ndarray:
    """``w_l = sigma_min / sigma_l`` (the quietest layer gets 1)."""
    noise = check.positive(np.atleast_1d(sigma), "sigma")
    return np.min(noise) / noise


def noise_normalised_ratio(L, rho, sigma) -> float:
    """Closed form ``(w^T L w / 1^T L 1)^(1/4) (sigma_min sum rho / sum rho sigma)^(1/2)``, ``w = sigma_min/sigma``."""
    L = check.coupling_matrix(L)
    layers = L.shape[0]
    noise = check.layer_vector(sigma, "sigma", layers, strictly_positive=True)
    factors = check.layer_vector(rho, "rho", layers, strictly_positive=True)
    w = oracle_noise_weights(noise)
    ones = np.ones(layers)
    return float(((w @ L @ w) / (ones @ L @ ones)) ** 0.25
                 * (np.min(noise) * np.sum(factors) / np.sum(factors * noise)) ** 0.5)


@lru_cache(maxsize=None)
def honest_statements() -> dict[str, Statement]:
    """Parts (i) and (ii) as statements over ``K(w)``."""
    K = sp.Function("K")
    w_min = min_weight
    one = sp.Symbol("1")
    w = sp.Symbol("w")
    ratio = weighting_ratio
    return {
        "plain": Statement(
            key="adaptivity_plain",
            title="No weighting improves the plain-stationarity constant",
            lhs=K(w) / w_min,
            rhs=K(one),
            relation=">=",
            hypotheses=("fixed weights w > 0", "equality only for constant w (when every sigma_l > 0)"),
            proof_sketch="K is 1-homogeneous and nondecreasing in each w_l: K(w)/min w = K(w/min w) >= K(1).",
            check="Random instances and numeric minimisation over w (tests).",
            references="nalr_theory.theory.adaptivity, honest statement (i)",
        ),
        "noise_normalised": Statement(
            key="adaptivity_noise_normalised",
            title="Noise-proportional weights improve the noise-normalised constant",
            lhs=ratio,
            rhs=sp.Integer(1),
            relation="<=",
            hypotheses=("w = sigma_min / sigma", "strict exactly when the sigma_l differ"),
            proof_sketch=(
                "ratio = K(w)/K(1) = (w^T L w / 1^T L 1)^(1/4) (sigma_min sum rho / sum rho sigma)^(1/2); "
                "w <= 1 and L >= 0 bound the first factor by 1, the second is < 1 iff some sigma_l > sigma_min."
            ),
            check="Random instances (tests).",
            references="nalr_theory.theory.adaptivity, honest statement (ii)",
        ),
        "K": Statement(
            key="adaptivity_constant",
            title="Tuned constant of the w-weighted stationarity",
            lhs=K(w),
            rhs=adaptivity_constant_symbol(),
            relation="=",
            hypotheses=("exact LMO, every-T variant", "Q = w^T L w, N = sum_l w_l rho_l sigma_l"),
            references="nalr_theory.theory.schedules (optimal_constants, every-T variant)",
        ),
    }


__all__ = [
    "adaptivity_constant",
    "adaptivity_constant_symbol",
    "honest_statements",
    "noise_normalised_constant",
    "noise_normalised_ratio",
    "oracle_noise_weights",
    "plain_stationarity_constant",
]
