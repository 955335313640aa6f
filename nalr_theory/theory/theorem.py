"""The general layerwise theorem, its special cases by substitution, and the numeric bound.

Problem
    Bound the weighted stationarity ``(1/T) sum_t E[sum_l w_lo[l] ||g_t^l||_*]`` of the LMO
    momentum family with layerwise weights ``w_lo[l] <= w_t^l <= w_hi[l]`` under A1, A2v,
    A3, for an exact or approximate (``kappa_lo``, ``kappa_hi``) LMO.

Algorithm
    :func:`derive_theorem` sums L1 over ``t = 1..T`` (telescoping ``f``, ``w_t <= w_hi`` on
    the right, ``w_t >= w_lo`` on the left), replaces ``E||eps_t^l||_*`` by L4 and sums the
    L4 coefficients over ``t`` with sympy (``form="theorem"``: the displayed theorem, with
    ``sum_t beta^t <= beta/(1-beta)``; ``form="exact"``: the exact finite sums and the
    per-step L3 cap ``MomentumNoiseSum``). The result is kept in *aggregated* form over
    ``G1 = sum_l w_hi[l] ||g_1^l||_*``, ``Q = w_hi^T L w_hi`` and the time-averaged noise
    caps ``NoiseAverage = (1/T) sum_t sum_l w_hi[l] sigma_l cap_l(t)``, then
    expanded into layer sums for display. The displayed theorem (exact LMO,
    :func:`theorem_exact_lmo`) is ``kappa_lo = kappa_hi = 1``::

        (1/T) sum_t E[sum_l w_lo[l] ||g_t^l||_*]
           <= Delta/(eta T) + 2 beta/((1-beta) T) sum_l w_hi[l] ||g_1^l||_*
            + eta (2 beta/(1-beta) + 1/2) w_hi^T L w_hi
            + 2 sum_l w_hi[l] sigma_l min(1, rho_l sqrt((1-beta)/(1+beta)))

    and in general ``(1/kappa_lo) [Delta/(eta T) + (kappa_lo + kappa_hi) (beta/((1-beta) T)
    G1 + eta kappa_hi beta/(1-beta) Q + sum_l w_hi sigma_l cap_l) + eta kappa_hi^2 Q / 2]``.
    Special cases (:func:`special_case`) are substitutions into the general statement.
    :func:`bound` lambdifies the aggregated expression to numpy, vectorised over ``T``.

Guarantee
    The exact form is never larger than the theorem form (tests); both equal the display
    above at ``kappa = 1`` (tests, by an independently typed formula). The weighted-on-
    path form: for any weights ``0 < w_t <= w_hi`` (any noise estimator),
    ``E[(1/T) sum_t sum_l w_t^l ||g_t^l||_*] <= bound(w_hi)`` -- LANTON has ``w_t <= 1``.

References
    ``nalr_theory.theory.lemmas`` (L1-L4); Hao et al., LANTON, arXiv 2510.14009 (2025);
    Pethick et al., Scion (2025); Riabinin et al., Gluon (2025).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from . import _validation as check
from .finite_sums import MomentumNoiseSum, momentum_noise_sum, momentum_noise_term
from .lemmas import coupled_step, lemma_l1_inexact, lemma_l4, lemma_l4_finite, momentum_coefficient_sums
from .statement import Expectation, Statement
from .symbols import (
    G1,
    Q,
    Delta,
    T,
    beta,
    eps_norm,
    eta,
    g1_norm,
    grad_norm,
    h_hi,
    h_lo,
    kappa_hi,
    kappa_lo,
    l,
    p,
    quadratic_form,
    rho,
    sigma,
    sigma_max,
    t,
    w_fixed,
    w_hi,
    w_lo,
    w_path,
)

FORMS = ("exact", "theorem")
MEASURES = ("weighted", "plain", "noise_normalised")
#: Aggregate symbol: ``(1/T) sum_{t=1..T} sum_l w_hi[l] sigma_l cap_l(t)`` (the L3 caps averaged over time).
NOISE_SUM = sp.Symbol("NoiseAverage", nonnegative=True)

_REFERENCES = "nalr_theory.theory.theorem (derive_theorem: L1 summed, L4); Hao et al. 2025 (arXiv 2510.14009)"


@dataclass(frozen=True)
class DerivedBound:
    """The derived right-hand side, aggregated and expanded.

    ``aggregated`` is a function of ``T, eta, beta, Delta, kappa_lo, kappa_hi, G1, Q,
    NoiseAverage``; ``noise_summand`` is the per-layer summand of ``NoiseAverage`` (of
    ``T, beta`` and the layer symbols ``w_hi[l], sigma[l], rho[l]``); ``terms`` splits
    ``aggregated`` into named additive terms.
    """

    form: str
    aggregated: sp.Expr
    noise_summand: sp.Expr
    terms: dict
    expanded: sp.Expr


def _coefficient(expression, factor):
    """Coefficient of ``factor`` in an expression linear in it (checked)."""
    expanded = sp.expand(expression)
    coefficient = expanded.coeff(factor)
    if sp.expand(expanded - coefficient * factor).has(factor):
        raise AssertionError(f"expression is not linear in {factor}")  # pragma: no cover
    return coefficient


@lru_cache(maxsize=None)
def derive_theorem(form: str = "theorem") -> DerivedBound:
    """Derive the theorem from L1 and L4 (see the module docstring for the steps)."""
    check.choice(form, "form", FORMS)
    # L1 summed over t: the coefficients of the eps and quadratic terms, per unit of eta.
    l1 = lemma_l1_inexact().rhs
    eps_factor = sp.simplify(_coefficient(l1, sp.Sum(w_path[l] * eps_norm[l], (l, 1, p))) / eta)
    quadratic_factor = sp.simplify(_coefficient(l1, quadratic_form(w_path)) / eta**2)
    descent_factor = -sp.simplify(_coefficient(l1, sp.Sum(w_path[l] * grad_norm[l], (l, 1, p))) / eta)

    # L4: the coefficients of ||g_1^l||, of sum_j L[l,j] w_hi[j] and the noise cap.
    l4 = (lemma_l4_finite() if form == "exact" else lemma_l4()).rhs
    step_sum = sp.Symbol("Lw")
    l4 = l4.subs(coupled_step(), step_sum)
    g1_coefficient = _coefficient(l4, g1_norm[l])
    drift_coefficient = _coefficient(l4, step_sum)
    noise_cap = sp.simplify(_coefficient(l4, sigma[l]))

    sums = momentum_coefficient_sums()
    if form == "exact":
        # Exact sums over t = 1..T of the L4 coefficients.
        g1_time = sums["g1_time"]
        drift_time = sums["drift_time"] * eta * kappa_hi
        if sp.simplify(drift_coefficient - eta * kappa_hi * sums["drift"]) != 0:  # pragma: no cover
            raise AssertionError("L4 drift coefficient differs from the derived geometric sum")
        if noise_cap != momentum_noise_term(t, beta, rho[l]):  # pragma: no cover
            raise AssertionError("L4 finite noise cap differs from the summand of MomentumNoiseSum")
        noise_summand = w_hi[l] * sigma[l] * MomentumNoiseSum(T, beta, rho[l]) / T
    else:
        # The displayed theorem: sum_t beta^t <= beta/(1-beta), the other terms constant in t.
        g1_time = sums["geometric"]
        if sp.simplify(g1_coefficient - beta**t) != 0:  # pragma: no cover
            raise AssertionError("L4 g1 coefficient is not beta^t")
        drift_time = T * drift_coefficient
        noise_summand = w_hi[l] * sigma[l] * noise_cap
    time_sum = g1_time * G1 + drift_time * Q + T * NOISE_SUM
    total = Delta + eta * eps_factor * time_sum + T * eta**2 * quadratic_factor * Q
    terms = {
        "initial_gap": Delta / (descent_factor * eta * T),
        "initial_gradient": eps_factor * g1_time * G1 / (descent_factor * T),
        "drift": eps_factor * drift_time * Q / (descent_factor * T),
        "quadratic": eta * quadratic_factor * Q / descent_factor,
        "noise": eps_factor * NOISE_SUM / descent_factor,
    }
    aggregated = sp.Add(*terms.values())
    if sp.simplify(aggregated - total / (descent_factor * eta * T)) != 0:  # pragma: no cover
        raise AssertionError("term split does not add up")
    expanded = aggregated.subs(
        {
            G1: sp.Sum(w_hi[l] * g1_norm[l], (l, 1, p)),
            Q: quadratic_form(w_hi),
            NOISE_SUM: sp.Sum(noise_summand, (l, 1, p)),
        }
    )
    return DerivedBound(form, aggregated, noise_summand, terms, expanded)


def _lhs(weights: sp.IndexedBase):
    return sp.Sum(Expectation(sp.Sum(weights[l] * grad_norm[t, l], (l, 1, p))), (t, 1, T)) / T


@lru_cache(maxsize=None)
def theorem_general(form: str = "theorem") -> Statement:
    """The general theorem (approximate LMO, coupled ``L``, weight interval ``[w_lo, w_hi]``)."""
    derived = derive_theorem(form)
    return Statement(
        key="theorem" if form == "theorem" else "theorem_exact",
        title="Layerwise bound (general form)" + (" with exact finite sums" if form == "exact" else ""),
        lhs=_lhs(w_lo),
        rhs=derived.expanded,
        hypotheses=(
            "A1 (coupling L >= 0), A2v, A3",
            "w_lo[l] <= w_t^l <= w_hi[l] on every path (weights may depend on the current sample)",
            "<B, d> <= -kappa_lo ||B||_*, ||d|| <= kappa_hi (kappa = 1: exact LMO)",
            "0 <= beta < 1, eta > 0, T >= 1",
        ),
        proof_sketch=(
            "Sum L1 over t = 1..T (f telescopes to Delta), bound w_t by w_hi on the right and by w_lo "
            "on the left, take expectations, use L4 and sum its coefficients over t"
            + (" exactly." if form == "exact" else " (sum_t beta^t <= beta/(1-beta)).")
        ),
        check="Matches the displayed theorem at kappa = 1; exact form <= theorem form; Monte-Carlo validity (tests).",
        references=_REFERENCES,
    )


@lru_cache(maxsize=None)
def theorem_exact_lmo(form: str = "theorem") -> Statement:
    """The displayed theorem (module docstring): the general one at ``kappa_lo = kappa_hi = 1``."""
    return theorem_general(form).subs({kappa_lo: 1, kappa_hi: 1}, "exact LMO: kappa_lo = kappa_hi = 1")


SPECIAL_CASES = ("exact_lmo", "uniform", "uniform_noise", "fixed_layerwise", "weighted_on_path")


def special_case(name: str, statement: Statement | None = None) -> Statement:
    """A special case of the theorem, by substitution into ``statement`` (default: the theorem).

    * ``exact_lmo``: ``kappa_lo = kappa_hi = 1``.
    * ``uniform`` (Scion/D-Muon per layer): ``w_lo[l] = w_hi[l] = 1``.
    * ``uniform_noise``: ``uniform`` and ``sigma_l -> sigma_max`` (earlier analyses).
    * ``fixed_layerwise`` (Gluon-style): ``w_lo[l] = w_hi[l] = w[l]``.
    * ``weighted_on_path``: any estimator, ``w_t <= 1``: ``w_hi[l] = 1``, the left-hand side
      weighted by the path's own weights ``w_t``.

    LANTON weights need the groups: :func:`lanton_special_case`.
    """
    check.choice(name, "name", SPECIAL_CASES)
    base = statement if statement is not None else theorem_general()
    one = lambda *indices: sp.Integer(1)  # noqa: E731
    if name == "exact_lmo":
        return base.subs({kappa_lo: 1, kappa_hi: 1}, "kappa_lo = kappa_hi = 1")
    if name == "uniform":
        return base.replace_indexed(w_lo, one, "w_lo = 1").replace_indexed(w_hi, one, "w_hi = 1")
    if name == "uniform_noise":
        return special_case("uniform", base).replace_indexed(sigma, lambda *i: sigma_max, "sigma_l -> sigma_max")
    if name == "fixed_layerwise":
        same = lambda *indices: w_fixed[indices]  # noqa: E731
        return base.replace_indexed(w_lo, same, "w_lo = w").replace_indexed(w_hi, same, "w_hi = w")
    # weighted_on_path
    on_path = base.replace_indexed(w_hi, one, "w_hi = 1 (w_t <= 1 on every path)")
    return Statement(
        key=base.key + "_on_path",
        title=base.title + ", weighted on the path",
        lhs=sp.Sum(Expectation(sp.Sum(w_path[t, l] * grad_norm[t, l], (l, 1, p))), (t, 1, T)) / T,
        rhs=on_path.rhs,
        hypotheses=base.hypotheses[:1] + ("0 <= w_t^l <= 1 on every path (any noise estimator)",) + base.hypotheses[2:],
        proof_sketch=base.proof_sketch + " Keep w_t inside the expectation on the left.",
        check=base.check,
        references=base.references,
        substitutions=on_path.substitutions + ("left side weighted by w_t",),
    )


def lanton_weight_bounds_symbolic(groups) -> tuple[list, list]:
    """``(w_lo[l], w_hi[l])`` expressions of LANTON's weights from ``H^l in [h_lo[l], h_hi[l]]``.

    ``w^l = alpha^l / max_{j in group(l)} alpha^j`` with ``alpha = H^(-1/2)`` equals
    ``min(1, sqrt(min_{j in group, j != l} H^j / H^l))``: increasing in every ``H^j``
    (``j != l``), decreasing in ``H^l``, each variable appearing once, so its range over the
    box of intervals is attained at the corners (tight):
    ``w_hi = min(1, sqrt(min_{j != l} h_hi[j] / h_lo[l]))``,
    ``w_lo = min(1, sqrt(min_{j != l} h_lo[j] / h_hi[l]))``; ``1`` for a one-layer group.
    Layers are numbered from 1; ``groups[l-1]`` is layer ``l``'s group label.
    """
    groups = list(groups)
    lows, highs = [], []
    for index, group in enumerate(groups, start=1):
        others = [other for other, label in enumerate(groups, start=1) if label == group and other != index]
        if not others:
            lows.append(sp.Integer(1))
            highs.append(sp.Integer(1))
            continue
        highs.append(sp.Min(1, sp.sqrt(sp.Min(*[h_hi[o] for o in others]) / h_lo[index])))
        lows.append(sp.Min(1, sp.sqrt(sp.Min(*[h_lo[o] for o in others]) / h_hi[index])))
    return lows, highs


def lanton_special_case(groups, statement: Statement | None = None) -> Statement:
    """Special case 4, LANTON weights (:func:`special_case` has the others), by substitution
    (``p = len(groups)``)."""
    groups = list(groups)
    if not groups:
        raise ValueError("groups: expected one group label per layer, got an empty list")
    base = statement if statement is not None else theorem_general()
    lows, highs = lanton_weight_bounds_symbolic(groups)
    concrete = base.subs({p: len(groups)}, f"p = {len(groups)}")
    concrete = Statement(**{**concrete.__dict__, "lhs": concrete.lhs.doit(), "rhs": concrete.rhs.doit()})
    concrete = concrete.replace_indexed(w_hi, lambda i: highs[int(i) - 1], "w_hi from the H intervals (LANTON)")
    return concrete.replace_indexed(w_lo, lambda i: lows[int(i) - 1], "w_lo from the H intervals (LANTON)")


# --- numeric bound ------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _numeric(form: str):
    derived = derive_theorem(form)
    scalars = (T, eta, beta, Delta, kappa_lo, kappa_hi, G1, Q, NOISE_SUM)
    modules = [{"MomentumNoiseSum": _noise_sum_numeric}, "numpy"]
    total = sp.lambdify(scalars, derived.aggregated, modules)
    terms = {name: sp.lambdify(scalars, term, modules) for name, term in derived.terms.items()}
    layer_symbols = (sp.Symbol("w_l"), sp.Symbol("sigma_l"), sp.Symbol("rho_l"))
    summand = derived.noise_summand.subs({w_hi[l]: layer_symbols[0], sigma[l]: layer_symbols[1], rho[l]: layer_symbols[2]})
    noise = sp.lambdify((T, beta) + layer_symbols, summand, modules)
    return total, terms, noise


def _noise_sum_numeric(horizon, momentum, factor):
    return np.asarray(momentum_noise_sum(horizon, momentum, factor))


@dataclass(frozen=True)
class ProblemConstants:
    """Validated problem constants of the theorem (per layer: length-``p`` arrays)."""

    Delta: float
    L: np.ndarray
    rho: np.ndarray
    sigma: np.ndarray
    g1: np.ndarray
    w_hi: np.ndarray
    w_lo: np.ndarray
    kappa_lo: float
    kappa_hi: float

    @property
    def layers(self) -> int:
        """Number of layers ``p = L.shape[0]``."""
        return self.L.shape[0]

    @property
    def Q(self) -> float:
        """``Q = w_hi^T L w_hi``, the coupling's quadratic form at the upper weights."""
        return float(self.w_hi @ self.L @ self.w_hi)

    @property
    def G1(self) -> float:
        """``G1 = sum_l w_hi[l] g1[l]``, ``g1[l] = ||grad_l f(X_1)||_*``."""
        return float(self.w_hi @ self.g1)

    @property
    def N(self) -> float:
        """``N = sum_l w_hi[l] rho[l] sigma[l]``: the large-``T`` noise coefficient of ``theory.schedules``."""
        return float(np.sum(self.w_hi * self.rho * self.sigma))


