"""The five base norms: primal value, dual value, LMO, equivalence constants.

Conventions (used throughout ``nalr_theory``): a layer is ``X`` of shape ``(m, n) = (d_out, d_in)``; the pairing
is ``<A, B> = sum_ij A_ij B_ij``; ``lmo(G) = argmin_{||D|| <= 1} <G, D>`` so that
``<G, lmo(G)> = -||G||_*``; ``lmo(0) = 0`` and ties are broken by ``sign(0) = 0`` and by
mapping zero columns/rows to zero. Equivalence with Frobenius is stated for the *dual*
norm: ``||Z||_* <= a ||Z||_F`` and ``||Z||_F <= b ||Z||_*``, ``rho = a b``::

    | name       | primal              | dual                  | a          | b |
    |------------|---------------------|-----------------------|------------|---|
    | spectral   | s_max               | nuclear, sum_i s_i    | sqrt(min)  | 1 |
    | frobenius  | ||X||_F             | ||G||_F               | 1          | 1 |
    | max_abs    | max_ij |X_ij|       | sum_ij |G_ij|         | sqrt(m n)  | 1 |
    | col_norm   | max_j ||X[:, j]||   | sum_j ||G[:, j]||     | sqrt(n)    | 1 |
    | row_norm   | max_i ||X[i, :]||   | sum_i ||G[i, :]||     | sqrt(m)    | 1 |

These functions assume a validated finite float64 matrix (see ``_validation``).

Scale robustness: an l2 norm is first computed as ``sqrt(sum x^2)`` (the fast path, which
every ordinary input takes). When that sum of squares is ``inf`` (some ``|x| > ~1e154``)
or below ``SQUARES_MIN`` (squares of entries below ``~1e-145`` underflow), it is
recomputed as LAPACK's ``dnrm2`` would, after rescaling by ``2^-e`` with ``2^e`` just above
``max |x|``: ``2^e sqrt(sum (x 2^-e)^2)``. A power of two scales exactly, so the rescaled
path returns what the plain formula would in unbounded exponent range, and
``f(2^k G) = 2^k f(G)`` holds to the last bit. (The NumPy column/row sums may still emit
numpy's ``overflow encountered in multiply`` warning before being recomputed: silencing
it would cost an ``errstate`` on every call.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: Integer codes shared with the numba kernels (``_kernels.py``).
SPECTRAL, FROBENIUS, MAX_ABS, COL_NORM, ROW_NORM = 0, 1, 2, 3, 4

#: a sum of squares below this may have lost terms to underflow (each lost term is below
#: the smallest subnormal, so above it the loss is < 1e-30 relative for any matrix size)
SQUARES_MIN = 1e-290
#: the corresponding norm, ``sqrt(SQUARES_MIN)``
NORM_MIN = 1e-145


def _exponent(peak: float) -> int:
    """``e`` with ``2^(e-1) <= peak < 2^e`` (``0`` for ``peak = 0``)."""
    return math.frexp(peak)[1]


def _ldexp(value: float, exponent: int) -> float:
    """``value * 2^exponent``, ``inf`` on overflow (``math.ldexp`` raises instead)."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.inf


def _rescaled_frobenius(flat: np.ndarray) -> float:
    # dnrm2-style: 2^e sqrt(sum (x 2^-e)^2), 2^e > max |x| (exact scalings, same ddot)
    peak = float(np.max(np.abs(flat)))
    if peak == 0.0:
        return 0.0
    exponent = _exponent(peak)
    scaled = np.ldexp(flat, -exponent)
    return _ldexp(math.sqrt(scaled.dot(scaled)), exponent)


