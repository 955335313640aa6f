"""numba twins shared by every problem: noise draws (``noise.py``) and small helpers.

``draw_noise(t, rng, offsets, rows, cols, codes, radii, kind, table, profile_code,
profile_table)`` returns the flat noise vector, and ``noise_and_norms`` (same arguments) that
vector with each layer's dual norm where the draw knows it; their arguments after
``(t, rng)`` are ``BoundNoise.kernel_data()``. They consume the generator exactly as
``BoundNoise.draw`` does (numba's ``Generator`` shares the bit generator and NumPy's
algorithms), so the same seed gives the same draws on both sides.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry._kernels import borrowed, dual_norm, matrix_view
from .noise import BOUNDED, GAUSSIAN, STUDENT_T
from .noise import profile_factor as _profile_factor_py


# scalar code: the reference function compiled as is (one source for both sides)
profile_factor = njit(cache=True)(_profile_factor_py)


@njit(cache=True, inline="always")
def _standard_normal_into(rng, out):
    """``out[:] = rng.standard_normal(out.shape[0])``, the same draws in the same order
    (numba's array draw is this loop over its scalar draw), without the new array."""
    for k in range(out.shape[0]):
        out[k] = rng.standard_normal()


@njit(cache=True, inline="always")
def _scale(out, factor):
    for k in range(out.shape[0]):
        out[k] = factor * out[k]


@njit(cache=True)
def noise_and_norms(t, rng, offsets, rows, cols, codes, radii, kind, table, profile_code, profile_table):
    """``(xi, ||xi^l||_{l,*})``: the draw of ``BoundNoise.draw`` on the flat layout (zeros for
    ``exact``/``minibatch``), each layer drawn and scaled in its slice (no array per layer),
    and each layer's dual norm where the draw fixes it: ``|factor| s`` for bounded noise
    (the direction is scaled to that dual norm; its own dual norm was computed to do so),
    0 for zero noise, ``nan`` for Gaussian and Student-t noise (not computed here)."""
    noise = np.empty(offsets[-1])
    norms = np.full(rows.shape[0], np.nan)
    # the layers' blocks cut from the noise without its owner, so that their views touch no
    # reference count (see ``geometry._kernels.borrowed``); ``noise`` lives to the return
    owner_less = borrowed(noise)
    for layer in range(rows.shape[0]):
        m = rows[layer]
        n = cols[layer]
        block = owner_less[offsets[layer]:offsets[layer + 1]]
        factor = profile_factor(profile_code, profile_table[layer], t)
        if kind == BOUNDED:
            _standard_normal_into(rng, block)
            size = rng.uniform(table[layer, 0], table[layer, 1])
            length = dual_norm(codes[layer], radii[layer], matrix_view(block, m, n))
            while length == 0.0:
                _standard_normal_into(rng, block)
                length = dual_norm(codes[layer], radii[layer], matrix_view(block, m, n))
            _scale(block, factor * size / length)
            norms[layer] = abs(factor) * size
        elif kind == GAUSSIAN:
            _standard_normal_into(rng, block)
            _scale(block, factor * table[layer, 2])
        elif kind == STUDENT_T:
            _standard_normal_into(rng, block)
            mixing = np.sqrt(table[layer, 4] / rng.chisquare(table[layer, 3]))
            _scale(block, factor * table[layer, 2] * mixing)
        else:
            block[:] = 0.0
            norms[layer] = 0.0
    return noise, norms


@njit(cache=True)
def draw_noise(t, rng, offsets, rows, cols, codes, radii, kind, table, profile_code, profile_table):
    """Twin of ``BoundNoise.draw`` on the flat layout: the noise of :func:`noise_and_norms`."""
    return noise_and_norms(t, rng, offsets, rows, cols, codes, radii, kind, table, profile_code, profile_table)[0]


@njit(cache=True, inline="always")
def additive_oracle(g, t, rng, noise):
    """``(g + xi, xi, ||xi^l||_*)``: every family's oracle with additive noise, given the
    exact gradient ``g``; ``noise`` is ``BoundNoise.kernel_data()``, the norms those of
    :func:`noise_and_norms` (``nan`` where the draw does not know them)."""
    xi, xi_dual = noise_and_norms(t, rng, noise[0], noise[1], noise[2], noise[3], noise[4], noise[5], noise[6],
                                  noise[7], noise[8])
    return g + xi, xi, xi_dual


@njit(cache=True)
def block(x, offsets, rows, cols, layer):
    """Layer ``layer`` of the flat vector ``x`` as a C-contiguous ``(m, n)`` array (a copy)."""
    return x[offsets[layer]:offsets[layer + 1]].copy().reshape(rows[layer], cols[layer])
