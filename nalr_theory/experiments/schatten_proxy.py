"""Does the Schatten criterion pick the geometry that actually decreases the loss most?

Problem
    The adaptive Schatten-q method chooses each layer's ``q`` by ``J(q) = ||G||_{S_q*} /
    ||A||_{S_r(q)}``, the guaranteed decrease of a one-layer surrogate with the layer's input
    activations ``A``. The surrogate ignores everything after the layer (the left factor
    ``X_2`` of ``X_2 X_1 A``, non-linearities) and bounds the curvature by Hoelder's
    inequality. How often does its choice agree with the best ``q`` of the true objective?

Algorithm
    At ``points`` random points (``problem.init(seed)``), for each matrix layer with
    activations and each ``q`` of the grid: the direction ``d_q = lmo_{S_q}(G)`` of the layer's
    exact gradient (other layers fixed), and the exact best decrease along it,
    ``max_tau f(X) - f(X + tau d_q)`` (a bounded scalar search, ``scipy.optimize``). Report
    per layer: the fraction of points where ``argmax J`` is the best ``q`` (ties within
    ``1e-9`` relative count as agreement), and the mean ``regret``, the best decrease over
    the decrease at the chosen ``q`` (1 is perfect).

Guarantee
    Measured, not modelled. On a single layer ``X A`` with a squared loss (random-feature
    regression) the surrogate is the objective itself, so only Hoelder's slack separates
    ``J`` from the true decrease; with layers after the chosen one the left factor enters.

References
    :mod:`nalr_theory.optimizers.schatten_adaptive`; T. Massena et al. (arXiv 2605.19781);
    D. Davis, D. Drusvyatskiy (arXiv 2512.04299).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from ..geometry import schatten_lmo
from ..optimizers import rules
from ..optimizers.schatten_adaptive import DEFAULT_GRID


@dataclass
class ProxyCheck:
    """Per matrix layer: ``agreement`` (fraction of points where the criterion's ``q`` is the
    best), ``regret`` (mean best decrease / decrease at the chosen ``q``), ``chosen`` and
    ``best`` (the ``q`` values, one per point)."""

    grid: tuple
    points: int
    agreement: dict = field(default_factory=dict)
    regret: dict = field(default_factory=dict)
    chosen: dict = field(default_factory=dict)
    best: dict = field(default_factory=dict)

    def table(self) -> str:
        """One line per layer."""
        lines = [f"{'layer':>8}  {'agreement':>9}  {'regret':>7}"]
        lines += [f"{name:>8}  {self.agreement[name]:9.2f}  {self.regret[name]:7.3f}" for name in self.agreement]
        return "\n".join(lines)


def _best_decrease(problem, params, name, direction, value):
    # the step length is searched on a scale set by the direction and the iterate
    def loss(tau):
        trial = dict(params)
        trial[name] = params[name] + tau * direction
        return problem.f(trial)

    reach = 4.0 * (1.0 + float(np.linalg.norm(params[name]))) / max(float(np.linalg.norm(direction)), 1e-300)
    result = minimize_scalar(loss, bounds=(0.0, reach), method="bounded", options={"xatol": 1e-12 * reach})
    return value - min(float(result.fun), value)


def proxy_check(problem, points: int = 20, grid=None) -> ProxyCheck:
    """Agreement of the Schatten criterion with the best exact decrease (module docstring);
    ``ValueError`` names ``problem`` when it has no activations."""
    if "activations" not in problem.capabilities:
        raise ValueError(f"problem: {problem.name!r} has no layer activations for the criterion")
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"points: expected a positive integer, got {points!r}")
    grid = np.array(DEFAULT_GRID if grid is None else sorted(grid), dtype=np.float64)
    check = ProxyCheck(tuple(grid.tolist()), points)
    for seed in range(points):
        params = problem.init(seed)
        grads, activations, value = problem.grad(params), problem.activations(params), problem.f(params)
        for name, shape in zip(problem.names, problem.layout.shapes):
            if name not in activations or min(shape) < 2:
                continue
            G = grads[name]
            spectrum_G = np.linalg.svd(G, compute_uv=False)
            spectrum_A = np.linalg.svd(activations[name], compute_uv=False)
            index, _ = rules.select_schatten(spectrum_G, spectrum_A, grid)
            decrease = np.array([_best_decrease(problem, params, name, schatten_lmo(G, q), value) for q in grid])
            best = int(np.argmax(decrease))
            check.chosen.setdefault(name, []).append(float(grid[index]))
            check.best.setdefault(name, []).append(float(grid[best]))
            agree = decrease[index] >= decrease[best] * (1.0 - 1e-9)
            check.agreement[name] = check.agreement.get(name, 0.0) + agree / points
            ratio = decrease[best] / decrease[index] if decrease[index] > 0 else np.inf
            check.regret[name] = check.regret.get(name, 0.0) + ratio / points
    return check
