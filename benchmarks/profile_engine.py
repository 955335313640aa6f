"""Where the engine's time goes: microseconds per trajectory-step of each part of its step.

For each workload of ``bench_engine.py``, on one thread with a single-threaded BLAS (as each
seed runs inside ``engine.simulate``), the parts of one step of ``engine._loop.run_chunk``,
each timed in a compiled loop (no Python per call): the problem's ``value_and_grad``, the
measures' per-layer dual norms of the exact gradient (``layer_dual_norms``), the oracle
(``oracle_at``: the noise draw and, for bounded noise, its dual-norm normalisation), the
optimizer's step (``optimizers._kernels.step``), and the whole step as ``simulate`` runs it
(one seed, one record per run as in ``bench_engine.py``; the marginal cost of more steps,
without ``simulate``'s set-up). The whole less the parts is the loop's own work
(finiteness checks, ``x += updates``, the measures' sums, the records) and the parts'
interference: measured at 8 of 8x8 Scion sign, the four parts called in one compiled loop
take 28.3 us a step against 24.3 us timed apart, and the loop's own work adds about 1 us.

Run: ``python benchmarks/profile_engine.py [--quick] [--json PATH]``.
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
from nalr_theory.optimizers import _kernels as optimizer_kernels  # noqa: E402
from nalr_theory.optimizers.state import Diagnostics, StepInputs  # noqa: E402

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
    def time_step(t, lr, beta, inputs, state, updates, diagnostics, layers, options, N):
        for _ in range(N):
            step(t, lr, beta, lr, inputs, state, updates, diagnostics, layers, options)
        return updates[0]

    return time_value_and_grad, time_dual_norms, time_oracle, time_step


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
    grads, noise = kernels.oracle_at(x, g, kernels.data, 1, np.random.default_rng(0))
    layers, options = optimizer.kernel_config()
    state = optimizer.to_flat(optimizer.init(problem.init(0)))
    p = len(layout)
    diagnostics = Diagnostics(*(np.zeros(p) for _ in range(6)))
    inputs = StepInputs(x, grads, np.zeros(0), noise)
    lr, beta, _ = optimizer.schedule_values(1)
    rng = np.random.default_rng(0)
    out = {}
    with threadpool_limits(limits=1, user_api="blas"):
        out["value_and_grad"] = per_call(lambda n: time_value_and_grad(x, kernels.data, n), N)
        out["layer_dual_norms"] = per_call(lambda n: time_dual_norms(g, *norms, n), N)
        out["oracle_at"] = per_call(lambda n: time_oracle(x, g, kernels.data, rng, n), N)
        # t = 10: past every estimator's first sample, so LANTON's noise estimate is part of it
        out["optimizer step"] = per_call(lambda n: time_step(10, lr, beta, inputs, state, np.zeros(x.shape[0]),
                                                             diagnostics, layers, options, n), N)
        # recorded as bench_engine records (once per run); the marginal time of N more steps,
        # so that simulate's set-up per call (about 2 ms) is not counted
        whole = lambda n: engine.simulate(problem, optimizer, n, 1, record_every=n)  # noqa: E731
        out["whole step (simulate, 1 seed)"] = (2 * per_call(whole, 2 * N) - per_call(whole, N))
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 8x8 and 16x16 workloads only")
    parser.add_argument("--json", default="profile_engine.json")
    args = parser.parse_args(argv)
    workloads = WORKLOADS[:4] if args.quick else WORKLOADS
    result, rows = {}, []
    for label, size, count, method, T, _ in workloads:
        parts = profile(size, count, method, max(4, T))
        result[label] = parts
        whole = parts["whole step (simulate, 1 seed)"]
        other = whole - sum(parts[name] for name in PARTS)
        rows.append([label] + [f"{parts[name]:.4g} ({100 * parts[name] / whole:.0f}%)" for name in (*PARTS,)]
                    + [f"{other:.4g} ({100 * other / whole:.0f}%)", f"{whole:.4g}"])
        print("  done:", label, file=sys.stderr, flush=True)
    print(table(["workload", *PARTS, "whole less parts", "whole step"], rows,
                "Engine, one thread: microseconds per trajectory-step (share of the whole step)"))
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
