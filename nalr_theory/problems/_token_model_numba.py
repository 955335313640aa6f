"""numba twin of ``token_model.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, inputs, targets,
batch_size)``; layer 0 is the embedding, the last the head, hidden layers in between.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import additive_oracle, block


@njit(cache=True)
def loss_grad(x, offsets, rows, cols, inputs, targets):
    """Twin of ``token_model.token_loss_grad`` returning ``(loss, flat gradient)``."""
    p = rows.shape[0]
    count = inputs.shape[0]
    E = block(x, offsets, rows, cols, 0)
    H = block(x, offsets, rows, cols, p - 1)
    width = rows[0]
    states = [np.empty((width, count))]
    for b in range(count):
        states[0][:, b] = E[:, inputs[b]]
    for k in range(1, p - 1):
        states.append(np.tanh(block(x, offsets, rows, cols, k) @ states[k - 1]))
    last = states[p - 2]
    logits = H @ last
    loss = 0.0
    dlogits = np.empty_like(logits)
    for b in range(count):
        top = np.max(logits[:, b])
        shifted = logits[:, b] - top
        log_normaliser = np.log(np.sum(np.exp(shifted)))
        loss += log_normaliser - shifted[targets[b]]
        dlogits[:, b] = np.exp(shifted - log_normaliser)
        dlogits[targets[b], b] -= 1.0
    dlogits /= count
    g = np.empty(x.shape[0])
    g[offsets[p - 1]:offsets[p]] = (dlogits @ np.ascontiguousarray(last.T)).ravel()
    upstream = np.ascontiguousarray(H.T) @ dlogits
    for k in range(p - 2, 0, -1):
        dz = upstream * (1 - states[k] ** 2)
        g[offsets[k]:offsets[k + 1]] = (dz @ np.ascontiguousarray(states[k - 1].T)).ravel()
        upstream = np.ascontiguousarray(block(x, offsets, rows, cols, k).T) @ dz
    grad_E = np.zeros((width, cols[0]))
    for b in range(count):
        grad_E[:, inputs[b]] += upstream[:, b]
    g[offsets[0]:offsets[1]] = grad_E.ravel()
    return loss / count, g


@njit(cache=True)
def f(x, data):
    offsets, rows, cols, inputs, targets, batch_size = data[0]
    return loss_grad(x, offsets, rows, cols, inputs, targets)[0]


@njit(cache=True)
def grad(x, data):
    offsets, rows, cols, inputs, targets, batch_size = data[0]
    return loss_grad(x, offsets, rows, cols, inputs, targets)[1]


@njit(cache=True)
def value_and_grad(x, data):
    offsets, rows, cols, inputs, targets, batch_size = data[0]
    return loss_grad(x, offsets, rows, cols, inputs, targets)


@njit(cache=True)
def oracle_at(x, g, data, t, rng):
    """The oracle at ``x`` given the exact gradient ``g`` there (minibatch or additive):
    ``(g + xi, xi, ||xi^l||_*)``, the norms where the draw knows them, else ``nan``
    (``_kernels.additive_oracle``)."""
    offsets, rows, cols, inputs, targets, batch_size = data[0]
    if batch_size > 0:
        index = rng.integers(0, inputs.shape[0], batch_size)
        noisy = loss_grad(x, offsets, rows, cols, inputs[index], targets[index])[1]
        return noisy, noisy - g, np.full(rows.shape[0], np.nan)
    return additive_oracle(g, t, rng, data[1])


@njit(cache=True)
def oracle(x, data, t, rng):
    grads, xi, _ = oracle_at(x, grad(x, data), data, t, rng)
    return grads, xi
