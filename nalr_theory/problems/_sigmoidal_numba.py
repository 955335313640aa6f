"""numba twin of ``sigmoidal.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, U_flat, U_offsets,
V_flat, V_offsets, M_flat, curvature, Ut_flat, Vt_flat)`` (``RotatedSigmoidal.kernels.data``;
``Ut_flat``, ``Vt_flat`` the transposed rotations) and ``noise``
the arguments of ``_kernels.draw_noise`` after ``(t, rng)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry._kernels import matmul, matrix_view
from ._kernels import draw_noise


@njit(cache=True)
def _block(flat, start, stop, m, n):
    # a C-contiguous view of the flat data: no copy
    return matrix_view(flat[start:stop], m, n)


@njit(cache=True)
def _residual_terms(x, objective, layer):
    """``(sum phi(R), phi'(R))`` of one layer, ``R = U X V - M``, in one pass over ``R``
    (``phi(r) = r^2 / (1 + r^2)``, ``phi'(r) = 2 r / (1 + r^2)^2``; ``phi'(R)`` overwrites ``R``)."""
    offsets, rows, cols, U_flat, U_offsets, V_flat, V_offsets, M_flat, curvature, Ut_flat, Vt_flat = objective
    m, n = rows[layer], cols[layer]
    X = _block(x, offsets[layer], offsets[layer + 1], m, n)
    U = _block(U_flat, U_offsets[layer], U_offsets[layer + 1], m, m)
    V = _block(V_flat, V_offsets[layer], V_offsets[layer + 1], n, n)
    M = _block(M_flat, offsets[layer], offsets[layer + 1], m, n)
    R = matmul(matmul(U, X), V)  # loops for tiny layers (BLAS's call overhead), else BLAS
    total = 0.0
    for i in range(m):
        for j in range(n):
            r = R[i, j] - M[i, j]
            q = 1.0 + r * r
            total += r * r / q
            R[i, j] = 2.0 * r / (q * q)
    return total, R


@njit(cache=True)
def f(x, data):
    objective = data[0]
    value = 0.0
    for layer in range(objective[1].shape[0]):
        value += objective[8][layer] * _residual_terms(x, objective, layer)[0]
    return value


@njit(cache=True)
def value_and_grad(x, data):
    """``(f(x), grad(x))`` from one residual per layer: ``grad_l = c_l U_l^T phi'(R_l) V_l^T``
    (the transposes stored once, ``RotatedSigmoidal._kernels``)."""
    objective = data[0]
    offsets, rows, cols, U_offsets, V_offsets, curvature = (objective[0], objective[1], objective[2], objective[4],
                                                           objective[6], objective[8])
    value = 0.0
    g = np.empty(x.shape[0])
    for layer in range(rows.shape[0]):
        m, n = rows[layer], cols[layer]
        total, slope = _residual_terms(x, objective, layer)
        value += curvature[layer] * total
        Ut = _block(objective[9], U_offsets[layer], U_offsets[layer + 1], m, m)
        Vt = _block(objective[10], V_offsets[layer], V_offsets[layer + 1], n, n)
        G = matmul(matmul(Ut, slope), Vt)
        start = offsets[layer]
        for i in range(m):
            for j in range(n):
                g[start + i * n + j] = curvature[layer] * G[i, j]
    return value, g


@njit(cache=True)
def grad(x, data):
    return value_and_grad(x, data)[1]


@njit(cache=True)
def oracle_at(x, g, data, t, rng):
    """The oracle at ``x`` given the exact gradient ``g`` there: ``(g + xi, xi)``."""
    n = data[1]
    xi = draw_noise(t, rng, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8])
    return g + xi, xi


@njit(cache=True)
def oracle(x, data, t, rng):
    return oracle_at(x, grad(x, data), data, t, rng)
