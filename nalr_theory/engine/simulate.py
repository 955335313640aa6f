"""The simulation engine: R seeds x T steps in numba, with no Python per step.

Problem
    Checking a rate needs hundreds of runs per horizon: many seeds, many steps, of one
    optimizer on one synthetic problem, with the stationarity measures the bound controls.

Algorithm
    Exactly :func:`nalr_theory.engine.reference_simulate`'s loop (its docstring is the
    definition), per seed, on flat float64 vectors: the problem family's numba kernels
    (``problem.kernels``, their data built once per run) and the optimizers' one numba step
    (``nalr_theory.optimizers._kernels.step``, compiled from the same rules as the NumPy
    optimizers). Steps run in chunks inside numba; between chunks Python only reports
    progress. Seeds are independent and run on a pool of ``numba.get_num_threads()``
    threads, kept from one call to the next (the compiled loop releases the GIL; BLAS is
    limited to one thread meanwhile, and given back its thread count after);
    each seed is computed by one thread from start to end, so the numbers do not depend on
    the number of threads. Per step, ``f`` and the exact gradient are computed once
    (``Kernels.value_and_grad``) and the oracle is given that gradient
    (``Kernels.oracle_at``), which also returns the noise's dual norms where its draw fixes
    them (bounded noise is scaled to a drawn dual norm), so that the ``noise_dual`` record
    costs nothing there; nuclear norms (the spectral dual: measures, bounded noise, the other
    ``noise_dual`` records) come from the Gram matrix's eigenvalues where that is proven
    within ``1e-10`` relative, else from the SVD (``geometry._kernels.nuclear_norm``: a third
    of an SVD's time up to 64x64).

    Sophia and the adaptive Schatten method read more of the problem than its gradients
    (curvature estimates, activations: ``optimizers.layer_loop``); for them ``simulate`` runs
    the reference loop around their numba-compiled step (Python per step: about as fast as
    the reference on small layers).

Guarantee
    Equal to the reference to ``1e-10`` relative (tested over 500 steps for the optimizers,
    problem families and noise models); the same seed gives the same numbers bit for bit
    whatever the number of threads. A seed that produces a non-finite value stops at that
    step (``diverged_at``); its later records and its averages are NaN, the other seeds go on.

References
    ``nalr_theory.theory.theorem`` (the averages ``M(T)``), ``nalr_theory.problems.base``
    (the oracle), ``nalr_theory.optimizers.steps`` (the update rules).
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  the BLAS numba's products call, loaded before _blas_libraries looks
from threadpoolctl import ThreadpoolController

from ..optimizers import _kernels as optimizer_kernels
from . import _loop
from ._arguments import check_progress, check_run
from .reference import assemble, empty_records, reference_simulate, seed_result

#: steps per chunk: progress is reported after each seed's chunk (each a GIL-free stretch)
CHUNK = 256

_LOOPS: dict = {}

# the BLAS libraries and the seed threads are kept across calls: scanning the loaded
# libraries (threadpoolctl) and starting a pool cost 0.4-0.7 ms and 0.5 ms a call, which a
# 250-step run of 8 seeds on 8 of 8x8 (about 15 ms) would pay every time


@functools.cache
def _blas_libraries() -> ThreadpoolController:
    """The loaded BLAS libraries, scanned once per process. The engine calls only numpy's
    BLAS and the one numba binds (scipy's ``cython_blas``, imported with this module), so both
    are loaded before the scan; a BLAS loaded later is not one the engine calls."""
    return ThreadpoolController().select(user_api="blas")


@functools.cache
def _seed_pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` seed threads, kept for the next call (its threads start on first
    use). A forked child has none of its parent's threads, and its copy of a pool would wait
    on them forever: it forgets them (``os.register_at_fork`` below)."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nalr-seed")


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_seed_pool.cache_clear)


def _seeds_in_threads(pool, threads, R, chunks, advance, report):
    """The seeds ``0..R-1`` on ``threads`` tasks of ``pool``: each task takes the next seed
    not yet taken and runs its chunks ``advance(index, t_first, t_last)`` one after the other;
    ``report(steps)`` (or ``None``) is called in the calling thread after each seed's chunk.

    No thread waits for the others between chunks: with every seed's chunk in one
    ``pool.map`` per chunk, the threads met at each chunk's end, where one waited for the
    other's last seed (measured, 8 of 8x8 with Scion, R = 32, T = 2000: 2 threads 1.77-1.79x
    one thread that way, 1.89x this way, as with a single chunk). One task per thread rather
    than per seed, and no message per chunk without ``report``, keep the hand-overs between
    threads to a few per call. If the caller is interrupted or a seed raises, the threads
    stop at the end of their chunk and no further seed starts."""
    # one iterator shared by the tasks: each next() is one call into C under the GIL, so
    # each seed goes to exactly one task
    seeds = iter(range(R))
    stop = threading.Event()
    messages = queue.SimpleQueue()

    def run_seeds():
        try:
            for index in seeds:
                for t_first, t_last in chunks:
                    if stop.is_set():
                        return
                    advance(index, t_first, t_last)
                    if report is not None:
                        messages.put(("steps", t_last - t_first + 1))
        except BaseException as error:  # raised in the calling thread
            messages.put(("error", error))
        finally:
            messages.put(("done", None))

    tasks = [pool.submit(run_seeds) for _ in range(threads)]
    try:
        running = threads
        while running:
            kind, value = messages.get()
            if kind == "error":
                raise value
            if kind == "steps":
                report(value)
            else:
                running -= 1
    finally:
        stop.set()
        futures.wait(tasks)


def loop_for(kernels):
    """``run_chunk`` compiled with a problem family's kernels bound (one cache entry each)."""
    family = kernels.oracle.py_func.__module__
    if family not in _LOOPS:
        bindings = {"problem_value_and_grad": kernels.value_and_grad, "problem_oracle_at": kernels.oracle_at}
        variant = "__" + family.rsplit(".", 1)[-1]
        _LOOPS[family] = optimizer_kernels.compile_module(_loop, _loop.FUNCTIONS, bindings,
                                                          f"nalr_theory.engine._loop{variant}", variant,
                                                          nogil=True).run_chunk
    return _LOOPS[family]


