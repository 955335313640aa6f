"""numba twin of ``random_features.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, A, Y, batch_size)``
(``DataProblem._kernels``; ``batch_size = 0`` when the noise is additive, not minibatch).
The loss and gradient are ``random_features.squared_loss_grad`` compiled as is (one source
for both sides); the minibatch draw is ``rng.integers(0, N, batch_size)``, as in the reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import additive_oracle, block
from .random_features import squared_loss_grad

# the reference function compiled as is: the formula lives once
loss_grad = njit(cache=True)(squared_loss_grad)


@njit(cache=True)
def value_and_grad(x, data):
    """``(f(x), grad(x))`` from one residual."""
    offsets, rows, cols, A, Y, batch_size = data[0]
    value, G = loss_grad(block(x, offsets, rows, cols, 0), A, Y)
    return value, G.ravel()


@njit(cache=True)
def f(x, data):
    return value_and_grad(x, data)[0]


@njit(cache=True)
def grad(x, data):
    return value_and_grad(x, data)[1]


@njit(cache=True)
def oracle_at(x, g, data, t, rng):
    """The oracle at ``x`` given the exact gradient ``g`` there (minibatch or additive):
    ``(g + xi, xi, ||xi^l||_*)``, the norms where the draw knows them, else ``nan``
    (``_kernels.additive_oracle``)."""
    offsets, rows, cols, A, Y, batch_size = data[0]
    if batch_size > 0:
        index = rng.integers(0, A.shape[1], batch_size)
        noisy = loss_grad(block(x, offsets, rows, cols, 0), np.ascontiguousarray(A[:, index]),
                          np.ascontiguousarray(Y[:, index]))[1].ravel()
        return noisy, noisy - g, np.full(rows.shape[0], np.nan)
    return additive_oracle(g, t, rng, data[1])


@njit(cache=True)
def oracle(x, data, t, rng):
    grads, xi, _ = oracle_at(x, grad(x, data), data, t, rng)
    return grads, xi
