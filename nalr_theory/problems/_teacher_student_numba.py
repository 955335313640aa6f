"""numba twin of ``teacher_student.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, X, Y, batch_size)``
(``batch_size = 0`` when the noise is additive, not minibatch).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import additive_oracle, block


@njit(cache=True)
def loss_grad(x, offsets, rows, cols, X, Y):
    """Twin of ``teacher_student.mlp_loss_grad`` returning ``(loss, flat gradient)``."""
    W1 = block(x, offsets, rows, cols, 0)
    W2 = block(x, offsets, rows, cols, 1)
    W3 = block(x, offsets, rows, cols, 2)
    a1 = np.tanh(W1 @ X)
    a2 = np.tanh(W2 @ a1)
    residual = W3 @ a2 - Y
    E = residual / X.shape[1]
    d2 = (np.ascontiguousarray(W3.T) @ E) * (1 - a2**2)
    d1 = (np.ascontiguousarray(W2.T) @ d2) * (1 - a1**2)
    g = np.empty(x.shape[0])
    g[offsets[0]:offsets[1]] = (d1 @ np.ascontiguousarray(X.T)).ravel()
    g[offsets[1]:offsets[2]] = (d2 @ np.ascontiguousarray(a1.T)).ravel()
    g[offsets[2]:offsets[3]] = (E @ np.ascontiguousarray(a2.T)).ravel()
    return 0.5 * np.sum(residual * E), g


@njit(cache=True)
def f(x, data):
    offsets, rows, cols, X, Y, batch_size = data[0]
    return loss_grad(x, offsets, rows, cols, X, Y)[0]


@njit(cache=True)
def grad(x, data):
    offsets, rows, cols, X, Y, batch_size = data[0]
    return loss_grad(x, offsets, rows, cols, X, Y)[1]


@njit(cache=True)
def value_and_grad(x, data):
    offsets, rows, cols, X, Y, batch_size = data[0]
    return loss_grad(x, offsets, rows, cols, X, Y)


@njit(cache=True)
def oracle_at(x, g, data, t, rng):
    """The oracle at ``x`` given the exact gradient ``g`` there (minibatch or additive):
    ``(g + xi, xi, ||xi^l||_*)``, the norms where the draw knows them, else ``nan``
    (``_kernels.additive_oracle``)."""
    offsets, rows, cols, X, Y, batch_size = data[0]
    if batch_size > 0:
        index = rng.integers(0, X.shape[1], batch_size)
        noisy = loss_grad(x, offsets, rows, cols, np.ascontiguousarray(X[:, index]),
                          np.ascontiguousarray(Y[:, index]))[1]
        return noisy, noisy - g, np.full(rows.shape[0], np.nan)
    return additive_oracle(g, t, rng, data[1])


@njit(cache=True)
def oracle(x, data, t, rng):
    grads, xi, _ = oracle_at(x, grad(x, data), data, t, rng)
    return grads, xi
