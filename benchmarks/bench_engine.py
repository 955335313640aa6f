"""Engine benchmark: trajectory-steps per second, ratios measured in one run (engine issue).

Workloads (``sigmoidal`` problem, bounded noise, R seeds): Scion with the sign norm on 8
layers of 8x8, and LANTON (D-Muon NS5 base, consecutive estimator, quadrature dual) on 8
layers of 8x8, 16x16, 64x64 and 4 layers of 512x512. Columns: the engine with 1 and 2
threads, the NumPy reference (``engine.reference_simulate``), and their ratio; then the
cost's log-log slope against R and against T (linear cost: slope 1), and the machine's
float64 GEMM throughput measured in the same run.

Peers (``_peers.py``), on every workload: JAX ``jit(vmap(lax.scan))`` in float64 (compile
time reported apart), NumPy batched over seeds and a PyTorch loop, each skipped with a
message when its library is absent, each checked to follow the engine's iterates. They take
the engine's noise drawn beforehand, so they are timed without drawing it.

Run: ``python benchmarks/bench_engine.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import gemm_gflops, table  # noqa: E402

import _peers  # noqa: E402

from nalr_theory import engine, optimizers, problems  # noqa: E402
from nalr_theory.problems import noise  # noqa: E402

#: (label, layer size, layers, method, steps for the engine, steps for the reference)
WORKLOADS = [
    ("8 of 8x8, Scion sign", 8, 8, "scion", 2000, 40),
    ("8 of 16x16, Scion sign", 16, 8, "scion", 1000, 20),
    ("8 of 8x8, LANTON", 8, 8, "lanton", 1000, 20),
    ("8 of 16x16, LANTON", 16, 8, "lanton", 400, 10),
    ("8 of 64x64, LANTON", 64, 8, "lanton", 40, 4),
    ("4 of 512x512, LANTON", 512, 4, "lanton", 2, 2),
]


def workload(size: int, count: int, method: str):
    norm = "sign" if method == "scion" else "spectral"
    problem = problems.get("sigmoidal", shapes=[(size, size)] * count, norms=[norm] * count,
                           noise=noise.bounded(0.05, 0.5))
    if method == "scion":
        return problem, optimizers.scion(problem.layers, 0.01)
    return problem, optimizers.lanton(problem.layers, 0.01, base="dmuon", estimator="consecutive",
                                      dual="quadrature")


def rate(function, trajectory_steps: int, rounds: int = 2) -> float:
    """Best trajectory-steps per second of ``function()`` over ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return trajectory_steps / best


def peers(problem, optimizer, R: int, T: int, threads: int) -> dict:
    """Trajectory-steps per second of each available peer on ``T`` steps, and how far each
    one's final iterate is from the engine's (relative to its largest entry)."""
    data = _peers.workload_data(problem, optimizer, R, T)
    result = engine.simulate(problem, optimizer, T, R)
    final = np.stack([result.final[name] for name in data["names"]], axis=1)
    out = {"peer_steps": T, "peer_iterates": {}}

    def record(name, run):
        X = run()[0]
        out["peer_iterates"][name] = float(np.max(np.abs(X - final)) / np.max(np.abs(final)))
        out[name] = rate(run, R * T)

    record("numpy_batched", lambda: _peers.numpy_batched(data))
    try:
        run, out["jax_compile_seconds"] = _peers.jax_scan(data)
        record("jax", run)
    except ImportError:
        print("  JAX is not installed: its column is skipped (pip install jax)", file=sys.stderr)
        out["jax"] = "not installed"
    try:
        record("torch", _peers.torch_loop(data, threads))
    except ImportError:
        print("  PyTorch is not installed: its column is skipped (pip install torch==2.13.0, the CPU build)",
              file=sys.stderr)
        out["torch"] = "not installed"
    return out


def slope(xs, ys) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 8x8 and 16x16 workloads only, fewer steps")
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--json", default="bench_engine.json")
    args = parser.parse_args(argv)
    R = args.seeds
    workloads = WORKLOADS[:4] if args.quick else WORKLOADS
    result = {"numpy": np.__version__, "numba": numba.__version__, "cpus": os.cpu_count(), "seeds": R,
              "gemm_gflops_512": gemm_gflops(512), "workloads": []}
    rows = []
    threads_available = numba.get_num_threads()
    for label, size, count, method, T, T_reference in workloads:
        T = max(2, T // 4) if args.quick else T
        problem, optimizer = workload(size, count, method)
        engine.simulate(problem, optimizer, 2, 2)  # compilation (cached) and warm-up
        speeds = {}
        for threads in (1, 2):
            numba.set_num_threads(min(threads, threads_available))
            speeds[threads] = rate(lambda: engine.simulate(problem, optimizer, T, R, record_every=max(1, T // 10)),
                                   R * T)
        numba.set_num_threads(threads_available)
        reference = rate(lambda: engine.reference_simulate(problem, optimizer, T_reference, 2), 2 * T_reference, 1)
        entry = {"workload": label, "engine_1_thread": speeds[1], "engine_2_threads": speeds[2],
                 "reference": reference}
        entry.update(peers(problem, optimizer, R, max(2, min(T, 4096 // size)), threads_available))
        result["workloads"].append(entry)
        cell = lambda key: f"{entry[key]:.4g}" if isinstance(entry.get(key), float) else entry.get(key, "not written")  # noqa: E731
        ratio = lambda key: f"{speeds[2] / entry[key]:.2f}" if isinstance(entry.get(key), float) else "-"  # noqa: E731
        rows.append([label, f"{speeds[2]:.4g}", f"{speeds[1]:.4g}", f"{speeds[2] / speeds[1]:.2f}", f"{reference:.4g}",
                     f"{speeds[2] / reference:.1f}", cell("jax"), cell("numpy_batched"), cell("torch"), ratio("jax"),
                     ratio("numpy_batched"), ratio("torch")])
        print("  done:", label, file=sys.stderr, flush=True)
    print(table(["workload", "engine, 2 threads", "engine, 1 thread", "2 / 1 threads", "reference",
                 "engine / reference", "JAX", "batched NumPy", "PyTorch", "engine / JAX", "engine / batched NumPy",
                 "engine / PyTorch"], rows, f"Trajectory-steps per second, R = {R}"))
    for entry in result["workloads"]:
        if "peer_iterates" in entry:
            print(f"{entry['workload']}: peers' final iterates against the engine's, max relative difference: "
                  + ", ".join(f"{name} {value:.1e}" for name, value in entry["peer_iterates"].items())
                  + (f"; JAX compile {entry['jax_compile_seconds']:.2f} s" if "jax_compile_seconds" in entry else ""))

    # cost against R and T on the smallest workload (linear: slope 1)
    problem, optimizer = workload(8, 8, "scion")
    Rs, Ts = [4, 8, 16, 32], [250, 500, 1000, 2000]
    cost_R = [1.0 / rate(lambda: engine.simulate(problem, optimizer, 500, r), 1) for r in Rs]
    cost_T = [1.0 / rate(lambda: engine.simulate(problem, optimizer, t, 8), 1) for t in Ts]
    result["slope_R"], result["slope_T"] = slope(Rs, cost_R), slope(Ts, cost_T)
    print(f"\nCost against R (T = 500): log-log slope {result['slope_R']:.3f}; against T (R = 8): "
          f"{result['slope_T']:.3f} (linear: 1). float64 GEMM 512: {result['gemm_gflops_512']:.1f} GFLOP/s.")
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
