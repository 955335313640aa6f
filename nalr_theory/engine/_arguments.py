"""Argument checks shared by :func:`~nalr_theory.engine.simulate` and its reference: every
bad input raises ``ValueError`` naming the parameter, before any work."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ..optimizers.base import Optimizer
from ..problems.base import Problem
from .result import MEASURES, recorded_steps


class Run(NamedTuple):
    """A checked run: everything both implementations need, built once."""

    problem: Problem
    optimizer: Optimizer
    T: int
    seeds: tuple
    starts: list            # one params dict per seed (shared arrays when the start is shared)
    steps: np.ndarray       # recorded steps
    measures: tuple
    inverse_sigma: np.ndarray  # 1 / sigma_l of the noise-normalised measure (NaN if unknown or 0)
    schedule: np.ndarray    # (T, 3): lr_t, beta_t, adamw_lr_t for t = 1..T
    needs_second: bool      # the two_sample estimator draws a second oracle sample


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _seeds(seeds) -> tuple:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        return tuple(range(_positive_int(seeds, "seeds")))
    try:
        values = tuple(seeds)
    except TypeError:
        raise ValueError(f"seeds: expected a count or a sequence of seeds, got {seeds!r}") from None
    if not values:
        raise ValueError("seeds: expected at least one seed")
    for seed in values:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seeds: each seed must be a non-negative integer, got {seed!r}")
    if len(set(values)) != len(values):
        raise ValueError("seeds: seeds must be distinct (a repeated seed repeats its run exactly)")
    return tuple(int(seed) for seed in values)


def check_run(problem, optimizer, T, seeds, start, record_every, measures) -> Run:
    if not isinstance(problem, Problem):
        raise ValueError(f"problem: expected a nalr_theory problem, got {type(problem).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer: expected a nalr_theory optimizer, got {type(optimizer).__name__}")
    if optimizer.layout.names != problem.layout.names or optimizer.layout.shapes != problem.layout.shapes:
        raise ValueError("optimizer: its layers (names and shapes) differ from the problem's; build it on "
                         "problem.layers")
    T = _positive_int(T, "T")
    seeds = _seeds(seeds)
    record_every = _positive_int(record_every, "record_every")
    if isinstance(measures, str):
        measures = (measures,)
    measures = tuple(measures)
    for measure in measures:
        if measure not in MEASURES:
            raise ValueError(f"measures: unknown measure {measure!r}; known: {', '.join(MEASURES)}")
    if start is None:
        shared = problem.init(0)
        starts = [shared] * len(seeds)
    elif isinstance(start, str):
        if start != "per_seed":
            raise ValueError(f"start: expected None, 'per_seed' or a params dict, got {start!r}")
        starts = [problem.init(seed) for seed in seeds]
    elif isinstance(start, dict):
        shared = problem.layout.check_tree(start, "start")
        starts = [shared] * len(seeds)
    else:
        raise ValueError(f"start: expected None, 'per_seed' or a params dict, got {type(start).__name__}")
    check_problem = getattr(optimizer, "check_problem", None)
    if check_problem is not None:  # methods that read more of the problem than its gradients
        check_problem(problem)
    needs_second = optimizer.config.estimator == "two_sample"
    if needs_second and not problem.second_sample_available:
        raise ValueError("optimizer: the two_sample estimator needs a second independent oracle sample, "
                         f"which problem {problem.name!r} cannot draw")
    schedule = optimizer.schedule_table(T)
    # 1 / sigma_l for the noise-normalised measure: NaN where sigma_l is 0, infinite or
    # unknown (minibatch noise), so the measure is NaN rather than silently infinite
    p = len(problem.layers)
    sigma = np.full(p, np.nan) if problem.sigma is None else np.broadcast_to(
        np.asarray(problem.sigma, dtype=np.float64), (p,))
    with np.errstate(divide="ignore"):
        inverse_sigma = np.where((sigma > 0) & np.isfinite(sigma), 1.0 / sigma, np.nan)
    return Run(problem, optimizer, T, seeds, starts, recorded_steps(T, record_every), measures, inverse_sigma, schedule,
               needs_second)


def check_progress(progress):
    if progress is None or callable(progress):
        return progress
    raise ValueError(f"progress: expected None or a callable progress(done, total), got {type(progress).__name__}")
