"""Horizon-tuned schedule: leading powers, leading coefficients, optimal constants.

Problem
    Choose ``eta = c_eta T^(-3/4)`` and ``1 - beta = c_beta T^(-1/2)`` for a known horizon
    ``T`` and find the constants ``c_eta, c_beta`` that minimise the leading term of the
    theorem, with the feasibility condition ``1 - beta <= 1``.

Algorithm
    1. Substitute the schedule and ``T = s^(-4)`` (``s = T^(-1/4)``) into the derived
       theorem (:func:`~nalr_theory.theory.theorem.derive_theorem`, the displayed form),
       in the regime ``rho_l sqrt((1-beta)/(1+beta)) <= 1`` reached for large ``T``, where
       the noise term is ``N sqrt((1-beta)/(1+beta))``, ``N = sum_l w_l rho_l sigma_l``;
       expand in ``s`` (:func:`schedule_expansion`) and read off the leading power of
       ``T`` of every term (:func:`leading_powers`).
    2. Write the ``s`` coefficient as ``A/c_eta + B c_eta/c_beta + C sqrt(c_beta)``
       (:func:`leading_coefficient_symbols`); ``variant="every_T"`` first relaxes
       ``1 + beta >= 1`` (``C = 2N``, a bound for every ``T``), ``variant="asymptotic"``
       keeps it (``C = sqrt(2) N``, ``1 + beta -> 2``). With ``kappa``:
       ``A = Delta/kappa_lo``, ``B = (kappa_lo+kappa_hi) kappa_hi Q/kappa_lo``,
       ``C = (kappa_lo+kappa_hi) N/kappa_lo`` (every ``T``), divided by ``sqrt 2``
       (asymptotic).
    3. Minimise in closed form with sympy (:func:`optimal_constant_symbols`): inner
       minimum over ``c_eta``, then over ``sqrt(c_beta)``, where the objective is strictly
       convex: ``c_beta* = 2 sqrt(A B)/C``, ``c_eta* = sqrt(2) A^(3/4) B^(-1/4) C^(-1/2)``,
       ``K* = 2^(3/2) (A B)^(1/4) C^(1/2)``.
    4. Feasibility: ``c_beta* T^(-1/2) <= 1``, i.e. ``T >= 4 A B / C^2``; below, the
       schedule sets ``beta = 0`` and flags the point (no ``T^(-1/4)`` claim).

Guarantee
    Rate ``T^(-1/4)`` (the ``g_1`` term is ``T^(-1/2)``), matching the lower bound of
    Arjevani et al. for bounded-variance stochastic first-order methods (a Euclidean,
    dimension-free statement). The every-``T`` envelope
    ``(A/c_eta + B c_eta/c_beta + C sqrt(c_beta)) T^(-1/4) + (kappa_lo+kappa_hi)/kappa_lo
    G1/c_beta T^(-1/2)`` bounds the displayed theorem (``theorem_exact_lmo``) at every
    feasible ``T`` (tests).

References
    :mod:`nalr_theory.theory.theorem` (the bound being tuned); Cutkosky & Mehta (2020);
    Arjevani et al., "Lower bounds for non-convex stochastic optimization" (2023).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from . import _validation as check
from .symbols import (
    N,
    Q,
    A_coef,
    B_coef,
    C_coef,
    Delta,
    T,
    beta,
    c_beta,
    c_eta,
    eta,
    kappa_hi,
    kappa_lo,
    s,
)
from .theorem import NOISE_SUM, bound, derive_theorem, problem_constants

VARIANTS = ("every_T", "asymptotic")
VARIANT_LABELS = {
    "every_T": "C = 2N (valid for every T, using 1 + beta >= 1)",
    "asymptotic": "C = sqrt(2) N (asymptotic, 1 + beta -> 2)",
}


def _noise_average(variant: str):
    """The time-averaged noise term in the large-``T`` (rho) regime, per variant."""
    if variant == "asymptotic":
        return N * sp.sqrt((1 - beta) / (1 + beta))
    return N * sp.sqrt(1 - beta)  # 1 + beta >= 1


def _schedule_substitution():
    return {eta: c_eta * s**3, beta: 1 - c_beta * s**2, T: s**-4}


@lru_cache(maxsize=None)
def schedule_expansion(variant: str = "asymptotic", order: int = 4) -> dict[int, sp.Expr]:
    """Coefficients of ``s^k`` (``s = T^(-1/4)``) of the theorem under the tuned schedule.

    Exact-LMO values (``kappa = 1``, asymptotic) are:
    ``s``: ``Delta/c_eta + 2 Q c_eta/c_beta + sqrt(2) N sqrt(c_beta)``;
    ``s^2``: ``2 G1/c_beta``; ``s^3``: ``sqrt(2)/4 N c_beta^(3/2) - 3/2 Q c_eta``.
    """
    check.choice(variant, "variant", VARIANTS)
    expression = derive_theorem("theorem").aggregated.subs(NOISE_SUM, _noise_average(variant))
    expression = expression.subs(_schedule_substitution())
    series = sp.series(expression, s, 0, order + 1).removeO()
    series = sp.expand(series)
    return {power: sp.simplify(series.coeff(s, power)) for power in range(0, order + 1) if series.coeff(s, power) != 0}


@lru_cache(maxsize=None)
def leading_powers() -> dict[str, tuple[sp.Expr, sp.Rational]]:
    """For each additive term of the theorem: ``(leading coefficient, power of T)``.

    Under the tuned schedule (asymptotic regime): initial gap, drift and noise ``T^(-1/4)``;
    initial gradient ``T^(-1/2)``; quadratic ``T^(-3/4)``.
    """
    derived = derive_theorem("theorem")
    out = {}
    for name, term in derived.terms.items():
        expression = term.subs(NOISE_SUM, _noise_average("asymptotic")).subs(_schedule_substitution())
        leading = sp.simplify(expression).as_leading_term(s)
        coefficient, exponent = leading.as_coeff_exponent(s)
        out[name] = (sp.simplify(coefficient), sp.Rational(-exponent, 4))
    return out


@lru_cache(maxsize=None)
def leading_coefficient_symbols(variant: str = "every_T") -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(A, B, C)`` as sympy expressions of ``Delta, Q, N, kappa_lo, kappa_hi``.

    Read off the ``s`` coefficient of :func:`schedule_expansion`, which must have the form
    ``A/c_eta + B c_eta/c_beta + C sqrt(c_beta)`` (checked).
    """
    leading = sp.expand(schedule_expansion(variant)[1])
    A = sp.simplify(leading.coeff(c_eta, -1))
    B = sp.simplify(leading.coeff(c_eta, 1) * c_beta)
    C = sp.simplify((leading - A / c_eta - B * c_eta / c_beta) / sp.sqrt(c_beta))
    for value in (A, B, C):
        if value.has(c_eta) or value.has(c_beta):  # pragma: no cover
            raise AssertionError("leading coefficient is not of the form A/c_eta + B c_eta/c_beta + C sqrt(c_beta)")
    return A, B, C


