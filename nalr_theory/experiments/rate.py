"""The rate check: does the bound hold, and is the measured rate the bound's?

Problem
    For a problem with certified constants, run each optimizer over a grid of horizons
    ``T`` with the schedule the theory tunes for that ``T``, and answer three questions per
    optimizer: does every bound form it is entitled to hold on the measurements, how tight
    is it, and does the measured average stationarity ``M(T)`` decay like the bound, for the
    reason the bound gives (noise, or the initial gap)?

Algorithm
    For each optimizer and ``T``: the constants (:func:`.constants.theorem_constants`), the
    leading coefficients ``A, B, C`` (every-``T`` variant) and the horizon-tuned schedule
    ``eta = c_eta T^(-3/4)``, ``beta = 1 - c_beta T^(-1/2)`` (``beta = 0`` where the
    tuned ``c_beta > sqrt(T)``: flagged infeasible, no rate claim); ``R`` seeds through
    :func:`nalr_theory.engine.simulate`. Per form, ``M(T)`` per seed, its mean and a
    one-sided upper confidence bound ``mean + t_{R-1, level} s / sqrt(R)``; the exact
    bound at ``(T, eta, beta)`` (:func:`nalr_theory.theory.bound`), split into its terms
    ``initial_gap`` (``Delta/(eta T)``), ``g1``, ``curvature`` and ``noise``; ``holds`` is
    ``M_upper <= bound``; tightness ``bound / M_mean``.

    The slope of ``log M`` against ``log T`` (least squares over the grid's feasible ``T``)
    has a percentile interval from resampling seeds (independently per ``T``); it is set
    beside the bound's own least-squares slope over the same ``T``. The regime names the
    bound term that dominates over the range (``initial_gap``-, ``noise``-dominated, or
    ``mixed``). The slope is *judged* only where the noise term dominates at every ``T``
    of the range and ``T >= rho_regime_horizon``: it is "flatter than the bound" when the
    interval's lower end exceeds the bound's slope by more than ``SLOPE_TOLERANCE``. A
    flatter slope below an upper bound contradicts nothing until M reaches the bound, so it
    raises an alarm only when M, continued from its one-sided upper bound at the largest
    ``T`` along the interval's flattest slope, would meet the bound's line by
    ``MEET_HORIZON`` times that ``T``; otherwise the verdict gives the margin and where the
    lines meet. Elsewhere the verdict says why no judgement is made.

Guarantee
    Every number reported is measured or computed, never assumed: a bound that fails where
    its assumptions hold is reported as a finding (``holds = False``), not hidden.

References
    :mod:`nalr_theory.theory.theorem` (the bound), :mod:`nalr_theory.theory.schedules`
    (the tuned schedule, ``rho_regime_horizon``); Hao et al., LANTON, arXiv 2510.14009 (2025).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .. import engine, theory
from .constants import theorem_constants

#: the bound's terms as reported (``curvature`` = the theorem's ``drift`` + ``quadratic``)
TERMS = ("initial_gap", "g1", "curvature", "noise")

#: stated tolerance on the slope judgement (seed spread makes intervals narrow)
SLOPE_TOLERANCE = 0.05

#: a flatter slope is an alarm when M, continued at its flattest slope, would reach the
#: bound within two more doublings of the grid's largest T (a range one can then run)
MEET_HORIZON = 4.0


@dataclass
class RateCheck:
    """Result of :func:`rate_check`: ``rows`` (one per optimizer, form and ``T``), ``slopes``
    (one per optimizer and form), ``constants`` per optimizer, ``curves`` for plots."""

    rows: list = field(default_factory=list)
    slopes: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def merge(self, other: "RateCheck") -> "RateCheck":
        """This check with ``other``'s rows, slopes, constants, curves and notes appended
        (labels must differ: a second problem's optimizers carry their own labels)."""
        clash = set(self.curves) & set(other.curves)
        if clash:
            raise ValueError(f"other: optimizer labels {sorted(clash)} appear in both checks")
        return RateCheck(self.rows + other.rows, self.slopes + other.slopes, {**self.constants, **other.constants},
                         {**self.curves, **other.curves}, self.notes + other.notes)


def measured(form: str, result, constants) -> np.ndarray:
    """``M(T)`` per seed in ``form`` (problem's norms) from an engine result."""
    if form == "plain":
        return result.average["plain"]
    if form == "noise_normalised":
        return result.average["noise_normalised"]
    if form == "w_lo_weighted":
        return result.average_grad_dual @ constants.w_lo
    if form == "weighted_on_path":
        if not np.allclose(constants.radius, constants.radius[0]):
            raise ValueError("optimizer: the weighted-on-path measure needs equal radii across layers")
        return constants.radius[0] * result.average["weighted"]
    raise ValueError(f"form: unknown bound form {form!r}")


def bound_measure(form: str) -> str:
    """The measure argument of :func:`nalr_theory.theory.bound` for a form."""
    return {"plain": "plain", "noise_normalised": "noise_normalised"}.get(form, "weighted")


def upper_confidence(values: np.ndarray, level: float) -> tuple[float, float]:
    """``(mean, one-sided upper bound at level)`` (Student t; one seed: ``inf``)."""
    values = values[np.isfinite(values)]
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, float("inf")
    half = stats.t.ppf(level, values.size - 1) * np.std(values, ddof=1) / np.sqrt(values.size)
    return mean, float(mean + half)


def bound_terms(T, eta, beta, constants, form: str) -> dict:
    """The bound's terms in ``form`` (divided by the measure's factor as the total is)."""
    arguments = constants.bound_arguments()
    raw = theory.bound(T, eta, beta, terms=True, **arguments)
    total_raw = sum(raw.values())
    total = theory.bound(T, eta, beta, measure=bound_measure(form), **arguments)
    factor = total / total_raw
    return {"initial_gap": raw["initial_gap"] * factor, "g1": raw["initial_gradient"] * factor,
            "curvature": (raw["drift"] + raw["quadratic"]) * factor, "noise": raw["noise"] * factor,
            "total": total}


def fit_slope(T, values) -> float:
    """Least-squares slope of ``log values`` against ``log T``."""
    return float(np.polyfit(np.log(T), np.log(values), 1)[0])


def slope_interval(T, per_seed: list, level: float = 0.95, resamples: int = 2000, seed: int = 0):
    """Least-squares slope of ``log mean M`` on ``log T`` and its percentile interval
    (seeds resampled independently at each ``T``)."""
    rng = np.random.default_rng(seed)
    means = np.array([np.mean(values) for values in per_seed])
    slope = fit_slope(T, means)
    draws = np.empty(resamples)
    for k in range(resamples):
        draws[k] = fit_slope(T, [np.mean(rng.choice(values, values.size)) for values in per_seed])
    tail = (1.0 - level) / 2.0
    return slope, float(np.quantile(draws, tail)), float(np.quantile(draws, 1.0 - tail))


def regime(dominant: list) -> str:
    """``"<term>-dominated"`` when one bound term dominates at every horizon of ``dominant``
    (the dominant term per horizon, in order), else ``"mixed (a -> b)"``."""
    names = set(dominant)
    return f"{dominant[0]}-dominated" if len(names) == 1 else "mixed (" + " -> ".join(
        dict.fromkeys(dominant)) + ")"


def rate_check(problem, builders: dict, T_grid, seeds, *, start=None, level: float = 0.99,
               progress=None) -> RateCheck:
    """Run the rate check (see the module docstring).

    ``builders``: ``{label: build(layers, lr, beta) -> optimizer}``, each building the
    optimizer with a constant step ``lr`` and momentum ``beta``. ``T_grid``: increasing
    horizons. ``seeds``: a count or a sequence (as :func:`nalr_theory.engine.simulate`).
    ``level``: confidence of the one-sided upper bound on ``M``. ``progress(label, T)``
    is called before each run.
    """
    T_grid = [int(T) for T in T_grid]
    if not T_grid or any(T < 2 for T in T_grid) or sorted(set(T_grid)) != T_grid:
        raise ValueError(f"T_grid: expected increasing horizons >= 2, got {T_grid}")
    if not 0.5 < level < 1.0:
        raise ValueError(f"level: expected a confidence level in (0.5, 1), got {level}")
    check = RateCheck()
    start_params = problem.init(0) if start is None else start
    for label, build in builders.items():
        probe = build(problem.layers, 1e-3, 0.9)
        constants = theorem_constants(problem, probe, start_params, lr_sum=None)
        check.constants[label] = constants
        if not np.all(np.isfinite(constants.sigma)):
            # no finite noise level: neither the bound nor its horizon-tuned schedule exists
            raise ValueError(f"problem: {problem.name!r} has no finite noise level ({problem.noise.kind} noise; "
                             "assumption A2v fails), so there is no bound and no tuned schedule to check; "
                             "measure M with engine.simulate at a schedule of your choice")
        coefficients = constants.leading()
        schedule = theory.tuned_schedule(np.array(T_grid, dtype=float), coefficients.A, coefficients.B,
                                         coefficients.C)
        horizon = theory.rho_regime_horizon(schedule.c_beta, constants.rho)
        per_form = {form: [] for form in constants.forms}
        curve = {"T": T_grid, "eta": schedule.eta.tolist(), "beta": schedule.beta.tolist(),
                 "feasible": schedule.feasible.tolist(), "M": {}, "bound": {}, "terms": {},
                 "weights": None, "rho_regime_horizon": horizon}
        for index, T in enumerate(T_grid):
            eta, beta = float(schedule.eta[index]), float(schedule.beta[index])
            if progress is not None:
                progress(label, T)
            optimizer = build(problem.layers, eta, beta)
            result = engine.simulate(problem, optimizer, T, seeds, start=start, record_every=max(1, T // 64),
                                     measures=("plain", "weighted", "noise_normalised"))
            diverged = int(np.sum(result.diverged))
            if T == T_grid[-1]:
                curve["weights"] = {"steps": result.steps.tolist(),
                                    "mean": np.nanmean(result.weights, axis=0).tolist()}
            forms = constants.forms or ("plain",)
            for form in forms:
                values = measured(form, result, constants)
                mean, upper = upper_confidence(values, level)
                row = {"optimizer": label, "measure": form, "T": T, "eta": eta, "beta": beta,
                       "feasible": bool(schedule.feasible[index]), "M_mean": mean, "M_upper": upper,
                       "diverged_seeds": diverged}
                if constants.forms:
                    terms = bound_terms(T, eta, beta, constants, form)
                    row.update({"bound": terms["total"], "holds": bool(upper <= terms["total"]),
                                "tightness": terms["total"] / mean,
                                "dominant_term": max(TERMS, key=lambda name: terms[name])})
                    row.update({f"term_{name}": terms[name] for name in TERMS})
                    curve["terms"].setdefault(form, []).append({name: terms[name] for name in TERMS})
                    curve["bound"].setdefault(form, []).append(terms["total"])
                else:
                    row.update({"bound": None, "holds": None, "tightness": None, "dominant_term": None})
                curve["M"].setdefault(form, []).append(values.tolist())
                check.rows.append(row)
                if constants.forms:
                    per_form[form].append(values[np.isfinite(values)])
        check.curves[label] = curve
        if not constants.forms:
            check.notes.append(f"{label}: no bound applies ({constants.reason}); measured M is reported alone")
        check.slopes.extend(_slopes(label, T_grid, schedule, per_form, curve, horizon))
    return check


def slope_verdict(dominant, T_min, T_max, horizon, lo, hi, bound_slope, margin) -> str:
    """The judgement of a slope interval ``[lo, hi]`` against the bound's slope.

    ``dominant``: the bound's dominant term at each ``T``; ``margin``: bound over ``M``'s
    upper confidence bound at ``T_max``. See the module docstring for the rule.
    """
    if set(dominant) != {"noise"}:
        return "not judged (not noise-dominated)"
    if T_min < horizon:
        return f"not judged (T < {horizon:.0f}, before the rho regime)"
    if lo <= bound_slope + SLOPE_TOLERANCE:
        return "consistent with the bound's slope"
    # a flatter slope below an upper bound is no evidence against the bound's rate until M
    # would reach it: judge by where the two lines meet at M's flattest slope
    meet = T_max * margin ** (1.0 / (hi - bound_slope))
    if meet <= MEET_HORIZON * T_max:
        return f"FLATTER than the bound: at this slope M reaches it by T = {meet:.3g}"
    return f"flatter than the bound, {margin:.3g}x below it; the lines meet at T = {meet:.2g}"


def _slopes(label, T_grid, schedule, per_form, curve, horizon):
    feasible = [index for index, ok in enumerate(schedule.feasible) if ok]
    rows = []
    if len(feasible) < 2:
        return rows
    T = np.array([T_grid[index] for index in feasible], dtype=float)
    for form, per_T in per_form.items():
        values = [per_T[index] for index in feasible]
        slope, lo, hi = slope_interval(T, values)
        bound_values = np.array([curve["bound"][form][index] for index in feasible])
        bound_slope = fit_slope(T, bound_values)
        dominant = [max(TERMS, key=lambda name: curve["terms"][form][index][name]) for index in feasible]
        name = regime(dominant)
        margin = bound_values[-1] / upper_confidence(np.asarray(values[-1]), 0.99)[1]
        verdict = slope_verdict(dominant, T[0], T[-1], horizon, lo, hi, bound_slope, margin)
        rows.append({"optimizer": label, "measure": form, "T_min": int(T[0]), "T_max": int(T[-1]), "slope": slope,
                     "lo": lo, "hi": hi, "bound_slope": bound_slope, "regime": name, "verdict": verdict})
    return rows
