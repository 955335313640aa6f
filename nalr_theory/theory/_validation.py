"""Input checks of the theory module.

Every public numeric entry point checks its arguments before any work and raises
``ValueError`` whose message starts with the offending parameter's name.
"""

from __future__ import annotations

import numpy as np


def _as_float_array(value, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected real numbers ({exc})") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: contains non-finite values (nan or inf)")
    return array


def nonnegative(value, name: str) -> np.ndarray:
    """``value`` as a float array with every entry finite and ``>= 0``."""
    array = _as_float_array(value, name)
    if np.any(array < 0):
        raise ValueError(f"{name}: must be >= 0, got {value!r}")
    return array


def positive(value, name: str) -> np.ndarray:
    """``value`` as a float array with every entry finite and ``> 0``."""
    array = _as_float_array(value, name)
    if np.any(array <= 0):
        raise ValueError(f"{name}: must be > 0, got {value!r}")
    return array


def positive_scalar(value, name: str) -> float:
    array = positive(value, name)
    if array.ndim != 0:
        raise ValueError(f"{name}: expected a scalar, got shape {array.shape}")
    return float(array)


def momentum(value, name: str = "beta") -> np.ndarray:
    """``beta`` as a float array with every entry in ``[0, 1)``."""
    array = _as_float_array(value, name)
    if np.any((array < 0) | (array >= 1)):
        raise ValueError(f"{name}: must lie in [0, 1), got {value!r}")
    return array


def horizon(value, name: str = "T") -> np.ndarray:
    """``T`` as a float array of integer values ``>= 1`` (a number of steps)."""
    array = _as_float_array(value, name)
    if np.any(array < 1):
        raise ValueError(f"{name}: must be >= 1 (a number of steps), got {value!r}")
    if np.any(array != np.floor(array)):
        raise ValueError(f"{name}: must be integer-valued (a number of steps), got {value!r}")
    return array


def layer_vector(value, name: str, p: int | None, *, strictly_positive: bool = False) -> np.ndarray:
    """A per-layer 1-D array of length ``p`` (a scalar is broadcast to every layer)."""
    array = positive(value, name) if strictly_positive else nonnegative(value, name)
    if array.ndim == 0:
        if p is None:
            return array.reshape(1)
        return np.full(p, float(array))
    if array.ndim != 1:
        raise ValueError(f"{name}: expected one value per layer (1-D), got shape {array.shape}")
    if p is not None and array.shape[0] != p:
        raise ValueError(f"{name}: expected {p} values (one per layer), got {array.shape[0]}")
    return array


def coupling_matrix(value, name: str = "L") -> np.ndarray:
    """The nonnegative ``p x p`` coupling matrix of assumption A1 (a 1-D array is its diagonal)."""
    array = nonnegative(value, name)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = np.diag(array)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"{name}: expected a square p x p matrix, got shape {array.shape}")
    return array


def inexact_lmo_constants(kappa_lo, kappa_hi) -> tuple[float, float]:
    """``0 < kappa_lo <= kappa_hi`` (Hoelder forces ``kappa_lo <= kappa_hi``)."""
    lo = positive_scalar(kappa_lo, "kappa_lo")
    hi = positive_scalar(kappa_hi, "kappa_hi")
    if lo > hi:
        raise ValueError(
            f"kappa_lo: must be <= kappa_hi (Hoelder: -<B, D> <= ||B||_* ||D||), got {lo} > {hi}"
        )
    return lo, hi


def choice(value, name: str, options) -> str:
    if value not in options:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, options))}, got {value!r}")
    return value
