"""How well does each noise estimator track the true noise level, per layer, over time?

Problem
    LANTON's weights are only as good as its noise estimates ``H_t^l``. The data-driven
    estimators (``consecutive``, ``two_sample``, ``momentum_residual``) see the noise
    mixed with gradient drift; the ``oracle`` estimator reads the noise itself.

Algorithm
    Run LANTON with each estimator at one step size (the engine's ``noise_estimate``
    record), and divide ``H_t^l`` by the true mean squared noise
    ``E||xi^l||_{l,*}^2`` of the problem's noise model (bounded noise ``s ~ U[lo, hi]``:
    ``(lo^2 + lo hi + hi^2)/3``; otherwise ``sigma_l^2``). A ratio of 1 is perfect tracking;
    the report gives the median over seeds at every recorded step.

Guarantee
    The ratio is computed, not modelled: drift inflates it (``consecutive`` reads
    ``||g_t - g_{t-1}||`` on top of the noise), and it falls towards the estimator's own
    bias as steps shrink.

References
    :mod:`nalr_theory.optimizers.noise_estimators`, :mod:`nalr_theory.theory.estimators`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import engine, optimizers


@dataclass
class EstimatorCheck:
    """``steps`` (records,), ``ratio`` ``{estimator: (records, p)}`` median over seeds of
    ``H_t^l / E||xi^l||_*^2``, ``true_level`` (p,)."""

    steps: np.ndarray
    true_level: np.ndarray
    ratio: dict = field(default_factory=dict)


def true_squared_noise(problem) -> np.ndarray:
    """``E||xi^l||_*^2`` per layer (``ValueError`` when the noise level is unknown)."""
    noise = problem.noise
    if noise.kind == "bounded":
        lo, hi = np.asarray(problem.sigma_lo, float), np.asarray(problem.sigma_hi, float)
        return (lo * lo + lo * hi + hi * hi) / 3.0
    if problem.sigma is None or not noise.variance_finite:
        raise ValueError(f"problem: the noise of {problem.name!r} has no known finite level to track")
    return np.broadcast_to(np.asarray(problem.sigma, float) ** 2, (len(problem.layers),)).copy()


def estimator_check(problem, T: int, seeds, lr: float, *, estimators=("consecutive", "two_sample",
                                                                      "momentum_residual", "oracle"),
                    record_every: int | None = None) -> EstimatorCheck:
    """Tracking ratios of each estimator on ``problem`` (see the module docstring)."""
    level = true_squared_noise(problem)
    record_every = record_every or max(1, T // 64)
    check = None
    for estimator in estimators:
        optimizer = optimizers.lanton(problem.layers, lr, estimator=estimator)
        result = engine.simulate(problem, optimizer, T, seeds, record_every=record_every)
        if check is None:
            check = EstimatorCheck(result.steps, level)
        with warnings.catch_warnings():
            # records before an estimator's first estimate (consecutive: t = 1) are NaN on
            # every seed; their median is NaN, which is what the table should show
            warnings.simplefilter("ignore", RuntimeWarning)
            check.ratio[estimator] = np.nanmedian(result.noise_estimate / level, axis=0)
    return check
