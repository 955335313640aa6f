"""Validation helpers of the problems: each raises ``ValueError`` naming the argument.

Shared by :mod:`nalr_theory.problems.base`, the families and
:mod:`nalr_theory.problems.smoothness` (re-exported by ``base`` under the same names).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from ..geometry.norm import NORM_NAMES


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False) -> float | int:
    """Finite number ``> 0`` (``>= 0`` with ``allow_zero``), or ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if integer and (not isinstance(value, (Integral, np.integer)) and float(value) != int(value)):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    number = int(value) if integer else float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: must be finite and {bound}, got {value!r}")
    return number


def check_seed(seed, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (Integral, np.integer)) or seed < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {seed!r}")
    return int(seed)


def per_layer(value, count: int, name: str, *, positive: bool = True) -> np.ndarray:
    """Broadcast a scalar or check a sequence of length ``count``; finite (and ``> 0``)."""
    array = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
    if array is None or array.ndim > 1:
        raise ValueError(f"{name}: expected a number or a sequence of {count} numbers, got {value!r}")
    array = np.broadcast_to(array, (count,)).copy() if array.ndim == 0 else array.copy()
    if array.shape != (count,):
        raise ValueError(f"{name}: expected {count} values (one per layer), got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: values must be finite, got {value!r}")
    if positive and np.any(array <= 0):
        raise ValueError(f"{name}: values must be > 0, got {value!r}")
    return array


def check_norms(norms, count: int, name: str = "norms") -> tuple[str, ...]:
    """A norm name (broadcast) or one per layer; names from :data:`nalr_theory.geometry.norm.NORM_NAMES`."""
    try:
        names = (norms,) * count if isinstance(norms, str) else tuple(norms)
    except TypeError:
        raise ValueError(f"{name}: expected a norm name or a sequence of names, got {norms!r}") from None
    if len(names) != count:
        raise ValueError(f"{name}: expected one norm name or {count}, got {len(names)}")
    for item in names:
        if not isinstance(item, str) or item not in NORM_NAMES:
            raise ValueError(f"{name}: unknown norm {item!r}; known: {', '.join(NORM_NAMES)}")
    return names


def check_shapes(shapes, name: str = "shapes") -> tuple[tuple[int, int], ...]:
    try:
        items = [tuple(shape) for shape in shapes]
    except TypeError:
        raise ValueError(f"{name}: expected a sequence of (d_out, d_in) pairs, got {shapes!r}") from None
    if not items:
        raise ValueError(f"{name}: at least one shape is needed")
    result = []
    for shape in items:
        if len(shape) != 2 or any(isinstance(d, bool) or not isinstance(d, (Integral, np.integer)) or d < 1 for d in shape):
            raise ValueError(f"{name}: each shape must be two positive integers, got {shape!r}")
        result.append((int(shape[0]), int(shape[1])))
    return tuple(result)


__all__ = ["check_norms", "check_positive", "check_seed", "check_shapes", "per_layer"]
