"""numba twin of ``sigmoidal.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, U_flat, U_offsets,
V_flat, V_offsets, M_flat, curvature)`` (``RotatedSigmoidal.kernels.data``) and ``noise``
the arguments of ``_kernels.draw_noise`` after ``(t, rng)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import draw_noise


@njit(cache=True)
def _residual(x, objective, layer):
    offsets, rows, cols, U_flat, U_offsets, V_flat, V_offsets, M_flat, curvature = objective
    m = rows[layer]
    n = cols[layer]
    X = x[offsets[layer]:offsets[layer + 1]].copy().reshape(m, n)
    U = U_flat[U_offsets[layer]:U_offsets[layer + 1]].copy().reshape(m, m)
    V = V_flat[V_offsets[layer]:V_offsets[layer + 1]].copy().reshape(n, n)
    M = M_flat[offsets[layer]:offsets[layer + 1]].reshape(m, n)
    return U, V, U @ X @ V - M


@njit(cache=True)
def f(x, data):
    objective = data[0]
    curvature = objective[8]
    value = 0.0
    for layer in range(objective[1].shape[0]):
        _, _, R = _residual(x, objective, layer)
        value += curvature[layer] * np.sum(R * R / (1.0 + R * R))
    return value


@njit(cache=True)
def grad(x, data):
    objective = data[0]
    offsets = objective[0]
    curvature = objective[8]
    g = np.empty(x.shape[0])
    for layer in range(objective[1].shape[0]):
        U, V, R = _residual(x, objective, layer)
        slope = 2.0 * R / (1.0 + R * R) ** 2
        G = curvature[layer] * (np.ascontiguousarray(U.T) @ slope @ np.ascontiguousarray(V.T))
        g[offsets[layer]:offsets[layer + 1]] = G.ravel()
    return g


@njit(cache=True)
def oracle(x, data, t, rng):
    g = grad(x, data)
    n = data[1]
    xi = draw_noise(t, rng, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8])
    return g + xi, xi
