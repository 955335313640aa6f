"""Exact finite sums over the steps ``t = 1..T`` used by the non-asymptotic bound.

Problem
    The non-asymptotic bound (``form="exact"`` of ``nalr_theory.theory.theorem``; L4's
    finite form, ``nalr_theory.theory.lemmas.lemma_l4_finite``) sums over ``t = 1..T`` the
    L3 cap of the momentum noise at step ``t``,
    ``n_t = min(rho sqrt((1-beta)/(1+beta)) sqrt(1 - beta^(2t)),  1 - beta^t)``,
    the two branches being ``rho sigma sqrt(sum_k c_k^2)`` and ``sigma sum_k |c_k|`` of L3
    for ``c_k = (1-beta) beta^(t-k)``, ``k = 1..t``. The sum has no closed form.

Algorithm
    ``MomentumNoiseSum(T, beta, rho)`` is the symbolic sum (a sympy ``Function`` printed as
    the explicit ``Sum``); ``momentum_noise_sum`` evaluates it numerically: the first
    ``DIRECT_TERMS`` terms directly, the rest by Euler-Maclaurin on each smooth piece (the
    ``min`` switches branch once, at ``beta^t = (1 - r^2)/(1 + r^2)``, ``r`` the first
    branch's factor), with closed-form integrals
    ``int (1 - e^(-lam t)) dt`` and ``int sqrt(1 - e^(-2 lam t)) dt = (artanh y - y)/lam``,
    ``y = sqrt(1 - e^(-2 lam t))``, ``lam = -log beta``, and the end corrections up to the
    fifth derivative (derived by sympy).

Guarantee
    Relative error below ``1e-12`` against brute-force summation (tests, up to ``T = 10^6``);
    cost independent of ``T`` beyond ``DIRECT_TERMS``, so the bound can be evaluated at
    ``T = 10^12`` for log-log slopes.

References
    ``nalr_theory.theory.lemmas`` (L3, L4); Euler-Maclaurin: Abramowitz & Stegun 23.1.30.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from . import _validation as check
from .symbols import t

#: Number of leading terms summed directly before switching to Euler-Maclaurin.
DIRECT_TERMS = 4096
#: Euler-Maclaurin end-correction factors ``B_{2m} / (2m)!`` for ``m = 1, 2, 3``.
_EM_FACTORS = (1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0)


def momentum_noise_term(step, beta, rho):
    """The symbolic summand ``n_t`` (see the module docstring)."""
    ratio = sp.sqrt((1 - beta) / (1 + beta))
    return sp.Min(rho * ratio * sp.sqrt(1 - beta ** (2 * step)), 1 - beta**step)


class MomentumNoiseSum(sp.Function):
    """``sum_{t=1}^{T} min(rho sqrt((1-beta)/(1+beta)) sqrt(1-beta^(2t)), 1-beta^t)``.

    Kept unevaluated (no closed form); ``.as_sum()`` gives the explicit sympy ``Sum``;
    lambdified through :func:`momentum_noise_sum`.
    """

    nargs = 3

    def as_sum(self):
        """The explicit unevaluated ``Sum(momentum_noise_term(t, beta, rho), (t, 1, T))`` of the
        arguments ``(T, beta, rho)``.
        """
        horizon, momentum, factor = self.args
        return sp.Sum(momentum_noise_term(t, momentum, factor), (t, 1, horizon))

    def _latex(self, printer):
        return printer._print(self.as_sum())

    def _sympystr(self, printer):
        return printer._print(self.as_sum())


@lru_cache(maxsize=None)
def _sqrt_branch_derivatives():
    """Odd derivatives (orders 1, 3, 5) of ``g(t) = r sqrt(V)``, ``V = 1 - e^(-2 lam t)``.

    With ``dV/dt = 2 lam (1 - V)`` every derivative is a polynomial in ``V`` times a power
    of ``V^(-1/2)``: derived by sympy, lambdified in ``(V, lam, r)``.
    """
    V, lam, r = sp.symbols("V lam r", positive=True)
    current = r * sp.sqrt(V)
    derivatives = {}
    for order in range(1, 6):
        current = sp.simplify(2 * lam * (1 - V) * sp.diff(current, V))
        if order % 2 == 1:
            derivatives[order] = sp.lambdify((V, lam, r), current, "math")
    return derivatives


def _terms(steps: np.ndarray, lam: float, r: float) -> np.ndarray:
    first = -np.expm1(-lam * steps)  # 1 - beta^t
    second = r * np.sqrt(-np.expm1(-2.0 * lam * steps))  # r sqrt(1 - beta^(2t))
    return np.minimum(second, first)


def _atanh_minus_identity(y: float, lam_t: float) -> float:
    """``artanh(y) - y`` for ``y = sqrt(1 - e^(-2 lam t))``, without cancellation."""
    if y < 0.7:
        total, power, square = 0.0, y, y * y
        for order in range(3, 200, 2):
            power *= square
            term = power / order
            total += term
            if term < 1e-18 * total:
                break
        return total
    # artanh(y) = lam t + log(1 + y) exactly, since (1 - y)(1 + y) = e^(-2 lam t).
    return lam_t + math.log1p(y) - y


def _linear_piece(a: int, b: int, lam: float) -> float:
    """Euler-Maclaurin sum of ``1 - e^(-lam t)`` over integers ``a..b``."""
    integral = (b - a) - math.exp(-lam * a) * (-math.expm1(-lam * (b - a))) / lam
    ends = 0.5 * ((-math.expm1(-lam * a)) + (-math.expm1(-lam * b)))
    correction = 0.0
    for factor, order in zip(_EM_FACTORS, (1, 3, 5)):
        correction += factor * lam**order * (math.exp(-lam * b) - math.exp(-lam * a))
    return integral + ends + correction


def _sqrt_piece(a: int, b: int, lam: float, r: float) -> float:
    """Euler-Maclaurin sum of ``r sqrt(1 - e^(-2 lam t))`` over integers ``a..b``."""
    V_a, V_b = -math.expm1(-2.0 * lam * a), -math.expm1(-2.0 * lam * b)
    y_a, y_b = math.sqrt(V_a), math.sqrt(V_b)
    integral = (r / lam) * (
        _atanh_minus_identity(y_b, lam * b) - _atanh_minus_identity(y_a, lam * a)
    )
    ends = 0.5 * r * (y_a + y_b)
    derivatives = _sqrt_branch_derivatives()
    correction = 0.0
    for factor, order in zip(_EM_FACTORS, (1, 3, 5)):
        derivative = derivatives[order]
        correction += factor * (derivative(V_b, lam, r) - derivative(V_a, lam, r))
    return integral + ends + correction


def _piece(a: int, b: int, lam: float, r: float, branch: str) -> float:
    if b < a:
        return 0.0
    if b - a < 256:
        steps = np.arange(a, b + 1, dtype=np.float64)
        if branch == "linear":
            return float(np.sum(-np.expm1(-lam * steps)))
        return float(np.sum(r * np.sqrt(-np.expm1(-2.0 * lam * steps))))
    if branch == "linear":
        return _linear_piece(a, b, lam)
    return _sqrt_piece(a, b, lam, r)


def _momentum_noise_sum_scalar(horizon: int, momentum: float, factor: float) -> float:
    if momentum == 0.0:
        return horizon * min(factor, 1.0)
    one_minus = 1.0 - momentum
    lam = -math.log1p(-one_minus)
    r = factor * math.sqrt(one_minus / (1.0 + momentum))
    n_direct = min(horizon, DIRECT_TERMS)
    total = float(np.sum(_terms(np.arange(1, n_direct + 1, dtype=np.float64), lam, r)))
    if horizon == n_direct:
        return total
    a, b = n_direct + 1, horizon
    if r >= 1.0:
        return total + _piece(a, b, lam, r, "linear")
    # The second branch is the smaller one once beta^t <= (1 - r^2)/(1 + r^2).
    switch = -math.log((1.0 - r * r) / (1.0 + r * r)) / lam
    last_linear = int(math.floor(switch))
    total += _piece(a, min(b, last_linear), lam, r, "linear")
    total += _piece(max(a, last_linear + 1), b, lam, r, "sqrt")
    return total


def momentum_noise_sum(T, beta, rho):
    """Numeric ``MomentumNoiseSum(T, beta, rho)``, broadcast over the three arguments.

    ``T`` integer-valued ``>= 1``, ``beta`` in ``[0, 1)``, ``rho >= 1`` (any ``rho > 0`` is
    accepted). Returns a float or an array of the broadcast shape.
    """
    horizon = check.horizon(T, "T")
    momentum = check.momentum(beta, "beta")
    factor = check.positive(rho, "rho")
    horizon, momentum, factor = np.broadcast_arrays(horizon, momentum, factor)
    out = np.empty(horizon.shape, dtype=np.float64)
    cache: dict[tuple[float, float, float], float] = {}
    for index in np.ndindex(horizon.shape):
        key = (float(horizon[index]), float(momentum[index]), float(factor[index]))
        if key not in cache:
            cache[key] = _momentum_noise_sum_scalar(int(key[0]), key[1], key[2])
        out[index] = cache[key]
    return out if out.ndim else float(out)


def momentum_noise_sum_brute_force(T: int, beta: float, rho: float) -> float:
    """Direct summation of every term (reference for tests; ``O(T)``)."""
    if beta == 0.0:
        return T * min(rho, 1.0)
    lam = -math.log1p(-(1.0 - beta))
    r = rho * math.sqrt((1.0 - beta) / (1.0 + beta))
    total = 0.0
    for start in range(1, T + 1, 1 << 20):
        steps = np.arange(start, min(T, start + (1 << 20) - 1) + 1, dtype=np.float64)
        total += float(np.sum(_terms(steps, lam, r)))
    return total


__all__ = [
    "DIRECT_TERMS",
    "MomentumNoiseSum",
    "momentum_noise_sum",
    "momentum_noise_sum_brute_force",
    "momentum_noise_term",
]
