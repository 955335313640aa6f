"""numba twin of ``deep_linear.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, A, Y, S, C)``
(``S = A A^T / N``, ``C = Y A^T / N``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import additive_oracle, block


@njit(cache=True)
def f(x, data):
    offsets, rows, cols, A, Y, S, C = data[0]
    product = A.copy()
    for layer in range(rows.shape[0]):
        product = block(x, offsets, rows, cols, layer) @ product
    residual = product - Y
    return 0.5 * np.sum(residual * residual) / A.shape[1]


@njit(cache=True)
def grad(x, data):
    offsets, rows, cols, A, Y, S, C = data[0]
    p = rows.shape[0]
    prefixes = [np.eye(A.shape[0])]
    for layer in range(p):
        prefixes.append(block(x, offsets, rows, cols, layer) @ prefixes[layer])
    error = prefixes[p] @ S - C
    g = np.empty(x.shape[0])
    suffix = np.eye(rows[p - 1])  # Q_i, walked from i = p down to 1
    for layer in range(p - 1, -1, -1):
        G = np.ascontiguousarray(suffix.T) @ error @ np.ascontiguousarray(prefixes[layer].T)
        g[offsets[layer]:offsets[layer + 1]] = G.ravel()
        suffix = suffix @ block(x, offsets, rows, cols, layer)
    return g


@njit(cache=True)
def value_and_grad(x, data):
    """``(f(x), grad(x))``: nothing to share (``f`` multiplies the data ``A``, ``grad`` its moments)."""
    return f(x, data), grad(x, data)


@njit(cache=True)
def oracle_at(x, g, data, t, rng):
    """The oracle at ``x`` given the exact gradient ``g`` there: ``(g + xi, xi, ||xi^l||_*)``
    (the norms where the draw knows them, else ``nan``: ``_kernels.additive_oracle``)."""
    return additive_oracle(g, t, rng, data[1])


@njit(cache=True)
def oracle(x, data, t, rng):
    grads, xi, _ = oracle_at(x, grad(x, data), data, t, rng)
    return grads, xi