def leading_coefficient_form():
    """The leading coefficient as a function of the schedule constants."""
    return A_coef / c_eta + B_coef * c_eta / c_beta + C_coef * sp.sqrt(c_beta)


@dataclass(frozen=True)
class OptimalConstants:
    """The optimal schedule constants, by name: ``c_eta*`` (step size ``eta = c_eta
    T^(-3/4)``), ``c_beta*`` (momentum ``1 - beta = c_beta T^(-1/2)``) and ``K*`` (the
    minimal leading coefficient). Floats, arrays (when the inputs are arrays) or sympy
    expressions (:func:`optimal_constant_symbols`).

    Read the fields by name: the record deliberately does not unpack or index, so that
    ``c_beta`` and ``c_eta`` cannot be swapped by position.
    """

    c_eta: object
    c_beta: object
    K: object


@lru_cache(maxsize=None)
def optimal_constant_symbols() -> OptimalConstants:
    """``c_eta*, c_beta*, K*`` minimising ``A/c_eta + B c_eta/c_beta + C sqrt(c_beta)``.

    Derived by sympy: stationary ``c_eta`` for fixed ``c_beta``, then the stationary point
    of the reduced objective ``2 sqrt(A B / c_beta) + C sqrt(c_beta)``, strictly convex in
    ``u = sqrt(c_beta)`` (second derivative ``4 sqrt(A B) / u^3 > 0``), hence global.
    """
    objective = leading_coefficient_form()
    inner = sp.solve(sp.diff(objective, c_eta), c_eta)
    inner = [root for root in inner if root.is_positive is not False][0]
    reduced = sp.simplify(objective.subs(c_eta, inner))
    u = sp.Symbol("u", positive=True)
    reduced_u = sp.simplify(reduced.subs(c_beta, u**2))
    if not sp.simplify(sp.diff(reduced_u, u, 2)).is_positive:  # pragma: no cover
        raise AssertionError("reduced objective is not strictly convex in sqrt(c_beta)")
    u_star = [root for root in sp.solve(sp.diff(reduced_u, u), u) if root.is_positive is not False][0]
    c_beta_star = sp.simplify(u_star**2)
    c_eta_star = sp.simplify(sp.powsimp(inner.subs(c_beta, c_beta_star), force=True))
    K_star = sp.simplify(sp.powsimp(reduced_u.subs(u, u_star), force=True))
    return OptimalConstants(c_eta=c_eta_star, c_beta=c_beta_star, K=K_star)


