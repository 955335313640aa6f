"""The geometry reference addressed by base-norm code, with the signatures of ``_kernels``.

The optimizer rules (``nalr_theory.optimizers.rules``) call geometry as ``geo.lmo(code,
radius, G, coefficients, eps)``, ``geo.dual_norm(code, radius, G)`` and so on. For the NumPy
reference ``geo`` is this module; for the numba fast path the very same rule functions are
compiled with ``geo`` bound to :mod:`nalr_theory.geometry._kernels`, whose functions have
the same names and arguments. Each function here is a thin dispatch onto the reference of
``base_norms``, ``newton_schulz``, ``nuclear_quadrature`` and ``schatten`` (no formula of
its own; the Schatten functions take the exponent ``q``, a float, ``np.inf`` allowed, in
place of ``code`` and ``radius``), and the geometry tests prove each ``_kernels`` function
equal to that reference to 1e-12.

Inputs are validated finite float64 2-D arrays (the optimizers check them once per step).
"""

from __future__ import annotations

import numpy as np

from . import schatten as _schatten
from .base_norms import BASE_NORMS, SPECTRAL, spectral_lmo
from .base_norms import max_abs_lmo as _max_abs_lmo
from .newton_schulz import _iterate
from .nuclear_quadrature import nuclear_norm_lower as _nuclear_norm_lower

_BY_CODE = {norm.code: norm for norm in BASE_NORMS.values()}


def dual_norm(code: int, radius: float, G: np.ndarray) -> float:
    """``||G||_{r,*} = r ||G||_*`` for the base norm ``code`` (exact: SVD for spectral)."""
    return radius * _BY_CODE[code].dual(G)


def newton_schulz(G: np.ndarray, coefficients: np.ndarray, eps: float) -> np.ndarray:
    """Approximate polar factor of ``G`` by the Newton-Schulz rows ``coefficients``."""
    return _iterate(G, coefficients, eps)


def polar_factor_svd(G: np.ndarray) -> np.ndarray:
    """Exact ``U V^T`` over the singular values above the rank tolerance."""
    return -spectral_lmo(G)


def lmo(code: int, radius: float, G: np.ndarray, coefficients: np.ndarray, eps: float) -> np.ndarray:
    """``lmo_r(G)``; for spectral norms Newton-Schulz when ``coefficients`` has rows."""
    if code == SPECTRAL and coefficients.shape[0] > 0:
        return radius * -_iterate(G, coefficients, eps)
    return radius * _BY_CODE[code].lmo(G)


def max_abs_lmo(radius: float, G):
    """The max-abs norm's ``lmo_r(G) = -r sign(G)``, the one base LMO that acts entry by
    entry: ``G`` an array or a single number."""
    return radius * _max_abs_lmo(G)


def nuclear_norm_lower(Z: np.ndarray) -> float:
    """Certified Gauss-Radau lower bound of ``||Z||_*`` from two GEMMs (no SVD)."""
    return _nuclear_norm_lower(Z)


def schatten_norm(X: np.ndarray, q: float) -> float:
    """``||X||_{S_q}`` for ``q in [1, inf]`` (``np.inf``: spectral norm)."""
    return _schatten._norm(X, q)


def schatten_lmo(G: np.ndarray, q: float) -> np.ndarray:
    """``argmin_{||D||_{S_q} <= 1} <G, D>`` for ``q in (1, inf]`` (radius 1)."""
    return _schatten._lmo(G, q)


def schatten_sharp(G: np.ndarray, q: float) -> np.ndarray:
    """The sharp direction ``U diag(s^(1/(q-1))) V^T`` for ``q in [2, inf]``."""
    return _schatten._sharp(G, q)


def singular_values(X: np.ndarray) -> np.ndarray:
    """The singular values of ``X`` in decreasing order."""
    return np.linalg.svd(X, compute_uv=False)


def spectrum_norm(s: np.ndarray, q: float) -> float:
    """``(sum_i s_i^q)^(1/q)`` of a decreasing spectrum ``s`` (``q = inf``: ``s[0]``): the Schatten
    norm of any matrix with those singular values."""
    return _schatten._spectrum_norm(s, q)

