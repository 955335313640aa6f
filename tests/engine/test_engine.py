"""Engine (numba) against its reference (NumPy), seed independence, threads, divergence,
bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from nalr_theory import engine, optimizers
from nalr_theory.engine.reference import empty_records
from nalr_theory.engine.simulate import loop_for
from nalr_theory.problems import noise

from ..problems._cases import FAMILIES, small

REL = 1e-10
FIELDS = ("f", "stationarity", "grad_dual", "weights", "noise_estimate", "noise_dual", "step_length",
          "average_grad_dual")

OPTIMIZERS = {
    "lmo_momentum": lambda layers: optimizers.lmo_momentum(layers, 0.01, beta=0.9),
    "scion": lambda layers: optimizers.scion(layers, 0.01),
    "scion_constrained": lambda layers: optimizers.scion(layers, 0.01, constrained=True),
    "muon": lambda layers: optimizers.muon(layers, 0.01),
    "dmuon": lambda layers: optimizers.dmuon(layers, 0.01),
    "fixed_layerwise": lambda layers: optimizers.fixed_layerwise(
        layers, 0.01, {layer.name: w for layer, w in zip(layers, np.linspace(0.5, 1.0, len(layers)))}),
    "normuon": lambda layers: optimizers.normuon(layers, 0.01),
    "adamw": lambda layers: optimizers.adamw(layers, 0.001, weight_decay=0.01),
    **{f"lanton_{estimator}": (lambda estimator: lambda layers: optimizers.lanton(
        layers, 0.01, base="dmuon", estimator=estimator, dual="quadrature"))(estimator)
       for estimator in optimizers.ESTIMATORS},
}

NOISE_MODELS = {
    "exact": noise.exact,
    "bounded": lambda: noise.bounded(0.05, 0.5),
    "gaussian": lambda: noise.gaussian(0.3),
    "heavy_tailed": lambda: noise.heavy_tailed(3.0, sigma=0.3),
}
MINIBATCH = ("teacher_student", "token_model")


def cases():
    for family in FAMILIES:
        models = ("default",) if family in MINIBATCH else tuple(NOISE_MODELS)
        for model in models:
            for name in OPTIMIZERS:
                yield family, model, name


def build(family, model, name):
    problem = small(family, None if model == "default" else NOISE_MODELS[model]())
    return problem, OPTIMIZERS[name](problem.layers)


def assert_equal_results(a, b, rel=REL):
    for field in FIELDS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.shape == y.shape, field
        assert np.array_equal(np.isnan(x), np.isnan(y)), field
        finite = ~np.isnan(x)
        np.testing.assert_allclose(y[finite], x[finite], rtol=rel, atol=0.0, err_msg=field)
    assert a.average.keys() == b.average.keys()
    for measure in a.average:
        np.testing.assert_allclose(b.average[measure], a.average[measure], rtol=rel, atol=0.0, err_msg=measure)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
    np.testing.assert_array_equal(a.steps, b.steps)
    for layer in a.final:
        np.testing.assert_allclose(b.final[layer], a.final[layer], rtol=rel, atol=1e-13, err_msg=layer)


def skip_if_not_applicable(problem, optimizer):
    if optimizer.config.estimator == "two_sample" and not problem.second_sample_available:
        pytest.skip("two_sample needs a second oracle sample")


#: closed-loop trajectories are compared whole over this many steps. Longer runs separate
#: where the dynamics amplifies last-bit differences (NumPy's and numba's BLAS round
#: differently): a sign-norm layer whose momentum entry crosses zero, or an LMO chattering at
#: a stationary point with exact gradients (seen from step ~190 on ``low_rank``, exact noise,
#: Scion). The engine's *map* is then compared step by step instead (``shadowing`` below).
WHOLE_RUN = 100


@pytest.mark.parametrize("family, model, name", list(cases()))
def test_engine_equals_reference_over_a_run(family, model, name):
    problem, optimizer = build(family, model, name)
    skip_if_not_applicable(problem, optimizer)
    expected = engine.reference_simulate(problem, optimizer, WHOLE_RUN, [3], record_every=7)
    got = engine.simulate(problem, optimizer, WHOLE_RUN, [3], record_every=7)
    assert_equal_results(expected, got)
    assert got.diverged_at[0] == 0 and np.all(np.isfinite(got.f))


def engine_one_step(problem, optimizer, schedule, x, state, rng, t):
    """The engine's step ``t`` from the reference's ``(x, state, rng)``: ``(x_next, records)``."""
    layout = problem.layout
    kernels = problem.kernels
    flat_x = layout.flatten(x).copy()
    flat_state = optimizer.to_flat(state)
    records = empty_records(1, len(layout))
    inverse_sigma = np.ones(len(layout))
    norms = (layout.offsets, layout.rows, layout.cols, layout.codes, layout.radii)
    layers, options = optimizer.kernel_config()
    status = loop_for(kernels)(t, t, flat_x, rng, kernels.data, schedule, optimizer.config.estimator == "two_sample",
                               norms, inverse_sigma, np.array([t]), np.zeros(1, dtype=np.int64), np.zeros(3 + len(layout)), records,
                               flat_state, layers, options)
    assert status == 0
    return layout.unflatten(flat_x), records


@pytest.mark.parametrize("family, model, name", list(cases()))
def test_engine_step_equals_reference_step_along_500_steps(family, model, name):
    """Shadowing: at every 5th of 500 reference steps, the engine's one step from the same
    iterate, optimizer state and generator state gives the reference's next iterate."""
    problem, optimizer = build(family, model, name)
    skip_if_not_applicable(problem, optimizer)
    T = 500
    schedule = np.array([optimizer.schedule_values(t) for t in range(1, T + 1)])
    rng = np.random.default_rng(3)
    x = problem.init(0)
    state = optimizer.init(x)
    two_sample = optimizer.config.estimator == "two_sample"
    for t in range(1, T + 1):
        check = t % 5 == 1
        if check:
            engine_rng = np.random.default_rng(0)
            engine_rng.bit_generator.state = rng.bit_generator.state
            engine_x, records = engine_one_step(problem, optimizer, schedule, x, state, engine_rng, t)
        record = problem.oracle(x, rng, t)
        grads2 = problem.oracle(x, rng, t).grads if two_sample else None
        updates, state = optimizer.step(state, record.grads, grads2, record.noise, params=x)
        x = {name: x[name] + updates[name] for name in x}
        if check:
            for layer in x:
                scale = max(np.max(np.abs(x[layer])), 1e-300)
                assert np.max(np.abs(engine_x[layer] - x[layer])) <= REL * scale, (t, layer)
            np.testing.assert_allclose(records[3][0], state.diagnostics.weights, rtol=REL)
            np.testing.assert_allclose(records[5][0], [record.noise_dual[n] for n in problem.names], rtol=REL,
                                       atol=1e-300)


