"""numba twins shared by every problem: noise draws (``noise.py``) and small helpers.

``draw_noise(t, rng, offsets, rows, cols, codes, radii, kind, table, profile_code,
profile_table)`` returns the flat noise vector; its arguments after ``(t, rng)`` are
``BoundNoise.kernel_data()``. It consumes the generator exactly as ``BoundNoise.draw`` does
(numba's ``Generator`` shares the bit generator and NumPy's algorithms), so the same seed
gives the same draws on both sides.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry._kernels import dual_norm
from .noise import BOUNDED, DECAY, GAUSSIAN, SPIKE, STUDENT_T, SWAP


@njit(cache=True)
def profile_factor(code, options, t):
    """Twin of ``noise.profile_factor``."""
    if code == DECAY:
        return (1.0 + t / options[0]) ** (-options[1])
    if code == SPIKE:
        if options[0] <= t < options[0] + options[1]:
            return options[2]
        return 1.0
    if code == SWAP:
        if t < options[0]:
            return 1.0
        if options[1] > 0 and int((t - options[0]) // options[1]) % 2 == 1:
            return 1.0
        return options[2]
    return 1.0


@njit(cache=True)
def draw_noise(t, rng, offsets, rows, cols, codes, radii, kind, table, profile_code, profile_table):
    """Twin of ``BoundNoise.draw`` on the flat layout (zeros for ``exact``/``minibatch``)."""
    noise = np.zeros(offsets[-1])
    for layer in range(rows.shape[0]):
        m = rows[layer]
        n = cols[layer]
        factor = profile_factor(profile_code, profile_table[layer], t)
        if kind == BOUNDED:
            direction = rng.standard_normal((m, n))
            size = rng.uniform(table[layer, 0], table[layer, 1])
            length = dual_norm(codes[layer], radii[layer], direction)
            while length == 0.0:
                direction = rng.standard_normal((m, n))
                length = dual_norm(codes[layer], radii[layer], direction)
            block = (factor * size / length) * direction
        elif kind == GAUSSIAN:
            block = (factor * table[layer, 2]) * rng.standard_normal((m, n))
        elif kind == STUDENT_T:
            gaussian_part = rng.standard_normal((m, n))
            mixing = np.sqrt(table[layer, 4] / rng.chisquare(table[layer, 3]))
            block = (factor * table[layer, 2] * mixing) * gaussian_part
        else:
            continue
        noise[offsets[layer]:offsets[layer + 1]] = block.ravel()
    return noise


@njit(cache=True)
def block(x, offsets, rows, cols, layer):
    """Layer ``layer`` of the flat vector ``x`` as a C-contiguous ``(m, n)`` array (a copy)."""
    return x[offsets[layer]:offsets[layer + 1]].copy().reshape(rows[layer], cols[layer])