@lru_cache(maxsize=None)
def _optimal_numeric():
    star = optimal_constant_symbols()
    return {name: sp.lambdify((A_coef, B_coef, C_coef), getattr(star, name), "numpy")
            for name in ("c_eta", "c_beta", "K")}


def optimal_constants(A, B, C) -> OptimalConstants:
    """``OptimalConstants(c_eta*, c_beta*, K*)`` minimising ``A/c_eta + B c_eta/c_beta + C sqrt(c_beta)``.

    Problem
        Minimise the leading coefficient over ``c_beta, c_eta > 0``.
    Algorithm
        The sympy closed form of :func:`optimal_constant_symbols`, lambdified.
    Guarantee
        ``c_beta* = 2 sqrt(A B)/C``, ``c_eta* = sqrt(2) A^(3/4) B^(-1/4) C^(-1/2)``,
        ``K* = 2^(3/2) (A B)^(1/4) C^(1/2)``: the global minimum. Arrays broadcast.
    References
        Step 3 of this module's docstring.

    Raises ``ValueError`` unless ``A, B, C > 0`` (``C = 0`` is noise-free: no trade-off).
    """
    A = check.positive(A, "A")
    B = check.positive(B, "B")
    C = check.positive(C, "C")
    values = {}
    for name, function in _optimal_numeric().items():
        value = function(A, B, C)
        values[name] = np.asarray(value, dtype=np.float64)[()] if np.ndim(value) else float(value)
    return OptimalConstants(**values)


@lru_cache(maxsize=None)
def _leading_numeric(variant: str):
    A, B, C = leading_coefficient_symbols(variant)
    return sp.lambdify((Delta, Q, N, kappa_lo, kappa_hi), (A, B, C), "numpy")


