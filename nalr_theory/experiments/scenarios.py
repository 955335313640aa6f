"""Named configurations that make "does adaptivity help?" answerable.

Each scenario is a problem, a start and a short statement of what it tests. They were
chosen before measuring, from the separable analysis (:mod:`nalr_theory.theory.separable`):
on a separable problem the bound prefers weights ``w_l`` proportional to
``sqrt(Delta_l / L_l)``, whatever the noise, so LANTON's ``sigma_min / sigma_l`` helps
exactly when ``1/sigma_l`` tracks that ratio.

==========================  ===================================================================
``separable_default``       ``sigmoidal_hetero`` from its default start: every layer starts about
                            as far from its minimiser, so ``sqrt(Delta_l/L_l)`` is nearly equal
                            across layers (0.96 to 1 of its largest value) while ``1/sigma_l``
                            spreads the weights 8x; the bound predicts LANTON loses.
``separable_graded_start``  the same problem, started so that each layer's distance to its
                            minimiser is proportional to ``1/sigma_l`` (quiet layers far away,
                            noisy layers near): ``1/sigma_l`` now tracks the gap.
``noise_dominated``         ``sigmoidal_hetero`` with 10x the noise: the noise term of the bound
                            dominates at every horizon of the check.
``coupled_deep_linear``     a three-layer deep linear network (coupled ``L``) with bounded noise
                            whose level grows 8x across layers; no separable prediction applies.
==========================  ===================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import problems
from ..problems import noise as noise_models


@dataclass(frozen=True)
class Scenario:
    """A named problem and start for the adaptivity comparison."""

    name: str
    problem: object
    start: dict | None
    description: str


def graded_start(problem, seed: int = 0) -> dict:
    """A start whose layer ``l`` is at Frobenius distance ``D sigma_min / sigma_l`` from the
    minimiser along the default start's direction (``D``: the largest default distance).

    Needs a problem with ``minimiser()`` and a known ``sigma`` (``ValueError`` otherwise).
    """
    if not hasattr(problem, "minimiser") or problem.sigma is None:
        raise ValueError(f"problem: {problem.name!r} has no known minimiser or noise level for a graded start")
    sigma = np.broadcast_to(np.asarray(problem.sigma, dtype=float), (len(problem.layers),))
    if np.any(sigma <= 0) or not np.all(np.isfinite(sigma)):
        raise ValueError("problem: a graded start needs positive finite noise levels")
    base, best = problem.init(seed), problem.minimiser()
    offsets = {name: base[name] - best[name] for name in problem.names}
    distances = np.array([np.linalg.norm(offsets[name]) for name in problem.names])
    target = np.max(distances) * np.min(sigma) / sigma
    return {name: best[name] + offsets[name] * (target[l] / distances[l]) for l, name in enumerate(problem.names)}


def scenarios(quick: bool = False) -> list[Scenario]:
    """The comparison's scenarios (the same problems with ``quick``; only the run length changes)."""
    default = problems.get("sigmoidal_hetero")
    noisy = problems.get("sigmoidal_hetero", scale=100.0)
    coupled = problems.get("deep_linear", widths=(8, 8, 8, 8),
                           noise=noise_models.bounded([0.025, 0.05, 0.1], [0.05, 0.1, 0.2]))
    return [
        Scenario("separable_default", default, None,
                 "sigmoidal_hetero, default start: the noisiest layer is the flattest"),
        Scenario("separable_graded_start", default, graded_start(default),
                 "sigmoidal_hetero, start distance proportional to 1/sigma_l"),
        Scenario("noise_dominated", noisy, None, "sigmoidal_hetero with 10x the noise"),
        Scenario("coupled_deep_linear", coupled, None,
                 "deep linear network (coupled), bounded noise rising 8x across layers"),
    ]