def problem_constants(Delta, L, rho, sigma, g1=0.0, w_hi=None, w_lo=None, kappa_lo=1.0, kappa_hi=1.0) -> ProblemConstants:
    """Validate and package the constants (``ValueError`` naming the parameter).

    ``L``: nonnegative ``p x p`` (a 1-D array is read as the diagonal); ``rho >= 1`` not
    required, only ``> 0``; ``w_hi`` defaults to ones, ``w_lo`` to ``w_hi``; weights in
    ``[0, inf)`` with ``w_lo <= w_hi``.
    """
    Delta = float(check.nonnegative(Delta, "Delta"))
    L = check.coupling_matrix(L)
    layers = L.shape[0]
    rho = check.layer_vector(rho, "rho", layers, strictly_positive=True)
    sigma = check.layer_vector(sigma, "sigma", layers)
    g1 = check.layer_vector(g1, "g1", layers)
    w_hi = np.ones(layers) if w_hi is None else check.layer_vector(w_hi, "w_hi", layers)
    w_lo = w_hi.copy() if w_lo is None else check.layer_vector(w_lo, "w_lo", layers)
    if np.any(w_lo > w_hi):
        raise ValueError(f"w_lo: must be <= w_hi layer by layer, got {w_lo} > {w_hi}")
    kappa_lo, kappa_hi = check.inexact_lmo_constants(kappa_lo, kappa_hi)
    return ProblemConstants(Delta, L, rho, sigma, g1, w_hi, w_lo, kappa_lo, kappa_hi)


