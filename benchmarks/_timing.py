"""Timing helpers for the benchmarks: best-of-repeats wall time and the machine's GEMM rate.

Benchmarks report ratios measured in one run, never absolute times in tests.
"""

from __future__ import annotations

import time

import numpy as np


def best_time(function, *args, repeats: int = 5, min_seconds: float = 0.05) -> float:
    """Best per-call wall time over ``repeats`` batches, each at least ``min_seconds`` long."""
    function(*args)  # warm-up: compilation, caches, thread pools
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function(*args)
        if time.perf_counter() - start >= min_seconds or calls >= 1 << 20:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def single_call(function) -> float:
    """Wall time of one call of ``function()``."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_best(functions: list, rounds: int, measure=single_call) -> list[float]:
    """Best of ``measure(f)`` for each of ``functions`` over ``rounds`` rounds, each round
    measuring every function once: a transient slowdown of the shared machine then hits one
    round of each function, not every round of one (measured: the engine's R = 4 run, 30 ms,
    took 36 ms in all three back-to-back rounds against 28 ms on reruns)."""
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for index, function in enumerate(functions):
            best[index] = min(best[index], measure(function))
    return best


def per_call(function, min_seconds: float) -> float:
    """Mean wall time of ``function()`` over enough calls to last ``min_seconds``, after one
    untimed call.

    The untimed call absorbs the switch between BLAS libraries: NumPy and numba (through
    SciPy) link two OpenBLAS copies, and the threads of the one used last keep spinning for
    a while after its work, taking a core from the other: the first call after a switch ran
    up to 25% slower on 2 cores (two identical D-Muon cases: 223 and 166 ms a step).
    """
    function()
    calls, start = 0, time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def gemm_gflops(n: int, repeats: int = 5) -> float:
    """Measured float64 GEMM throughput of ``numpy.matmul`` on ``n x n`` matrices."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    return 2.0 * n**3 / best_time(np.matmul, A, B, repeats=repeats) / 1e9


def table(header: list[str], rows: list[list], title: str) -> str:
    """A Markdown table (so it pastes into a closing note or the docs as is)."""
    def cell(value):
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
