"""Orthogonaliser benchmark: accuracy, measured inexact-LMO constants and their effect on the bound.

One row per scheme of :data:`nalr_theory.geometry.METHODS` (``svd``, ``ns5``, ``ns_cubic``,
``you_quintic``, ``polar_express``), plus ``polar_express@5`` (its first five rows: the
same 15 GEMMs as ``ns5``) for a cost-matched comparison. Columns:

* GEMMs per call: three products per iteration (``A = X X^T``, ``A A``, ``(bA + cA^2) X``);
  ``svd`` is an SVD, no GEMM count.
* accuracy of the polar factor, ``||O - U V^T||_2``, median and worst over random Gaussian
  matrices of several shapes;
* ``kappa_lo`` (descent ratio ``-<G, D>/||G||_*``, minimum) and ``kappa_hi`` (``||D||_2``,
  maximum), ``D = -O``, measured by :func:`nalr_theory.geometry.lmo_quality` over
  (a) random Gaussian matrices and matrices with prescribed spectra (power law,
  ill-conditioned, rank-deficient) of several shapes, and (b) the trajectory: the momentum
  matrices ``U_t = B_t`` fed to the LMO by Muon in its analysed form (EMA momentum, no
  Nesterov, ``ns5``; :func:`nalr_theory.experiments.main_job.rate_builders`) on the default
  problem ``sigmoidal_hetero`` of ``nalr run``, at the horizon-tuned schedule for ``T``;
  one run, shared by every scheme;
* the theoretical band ``[lo, hi]`` of :func:`nalr_theory.geometry.ns_band` (``s_min = 2e-3``);
* the bound's optimal constant ``K* = 2^(3/2) (A B)^(1/4) C^(1/2)``
  (:func:`nalr_theory.theory.optimal_constants`, every-``T`` leading coefficients of
  :func:`nalr_theory.experiments.constants.theorem_constants` for that Muon on the default
  problem) with ``kappa`` from the band (what the package states) and from the trajectory
  measurement, and its ratio to ``ns5``'s and to the exact ``svd``'s (``kappa = 1``);
* time per call relative to ``ns5`` on one matrix, measured in alternation in this run.

Writes ``bench_orthogonalisers.json`` next to this script (``--json`` to change) and prints
the table. Run: ``python benchmarks/bench_orthogonalisers.py [--quick]`` (``--quick``: fewer
and smaller matrices, a short trajectory, a smoke run of a few seconds).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import per_call, table  # noqa: E402

from nalr_theory import optimizers, problems, theory  # noqa: E402
from nalr_theory.experiments.constants import theorem_constants  # noqa: E402
from nalr_theory.geometry import METHODS, lmo_quality, newton_schulz, ns_band, ns_coefficients  # noqa: E402

#: (label, method, steps): every named method, then Polar Express cut to ns5's cost
SCHEMES = [(name, name, None) for name in METHODS] + [("polar_express@5", "polar_express", 5)]
S_MIN = 2e-3
DEFAULT_PROBLEM = "sigmoidal_hetero"  # nalr run's default (experiments.main_job)


def haar(rng, n):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def with_spectrum(rng, shape, s):
    m, n = shape
    k = min(m, n)
    return (haar(rng, m)[:, :k] * s) @ haar(rng, n)[:, :k].T


def sample_matrices(rng, shapes, per_shape):
    """``{"gaussian": [...], "spectra": [...]}`` (power law, ill-conditioned, rank-deficient)."""
    gaussian, spectra = [], []
    for shape in shapes:
        k = min(shape)
        for _ in range(per_shape):
            gaussian.append(rng.standard_normal(shape))
            spectra.append(with_spectrum(rng, shape, np.arange(1, k + 1, dtype=float) ** -1.0))  # power law
            spectra.append(with_spectrum(rng, shape, np.logspace(0, -6, k)))  # condition number 1e6
            rank = np.zeros(k)
            rank[: max(1, k // 2)] = rng.uniform(0.5, 1.5, max(1, k // 2))  # rank k/2
            spectra.append(with_spectrum(rng, shape, rank))
    return {"gaussian": gaussian, "spectra": spectra}


def polar_error(G, method, steps) -> float:
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return float(np.linalg.norm(newton_schulz(G, method, steps) - U @ Vt, 2))


def worst_kappa(matrices, method, steps) -> tuple[float, float]:
    pairs = [lmo_quality(G, method, steps) for G in matrices]
    return min(p[0] for p in pairs), max(p[1] for p in pairs)


def default_muon_constants(problem):
    """The theorem's constants for Muon in its analysed form on ``problem`` (ns5 kappa band)."""
    probe = optimizers.muon(problem.layers, 1e-3, beta=0.9, nesterov=False)
    return theorem_constants(problem, probe, problem.init(0))