def bound(T, eta, beta, *, Delta, L, rho, sigma, g1, w_hi=None, w_lo=None, kappa_lo=1.0, kappa_hi=1.0,
          form: str = "exact", measure: str = "weighted", terms: bool = False):
    """The non-asymptotic bound at horizon ``T`` for step ``eta`` and momentum ``beta``.

    Problem
        Upper bound on ``(1/T) sum_{t=1..T} E[S(X_t)]`` for the LMO momentum method with
        layerwise weights in ``[w_lo, w_hi]`` (see :func:`theorem_general`).
    Algorithm
        The derived theorem (``form="exact"``: exact finite geometric sums and the per-step
        cap ``min(rho sqrt((1-beta)(1-beta^(2t))/(1+beta)), 1-beta^t)``; ``form="theorem"``:
        the displayed theorem of the module docstring) lambdified to numpy. ``T``, ``eta``,
        ``beta`` broadcast (vectorised over ``T``); per-layer constants are length-``p`` arrays.
    Guarantee
        ``measure="weighted"``: ``S = sum_l w_lo[l] ||grad_l f||_*``; ``"plain"``:
        ``S = sum_l ||grad_l f||_*`` (divides by ``min_l w_lo``); ``"noise_normalised"``:
        ``S = sum_l ||grad_l f||_* / sigma_l`` (divides by ``min_l w_lo[l] sigma_l``).
        ``terms=True`` returns a dict of the additive terms (before the measure's factor).
    References
        :func:`derive_theorem`; :func:`nalr_theory.theory.lemmas.lemma_l4_finite` (exact finite sums).

    ``g1`` is ``||grad_l f(X_1)||_*`` per layer. Raises ``ValueError`` naming the parameter
    for negative constants, ``beta`` outside ``[0, 1)``, ``T < 1`` or non-integer, ``eta <= 0``.
    """
    check.choice(form, "form", FORMS)
    check.choice(measure, "measure", MEASURES)
    horizon = check.horizon(T, "T")
    step = check.positive(eta, "eta")
    momentum = check.momentum(beta, "beta")
    constants = problem_constants(Delta, L, rho, sigma, g1, w_hi, w_lo, kappa_lo, kappa_hi)
    horizon, step, momentum = np.broadcast_arrays(horizon, step, momentum)
    total, term_functions, noise = _numeric(form)
    noise_average = np.sum(
        noise(horizon[..., None], momentum[..., None], constants.w_hi, constants.sigma, constants.rho)
        * np.ones(constants.layers),
        axis=-1,
    )
    arguments = (horizon, step, momentum, constants.Delta, constants.kappa_lo, constants.kappa_hi,
                 constants.G1, constants.Q, noise_average)
    if terms:
        return {name: _as_output(np.broadcast_to(function(*arguments), horizon.shape))
                for name, function in term_functions.items()}
    value = np.broadcast_to(total(*arguments), horizon.shape) / _measure_factor(constants, measure)
    return _as_output(value)


def _measure_factor(constants: ProblemConstants, measure: str) -> float:
    if measure == "weighted":
        return 1.0
    if measure == "plain":
        factor = float(np.min(constants.w_lo))
        if factor <= 0:
            raise ValueError("w_lo: the plain measure needs min_l w_lo[l] > 0 (no pathwise lower bound)")
        return factor
    factor = float(np.min(constants.w_lo * constants.sigma))
    if factor <= 0:
        raise ValueError("sigma: the noise-normalised measure needs every w_lo[l] sigma_l > 0")
    return factor


def _as_output(value):
    value = np.array(value, dtype=np.float64)
    return value if value.ndim else float(value)


__all__ = [
    "DerivedBound",
    "FORMS",
    "MEASURES",
    "ProblemConstants",
    "SPECIAL_CASES",
    "bound",
    "derive_theorem",
    "lanton_special_case",
    "lanton_weight_bounds_symbolic",
    "problem_constants",
    "special_case",
    "theorem_exact_lmo",
    "theorem_general",
]