def _rescaled_lines(X: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Y, e, squares)``: each column (``axis=0``) or row (``axis=1``) of ``X`` times
    ``2^-e`` with ``2^e > max |x|`` over it, and the sums of squares of ``Y`` (keepdims)."""
    exponents = np.frexp(np.max(np.abs(X), axis=axis, keepdims=True))[1]
    Y = np.ldexp(X, -exponents)
    return Y, exponents, np.sum(Y * Y, axis=axis, keepdims=True)


def _rescaled_line_norms(X: np.ndarray, axis: int) -> np.ndarray:
    """l2 norms of the columns / rows of ``X``, exact at every scale (flat array)."""
    _, exponents, squares = _rescaled_lines(X, axis)
    with np.errstate(over="ignore"):  # a norm above the largest float is inf, rightly
        return np.ldexp(np.sqrt(squares), exponents).ravel()


def _squares_in_range(squares: np.ndarray) -> bool:
    # argmin / argmax: a fraction of the cost of the min / max reductions on small arrays
    flat = squares.ravel()
    return flat[flat.argmin()] >= SQUARES_MIN and flat[flat.argmax()] < math.inf


def rank_tolerance(shape: tuple[int, int]) -> float:
    """Relative cut-off on singular values, ``max(m, n) * machine epsilon``.

    The spectral LMO keeps singular values ``> rank_tolerance * s_max`` (the convention of
    ``numpy.linalg.matrix_rank``): numerically-zero directions are mapped to zero instead of
    being amplified into an arbitrary unit direction.
    """
    return max(shape) * np.finfo(np.float64).eps


# --- spectral (l2 -> l2 operator norm); dual: nuclear norm ---------------------------------
# LAPACK's SVD rescales matrices with extreme entries itself (dgesdd's anrm test)

def spectral_primal(X: np.ndarray) -> float:
    """Spectral norm ``s_max(X)``, the largest singular value (LAPACK SVD, values only)."""
    return float(np.linalg.svd(X, compute_uv=False)[0])


def spectral_dual(G: np.ndarray) -> float:
    """Dual of the spectral norm, the nuclear norm ``sum_i s_i(G)`` (LAPACK SVD, values only)."""
    return float(np.sum(np.linalg.svd(G, compute_uv=False)))


def spectral_lmo(G: np.ndarray) -> np.ndarray:
    """``-U V^T`` of the reduced SVD, over singular values above the rank tolerance."""
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    if s[0] == 0.0:
        return np.zeros_like(G)
    keep = s > rank_tolerance(G.shape) * s[0]
    return -(U[:, keep] @ Vt[keep, :])


# --- frobenius (self-dual) -----------------------------------------------------------------

def frobenius_primal(X: np.ndarray) -> float:
    """Frobenius norm ``sqrt(sum_ij X_ij^2)``, also its own dual.

    One ``ddot`` (bit-identical to the numba twin); recomputed after an exact power-of-two
    rescaling when that value is below ``NORM_MIN`` or ``inf`` (see the module docstring).
    """
    # BLAS ddot, as in the numba twin: bit-identical, which matters inside Newton-Schulz where
    # a last-bit difference in the normalisation is amplified (1.5x per cubic step on null
    # directions); a pairwise np.sum would differ from numba's sequential sum
    flat = X.ravel()
    norm = math.sqrt(flat.dot(flat))  # as np.sqrt (correctly rounded), without ufunc dispatch
    # tested on the Python float: a chained comparison on the np.float64 sum costs 4x more
    if NORM_MIN <= norm < math.inf:
        return norm
    return _rescaled_frobenius(flat)  # overflow, underflow or the zero matrix


def frobenius_lmo(G: np.ndarray) -> np.ndarray:
    """Frobenius LMO ``-G / ||G||_F`` (a new array); the zero matrix for ``G = 0``."""
    norm = frobenius_primal(G)
    return np.zeros_like(G) if norm == 0.0 else -G / norm


# --- max_abs (l1 -> linf operator norm); dual: entrywise l1 --------------------------------

def max_abs_primal(X: np.ndarray) -> float:
    """Max-abs norm (l1 -> linf operator norm) ``max_ij |X_ij|``."""
    return float(np.max(np.abs(X)))


def max_abs_dual(G: np.ndarray) -> float:
    """Dual of the max-abs norm, the entrywise l1 norm ``sum_ij |G_ij|``."""
    return float(np.sum(np.abs(G)))


def max_abs_lmo(G: np.ndarray) -> np.ndarray:
    """Max-abs LMO ``-sign(G)`` entrywise (a new array); zero entries map to ``0``."""
    return -np.sign(G)


# --- col_norm (l1 -> l2 operator norm) and row_norm (l2 -> linf): per-column/row l2 ----------

def _safe_normalise(G: np.ndarray, norms: np.ndarray) -> np.ndarray:
    # zero columns/rows stay zero: the deterministic tie-break of the module docstring.
    # G * (-1/norm) is bit-identical to -G * (1/norm) (negation is exact, rounding symmetric)
    # and saves a pass over G; -0.0 fills the zero lines so that their signed zeros match too
    scale = np.divide(-1.0, norms, out=np.full_like(norms, -0.0), where=norms > 0.0)
    return G * scale


def _line_primal(X: np.ndarray, axis: int) -> float:
    squares = np.sum(X * X, axis=axis)
    # sqrt is monotone: sqrt(max) = max(sqrt), bitwise, for one sqrt instead of a pass
    value = math.sqrt(squares[squares.argmax()])
    if NORM_MIN <= value < math.inf:
        return value
    return float(np.max(_rescaled_line_norms(X, axis)))


def _line_dual(G: np.ndarray, axis: int) -> float:
    total = float(np.sum(np.sqrt(np.sum(G * G, axis=axis))))
    # lines lost to underflow weigh < 1e-160 against a total above NORM_MIN
    if NORM_MIN <= total < math.inf:
        return total
    return float(np.sum(_rescaled_line_norms(G, axis)))


def _line_lmo(G: np.ndarray, axis: int) -> np.ndarray:
    squares = np.sum(G * G, axis=axis, keepdims=True)
    if _squares_in_range(squares):
        return _safe_normalise(G, np.sqrt(squares))
    # some line overflows, underflows or is zero: normalise the rescaled lines instead
    Y, _, squares = _rescaled_lines(G, axis)
    return _safe_normalise(Y, np.sqrt(squares))


def col_norm_primal(X: np.ndarray) -> float:
    """Column norm (l1 -> l2 operator norm) ``max_j ||X[:, j]||_2`` (rescaled on overflow/underflow)."""
    return _line_primal(X, 0)


def col_norm_dual(G: np.ndarray) -> float:
    """Dual of the column norm: ``sum_j ||G[:, j]||_2`` (rescaled on overflow/underflow)."""
    return _line_dual(G, 0)


def col_norm_lmo(G: np.ndarray) -> np.ndarray:
    """Column-norm LMO: column ``j`` is ``-G[:, j] / ||G[:, j]||_2`` (a new array); zero columns
    stay zero.
    """
    return _line_lmo(G, 0)


def row_norm_primal(X: np.ndarray) -> float:
    """Row norm (l2 -> linf operator norm) ``max_i ||X[i, :]||_2`` (rescaled on overflow/underflow)."""
    return _line_primal(X, 1)


def row_norm_dual(G: np.ndarray) -> float:
    """Dual of the row norm: ``sum_i ||G[i, :]||_2`` (rescaled on overflow/underflow)."""
    return _line_dual(G, 1)


def row_norm_lmo(G: np.ndarray) -> np.ndarray:
    """Row-norm LMO: row ``i`` is ``-G[i, :] / ||G[i, :]||_2`` (a new array); zero rows stay zero."""
    return _line_lmo(G, 1)


# --- the table -----------------------------------------------------------------------------

def _single_entry(shape: tuple[int, int]) -> np.ndarray:
    Z = np.zeros(shape)
    Z[0, 0] = 1.0
    return Z


def _spectral_flat(shape: tuple[int, int]) -> np.ndarray:
    # all min(m, n) singular values equal: nuclear = sqrt(k) * Frobenius
    return np.eye(*shape)


@dataclass(frozen=True)
class BaseNorm:
    """One row of the table in this module's docstring.

    ``equivalence(shape) -> (a, b)`` with ``||Z||_* <= a ||Z||_F <= a b ||Z||_*``;
    ``attain_a(shape)`` is a matrix with ``||Z||_* = a ||Z||_F`` and ``attain_b(shape)`` one
    with ``||Z||_F = b ||Z||_*``.
    """

    name: str
    code: int
    primal: Callable[[np.ndarray], float]
    dual: Callable[[np.ndarray], float]
    lmo: Callable[[np.ndarray], np.ndarray]
    equivalence: Callable[[tuple[int, int]], tuple[float, float]]
    attain_a: Callable[[tuple[int, int]], np.ndarray]
    attain_b: Callable[[tuple[int, int]], np.ndarray]


BASE_NORMS: dict[str, BaseNorm] = {
    "spectral": BaseNorm(
        "spectral", SPECTRAL, spectral_primal, spectral_dual, spectral_lmo,
        lambda s: (math.sqrt(min(s)), 1.0), _spectral_flat, _single_entry,
    ),
    "frobenius": BaseNorm(
        "frobenius", FROBENIUS, frobenius_primal, frobenius_primal, frobenius_lmo,
        lambda s: (1.0, 1.0), np.ones, np.ones,
    ),
    "max_abs": BaseNorm(
        "max_abs", MAX_ABS, max_abs_primal, max_abs_dual, max_abs_lmo,
        lambda s: (math.sqrt(s[0] * s[1]), 1.0), np.ones, _single_entry,
    ),
    "col_norm": BaseNorm(
        "col_norm", COL_NORM, col_norm_primal, col_norm_dual, col_norm_lmo,
        lambda s: (math.sqrt(s[1]), 1.0), np.ones, _single_entry,
    ),
    "row_norm": BaseNorm(
        "row_norm", ROW_NORM, row_norm_primal, row_norm_dual, row_norm_lmo,
        lambda s: (math.sqrt(s[0]), 1.0), np.ones, _single_entry,
    ),
}