@pytest.mark.parametrize("start", [None, "per_seed"])
def test_several_seeds_and_starts(start):
    problem, optimizer = build("sigmoidal", "bounded", "lanton_consecutive")
    expected = engine.reference_simulate(problem, optimizer, 60, 3, start=start, record_every=4)
    got = engine.simulate(problem, optimizer, 60, 3, start=start, record_every=4)
    assert_equal_results(expected, got)
    assert got.f.shape == (3, 15) and got.grad_dual.shape == (3, 15, 3)
    assert not np.array_equal(got.f[0], got.f[1])  # the seeds draw different noise


def test_seeds_are_independent_of_each_other_bit_for_bit():
    problem, optimizer = build("low_rank", "gaussian", "lanton_momentum_residual")
    together = engine.simulate(problem, optimizer, 300, [0, 5])
    alone = engine.simulate(problem, optimizer, 300, [5])
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(together, field)[1], getattr(alone, field)[0])


def test_averages_use_every_step_whatever_record_every():
    problem, optimizer = build("deep_linear", "bounded", "scion")
    every = engine.simulate(problem, optimizer, 100, 2, record_every=1)
    sparse = engine.simulate(problem, optimizer, 100, 2, record_every=33)
    np.testing.assert_array_equal(sparse.steps, [33, 66, 99, 100])
    np.testing.assert_allclose(every.average["plain"], every.stationarity.mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(every.average_grad_dual, every.grad_dual.mean(axis=1), rtol=1e-13)
    np.testing.assert_array_equal(every.average_grad_dual, sparse.average_grad_dual)
    for measure in every.average:
        np.testing.assert_array_equal(every.average[measure], sparse.average[measure])
    np.testing.assert_array_equal(sparse.f, every.f[:, [32, 65, 98, 99]])


def test_weighted_measure_uses_the_applied_weights():
    problem, optimizer = build("sigmoidal", "bounded", "fixed_layerwise")
    result = engine.simulate(problem, optimizer, 50, 1)
    np.testing.assert_allclose(result.weights[0], np.broadcast_to(np.linspace(0.5, 1.0, 3), (50, 3)))
    weighted = np.mean(np.sum(result.weights * result.grad_dual, axis=2), axis=1)
    np.testing.assert_allclose(result.average["weighted"], weighted, rtol=1e-12)


def test_noise_normalised_is_nan_without_a_known_positive_sigma():
    problem, optimizer = build("sigmoidal", "exact", "scion")  # sigma = 0
    result = engine.simulate(problem, optimizer, 20, 1)
    assert np.isnan(result.average["noise_normalised"][0]) and np.isfinite(result.average["plain"][0])


def test_divergence_is_reported_with_its_step_on_both_paths():
    problem = small("sigmoidal", noise.bounded(0.05, 0.5))
    optimizer = optimizers.scion(problem.layers, 1e308)  # the second step overflows
    expected = engine.reference_simulate(problem, optimizer, 10, 2)
    got = engine.simulate(problem, optimizer, 10, 2)
    assert_equal_results(expected, got)
    assert np.all(got.diverged_at >= 1) and np.all(got.diverged_at <= 3)
    for r, t in enumerate(got.diverged_at):
        assert np.all(np.isnan(got.f[r, t - 1:])) and np.all(np.isfinite(got.f[r, :t - 1]))
        assert np.isnan(got.average["plain"][r]) and all(np.all(np.isnan(value[r])) for value in got.final.values())
    assert got.diverged.all()


_SCRIPT = """
import json, numpy as np
from nalr_theory import engine, optimizers, problems
from nalr_theory.problems import noise
problem = problems.get("sigmoidal", shapes=[(4, 3), (3, 5), (6, 6)], norms=["spectral", "sign", "dmuon"],
                       noise=noise.gaussian(0.3))
optimizer = optimizers.lanton(problem.layers, 0.01, base="dmuon", estimator="consecutive", dual="quadrature")
result = engine.simulate(problem, optimizer, 300, 4)
print(json.dumps({"f": result.f.tolist(), "H": np.nan_to_num(result.noise_estimate).tolist()}))
"""


def test_same_numbers_whatever_the_number_of_threads():
    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
        outputs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("threads", [1, 2])
def test_progress_is_reported_after_each_seeds_chunk(threads):
    import threading

    import numba

    problem, optimizer = build("sigmoidal", "bounded", "scion")
    calls, callers = [], set()

    def progress(done, total):
        calls.append((done, total))
        callers.add(threading.get_ident())

    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        engine.simulate(problem, optimizer, 600, 2, progress=progress)
    finally:
        numba.set_num_threads(before)
    # chunks of 256, 256 and 88 steps for each of the 2 seeds, in whatever order the threads
    # finish them, each reported once with the running total, in the calling thread
    done = [0] + [d for d, _ in calls]
    assert sorted(b - a for a, b in zip(done, done[1:])) == [88, 88, 256, 256, 256, 256]
    assert {total for _, total in calls} == {1200} and calls[-1] == (1200, 1200)
    assert callers == {threading.get_ident()}
    if threads == 1:  # one thread: the seeds chunk by chunk
        assert [d for d, _ in calls] == [256, 512, 768, 1024, 1112, 1200]


@pytest.mark.parametrize("kwargs, parameter", [
    ({"T": 0}, "T"), ({"T": 2.5}, "T"), ({"seeds": 0}, "seeds"), ({"seeds": [1, 1]}, "seeds"),
    ({"seeds": [-1]}, "seeds"), ({"seeds": "ab"}, "seeds"), ({"record_every": 0}, "record_every"),
    ({"measures": ("plain", "max")}, "measures"), ({"start": "shared"}, "start"), ({"start": 3}, "start"),
    ({"start": {"w0": np.zeros((4, 3))}}, "start"), ({"progress": 5}, "progress"),
])
@pytest.mark.parametrize("function", [engine.simulate, engine.reference_simulate])
def test_bad_input_names_the_parameter(function, kwargs, parameter):
    problem, optimizer = build("sigmoidal", "bounded", "scion")
    arguments = {"T": 5, "seeds": 2, **kwargs}
    T, seeds = arguments.pop("T"), arguments.pop("seeds")
    with pytest.raises(ValueError, match=rf"^{parameter}:"):
        function(problem, optimizer, T, seeds, **arguments)


def test_mismatched_optimizer_and_problem_are_refused():
    problem, _ = build("sigmoidal", "bounded", "scion")
    other, _ = build("low_rank", "bounded", "scion")
    with pytest.raises(ValueError, match="^optimizer:"):
        engine.simulate(problem, optimizers.scion(other.layers, 0.01), 5, 1)
    with pytest.raises(ValueError, match="^problem:"):
        engine.simulate("sigmoidal", optimizers.scion(other.layers, 0.01), 5, 1)


def test_blas_runs_single_threaded_during_a_run_and_its_limit_is_restored_after():
    from threadpoolctl import threadpool_info

    problem, optimizer = build("sigmoidal", "bounded", "scion")
    before = [(info["filepath"], info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas"]
    during = []
    engine.simulate(problem, optimizer, 3, 2, progress=lambda done, total: during.extend(
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"))
    assert during and set(during) == {1}
    assert [(info["filepath"], info["num_threads"]) for info in threadpool_info()
            if info["user_api"] == "blas"] == before


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
# forking a process with threads is what this tests (Python 3.12 on warns about it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_runs_its_own_seed_threads():
    """The seed threads are kept across calls; a child forked after a run has none of its
    parent's threads, and must start its own rather than wait on the parent's."""
    import multiprocessing

    import numba

    if numba.get_num_threads() < 2:
        pytest.skip("one thread runs the seeds itself, without a pool")
    expected = _forked_run()  # the parent's pool of seed threads now exists
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_forked_run).get(timeout=120)
    np.testing.assert_array_equal(got, expected)


def _forked_run():
    problem, optimizer = build("sigmoidal", "bounded", "scion")
    return engine.simulate(problem, optimizer, 20, 3).f


@pytest.mark.parametrize("with_report", [True, False])
def test_a_seed_that_raises_stops_the_others_and_raises_in_the_caller(with_report):
    from concurrent.futures import ThreadPoolExecutor

    from nalr_theory.engine.simulate import _seeds_in_threads

    chunks = [(1, 10), (11, 20), (21, 30), (31, 40)]
    ran, reported = [], []

    def advance(index, t_first, t_last):
        ran.append((index, t_first))
        if (index, t_first) == (1, 11):
            raise RuntimeError("seed 1 failed")
        time.sleep(0.05)  # a chunk's work: the caller learns of the error well within one

    with ThreadPoolExecutor(max_workers=2) as pool:
        with pytest.raises(RuntimeError, match="seed 1 failed"):
            _seeds_in_threads(pool, 2, 6, chunks, advance, reported.append if with_report else None)
    # seed 1 stopped where it raised, seed 0 at the end of its chunk then, and no other
    # seed started
    assert (1, 21) not in ran and (0, 31) not in ran
    assert {index for index, _ in ran} == {0, 1}
    assert all(steps == 10 for steps in reported)