def K_star(constants, kappa_lo: float, kappa_hi: float) -> float:
    replaced = dataclasses.replace(constants, kappa_lo=float(kappa_lo), kappa_hi=float(kappa_hi))
    return float(replaced.leading().optimal().K)


def trajectory(problem, constants, T: int, seed: int = 0) -> np.ndarray:
    """The momentum matrices ``U_t`` Muon (analysed form, ns5) feeds its LMO over ``T`` steps
    of the tuned schedule, every layer: a ``(T * layers, m, n)`` stack (all layers share a shape)."""
    coefficients = constants.leading()
    schedule = theory.tuned_schedule(float(T), coefficients.A, coefficients.B, coefficients.C)
    eta, beta = float(schedule.eta), float(schedule.beta)
    optimizer = optimizers.muon(problem.layers, eta, beta=beta, nesterov=False)
    rng = np.random.default_rng(seed)
    x = problem.init(0)
    state = optimizer.init(x)
    stack = []
    for t in range(1, T + 1):
        record = problem.oracle(x, rng, t)
        updates, state = optimizer.step(state, record.grads, record.grads, record.noise, params=x)
        x = {name: x[name] + updates[name] for name in x}
        stack.extend(state.momentum[name].copy() for name in problem.names)  # nesterov=False: U_t = B_t
    return np.array(stack), eta, beta


