"""Engine benchmark: trajectory-steps per second, ratios measured in one run (engine issue).

Workloads (``sigmoidal`` problem, bounded noise, R seeds): Scion with the sign norm on 8
layers of 8x8, and LANTON (D-Muon NS5 base, consecutive estimator, quadrature dual) on 8
layers of 8x8, 16x16, 64x64 and 4 layers of 512x512. Columns: the engine with 1 and 2
threads, the NumPy reference (``engine.reference_simulate``), and their ratio; then the
cost's log-log slope against R and against T (linear cost: slope 1), and the machine's
float64 GEMM throughput measured in the same run. Then the achieved GFLOP/s of the engine
and of JAX on each workload, counted from the work every column does
(:func:`workload_flops`), as a fraction of that GEMM throughput; the engine's cost against
layer size and number of layers; and the projected time of the main job's default grid
(``nalr run``) from the engine's rates on its problems (:func:`main_job_projection`).

Peers (``_peers.py``), on every workload: JAX ``jit(vmap(lax.scan))`` in float64 (compile
time reported apart), NumPy batched over seeds and a PyTorch loop, each skipped with a
message when its library is absent, each checked to follow the engine's iterates. They take
the engine's noise drawn beforehand, so they are timed without drawing it. The engine is
timed with one record per run: its per-step averages are accumulated at every step as always,
and a record would add the noise's dual norms, which no peer computes.

Run: ``python benchmarks/bench_engine.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import gemm_gflops, interleaved_best, table  # noqa: E402

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


def workload_flops(size: int, count: int, method: str, ns_steps: int = 5) -> float:
    """Floating-point operations of one trajectory-step that every column performs (the
    peers' step, ``_peers.py``), for ``count`` square layers of ``size``.

    Per layer: the objective's four ``n x n`` products (``U X V``, then ``U^T phi'(R) V^T``),
    ``8 n^3``; for the spectral norm (LANTON) the measure's singular values, ``8/3 n^3``
    (Golub-Kahan bidiagonalisation, ``4 m n^2 - 4 n^3 / 3``, the values-only count of Golub
    and Van Loan, Matrix Computations, 4th ed., 8.6.3), Newton-Schulz's three products per
    step (``6 n^3`` each step) and the quadrature's two (``Z Z^T`` and ``A^2``, ``4 n^3``).
    Elementwise work (the sigmoid, momentum, sign) is not counted, nor the engine's own
    extra work (drawing and normalising the noise, the records): the count favours no column.
    """
    n3 = float(size) ** 3
    per_layer = 8.0 * n3
    if method == "lanton":
        per_layer += 8.0 / 3.0 * n3 + ns_steps * 6.0 * n3 + 4.0 * n3
    return count * per_layer


def rate(function, trajectory_steps: int, rounds: int = 2) -> float:
    """Best trajectory-steps per second of ``function()`` over ``rounds``."""
    return trajectory_steps / interleaved_best([function], rounds)[0]


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


#: the layer sizes (8 layers each) and the layer counts (of 16x16) of the cost table
SHAPE_SIZES, SHAPE_LAYERS = [8, 16, 32, 64], [2, 4, 8, 16]


def cost_against_shape(R: int) -> dict:
    """Engine microseconds per trajectory-step (all threads) for LANTON on 8 layers of
    ``n x n`` (``SHAPE_SIZES``) and on ``L`` layers of 16x16 (``SHAPE_LAYERS``), with log-log
    slopes (against ``n`` over the two largest sizes)."""
    out = {"sizes": list(SHAPE_SIZES), "layers": list(SHAPE_LAYERS)}
    by_size, by_layers = [], []
    for size in out["sizes"]:
        problem, optimizer = workload(size, 8, "lanton")
        T = max(4, 2 ** 14 // size ** 2)
        engine.simulate(problem, optimizer, 2, 2)
        by_size.append(1e6 / rate(lambda: engine.simulate(problem, optimizer, T, R, record_every=T), R * T))
    for count in out["layers"]:
        problem, optimizer = workload(16, count, "lanton")
        T = max(4, 1024 // count)
        engine.simulate(problem, optimizer, 2, 2)
        by_layers.append(1e6 / rate(lambda: engine.simulate(problem, optimizer, T, R, record_every=T), R * T))
    out.update({"us_by_size": by_size, "us_by_layers": by_layers,
                "slope_size": slope(out["sizes"][-2:], by_size[-2:]), "slope_layers": slope(out["layers"], by_layers)})
    return out


def main_job_projection(config=None, R: int = 4, T: int = 128) -> dict:
    """Projected seconds of the main job's grid (``config``, default ``MainJobConfig.make()``,
    the grid of ``nalr run``): each run it makes (the rate check and its 10x-noise part, the
    estimator check, the tuned comparison on every scenario, from the same configuration,
    builders and scenarios ``run_main_job`` uses) at the engine's rate measured here for that
    problem and method (``R`` seeds, ``T`` steps, all threads). Returns the seconds and the
    trajectory-steps of each part. Compilation, the problems' set-up and the plots are not
    included."""
    from nalr_theory.experiments import estimator_check, main_job

    config = config or main_job.MainJobConfig.make()
    problem = problems.get("sigmoidal_hetero")
    noisy = problems.get("sigmoidal_hetero", scale=main_job.NOISY_SCALE)
    measured = {}
    parts = ("rate check", "rate check, 10x noise", "estimator check", "comparison")
    seconds, steps = dict.fromkeys(parts, 0.0), dict.fromkeys(parts, 0)

    def add(part, key, problem, build, trajectory_steps):
        if key not in measured:
            optimizer = build(problem.layers)
            engine.simulate(problem, optimizer, 2, 2)
            measured[key] = rate(lambda: engine.simulate(problem, optimizer, T, R, record_every=T), R * T, 1)
        seconds[part] += trajectory_steps / measured[key]
        steps[part] += trajectory_steps

    horizon_steps = sum(config.T_grid)
    for label, build in main_job.rate_builders().items():
        add("rate check", ("hetero", label), problem, lambda layers: build(layers, 0.01, 0.9),
            config.rate_seeds * horizon_steps)
        if label in main_job.NOISY_RATE_OPTIMIZERS:
            add("rate check, 10x noise", ("noisy", label), noisy, lambda layers: build(layers, 0.01, 0.9),
                max(2, config.rate_seeds // 2) * horizon_steps)
    for estimator in inspect.signature(estimator_check).parameters["estimators"].default:
        add("estimator check", ("hetero", "lanton", estimator), problem,
            lambda layers: optimizers.lanton(layers, 0.01, estimator=estimator), config.rate_seeds * config.estimator_T)
    runs_per_method = len(config.lr_factors) * config.tune_seeds + config.eval_seeds
    for scenario in main_job.scenarios(config.quick):
        for label, build in main_job.compare_builders(scenario.problem).items():
            if label not in main_job.ON_REQUEST:
                # scenarios sharing a problem object share its measured rates
                add("comparison", (id(scenario.problem), label), scenario.problem,
                    lambda layers: build(layers, 0.01), runs_per_method * config.compare_T)
    return {"seconds": seconds, "trajectory_steps": steps, "total_seconds": sum(seconds.values()), "seeds": R,
            "steps": T}


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
            # one record per run (at T): a record adds the noise's dual norms, which no peer
            # computes (one SVD per layer at 512x512, as much as the measure); the averages
            # the bound needs are accumulated at every step whatever record_every is
            speeds[threads] = rate(lambda: engine.simulate(problem, optimizer, T, R, record_every=T), R * T)
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
    # an untimed run first: the peers' BLAS and OpenMP threads, which ran last, keep spinning
    # for a while and take a core (measured with 3 rounds and no such run: R = 4 took 21.9 ms
    # for the 2000 trajectory-steps that T = 250 did in 18.0 ms, slope 0.83; rerun apart 0.97);
    # then the rounds interleaved over the points (interleaved_best): each point's best of 5
    engine.simulate(problem, optimizer, 2000, 32)
    cost_R = interleaved_best([lambda r=r: engine.simulate(problem, optimizer, 500, r) for r in Rs], 5)
    cost_T = interleaved_best([lambda t=t: engine.simulate(problem, optimizer, t, 8) for t in Ts], 5)
    result["slope_R"], result["slope_T"] = slope(Rs, cost_R), slope(Ts, cost_T)
    result["seconds_by_R"], result["seconds_by_T"] = dict(zip(Rs, cost_R)), dict(zip(Ts, cost_T))
    print(f"\nCost against R (T = 500): log-log slope {result['slope_R']:.3f}; against T (R = 8): "
          f"{result['slope_T']:.3f} (linear: 1). float64 GEMM 512: {result['gemm_gflops_512']:.1f} GFLOP/s.")
    print("seconds per run against R: " + ", ".join(f"{r}: {c:.4f}" for r, c in result["seconds_by_R"].items())
          + "; against T: " + ", ".join(f"{t}: {c:.4f}" for t, c in result["seconds_by_T"].items()))

    # achieved GFLOP/s: the work every column does (workload_flops) at each column's rate
    gemm = result["gemm_gflops_512"]
    flop_rows = []
    for (label, size, count, method, _, _), entry in zip(workloads, result["workloads"]):
        entry["flops_per_step"] = workload_flops(size, count, method)
        entry["engine_gflops"] = entry["flops_per_step"] * entry["engine_2_threads"] / 1e9
        jax_gflops = (entry["flops_per_step"] * entry["jax"] / 1e9 if isinstance(entry.get("jax"), float)
                      else None)
        entry["jax_gflops"] = jax_gflops
        flop_rows.append([label, f"{entry['flops_per_step']:.3g}", f"{entry['engine_gflops']:.3g}",
                          f"{100 * entry['engine_gflops'] / gemm:.0f}%",
                          "-" if jax_gflops is None else f"{jax_gflops:.3g}",
                          "-" if jax_gflops is None else f"{100 * jax_gflops / gemm:.0f}%"])
    print()
    print(table(["workload", "flops per trajectory-step", "engine GFLOP/s", "engine / GEMM", "JAX GFLOP/s",
                 "JAX / GEMM"], flop_rows, f"Achieved GFLOP/s against float64 GEMM 512 ({gemm:.1f} GFLOP/s)"))

    if not args.quick:
        shape = cost_against_shape(R)
        result["cost_against_shape"] = shape
        print()
        print(table(["layers of n x n", "us per trajectory-step"],
                    [[f"8 of {n}x{n}", f"{us:.3g}"] for n, us in zip(shape["sizes"], shape["us_by_size"])]
                    + [[f"{L} of 16x16", f"{us:.3g}"] for L, us in zip(shape["layers"], shape["us_by_layers"])],
                    "Engine cost against layer size and layers (LANTON, all threads)"))
        print(f"log-log slope against n from {shape['sizes'][-2]} to {shape['sizes'][-1]}: {shape['slope_size']:.2f} "
              "(GEMM-bound: 3); "
              f"against layers: {shape['slope_layers']:.2f} (linear: 1)")
        projection = main_job_projection()
        result["main_job_projection"] = projection
        print("\nProjected time of the main job's default grid (engine rates measured here, compilation apart): "
              + ", ".join(f"{part} {value:.0f} s ({projection['trajectory_steps'][part]} trajectory-steps)"
                          for part, value in projection["seconds"].items())
              + f"; total {projection['total_seconds'] / 60:.1f} min")
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