@dataclass(frozen=True)
class LeadingCoefficients:
    """``A, B, C`` of the leading coefficient (unpacks as ``A, B, C = ...``).

    Also carries ``variant``, its ``label``, and the aggregates ``Q = w^T L w``,
    ``N = sum_l w_l rho_l sigma_l``, ``G1`` (0 when ``g1`` was not given), ``kappa_lo``,
    ``kappa_hi``.
    """

    A: float
    B: float
    C: float
    variant: str
    Q: float
    N: float
    G1: float = 0.0
    kappa_lo: float = 1.0
    kappa_hi: float = 1.0
    label: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "label", VARIANT_LABELS[self.variant])

    def __iter__(self):
        return iter((self.A, self.B, self.C))

    @property
    def feasibility_horizon(self) -> float:
        """``4 A B / C^2``: the tuned schedule needs ``T`` at least this."""
        return feasibility_horizon(self.A, self.B, self.C)

    def optimal(self) -> OptimalConstants:
        """``OptimalConstants(c_eta*, c_beta*, K*)`` of these coefficients."""
        return optimal_constants(self.A, self.B, self.C)


def leading_coefficients(Delta, L, rho, sigma, weights=None, variant: str = "every_T", *, g1=0.0,
                         kappa_lo=1.0, kappa_hi=1.0) -> LeadingCoefficients:
    """``A, B, C`` from problem constants (see the module docstring).

    ``weights`` are the upper weights ``w_hi`` (default: ones, uniform steps); ``L`` the
    ``p x p`` coupling (1-D: diagonal); ``rho``, ``sigma`` per layer (scalars broadcast).
    ``variant``: ``"every_T"`` (``C = 2N``, default) or ``"asymptotic"`` (``C = sqrt(2) N``).
    """
    check.choice(variant, "variant", VARIANTS)
    constants = problem_constants(Delta, L, rho, sigma, g1, weights, None, kappa_lo, kappa_hi)
    A, B, C = (float(value) for value in _leading_numeric(variant)(
        constants.Delta, constants.Q, constants.N, constants.kappa_lo, constants.kappa_hi))
    return LeadingCoefficients(A, B, C, variant, constants.Q, constants.N, constants.G1,
                               constants.kappa_lo, constants.kappa_hi)


def feasibility_horizon(A, B, C):
    """``4 A B / C^2``: smallest ``T`` with ``c_beta* T^(-1/2) <= 1`` (``beta* >= 0``)."""
    A = check.positive(A, "A")
    B = check.positive(B, "B")
    C = check.positive(C, "C")
    value = 4.0 * A * B / C**2
    return value if np.ndim(value) else float(value)


def rho_regime_horizon(c_beta_value, rho):
    """Smallest ``T`` from which every layer's L3 cap is in its ``rho`` branch under the schedule.

    ``rho_l sqrt((1-beta)/(1+beta)) <= 1`` with ``1 - beta = c_beta T^(-1/2)`` holds for all
    layers iff ``T >= (c_beta (rho_max^2 + 1) / 2)^2``. The asymptotic expansion (and hence the
    leading power and ``C = sqrt(2) N``) describes the bound from there on; before it the
    ``min(1, .)`` cap is active for the layers with the largest ``rho``.
    """
    cb = check.positive(c_beta_value, "c_beta")
    factors = check.positive(np.atleast_1d(rho), "rho")
    value = (cb * (np.max(factors) ** 2 + 1.0) / 2.0) ** 2
    return value if np.ndim(value) else float(value)


@dataclass(frozen=True)
class TunedSchedule:
    """The horizon-tuned schedule on a grid of horizons.

    ``eta = c_eta T^(-3/4)``; ``beta = 1 - c_beta T^(-1/2)`` where ``feasible``, else
    ``beta = 0`` (no ``T^(-1/4)`` claim there); ``K`` is the leading coefficient.
    """

    T: np.ndarray
    eta: np.ndarray
    beta: np.ndarray
    feasible: np.ndarray
    c_beta: float
    c_eta: float
    K: float
    feasibility_horizon: float


