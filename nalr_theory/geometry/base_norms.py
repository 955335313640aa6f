"""The five base norms of GEOMETRY.md: primal value, dual value, LMO, equivalence constants.

Conventions (GEOMETRY.md): a layer is ``X`` of shape ``(m, n) = (d_out, d_in)``; the pairing
is ``<A, B> = sum_ij A_ij B_ij``; ``lmo(G) = argmin_{||D|| <= 1} <G, D>`` so that
``<G, lmo(G)> = -||G||_*``; ``lmo(0) = 0`` and ties are broken by ``sign(0) = 0`` and by
mapping zero columns/rows to zero. Equivalence with Frobenius is stated for the *dual*
norm: ``||Z||_* <= a ||Z||_F`` and ``||Z||_F <= b ||Z||_*``, ``rho = a b``.

| name       | primal              | dual                  | a          | b |
|------------|---------------------|-----------------------|------------|---|
| spectral   | s_max               | nuclear, sum_i s_i    | sqrt(min)  | 1 |
| frobenius  | ||X||_F             | ||G||_F               | 1          | 1 |
| max_abs    | max_ij |X_ij|       | sum_ij |G_ij|         | sqrt(m n)  | 1 |
| col_norm   | max_j ||X[:, j]||   | sum_j ||G[:, j]||     | sqrt(n)    | 1 |
| row_norm   | max_i ||X[i, :]||   | sum_i ||G[i, :]||     | sqrt(m)    | 1 |

These functions assume a validated finite float64 matrix (see ``_validation``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: Integer codes shared with the numba kernels (``_kernels.py``).
SPECTRAL, FROBENIUS, MAX_ABS, COL_NORM, ROW_NORM = 0, 1, 2, 3, 4


def rank_tolerance(shape: tuple[int, int]) -> float:
    """Relative cut-off on singular values, ``max(m, n) * machine epsilon``.

    The spectral LMO keeps singular values ``> rank_tolerance * s_max`` (the convention of
    ``numpy.linalg.matrix_rank``): numerically-zero directions are mapped to zero instead of
    being amplified into an arbitrary unit direction.
    """
    return max(shape) * np.finfo(np.float64).eps


# --- spectral (l2 -> l2 operator norm); dual: nuclear norm ---------------------------------

def spectral_primal(X: np.ndarray) -> float:
    return float(np.linalg.svd(X, compute_uv=False)[0])


def spectral_dual(G: np.ndarray) -> float:
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
    # BLAS ddot, as in the numba twin: bit-identical, which matters inside Newton-Schulz where
    # a last-bit difference in the normalisation is amplified (1.5x per cubic step on null
    # directions); a pairwise np.sum would differ from numba's sequential sum
    flat = X.ravel()
    return math.sqrt(flat.dot(flat))  # as np.sqrt (correctly rounded), without ufunc dispatch


def frobenius_lmo(G: np.ndarray) -> np.ndarray:
    norm = frobenius_primal(G)
    return np.zeros_like(G) if norm == 0.0 else -G / norm


# --- max_abs (l1 -> linf operator norm); dual: entrywise l1 --------------------------------

def max_abs_primal(X: np.ndarray) -> float:
    return float(np.max(np.abs(X)))


def max_abs_dual(G: np.ndarray) -> float:
    return float(np.sum(np.abs(G)))


def max_abs_lmo(G: np.ndarray) -> np.ndarray:
    return -np.sign(G)


# --- col_norm (l1 -> l2 operator norm) and row_norm (l2 -> linf): per-column/row l2 ----------

def _safe_normalise(G: np.ndarray, norms: np.ndarray) -> np.ndarray:
    # zero columns/rows stay zero: the deterministic tie-break of GEOMETRY.md
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0.0)
    return -G * scale


def col_norm_primal(X: np.ndarray) -> float:
    return float(np.max(np.sqrt(np.sum(X * X, axis=0))))


def col_norm_dual(G: np.ndarray) -> float:
    return float(np.sum(np.sqrt(np.sum(G * G, axis=0))))


def col_norm_lmo(G: np.ndarray) -> np.ndarray:
    return _safe_normalise(G, np.sqrt(np.sum(G * G, axis=0, keepdims=True)))


def row_norm_primal(X: np.ndarray) -> float:
    return float(np.max(np.sqrt(np.sum(X * X, axis=1))))


def row_norm_dual(G: np.ndarray) -> float:
    return float(np.sum(np.sqrt(np.sum(G * G, axis=1))))


def row_norm_lmo(G: np.ndarray) -> np.ndarray:
    return _safe_normalise(G, np.sqrt(np.sum(G * G, axis=1, keepdims=True)))


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
    """One row of the GEOMETRY.md table.

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
