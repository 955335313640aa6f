"""Geometry benchmark: ratios in one run (GEOMETRY issue).

1. numba twin over NumPy reference, per LMO, at sizes 16..1024 (speed-up > 1: numba faster);
2. ``ns5`` over ``svd`` for the spectral LMO (speed-up of Newton-Schulz over the exact LMO);
3. achieved GFLOP/s of ``ns5`` over the machine's measured float64 GEMM GFLOP/s (numpy
   matmul of the same size), sizes 128..2048; target >= 0.60 at 1024 and above.

Flop count of ns5 on ``m x n`` (``m <= n`` after transposing): per step ``X X^T`` (2 m^2 n),
``A A`` (2 m^3), ``(bA + cA^2) X`` (2 m^2 n): ``5 (4 m^2 n + 2 m^3)``; elementwise work is
not counted. Run: ``python benchmarks/bench_geometry.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import best_time, gemm_gflops, table  # noqa: E402

from nalr_theory.geometry import _kernels as kernels  # noqa: E402
from nalr_theory.geometry import get_norm  # noqa: E402

LMOS = [
    ("spectral (svd)", "spectral", "svd"),
    ("spectral (ns5)", "spectral", "ns5"),
    ("frobenius", "frobenius", "svd"),
    ("max_abs", "max_abs", "svd"),
    ("col_norm", "col_norm", "svd"),
    ("row_norm", "row_norm", "svd"),
]


def ns5_flops(m: int, n: int, steps: int = 5) -> float:
    m, n = min(m, n), max(m, n)
    return steps * (4.0 * m * m * n + 2.0 * m**3)


def numba_vs_reference(sizes) -> str:
    rng = np.random.default_rng(0)
    rows = []
    for label, name, method in LMOS:
        row = [label]
        for size in sizes:
            G = rng.standard_normal((size, size))
            norm = get_norm(name, (size, size), lmo_method=method)
            reference = best_time(norm.lmo, G, repeats=3)
            twin = best_time(kernels.lmo, norm.code, norm.radius, G, norm.ns_coefficients, 1e-7, repeats=3)
            row.append(reference / twin)
        rows.append(row)
    return table(["LMO"] + [f"{s}x{s}" for s in sizes], rows,
                 "numba twin speed-up over the NumPy reference (t_reference / t_numba)")


def ns5_vs_svd(sizes) -> str:
    rng = np.random.default_rng(1)
    rows = []
    for size in sizes:
        G = rng.standard_normal((size, size))
        svd = get_norm("spectral", lmo_method="svd")
        ns5 = get_norm("spectral", lmo_method="ns5")
        rows.append([f"{size}x{size}", best_time(svd.lmo, G, repeats=3) / best_time(ns5.lmo, G, repeats=3)])
    return table(["size", "t_svd / t_ns5"], rows, "ns5 speed-up over the exact (SVD) spectral LMO, NumPy")


def ns5_throughput(sizes) -> str:
    rng = np.random.default_rng(2)
    coefficients = get_norm("spectral", lmo_method="ns5").ns_coefficients
    rows = []
    for size in sizes:
        G = rng.standard_normal((size, size))
        gemm = gemm_gflops(size, repeats=3)
        ns5 = get_norm("spectral", lmo_method="ns5")
        reference = ns5_flops(size, size) / best_time(ns5.lmo, G, repeats=3) / 1e9
        twin = ns5_flops(size, size) / best_time(kernels.newton_schulz, G, coefficients, 1e-7, repeats=3) / 1e9
        rows.append([f"{size}x{size}", gemm, reference, reference / gemm, twin, twin / gemm])
    return table(
        ["size", "GEMM GFLOP/s", "ns5 NumPy GFLOP/s", "NumPy / GEMM", "ns5 numba GFLOP/s", "numba / GEMM"],
        rows, "ns5 achieved throughput against the machine's float64 GEMM (target >= 0.60 at >= 1024)",
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    args = parser.parse_args(argv)
    lmo_sizes = [16, 64] if args.quick else [16, 64, 256, 1024]
    ns_sizes = [128, 256] if args.quick else [128, 256, 512, 1024, 2048]
    print(f"numpy {np.__version__}; threads: {os.cpu_count()} cores\n")
    print(numba_vs_reference(lmo_sizes))
    print(ns5_vs_svd(lmo_sizes))
    print(ns5_throughput(ns_sizes))


if __name__ == "__main__":
    main()
