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
def _layer_value(curvature, R):
    return curvature * np.sum(R * R / (1.0 + R * R))


@njit(cache=True)
def _layer_grad(curvature, U, V, R):
    slope = 2.0 * R / (1.0 + R * R) ** 2
    return curvature * (np.ascontiguousarray(U.T) @ slope @ np.ascontiguousarray(V.T))


@njit(cache=True)
def f(x, data):
    objective = data[0]
    value = 0.0
    for layer in range(objective[1].shape[0]):
        value += _layer_value(objective[8][layer], _residual(x, objective, layer)[2])
    return value


@njit(cache=True)
def value_and_grad(x, data):
    """``(f(x), grad(x))`` from one residual per layer."""
    objective = data[0]
    offsets = objective[0]
    value = 0.0
    g = np.empty(x.shape[0])
    for layer in range(objective[1].shape[0]):
        U, V, R = _residual(x, objective, layer)
        value += _layer_value(objective[8][layer], R)
        g[offsets[layer]:offsets[layer + 1]] = _layer_grad(objective[8][layer], U, V, R).ravel()
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
