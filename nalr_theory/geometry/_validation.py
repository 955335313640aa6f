"""Input checks shared by every public entry point (reference side).

Checks happen before any work and raise ``ValueError`` naming the offending parameter;
the numba kernels assume their inputs passed these checks.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def as_matrix(value, name: str, *, allow_vector: bool = False) -> np.ndarray:
    """Return ``value`` as a finite float64 2-D array, or raise ``ValueError`` naming ``name``.

    A 1-D array is accepted only when ``allow_vector`` is true (vector norms), and is then
    read as the column ``(n, 1)`` (the convention of ``nalr_theory.geometry.base_norms``).
    Complex input is rejected rather than silently truncated to its real part. The caller's
    array is never modified; a float64 C-contiguous input is returned as is (read-only use).
    """
    dtype = getattr(value, "dtype", None)  # arrays and numpy scalars: no conversion
    if (dtype.kind == "c") if isinstance(dtype, np.dtype) else np.iscomplexobj(value):
        raise ValueError(
            f"{name}: complex arrays are not supported (the norms and LMOs are real); "
            "pass the real part explicitly (.real) if that is what you mean"
        )
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a real numeric array ({exc})") from None
    if array.ndim == 1 and allow_vector:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        hint = " (use the 'l2' or 'linf' norm, or reshape to (n, 1))" if array.ndim == 1 else ""
        raise ValueError(f"{name}: expected a 2-D matrix, got ndim={array.ndim}{hint}")
    if array.size == 0:
        raise ValueError(f"{name}: empty matrix of shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: contains non-finite entries (nan or inf)")
    return np.ascontiguousarray(array)


def check_own_shape(matrix: np.ndarray, argument: str, own) -> np.ndarray:
    """``matrix`` itself when a norm built with shape ``own`` (or without one: ``None``) accepts
    it; otherwise ``ValueError`` naming ``argument``."""
    if own is not None and matrix.shape != own:
        raise ValueError(f"{argument}: shape {matrix.shape} does not match the norm's shape {own}")
    return matrix


def shape_or_own(shape, own) -> tuple[int, int]:
    """``shape`` checked by :func:`as_shape`, or a norm's ``own`` shape when ``shape`` is ``None``
    (``ValueError`` naming ``shape`` when the norm was built without one)."""
    if shape is None:
        if own is None:
            raise ValueError("shape: this norm was built without a shape; pass one")
        return own
    return as_shape(shape)


def as_shape(shape, name: str = "shape") -> tuple[int, int]:
    """Return ``shape`` as ``(m, n)`` with positive ints; ``(n,)`` is read as ``(n, 1)``."""
    try:
        dims = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(f"{name}: expected a tuple (d_out, d_in), got {shape!r}") from None
    if any(int(d) != d for d in shape):
        raise ValueError(f"{name}: dimensions must be integers, got {shape!r}")
    if len(dims) == 1:
        dims = (dims[0], 1)
    if len(dims) != 2 or min(dims) < 1:
        raise ValueError(f"{name}: expected two positive dimensions (d_out, d_in), got {shape!r}")
    return dims


def as_positive(value, name: str) -> float:
    """Return ``value`` as a finite float ``> 0`` or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a positive real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0.0:
        raise ValueError(f"{name}: must be finite and > 0, got {value!r}")
    return number
