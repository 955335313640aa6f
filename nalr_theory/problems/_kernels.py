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

from ..geometry._kernels import dual_norm, vector_view
from .noise import BOUNDED, GAUSSIAN, STUDENT_T
from .noise import profile_factor as _profile_factor_py


# scalar code: the reference function compiled as is (one source for both sides)
profile_factor = njit(cache=True)(_profile_factor_py)


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
        noise[offsets[layer]:offsets[layer + 1]] = vector_view(block)
    return noise


@njit(cache=True)
def block(x, offsets, rows, cols, layer):
    """Layer ``layer`` of the flat vector ``x`` as a C-contiguous ``(m, n)`` array (a copy)."""
    return x[offsets[layer]:offsets[layer + 1]].copy().reshape(rows[layer], cols[layer])
