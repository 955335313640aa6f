"""How well do Sophia's curvature estimators track the Hessian diagonal?

Problem
    Sophia preconditions by an EMA of a cheap diagonal-curvature estimate: Hutchinson's
    ``u * (Hess u)`` (Sophia-H) or the Gauss-Newton-Bartlett ``N_b ghat * ghat`` (Sophia-G).
    Both are unbiased (for the Hessian and the Gauss-Newton diagonal); how noisy is one draw,
    and what does Sophia's EMA leave of that noise?

Algorithm
    At one point ``X``, draw ``draws`` estimates of each estimator the problem can serve
    (``hutchinson``, ``hutchinson_block``: per-layer Hessian blocks, ``gnb``) from one seeded
    generator and compare, per layer, with the exact diagonal ``problem.hess_diag(X)``:
    ``mean_error = ||mean(hhat) - diag||_F / ||diag||_F`` (bias plus ``1/sqrt(draws)``
    sampling error), ``draw_error``, the root mean square over draws of
    ``||hhat - diag||_F / ||diag||_F``, and ``ema_error``, the same for the EMA
    ``h = beta2 h + (1 - beta2) hhat`` after ``draws`` refreshes at the fixed point (Sophia's
    ``h`` with the iterate frozen), and ``negative``, the fraction of negative entries of one
    draw (where Sophia falls back to a sign step).

Guarantee
    Measured, not modelled. For independent draws the EMA's error tends to
    ``draw_error sqrt((1 - beta2) / (1 + beta2))`` (about ``0.071 draw_error`` at
    ``beta2 = 0.99``), which the report can be checked against. ``gnb`` targets the
    Gauss-Newton diagonal, which equals the Hessian diagonal on random-feature regression
    and differs from it elsewhere (a bias this report shows rather than hides).

References
    :mod:`nalr_theory.optimizers.sophia`; H. Liu et al., "Sophia" (arXiv 2305.14342).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import optimizers

ESTIMATORS = ("hutchinson", "hutchinson_block", "gnb")


@dataclass
class CurvatureCheck:
    """Per estimator, arrays ``(p,)`` over layers: ``mean_error``, ``draw_error``, ``ema_error``,
    ``negative`` (see the module docstring); ``draws`` and ``beta2`` as run."""

    layer_names: tuple
    draws: int
    beta2: float
    mean_error: dict = field(default_factory=dict)
    draw_error: dict = field(default_factory=dict)
    ema_error: dict = field(default_factory=dict)
    negative: dict = field(default_factory=dict)

    def table(self) -> str:
        """A plain-text table, one row per estimator and layer."""
        lines = [f"{'estimator':>17}  {'layer':>8}  {'mean err':>9}  {'draw err':>9}  {'EMA err':>9}  {'negative':>8}"]
        for estimator in self.mean_error:
            for l, name in enumerate(self.layer_names):
                lines.append(f"{estimator:>17}  {name:>8}  {self.mean_error[estimator][l]:9.3g}  "
                             f"{self.draw_error[estimator][l]:9.3g}  {self.ema_error[estimator][l]:9.3g}  "
                             f"{self.negative[estimator][l]:8.3f}")
        return "\n".join(lines)


def _estimator(problem, name: str):
    if name == "gnb":
        return optimizers.sophia(problem.layers, 1.0, curvature="gnb")
    return optimizers.sophia(problem.layers, 1.0, curvature="hutchinson",
                             hvp="block" if name == "hutchinson_block" else "full")


def curvature_check(problem, params=None, draws: int = 2000, seed: int = 0, beta2: float = 0.99,
                    estimators=None) -> CurvatureCheck:
    """Tracking errors of Sophia's curvature estimators on ``problem`` at ``params`` (default
    ``problem.init(0)``); ``estimators`` defaults to every one the problem can serve.
    ``ValueError`` names ``problem`` when it has no exact diagonal to compare with."""
    if "hess_diag" not in problem.capabilities:
        raise ValueError(f"problem: {problem.name!r} has no exact Hessian diagonal (capability 'hess_diag') "
                         "to track against")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws: expected an integer >= 2, got {draws!r}")
    params = problem.init(0) if params is None else problem.layout.check_tree(params, "params")
    if estimators is None:
        estimators = [name for name in ESTIMATORS if name != "gnb" or "gnb" in problem.capabilities]
    exact = problem.hess_diag(params)
    names = problem.names
    scale = np.array([np.linalg.norm(exact[name]) for name in names])
    check = CurvatureCheck(names, draws, beta2)
    for estimator in estimators:
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimators: unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")
        sophia = _estimator(problem, estimator)
        sophia.check_problem(problem)
        rng = np.random.default_rng(seed)
        total = {name: np.zeros_like(exact[name]) for name in names}
        ema = {name: np.zeros_like(exact[name]) for name in names}
        squared, negative = np.zeros(len(names)), np.zeros(len(names))
        for _ in range(draws):
            estimate = sophia.curvature_estimate(problem, params, rng)
            for l, name in enumerate(names):
                total[name] += estimate[name]
                ema[name] = beta2 * ema[name] + (1.0 - beta2) * estimate[name]
                squared[l] += np.sum((estimate[name] - exact[name]) ** 2)
                negative[l] += np.mean(estimate[name] < 0)
        check.mean_error[estimator] = np.array([np.linalg.norm(total[name] / draws - exact[name])
                                                for name in names]) / scale
        check.draw_error[estimator] = np.sqrt(squared / draws) / scale
        check.ema_error[estimator] = np.array([np.linalg.norm(ema[name] - exact[name]) for name in names]) / scale
        check.negative[estimator] = negative / draws
    return check
