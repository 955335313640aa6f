"""Does adaptivity help? Tuned methods on fresh seeds, paired against the uniform base.

Problem
    A claim "noise-adaptive layerwise rates beat the uniform method" is only as good as the
    baseline: each method must run at its own best learning rate, chosen on seeds that are
    not used to judge it, and the comparison must be paired and come with intervals.

Algorithm
    For each method and each learning rate of its grid: ``T`` steps on the tuning seeds;
    the score is the mean over tuning seeds of the final ``f(X_T)`` (a diverged seed scores
    ``inf``); the best learning rate is kept. A best rate at an end of the grid extends the
    grid by one step outwards (at most ``extend`` times); ``at_edge`` says when the final
    best is still a grid end. Then
    every method runs at its best learning rate on the evaluation seeds (disjoint from the
    tuning seeds). For every method against the reference, per evaluation seed, the ratios
    of final ``f``, of ``M`` in the plain measure and in the noise-normalised measure; the
    geometric mean ratio with a two-sided Student-t interval on the log ratios, and the
    number of seeds the contender wins (ratio < 1).

Guarantee
    Tuning and evaluation seeds are disjoint (``ValueError`` otherwise); all methods of one
    comparison see the same evaluation seeds, so the ratios are paired.

References
    Hao et al., LANTON, arXiv 2510.14009 (2025) (the claim); :mod:`.separable` (the
    bound's prediction for separable problems).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .. import engine

RATIO_MEASURES = ("final_f", "M_plain", "M_noise_normalised")


@dataclass
class Comparison:
    """Result of :func:`compare`: ``methods`` (per method: grid, scores, best learning rate,
    evaluation numbers), ``against_reference`` (every other method paired against the
    reference, per measure) and ``paired`` (its entry for the contender)."""

    T: int
    tune_seeds: tuple
    eval_seeds: tuple
    methods: dict = field(default_factory=dict)
    paired: dict = field(default_factory=dict)
    against_reference: dict = field(default_factory=dict)
    contender: str = ""
    reference: str = ""


def _seed_list(seeds, name: str) -> tuple:
    if isinstance(seeds, (int, np.integer)):
        raise ValueError(f"{name}: give the seeds explicitly (a sequence), so tuning and evaluation are disjoint")
    values = tuple(int(seed) for seed in seeds)
    if not values or any(seed < 0 for seed in values):
        raise ValueError(f"{name}: expected non-negative seeds, got {values}")
    return values


def final_values(result) -> np.ndarray:
    """``f`` at the last recorded step per seed (``inf`` for a diverged seed)."""
    values = result.f[:, -1].copy()
    values[result.diverged | ~np.isfinite(values)] = np.inf
    return values


def paired_ratio(contender: np.ndarray, reference: np.ndarray, level: float = 0.95) -> dict:
    """Geometric-mean ratio ``contender / reference`` with its interval and the wins."""
    ratio = contender / reference
    finite = np.isfinite(ratio) & (ratio > 0)
    logs = np.log(ratio[finite])
    out = {"ratios": ratio.tolist(), "wins": int(np.sum(ratio < 1)), "seeds": int(ratio.size)}
    if logs.size >= 2:
        half = stats.t.ppf(0.5 + level / 2, logs.size - 1) * np.std(logs, ddof=1) / np.sqrt(logs.size)
        centre = float(np.mean(logs))
        out.update(geometric_mean=float(np.exp(centre)), lo=float(np.exp(centre - half)),
                   hi=float(np.exp(centre + half)))
    else:
        out.update(geometric_mean=float(np.exp(np.mean(logs))) if logs.size else float("nan"),
                   lo=float("nan"), hi=float("nan"))
    return out


def tuning_score(problem, build, lr: float, T: int, tune_seeds, start) -> float:
    """Mean final ``f`` over the tuning seeds at learning rate ``lr`` (``inf`` if any diverged)."""
    result = engine.simulate(problem, build(problem.layers, lr), T, tune_seeds, start=start, record_every=T)
    return float(np.mean(final_values(result)))


def compare(problem, builders: dict, lr_grids: dict, T: int, tune_seeds, eval_seeds, *, start=None,
            contender: str = "lanton", reference: str = "uniform", extend: int = 2,
            progress=None) -> Comparison:
    """Tune, evaluate and pair (see the module docstring).

    ``builders``: ``{label: build(layers, lr) -> optimizer}``; ``lr_grids``: ``{label:
    learning rates}``; ``contender``, ``reference``: the labels paired first; ``extend``: how
    many times a best rate at a grid end may push the grid one step further out. ``progress(label)``
    is called before each method.
    """
    tune_seeds, eval_seeds = _seed_list(tune_seeds, "tune_seeds"), _seed_list(eval_seeds, "eval_seeds")
    if set(tune_seeds) & set(eval_seeds):
        raise ValueError("eval_seeds: must be disjoint from tune_seeds (fresh seeds judge the tuned methods)")
    for label in (contender, reference):
        if label not in builders:
            raise ValueError(f"contender: {label!r} is not one of the methods {list(builders)}")
    if set(lr_grids) != set(builders):
        raise ValueError("lr_grids: give one learning-rate grid per method")
    out = Comparison(int(T), tune_seeds, eval_seeds, contender=contender, reference=reference)
    record_every = max(1, T // 32)
    for label, build in builders.items():
        if progress is not None:
            progress(label)
        grid = sorted(float(lr) for lr in lr_grids[label])
        scores = [tuning_score(problem, build, lr, T, tune_seeds, start) for lr in grid]
        best = int(np.argmin(scores))
        for _ in range(extend if len(grid) > 1 else 0):
            # a best rate at a grid end is a guess, not a tuned baseline: step one grid
            # ratio further out (the grid's own end ratio) and re-pick
            if best == 0:
                lr, at = grid[0] * grid[0] / grid[1], 0
            elif best == len(grid) - 1:
                lr, at = grid[-1] * grid[-1] / grid[-2], len(grid)
            else:
                break
            grid.insert(at, lr)
            scores.insert(at, tuning_score(problem, build, lr, T, tune_seeds, start))
            best = int(np.argmin(scores))
        result = engine.simulate(problem, build(problem.layers, grid[best]), T, eval_seeds, start=start,
                                 record_every=record_every)
        out.methods[label] = {
            "grid": grid, "scores": scores, "best_lr": grid[best],
            "at_edge": bool(len(grid) > 1 and best in (0, len(grid) - 1)),
            "final_f": final_values(result), "M_plain": result.average["plain"],
            "M_noise_normalised": result.average["noise_normalised"],
            "diverged_seeds": int(np.sum(result.diverged)),
            "curve": {"steps": result.steps, "f": np.nanmean(result.f, axis=0),
                      "weights": np.nanmean(result.weights, axis=0)},
        }
    for label, method in out.methods.items():
        if label != reference:
            out.against_reference[label] = {
                measure: paired_ratio(method[measure], out.methods[reference][measure]) for measure in RATIO_MEASURES}
    out.paired = out.against_reference[contender]
    return out
