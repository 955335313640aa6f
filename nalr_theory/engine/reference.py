"""The readable definition of a simulation: the loop a user writes with the public API.

:func:`nalr_theory.engine.simulate` (numba) is tested against this function.
"""

from __future__ import annotations

import numpy as np

from ..optimizers.state import Diagnostics
from ._arguments import Run, check_progress, check_run
from .measures import stationarity_measures
from .result import SimulationResult


def reference_simulate(problem, optimizer, T, seeds, *, start=None, record_every=1,
                       measures=("plain", "weighted", "noise_normalised"), progress=None):
    """:func:`nalr_theory.engine.simulate`'s result, computed in plain NumPy, seed by seed.

    Per seed ``s`` (see ``simulate`` for the arguments)::

        rng = numpy.random.default_rng(s)
        x = start;  state = optimizer.init(x)
        for t in 1..T:
            g = problem.grad(x)                       # measures of X_t (exact gradient)
            record = problem.oracle(x, rng, t)        # G_t = grad f(X_t) + xi_t
            grads2 = problem.oracle(x, rng, t).grads  # only for the two_sample estimator
            inputs = optimizer.step_inputs(problem, x, record, rng, t)  # Sophia, Schatten only
            updates, state = optimizer.step(state, record.grads, grads2, record.noise, params=x, **inputs)
            x = x + updates

    ``step_inputs`` exists for the methods that read more of the problem than its gradients
    (``optimizers.sophia``: the curvature estimate at refresh steps, drawn from ``rng`` after
    the oracle; ``optimizers.schatten_adaptive``: the activations of the oracle's minibatch).
    """
    run = check_run(problem, optimizer, T, seeds, start, record_every, measures)
    progress = check_progress(progress)
    results = []
    for index, seed in enumerate(run.seeds):
        results.append(_one_seed(run, seed, run.starts[index]))
        if progress is not None:
            progress((index + 1) * run.T, len(run.seeds) * run.T)
    return assemble(run, results)


def _one_seed(run: Run, seed: int, start: dict):
    problem, optimizer, T = run.problem, run.optimizer, run.T
    layout = problem.layout
    p, records = len(layout), run.steps.shape[0]
    out = empty_records(records, p)
    totals = np.zeros(3 + p)
    rng = np.random.default_rng(seed)
    x = {name: np.array(value, dtype=np.float64) for name, value in start.items()}
    state = optimizer.init(x)
    slot, diverged_at = 0, 0
    step_inputs = getattr(optimizer, "step_inputs", None)
    extra_names = getattr(optimizer, "extra_records", ())
    extra = {name: np.full((records, p), np.nan) for name in extra_names}
    for t in range(1, T + 1):
        value = problem.f(x)
        grad = problem.grad(x)
        grad_dual = np.array([norm.dual(grad[name]) for name, norm in zip(layout.names, layout.norms)])
        record = problem.oracle(x, rng, t)
        grads2 = problem.oracle(x, rng, t).grads if run.needs_second else None
        if not (np.isfinite(value) and np.all(np.isfinite(grad_dual)) and _finite(record.grads)):
            diverged_at = t
            break
        try:
            inputs = {} if step_inputs is None else step_inputs(problem, x, record, rng, t)
            updates, state = optimizer.step(state, record.grads, grads2, record.noise, params=x, **inputs)
        except FloatingPointError:  # LANTON's noise sample overflowed: the run diverged
            diverged_at = t
            break
        x = {name: x[name] + updates[name] for name in layout.names}
        diagnostics: Diagnostics = state.diagnostics
        totals[:3] += stationarity_measures(grad_dual, diagnostics.weights, run.inverse_sigma)
        totals[3:] += grad_dual
        if t == run.steps[slot]:
            out_values = (value, np.sum(grad_dual), grad_dual, diagnostics.weights, diagnostics.noise_estimate,
                          np.array([record.noise_dual[name] for name in layout.names]), diagnostics.step_length)
            for array, item in zip(out, out_values):
                array[slot] = item
            for name in extra_names:
                extra[name][slot] = getattr(diagnostics, name)
            slot += 1
        if not _finite(x):
            diverged_at = t
            break
    return seed_result(run, out + tuple(extra[name] for name in extra_names), totals, diverged_at, x)


def _finite(tree: dict) -> bool:
    return all(np.all(np.isfinite(value)) for value in tree.values())


def empty_records(records: int, p: int):
    """NaN-filled ``(f, stationarity, grad_dual, weights, noise_estimate, noise_dual,
    step_length)`` for one seed: what is never written stays NaN."""
    return (np.full(records, np.nan), np.full(records, np.nan)) + tuple(np.full((records, p), np.nan)
                                                                       for _ in range(5))


def seed_result(run, out, totals, diverged_at: int, final: dict):
    """``(records, averages, diverged_at, final)`` of one seed. A diverged seed's records
    from the diverging step on, its averages and its final iterate are NaN."""
    layout = run.problem.layout
    if diverged_at == 0:
        return out, totals / run.T, 0, final
    for array in out:
        array[np.searchsorted(run.steps, diverged_at):] = np.nan
    final = {name: np.full(shape, np.nan) for name, shape in zip(layout.names, layout.shapes)}
    return out, np.full(totals.shape, np.nan), int(diverged_at), final


def assemble(run, results) -> SimulationResult:
    """Stack per-seed ``(records, average, diverged_at, final)`` into a result (records beyond
    the seven standard ones are the optimizer's ``extra_records``)."""
    stacked = [np.stack([result[0][k] for result in results]) for k in range(len(results[0][0]))]
    extra_names = getattr(run.optimizer, "extra_records", ())
    averages = np.stack([result[1] for result in results])
    names = run.problem.layout.names
    return SimulationResult(
        steps=run.steps.copy(), f=stacked[0], stationarity=stacked[1], grad_dual=stacked[2], weights=stacked[3],
        noise_estimate=stacked[4], noise_dual=stacked[5], step_length=stacked[6],
        average={measure: averages[:, ("plain", "weighted", "noise_normalised").index(measure)]
                 for measure in run.measures},
        average_grad_dual=averages[:, 3:],
        diverged_at=np.array([result[2] for result in results], dtype=np.int64),
        final={name: np.stack([result[3][name] for result in results]) for name in names},
        seeds=run.seeds, layer_names=names, extra=dict(zip(extra_names, stacked[7:])))