def tuned_schedule(T, A, B, C, c_beta_value=None, c_eta_value=None) -> TunedSchedule:
    """The horizon-tuned schedule for horizons ``T`` (optimal constants unless given).

    Decision (the theorem says nothing on ``eta`` when infeasible): ``eta = c_eta T^(-3/4)``
    is kept on the whole grid; only ``beta`` is clamped to 0, i.e.
    ``beta = max(0, 1 - c_beta/sqrt T)``.
    """
    horizon = check.horizon(T, "T")
    best = optimal_constants(A, B, C)
    cb = best.c_beta if c_beta_value is None else check.positive_scalar(c_beta_value, "c_beta")
    ce = best.c_eta if c_eta_value is None else check.positive_scalar(c_eta_value, "c_eta")
    one_minus_beta = cb / np.sqrt(horizon)
    feasible = one_minus_beta <= 1.0 + 1e-12  # T >= c_beta^2 = 4AB/C^2, up to rounding
    momentum = np.where(feasible, 1.0 - np.minimum(one_minus_beta, 1.0), 0.0)
    step = ce * horizon ** (-0.75)
    K = float(A / ce + B * ce / cb + C * np.sqrt(cb))
    return TunedSchedule(horizon, step, momentum, feasible, float(cb), float(ce), K, float(cb**2))


def every_T_envelope(T, coefficients: LeadingCoefficients, c_beta_value=None, c_eta_value=None):
    """``K(c) T^(-1/4) + (kappa_lo+kappa_hi)/kappa_lo G1/c_beta T^(-1/2)`` (every-``T`` variant).

    Bounds the displayed theorem (hence the exact bound) at every feasible ``T`` when
    ``coefficients.variant == "every_T"`` (the relaxations: ``1 + beta >= 1`` in the noise,
    ``eta (c beta/(1-beta) + kappa_hi^2/2) <= eta c/(1-beta)`` in the drift).
    """
    horizon = check.horizon(T, "T")
    schedule = tuned_schedule(horizon, coefficients.A, coefficients.B, coefficients.C, c_beta_value, c_eta_value)
    factor = (coefficients.kappa_lo + coefficients.kappa_hi) / coefficients.kappa_lo
    return schedule.K * horizon ** -0.25 + factor * coefficients.G1 / schedule.c_beta * horizon ** -0.5


def predicted_curve(T, *, Delta, L, rho, sigma, g1, w_hi=None, w_lo=None, kappa_lo=1.0, kappa_hi=1.0,
                    variant: str = "every_T", form: str = "exact", measure: str = "weighted") -> dict:
    """The bound along the tuned schedule for each horizon in ``T`` (for experiments).

    Returns ``{"T", "eta", "beta", "feasible", "bound", "leading", "coefficients",
    "schedule"}`` where ``leading = K* T^(-1/4)`` (NaN where infeasible: no claim there).
    """
    coefficients = leading_coefficients(Delta, L, rho, sigma, w_hi, variant, g1=g1,
                                        kappa_lo=kappa_lo, kappa_hi=kappa_hi)
    schedule = tuned_schedule(T, *coefficients)
    values = bound(schedule.T, schedule.eta, schedule.beta, Delta=Delta, L=L, rho=rho, sigma=sigma,
                   g1=g1, w_hi=w_hi, w_lo=w_lo, kappa_lo=kappa_lo, kappa_hi=kappa_hi, form=form,
                   measure=measure)
    leading = np.where(schedule.feasible, schedule.K * schedule.T ** -0.25, np.nan)
    return {
        "T": schedule.T,
        "eta": schedule.eta,
        "beta": schedule.beta,
        "feasible": schedule.feasible,
        "bound": np.asarray(values),
        "leading": leading,
        "coefficients": coefficients,
        "schedule": schedule,
    }


__all__ = [
    "LeadingCoefficients",
    "OptimalConstants",
    "TunedSchedule",
    "VARIANTS",
    "VARIANT_LABELS",
    "every_T_envelope",
    "feasibility_horizon",
    "leading_coefficient_form",
    "leading_coefficient_symbols",
    "leading_coefficients",
    "leading_powers",
    "optimal_constant_symbols",
    "optimal_constants",
    "predicted_curve",
    "rho_regime_horizon",
    "schedule_expansion",
    "tuned_schedule",
]
