"""Local smoothness along a trajectory, probe estimates of ``L`` and of the noise level.

Problem
    Certified constants are worst cases over a region; users need to see how loose they are
    where the optimizer actually goes: every problem offers an estimate of local smoothness
    along a trajectory (``Problem.local_smoothness`` of ``nalr_theory.problems.base``).

Algorithm
    For consecutive iterates ``X_t, X_{t+1}`` with ``dg_l = grad_l f(X_{t+1}) - grad_l f(X_t)``
    and ``dX^j = X_{t+1}^j - X_t^j``:

    - ``along_path[l] = max_t ||dg_l||_{l,*} / ||dX^l||_l`` (the spec's ratio; comparable to
      ``L[l, l]`` for separable problems; steps with ``dX^l = 0`` are skipped);
    - ``row[l] = max_t ||dg_l||_{l,*} / max_j ||dX^j||_j``, which A1 bounds by
      ``sum_j L[l, j]`` for any coupling;
    - ``tightness[l] = max_t ||dg_l||_{l,*} / sum_j L[l, j] ||dX^j||_j`` (given a
      certificate; ``<= 1`` whenever A1 holds on the path).

    ``probe_matrix`` estimates each block ``L[l, j]`` at given points by moving layer ``j``
    alone along extreme points of its unit ball (``lmo`` of a Gaussian matrix) by ``step``:
    ``max ||grad_l f(X + h D_j) - grad_l f(X)||_{l,*} / (h ||D_j||_j)``, a lower bound on
    the local ``L[l, j]``.

Guarantee
    Every reported quantity is a lower estimate of the true local constant, so under A1
    ``row <= L.sum(1)``, ``tightness <= 1`` and ``probe_matrix <= L`` entrywise
    (tested for each certified family).

References
    ``nalr_theory.problems.base`` (what a problem declares); ``nalr_theory.theory.assumptions``
    (A1: ``||grad_l f(X) - grad_l f(Y)||_{l,*} <= sum_j L[l, j] ||X^j - Y^j||_j``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_positive
from .records import Certificate


@dataclass(frozen=True)
class SmoothnessReport:
    """See the module docstring; arrays are per layer, ``steps`` the pairs used."""

    along_path: np.ndarray
    row: np.ndarray
    tightness: np.ndarray | None
    steps: int


def local_smoothness(problem, trajectory, certificate: Certificate | None = None) -> SmoothnessReport:
    """Local-smoothness report along ``trajectory`` (at least two params dicts)."""
    points = [problem.layout.check_tree(point, f"trajectory[{i}]") for i, point in enumerate(trajectory)]
    if len(points) < 2:
        raise ValueError("trajectory: needs at least two points")
    norms, names = problem.layout.norms, problem.names
    p = len(names)
    L = None
    if certificate is not None:
        L = np.asarray(certificate.L, dtype=np.float64)
        if L.shape != (p, p):
            raise ValueError(f"certificate: L has shape {L.shape}, expected {(p, p)}")
    along, row = np.zeros(p), np.zeros(p)
    tightness = None if L is None else np.zeros(p)
    grads = [problem._grad(point) for point in points]
    for t in range(len(points) - 1):
        moves = np.array([norm.norm(points[t + 1][n] - points[t][n]) for n, norm in zip(names, norms)])
        if moves.max() == 0:
            continue
        changes = np.array([norm.dual(grads[t + 1][n] - grads[t][n]) for n, norm in zip(names, norms)])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(moves > 0, changes / np.where(moves > 0, moves, 1.0), 0.0)
        along = np.maximum(along, ratio)
        row = np.maximum(row, changes / moves.max())
        if L is not None:
            bound = L @ moves
            tightness = np.maximum(tightness, np.where(bound > 0, changes / np.where(bound > 0, bound, 1.0), 0.0))
    return SmoothnessReport(along, row, tightness, len(points) - 1)


def probe_matrix(problem, points, rng: np.random.Generator, probes: int = 2, step: float = 1e-3) -> np.ndarray:
    """Probe estimate of ``L`` (see module docstring) at each of ``points``."""
    step = check_positive(step, "step")
    probes = int(check_positive(probes, "probes", integer=True))
    norms, names = problem.layout.norms, problem.names
    p = len(names)
    estimate = np.zeros((p, p))
    for index, point in enumerate(points):
        point = problem.layout.check_tree(point, f"points[{index}]")
        base = problem._grad(point)
        for j, (name_j, norm_j) in enumerate(zip(names, norms)):
            for _ in range(probes):
                direction = norm_j.lmo(rng.standard_normal(norm_j.shape))
                length = norm_j.norm(direction)
                moved = dict(point)
                moved[name_j] = point[name_j] + step * direction
                grads = problem._grad(moved)
                for l, (name_l, norm_l) in enumerate(zip(names, norms)):
                    estimate[l, j] = max(estimate[l, j], norm_l.dual(grads[name_l] - base[name_l]) / (step * length))
    return estimate


def estimated_certificate(problem, centre, radius, points: int = 4, seed: int = 0) -> Certificate:
    """An *uncertified* ``L``: ``probe_matrix`` at the centre (default ``init(0)``) and at
    random points of the ball ``||X^l - centre^l||_l <= radius[l]``."""
    rng = np.random.default_rng(seed)
    centre = problem.init(0) if centre is None else {k: v.copy() for k, v in centre.items()}
    sample = [centre]
    for _ in range(points - 1):
        point = {}
        for index, (name, norm) in enumerate(zip(problem.names, problem.layout.norms)):
            direction = rng.standard_normal(norm.shape)
            point[name] = centre[name] + radius[index] * rng.uniform() * direction / norm.norm(direction)
        sample.append(point)
    L = probe_matrix(problem, sample, rng)
    return Certificate(L, "ball", False, problem.layout.norms, centre=centre, radius=np.asarray(radius).copy(),
                       notes="ESTIMATED, NOT CERTIFIED: finite-difference probes at "
                             f"{points} points of the ball; A1 may fail elsewhere")


def noise_level(problem, params, rng: np.random.Generator, draws: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo ``sqrt(E ||xi^l||_{l,*}^2)`` per layer at ``params`` and its standard error
    (delta method), from ``draws`` oracle calls; for noise models without declared sigma
    (minibatch)."""
    draws = int(check_positive(draws, "draws", integer=True))
    if draws < 2:
        raise ValueError("draws: need at least 2")
    squares = np.array([[record ** 2 for record in problem.oracle(params, rng).noise_dual.values()]
                        for _ in range(draws)])
    mean = squares.mean(axis=0)
    level = np.sqrt(mean)
    error = squares.std(axis=0, ddof=1) / np.sqrt(draws) / (2 * np.where(level > 0, level, 1.0))
    return level, error