def simulate(problem, optimizer, T, seeds, *, start=None, record_every=1,
             measures=("plain", "weighted", "noise_normalised"), progress=None):
    """Run ``optimizer`` on ``problem`` for ``T`` steps from each seed.

    ``seeds``: a count ``R`` (seeds ``0..R-1``) or a sequence of distinct non-negative
    integers; seed ``s`` draws every sample from ``numpy.random.default_rng(s)`` in the
    reference oracle's order. ``start``: ``None`` (``problem.init(0)`` for every seed),
    ``"per_seed"`` (``problem.init(s)``) or a params dict. ``record_every``: record the
    per-step measures every that many steps (and at ``T``); the averages use every step.
    ``measures``: which averages to return (``"plain"``, ``"weighted"``,
    ``"noise_normalised"``). ``progress``: ``None`` or ``progress(done, total)``, called in
    the calling thread after each seed's chunk of ``CHUNK`` steps (or fewer, at the end) with
    the trajectory-steps done so far. Returns a
    :class:`~nalr_theory.engine.SimulationResult`.
    """
    if not getattr(optimizer, "compiled_engine", True):  # Sophia, Schatten: see the module docstring
        return reference_simulate(problem, optimizer.with_backend("numba"), T, seeds, start=start,
                                  record_every=record_every, measures=measures, progress=progress)
    run = check_run(problem, optimizer, T, seeds, start, record_every, measures)
    progress = check_progress(progress)
    kernels = problem.kernels
    run_chunk = loop_for(kernels)
    layout = problem.layout
    norms = (layout.offsets, layout.rows, layout.cols, layout.codes, layout.radii)
    layers, options = optimizer.kernel_config()
    R, records, p = len(run.seeds), run.steps.shape[0], len(layout)

    # each distinct start checked and flattened once (a shared start is one dict), before any
    # step: checking and flattening it took about 0.35 ms a seed, a fifth of a 250-step run
    # on 8 of 8x8
    flat_starts = {}
    for start in run.starts:
        if id(start) not in flat_starts:
            flat_starts[id(start)] = (layout.flatten(start, "start"), optimizer.to_flat(optimizer.init(start)))

    def one_seed(index):
        x, state = flat_starts[id(run.starts[index])]
        return [x.copy(), np.random.default_rng(run.seeds[index]), type(state)(*(a.copy() for a in state)),
                empty_records(records, p), np.zeros(3 + p), np.zeros(1, dtype=np.int64), 0]

    # each seed is set up at its first chunk and its result taken after its last, by the
    # thread that runs it, so that with more than one thread this Python work (about 0.1 ms
    # a seed) can overlap the other seeds' steps (measured within the noise: the GIL it
    # takes is also what the other thread needs between its calls)
    seeds_state, results = [None] * R, [None] * R

    def advance(index, t_first, t_last):
        if seeds_state[index] is None:
            seeds_state[index] = one_seed(index)
        x, rng, state, out, totals, slot, diverged_at = seeds_state[index]
        if not diverged_at:
            status = run_chunk(t_first, t_last, x, rng, kernels.data, run.schedule, run.needs_second, norms,
                               run.inverse_sigma, run.steps, slot, totals, out, state, layers, options)
            seeds_state[index][6] = diverged_at = int(status)
        if t_last == run.T:
            results[index] = seed_result(run, out, totals, diverged_at, layout.unflatten(x))

    threads = max(1, min(numba.get_num_threads(), R))
    chunks = [(t_first, min(run.T, t_first + CHUNK - 1)) for t_first in range(1, run.T + 1, CHUNK)]
    done = 0

    def report(steps):
        nonlocal done
        done += steps
        if progress is not None:
            progress(done, run.T * R)

    # one seed per thread, each with a single-threaded BLAS, whatever the number of threads:
    # BLAS threads inside seed threads oversubscribe the cores (measured: 2 threads at half
    # the speed of 1 on 8 layers of 64x64), and a threaded BLAS splits long dot products
    # into partial sums whose rounding depends on its thread count
    with _blas_libraries().limit(limits=1):
        if threads == 1:  # the seeds in this thread, chunk by chunk
            for t_first, t_last in chunks:
                for index in range(R):
                    advance(index, t_first, t_last)
                    report(t_last - t_first + 1)
        else:
            _seeds_in_threads(_seed_pool(threads), threads, R, chunks, advance,
                              None if progress is None else report)
    return assemble(run, results)
