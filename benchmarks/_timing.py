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