def relative_times(functions: dict, rounds: int, min_seconds: float) -> dict:
    """Best per-call time of each function, measured in alternation over ``rounds``."""
    best = {label: float("inf") for label in functions}
    for function in functions.values():
        function()  # warm-up
    for _ in range(rounds):
        for label, function in functions.items():
            best[label] = min(best[label], per_call(function, min_seconds))
    return best


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few small matrices, short trajectory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "bench_orthogonalisers.json"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    if args.quick:
        shapes, per_shape, T, timing_shape, rounds, seconds = [(8, 8), (6, 12)], 2, 128, (32, 64), 1, 0.0
    else:
        shapes, per_shape, T = [(16, 16), (32, 64), (128, 64), (256, 256)], 10, 1024
        timing_shape, rounds, seconds = (256, 512), 3, 0.2
    matrices = sample_matrices(rng, shapes, per_shape)
    problem = problems.get(DEFAULT_PROBLEM)
    constants = default_muon_constants(problem)
    stack, eta, beta = trajectory(problem, constants, T, args.seed)
    relative = np.linalg.svd(stack, compute_uv=False)
    relative = relative / np.linalg.norm(stack, axis=(1, 2))[:, None]
    K_svd = K_star(constants, 1.0, 1.0)
    timing_matrix = rng.standard_normal(timing_shape)
    times = relative_times({label: (lambda m=method, s=steps: newton_schulz(timing_matrix, m, s))
                            for label, method, steps in SCHEMES}, rounds, seconds)

    rows, entries = [], []
    band_ns5 = ns_band("ns5", s_min=S_MIN)
    K_ns5_band = K_star(constants, *band_ns5)
    K_ns5_traj = None
    for label, method, steps in SCHEMES:
        exact = method == "svd"
        gemms = 0 if exact else 3 * ns_coefficients(method, steps).shape[0]
        errors = [polar_error(G, method, steps) for G in matrices["gaussian"]]
        random_lo, random_hi = worst_kappa(matrices["gaussian"], method, steps)
        spectra_lo, spectra_hi = worst_kappa(matrices["spectra"], method, steps)
        traj_lo, traj_hi = lmo_quality(stack, method, steps)
        band = (1.0, 1.0) if exact else ns_band(method, steps, s_min=S_MIN)
        K_band, K_traj = K_star(constants, *band), K_star(constants, traj_lo, traj_hi)
        if label == "ns5":
            K_ns5_traj = K_traj
        entries.append({
            "scheme": label, "method": method, "steps": None if exact else gemms // 3, "gemms": gemms,
            "polar_error_median": float(np.median(errors)), "polar_error_worst": float(np.max(errors)),
            "kappa_lo_random": random_lo, "kappa_hi_random": random_hi,
            "kappa_lo_spectra": spectra_lo, "kappa_hi_spectra": spectra_hi,
            "kappa_lo_trajectory": traj_lo, "kappa_hi_trajectory": traj_hi,
            "band_lo": band[0], "band_hi": band[1],
            "K_star_band": K_band, "K_star_vs_ns5": K_band / K_ns5_band, "K_star_vs_svd": K_band / K_svd,
            "K_star_trajectory": K_traj, "K_star_trajectory_vs_svd": K_traj / K_svd,
            "seconds_per_call": times[label], "time_vs_ns5": times[label] / times["ns5"],
        })
    for entry in entries:
        entry["K_star_trajectory_vs_ns5"] = entry["K_star_trajectory"] / K_ns5_traj
        rows.append([entry["scheme"], "SVD" if entry["method"] == "svd" else entry["gemms"],
                     f"{entry['polar_error_median']:.2e}", f"{entry['polar_error_worst']:.2e}",
                     f"{entry['kappa_lo_random']:.4f} / {entry['kappa_hi_random']:.4f}",
                     f"{entry['kappa_lo_spectra']:.4f} / {entry['kappa_hi_spectra']:.4f}",
                     f"{entry['kappa_lo_trajectory']:.4f} / {entry['kappa_hi_trajectory']:.4f}",
                     f"[{entry['band_lo']:.4f}, {entry['band_hi']:.4f}]",
                     f"{entry['K_star_band']:.1f}", f"{entry['K_star_vs_ns5']:.3f}", f"{entry['K_star_vs_svd']:.3f}",
                     f"{entry['K_star_trajectory']:.1f}", f"{entry['K_star_trajectory_vs_ns5']:.3f}",
                     f"{entry['K_star_trajectory_vs_svd']:.3f}", f"{entry['time_vs_ns5']:.2f}"])

    header = ["scheme", "GEMMs/call", "||O-UV^T||_2 median", "worst", "kappa_lo / kappa_hi random",
              "spectra", "trajectory", f"band (s_min {S_MIN:g})", "K* (band)", "vs ns5", "vs svd",
              "K* (trajectory)", "vs ns5", "vs svd", f"time vs ns5 ({timing_shape[0]}x{timing_shape[1]})"]
    title = (f"Orthogonalisers on {len(matrices['gaussian'])} Gaussian + {len(matrices['spectra'])} prescribed-spectrum "
             f"matrices, shapes {shapes}; trajectory: Muon (ns5, EMA, no Nesterov) on {DEFAULT_PROBLEM}, "
             f"T = {T}, eta = {eta:.3g}, beta = {beta:.3g}, {len(stack)} matrices")
    print(table(header, rows, title))
    print(f"Trajectory: smallest s_i / ||U_t||_F = {relative.min():.2e} (the bands assume >= {S_MIN:g}); "
          f"K* (exact LMO, kappa = 1) = {K_svd:.1f}; K* as the package states it for Muon (ns5 band) = "
          f"{constants.leading().optimal().K:.1f}.")
    result = {
        "numpy": np.__version__, "cpus": os.cpu_count(), "quick": args.quick, "seed": args.seed,
        "problem": DEFAULT_PROBLEM, "T": T, "eta": eta, "beta": beta, "trajectory_matrices": len(stack),
        "trajectory_min_relative_singular_value": float(relative.min()),
        "shapes": [list(shape) for shape in shapes], "per_shape": per_shape, "s_min": S_MIN,
        "timing_shape": list(timing_shape), "K_star_svd": K_svd, "K_star_ns5_band": K_ns5_band,
        "schemes": entries, "seconds": time.perf_counter() - start,
    }
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
