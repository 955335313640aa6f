"""Optimizer benchmark: ratios in one run (optimizers issue).

1. LANTON's per-step cost over its base's (D-Muon, Newton-Schulz LMO), for each noise
   estimator and each way of computing the dual norm (``exact`` SVD, ``ns`` the cheap
   estimate ``-<Z, ns5(Z)>``, ``gram`` the Gram-eigenvalue nuclear norm, ``quadrature`` the
   certified Gauss-Radau lower bound from two GEMMs); target <= 1.2x with ``consecutive``
   and a cheap dual. Both backends: the numba kernel as the engine calls it
   (``_kernels.step`` on flat arrays), which is where cost matters (the fast
   path runs the simulations; the NumPy reference is the readable definition), and the
   NumPy reference (``Optimizer.step``) for context: on 32x32 layers it is bound by NumPy's
   per-call dispatch (about 0.7 us a call), so its ratio counts calls more than flops.
2. numba over reference per-step speed (> 1: numba faster) for every method, on a small
   model (8 layers of 32x32) and a large one (4 layers of 512x512); the kernel called
   directly (the engine's path) and through the ``backend="numba"`` wrapper.

Each ratio is min(time a) / min(time b) over rounds in which a and b alternate, so a load
spike on a shared machine hits both. Run:
``python benchmarks/bench_optimizers.py [--quick]`` (``--quick``: small model only).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import interleaved_best, per_call, table  # noqa: E402

from nalr_theory import optimizers  # noqa: E402
from nalr_theory.geometry import Layer  # noqa: E402
from nalr_theory.optimizers import _kernels  # noqa: E402

TARGET = 1.2  # LANTON's per-step cost over its base (optimizers issue)
MODELS = {"small (8 x 32x32)": ((32, 32), 8), "large (4 x 512x512)": ((512, 512), 4)}


def paired(functions: list, rounds: int, min_seconds: float) -> list[float]:
    """Best per-call time of each function, measured in alternation over ``rounds``."""
    for function in functions:
        function()  # warm-up: compilation, caches, thread pools
    return interleaved_best(functions, rounds, lambda function: per_call(function, min_seconds))


class Case:
    """One optimizer on one model, ready to time both backends from a fixed state."""

    def __init__(self, optimizer, seed: int = 0):
        layout = optimizer.layout
        rng = np.random.default_rng(seed)
        tree = lambda scale=1.0: {n: scale * rng.standard_normal(s) for n, s in zip(layout.names, layout.shapes)}  # noqa: E731
        self.optimizer = optimizer
        self.params, self.grads, self.grads2 = tree(0.1), tree(), tree()
        state = optimizer.init(self.params)
        for _ in range(3):  # past every estimator's first step
            _, state = optimizer.step(state, tree(), tree(), tree(), params=self.params)
        self.state = state
        self.wrapper = optimizer.with_backend("numba")
        flat = optimizer.to_flat(state)
        t = state.step + 1
        lr, beta, adamw_lr = optimizer.schedule_values(t)
        self.flat_grads = [layout.flatten(self.grads), layout.flatten(tree())]  # neither equals grads2
        self.flat_params, self.flat_grads2 = layout.flatten(self.params), layout.flatten(self.grads2)
        diagnostics = optimizers.Diagnostics(*(np.zeros(len(layout)) for _ in optimizers.Diagnostics._fields))
        layers, options = optimizer.kernel_config()
        self.kernel_args = [t, lr, beta, adamw_lr, self.inputs(0), flat, np.zeros(layout.size), diagnostics, layers,
                            options]
        self.calls = 0

    def inputs(self, draw: int):
        return optimizers.StepInputs(self.flat_params, self.flat_grads[draw], self.flat_grads2, self.flat_grads2)

    def reference(self):
        self.optimizer.step(self.state, self.grads, self.grads2, self.grads2, params=self.params)

    def numba_wrapper(self):
        self.wrapper.step(self.state, self.grads, self.grads2, self.grads2, params=self.params)

    def kernel(self):
        # The kernel updates its state in place, so the state drifts (harmless for timing);
        # the gradient alternates between two draws so that G_t - G_{t-1} (and G - G') is
        # never zero, which would make the SVD or eigenvalue solver artificially fast.
        self.calls += 1
        self.kernel_args[4] = self.inputs(self.calls % 2)
        _kernels.step(*self.kernel_args)


def layers_for(model: str) -> list[Layer]:
    shape, count = MODELS[model]
    return [Layer(f"w{i}", shape, "spectral") for i in range(count)]


def lanton_overhead(models, rounds, min_seconds) -> str:
    rows = []
    bases = {}
    for model in models:
        bases[model] = Case(optimizers.dmuon(layers_for(model), 0.01))
    for estimator in optimizers.ESTIMATORS:
        for dual in optimizers.DUALS:
            row = [estimator, dual]
            for model in models:
                base = bases[model]
                case = Case(optimizers.lanton(layers_for(model), 0.01, base="dmuon", estimator=estimator, dual=dual))
                ref_base, ref_lanton = paired([base.reference, case.reference], rounds[model], min_seconds[model])
                nb_base, nb_lanton = paired([base.kernel, case.kernel], rounds[model], min_seconds[model])
                row += [ref_lanton / ref_base, nb_lanton / nb_base]
            rows.append(row)
            print("  done:", estimator, dual, file=sys.stderr, flush=True)
    header = ["estimator", "dual"]
    for model in models:
        header += [f"{model} reference", f"{model} numba kernel"]
    return table(header, rows, "LANTON per-step cost over its base (D-Muon, ns5), x (target <= 1.2 with consecutive "
                               "and a cheap dual)") + target_verdict(models, rows)


def target_verdict(models, rows) -> str:
    """The target's cells (``consecutive``, ``quadrature``), engine path first."""
    (row,) = [r for r in rows if r[0] == "consecutive" and r[1] == "quadrature"]
    kernel = [row[3 + 2 * i] for i in range(len(models))]
    reference = [row[2 + 2 * i] for i in range(len(models))]
    met = "met" if max(kernel) <= TARGET else "NOT met"
    cells = lambda ratios: ", ".join(f"{m} {r:.3g}" for m, r in zip(models, ratios))  # noqa: E731
    return (f"\nTarget (consecutive, quadrature dual, <= {TARGET}x) on the engine path (numba kernel): {met} "
            f"({cells(kernel)}).\nNumPy reference, for context: {cells(reference)}.\n")


