"""numba twin of ``low_rank.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, M_flat, M_offsets)``;
layers alternate ``U_k`` (``rows[2k] x rank``) and ``V_k`` (``rows[2k+1] x rank``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import additive_oracle, block


@njit(cache=True)
def _pair(x, objective, k):
    offsets, rows, cols, M_flat, M_offsets = objective
    U = block(x, offsets, rows, cols, 2 * k)
    V = block(x, offsets, rows, cols, 2 * k + 1)
    M = M_flat[M_offsets[k]:M_offsets[k + 1]].reshape(rows[2 * k], rows[2 * k + 1])
    return U, V, U @ np.ascontiguousarray(V.T) - M


@njit(cache=True)
def value_and_grad(x, data):
    """``(f(x), grad(x))`` from one residual per factor pair."""
    objective = data[0]
    offsets = objective[0]
    value = 0.0
    g = np.empty(x.shape[0])
    for k in range(objective[1].shape[0] // 2):
        U, V, R = _pair(x, objective, k)
        value += 0.25 * np.sum(R * R)
        g[offsets[2 * k]:offsets[2 * k + 1]] = (0.5 * (R @ V)).ravel()
        g[offsets[2 * k + 1]:offsets[2 * k + 2]] = (0.5 * (np.ascontiguousarray(R.T) @ U)).ravel()
    return value, g


@njit(cache=True)
def f(x, data):
    return value_and_grad(x, data)[0]


@njit(cache=True)
def grad(x, data):
    return value_and_grad(x, data)[1]


@njit(cache=True)
def oracle_at(x, g, data, t, rng):
    """The oracle at ``x`` given the exact gradient ``g`` there: ``(g + xi, xi, ||xi^l||_*)``
    (the norms where the draw knows them, else ``nan``: ``_kernels.additive_oracle``)."""
    return additive_oracle(g, t, rng, data[1])


@njit(cache=True)
def oracle(x, data, t, rng):
    grads, xi, _ = oracle_at(x, grad(x, data), data, t, rng)
    return grads, xi
