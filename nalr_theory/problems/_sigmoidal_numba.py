"""numba twin of ``sigmoidal.py`` on the flat layout.

``data = (objective, noise)`` with ``objective = (offsets, rows, cols, U_flat, U_offsets,
V_flat, V_offsets, M_flat, curvature, Ut_flat, Vt_flat)`` (``RotatedSigmoidal.kernels.data``;
``Ut_flat``, ``Vt_flat`` the transposed rotations) and ``noise``
the arguments of ``_kernels.draw_noise`` after ``(t, rng)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry._kernels import borrowed, matrix_view, pairwise_sum, product_into
from ._kernels import additive_oracle


@njit(cache=True, inline="always")
def _block(flat, start, stop, m, n):
    # a C-contiguous view of the flat data: no copy
    return matrix_view(flat[start:stop], m, n)


@njit(cache=True, inline="always")
def _largest_layer(offsets):
    largest = 0
    for layer in range(offsets.shape[0] - 1):
        largest = max(largest, offsets[layer + 1] - offsets[layer])
    return largest


@njit(cache=True)
def _work_arrays(objective):
    """Two flat work arrays for the largest layer, reused by every layer of one call (at
    16x16 a new array per product costs about 50 ns, see ``product_into``)."""
    largest = _largest_layer(objective[0])
    return np.empty(largest), np.empty(largest)


@njit(cache=True, inline="always")
def phi_and_slope(r):
    """``(phi(r), phi'(r))`` with one division, ``i = 1 / (1 + r^2)``, ``phi = r^2 i``,
    ``phi' = 2 r i i``: within 1 and 3 units in the last place of ``sigmoidal.phi`` and
    ``phi_prime`` (the most measured over 3 million ``r``, ``|r|`` from ``1e-30`` to ``1e30``;
    a first-order count of the roundings bounds them by 9 and 14, which is tested), at half
    the time of their two divisions (one thread, the loop of :func:`_residual_terms` alone
    while it ran scalar: 67 against 127 ns on 8x8, 268 against 506 ns on 16x16).
    Where ``(1 + r^2)^2`` overflows (``|r| > 1e77``), ``phi'`` keeps the tiny value that the
    quotient rounds to 0."""
    inverse = 1.0 / (1.0 + r * r)
    return r * r * inverse, 2.0 * r * inverse * inverse


@njit(cache=True, inline="always")
def _residual_terms(x, objective, layer, work, slope):
    """``(sum phi(R), phi'(R))`` of one layer, ``R = U X V - M``: one pass over ``R``
    (``phi(r) = r^2 / (1 + r^2)``, ``phi'(r) = 2 r / (1 + r^2)^2``; ``phi'(R)`` overwrites
    ``R``, which ``product_into`` wrote into ``slope``, and ``phi(R)`` goes to ``work``,
    free once ``R`` is; ``work`` and ``slope`` flat arrays of at least the layer's size;
    :func:`phi_and_slope` per entry), then the sum of ``phi(R)`` in NumPy's pairwise order,
    the reference's ``np.sum``. Summed in the pass, one entry at a time, a chain of
    dependent additions set its pace and kept it scalar; apart, and with NumPy's error model
    (below), the pass is vectorised: 37 against 78 ns for its 64 entries at 8x8. One thread,
    ``value_and_grad`` as the engine calls it: 2.70-2.76 against 2.82-2.88 us on 8 of 8x8,
    9.7-9.9 against 10.2-10.3 us on 8 of 16x16 (whose products take most of it)."""
    offsets, rows, cols, U_flat, U_offsets, V_flat, V_offsets, M_flat, curvature, Ut_flat, Vt_flat = objective
    m, n = rows[layer], cols[layer]
    size = m * n
    X = _block(x, offsets[layer], offsets[layer + 1], m, n)
    U = _block(U_flat, U_offsets[layer], U_offsets[layer + 1], m, m)
    V = _block(V_flat, V_offsets[layer], V_offsets[layer + 1], n, n)
    # into the work arrays (``product_into``)
    R = product_into(product_into(U, X, work), V, slope)
    # flat slices indexed from 0: the pass over them is vectorised (see ``_block_sum``)
    residual, values, target = slope[:size], work[:size], M_flat[offsets[layer]:offsets[layer + 1]]
    for k in range(size):
        values[k], residual[k] = phi_and_slope(residual[k] - target[k])
    return pairwise_sum(values), R


# numba's default error model checks every float division for a zero divisor and would
# raise, which keeps :func:`_residual_terms`'s pass scalar; NumPy's model (``inf``/``nan``,
# no check) changes no value here, since ``phi_and_slope`` divides by ``1 + r^2 >= 1``
@njit(cache=True, error_model="numpy")
def f(x, data):
    objective = data[0]
    work, slope = _work_arrays(objective)
    value = 0.0
    for layer in range(objective[1].shape[0]):
        value += objective[8][layer] * _residual_terms(x, objective, layer, work, slope)[0]
    return value


@njit(cache=True, error_model="numpy")
def value_and_grad(x, data):
    """``(f(x), grad(x))`` from one residual per layer: ``grad_l = c_l U_l^T phi'(R_l) V_l^T``
    (the transposes stored once, ``RotatedSigmoidal._kernels``), the products written into
    two work arrays and the gradient, three parts of one buffer."""
    objective = data[0]
    offsets, rows, cols, U_offsets, V_offsets, curvature = (objective[0], objective[1], objective[2], objective[4],
                                                           objective[6], objective[8])
    size = x.shape[0]
    largest = _largest_layer(offsets)
    buffer = np.empty(size + 2 * largest)
    # the work arrays and the gradient as views of the buffer without its owner, which their
    # slices and views then leave uncounted (one thread, 8 of 8x8: 1.61-1.67 against 2.12 us
    # a call, see ``geometry._kernels.borrowed``); the buffer itself lives to the end, where
    # the returned gradient is cut from it
    owner_less = borrowed(buffer)
    g, work, slope_flat = owner_less[:size], owner_less[size:size + largest], owner_less[size + largest:]
    value = 0.0
    for layer in range(rows.shape[0]):
        m, n = rows[layer], cols[layer]
        total, slope = _residual_terms(x, objective, layer, work, slope_flat)
        value += curvature[layer] * total
        Ut = _block(objective[9], U_offsets[layer], U_offsets[layer + 1], m, m)
        Vt = _block(objective[10], V_offsets[layer], V_offsets[layer + 1], n, n)
        start = offsets[layer]
        # the product lands in the gradient's own block, which is then scaled in place
        G = product_into(product_into(Ut, slope, work), Vt, g[start:offsets[layer + 1]])
        c = curvature[layer]
        for i in range(m):
            for j in range(n):
                G[i, j] *= c
    return value, buffer[:size]


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