def numba_speedup(models, rounds, min_seconds) -> str:
    methods = {
        "lmo_momentum (svd)": lambda layers: optimizers.lmo_momentum(layers, 0.01),
        "scion (sign)": lambda layers: optimizers.scion([Layer(l.name, l.shape, "sign") for l in layers], 0.01),
        "muon": lambda layers: optimizers.muon(layers),
        "dmuon": lambda layers: optimizers.dmuon(layers),
        "fixed_layerwise (svd)": lambda layers: optimizers.fixed_layerwise(
            layers, 0.01, {l.name: 1.0 / (1 + i) for i, l in enumerate(layers)}),
        "lanton (dmuon, consecutive, quadrature)": lambda layers: optimizers.lanton(layers, 0.01, base="dmuon",
                                                                                    dual="quadrature"),
        "normuon": lambda layers: optimizers.normuon(layers),
        "adamw": lambda layers: optimizers.adamw(layers),
    }
    rows = []
    for name, build in methods.items():
        row = [name]
        for model in models:
            case = Case(build(layers_for(model)))
            reference, kernel, wrapper = paired([case.reference, case.kernel, case.numba_wrapper], rounds[model],
                                                min_seconds[model])
            row += [reference * 1e3, reference / kernel, reference / wrapper]
        rows.append(row)
        print("  done:", name, file=sys.stderr, flush=True)
    header = ["method"]
    for model in models:
        header += [f"{model} reference ms/step", "numba kernel speed-up", "numba wrapper speed-up"]
    return table(header, rows, "numba over reference, per-step speed (> 1: numba faster)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small model only")
    parser.add_argument("--rounds", type=int, default=3, help="rounds on the small model (x2 on the large one)")
    parser.add_argument("--seconds", type=float, default=0.2,
                        help="length of a block of calls on the small model (0: single calls, a smoke run)")
    args = parser.parse_args(argv)
    small, large = MODELS
    models = [small] if args.quick else [small, large]
    # small model: blocks of calls lasting 0.2 s; large model (~0.2 s a step): single calls
    # alternated over twice the rounds, which resists load drift better than long blocks
    min_seconds = {small: args.seconds, large: 0.0}
    rounds = {small: args.rounds, large: 2 * args.rounds}
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, rounds={rounds}\n")
    print(lanton_overhead(models, rounds, min_seconds), flush=True)
    print(numba_speedup(models, rounds, min_seconds), flush=True)


if __name__ == "__main__":
    main()
