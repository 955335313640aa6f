"""Where the engine's time goes: microseconds per trajectory-step of each part of its step.

For each workload of ``bench_engine.py``, on one thread with a single-threaded BLAS (as each
seed runs inside ``engine.simulate``), the parts of one step of ``engine._loop.run_chunk``,
each timed in a compiled loop (no Python per call): the problem's ``value_and_grad``, the
measures' per-layer dual norms of the exact gradient (``layer_dual_norms``), the oracle
(``oracle_at``: the noise draw and, for bounded noise, its dual-norm normalisation), the
optimizer's step (``optimizers._kernels.step``, on two oracle draws in turn), and the
whole step as ``simulate`` runs it (one seed, one record per run as in ``bench_engine.py``;
the marginal cost of more steps, without ``simulate``'s set-up). The whole less the parts
is the loop's own work (finiteness checks, ``x += updates``, the measures' sums, the
records) and the parts' interference: measured at 8 of 8x8 Scion sign, the four parts
called in one compiled loop take 28.3 us a step against 24.3 us timed apart, and the
loop's own work adds about 1 us.

The second table is a floor: the work that the engine's definitions leave no way around,
at the speed of the engine's own kernels. Each seed draws every sample from its own
``numpy.random.default_rng(seed)`` stream (``random draws``: per layer a standard normal
``m x n`` direction and a uniform radius); the objective takes four products per layer
(``U X V``, then ``U^T phi'(R) V^T``); and for LANTON, two exact nuclear norms per layer
(the measure ``||grad_l f||_*`` at every step, and the bounded noise's normalisation), and
one Newton-Schulz polar factor (the base's direction). Everything else is left out. With
``--bench PATH`` (a ``bench_engine.json``) it also prints what one thread may spend per
trajectory-step for the engine to reach 1.5x JAX and 1.5x batched NumPy on all cores,
assuming perfect scaling over them (the most lenient budget).

Run: ``python benchmarks/profile_engine.py [--quick] [--json PATH] [--bench PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(__file__))
from _timing import table  # noqa: E402

from bench_engine import WORKLOADS, workload  # noqa: E402

from nalr_theory import engine  # noqa: E402
from nalr_theory.engine import _loop  # noqa: E402
from nalr_theory.geometry import _kernels as geo  # noqa: E402
from nalr_theory.optimizers import _kernels as optimizer_kernels  # noqa: E402
from nalr_theory.optimizers.state import StepInputs  # noqa: E402

PARTS = ("value_and_grad", "layer_dual_norms", "oracle_at", "optimizer step")


def timers(kernels):
    """Compiled loops calling each part ``N`` times (the family's kernels bound as globals)."""
    value_and_grad, oracle_at = kernels.value_and_grad, kernels.oracle_at
    layer_dual_norms = njit(_loop.layer_dual_norms)
    step = optimizer_kernels.step

    @njit
    def time_value_and_grad(x, data, N):
        total = 0.0
        for _ in range(N):
            total += value_and_grad(x, data)[0]
        return total

    @njit
    def time_dual_norms(g, offsets, rows, cols, codes, radii, N):
        total = 0.0
        for _ in range(N):
            total += layer_dual_norms(g, offsets, rows, cols, codes, radii)[0]
        return total

    @njit
    def time_oracle(x, g, data, rng, N):
        total = 0.0
        for t in range(1, N + 1):
            total += oracle_at(x, g, data, t, rng)[0][0]
        return total

    @njit
    def time_step(t, lr, beta, inputs, other_inputs, state, updates, diagnostics, layers, options, N):
        # two oracle draws in turn: with one, the consecutive estimator's G_t - G_{t-1} would
        # be zero from the second call on, and its noise sample would return at once
        for k in range(N):
            step(t, lr, beta, lr, inputs if k % 2 == 0 else other_inputs, state, updates, diagnostics, layers,
                 options)
        return updates[0]

    return time_value_and_grad, time_dual_norms, time_oracle, time_step


FLOOR_PARTS = ("random draws", "objective products", "exact nuclear norms", "Newton-Schulz")


@njit
def _time_draws(rng, m, n, count, N):
    total = 0.0
    for _ in range(N):
        for _ in range(count):
            total += rng.standard_normal((m, n))[0, 0] + rng.uniform(0.05, 0.5)
    return total


@njit
def _time_products(U, X, V, count, N):
    total = 0.0
    for _ in range(N):
        for _ in range(count):
            total += geo.matmul(geo.matmul(U, X), V)[0, 0] + geo.matmul(geo.matmul(U, X), V)[0, 0]
    return total


@njit
def _time_nuclear_norms(G, count, N):
    total = 0.0
    for _ in range(N):
        for _ in range(2 * count):
            total += geo.nuclear_norm(G)
    return total


@njit
def _time_newton_schulz(G, coefficients, count, N):
    total = 0.0
    for _ in range(N):
        for _ in range(count):
            total += geo.newton_schulz(G, coefficients, 1e-7)[0, 0]
    return total


def floor(size: int, count: int, method: str, N: int) -> dict:
    """Microseconds per trajectory-step of the work no implementation of the definitions can
    leave out (the module docstring), one thread, the engine's kernels."""
    optimizer = workload(size, count, method)[1]
    rng = np.random.default_rng(0)
    U, X, V = (rng.standard_normal((size, size)) for _ in range(3))
    out = {}
    with threadpool_limits(limits=1, user_api="blas"):
        out["random draws"] = per_call(lambda n: _time_draws(rng, size, size, count, n), N)
        out["objective products"] = per_call(lambda n: _time_products(U, X, V, count, n), N)
        if method == "lanton":
            layers = optimizer.kernel_config()[0]
            coefficients = layers.lmo_coefficients[0, : layers.lmo_steps[0]]
            out["exact nuclear norms"] = per_call(lambda n: _time_nuclear_norms(X, count, n), N)
            out["Newton-Schulz"] = per_call(lambda n: _time_newton_schulz(X, coefficients, count, n), N)
    return out


def budgets(bench: dict, label: str) -> tuple:
    """One thread's microseconds per trajectory-step that reach 1.5x JAX and 1.5x batched
    NumPy on ``bench['cpus']`` cores with perfect scaling (``None`` where a peer is absent)."""
    entry = next(e for e in bench["workloads"] if e["workload"] == label)
    cores = bench["cpus"]
    return tuple(1e6 * cores / (1.5 * entry[peer]) if isinstance(entry.get(peer), float) else None
                 for peer in ("jax", "numpy_batched"))


def per_call(run, N: int) -> float:
    """Best microseconds per call of ``run(N)`` over three rounds (after one warm-up)."""
    run(1)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run(N)
        best = min(best, (time.perf_counter() - start) / N)
    return 1e6 * best


def profile(size: int, count: int, method: str, N: int) -> dict:
    """Microseconds per trajectory-step of each part, one thread."""
    problem, optimizer = workload(size, count, method)
    kernels = problem.kernels
    layout = problem.layout
    norms = (layout.offsets, layout.rows, layout.cols, layout.codes, layout.radii)
    time_value_and_grad, time_dual_norms, time_oracle, time_step = timers(kernels)
    x = layout.flatten(problem.init(0), "start").copy()
    value, g = kernels.value_and_grad(x, kernels.data)
    draws = np.random.default_rng(0)
    grads, noise, _ = kernels.oracle_at(x, g, kernels.data, 1, draws)
    other_grads, other_noise, _ = kernels.oracle_at(x, g, kernels.data, 2, draws)
    layers, options = optimizer.kernel_config()
    state = optimizer.to_flat(optimizer.init(problem.init(0)))
    p = len(layout)
    diagnostics = _loop.recorded_diagnostics(p)  # as the engine hands them to the step
    inputs = StepInputs(x, grads, np.zeros(0), noise)
    other_inputs = StepInputs(x, other_grads, np.zeros(0), other_noise)
    lr, beta, _ = optimizer.schedule_values(1)
    rng = np.random.default_rng(0)
    out = {}
    with threadpool_limits(limits=1, user_api="blas"):
        out["value_and_grad"] = per_call(lambda n: time_value_and_grad(x, kernels.data, n), N)
        out["layer_dual_norms"] = per_call(lambda n: time_dual_norms(g, *norms, n), N)
        out["oracle_at"] = per_call(lambda n: time_oracle(x, g, kernels.data, rng, n), N)
        # t = 10: past every estimator's first sample, so LANTON's noise estimate is part of it
        out["optimizer step"] = per_call(lambda n: time_step(10, lr, beta, inputs, other_inputs, state,
                                                             np.zeros(x.shape[0]), diagnostics, layers, options, n),
                                         N)
        # recorded as bench_engine records (once per run); the marginal time of N more steps,
        # so that simulate's set-up per call (about 2 ms) is not counted
        whole = lambda n: engine.simulate(problem, optimizer, n, 1, record_every=n)  # noqa: E731
        out["whole step (simulate, 1 seed)"] = (2 * per_call(whole, 2 * N) - per_call(whole, N))
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 8x8 and 16x16 workloads only")
    parser.add_argument("--json", default="profile_engine.json")
    parser.add_argument("--bench", help="a bench_engine.json: print the budgets its peers' rates set")
    args = parser.parse_args(argv)
    workloads = WORKLOADS[:4] if args.quick else WORKLOADS
    bench = None
    if args.bench:
        with open(args.bench) as handle:
            bench = json.load(handle)
    result, rows, floor_rows = {}, [], []
    for label, size, count, method, T, _ in workloads:
        parts = profile(size, count, method, max(4, T))
        parts["floor"] = floor(size, count, method, max(4, T))
        result[label] = parts
        least = sum(parts["floor"].values())
        floor_rows.append([label] + [f"{parts['floor'][name]:.4g}" if name in parts["floor"] else "-"
                                     for name in FLOOR_PARTS]
                          + [f"{least:.4g}", f"{parts['whole step (simulate, 1 seed)']:.4g}"]
                          + ([f"{b:.4g}" if b is not None else "-" for b in budgets(bench, label)] if bench else []))
        whole = parts["whole step (simulate, 1 seed)"]
        other = whole - sum(parts[name] for name in PARTS)
        rows.append([label] + [f"{parts[name]:.4g} ({100 * parts[name] / whole:.0f}%)" for name in (*PARTS,)]
                    + [f"{other:.4g} ({100 * other / whole:.0f}%)", f"{whole:.4g}"])
        print("  done:", label, file=sys.stderr, flush=True)
    print(table(["workload", *PARTS, "whole less parts", "whole step"], rows,
                "Engine, one thread: microseconds per trajectory-step (share of the whole step)"))
    print(table(["workload", *FLOOR_PARTS, "floor", "whole step"]
                + (["budget for 1.5x JAX", "budget for 1.5x batched NumPy"] if bench else []), floor_rows,
                "Floor, one thread: microseconds per trajectory-step of the work the definitions require"))
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
