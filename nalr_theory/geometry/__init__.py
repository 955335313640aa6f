"""Geometry: layer norms, dual norms, LMOs, radii presets and Newton-Schulz.

The base norms and their table are in :mod:`nalr_theory.geometry.base_norms`, the presets
in :mod:`nalr_theory.geometry.presets`.

Public API (fixed; notebooks and docs rely on it)::

    norm = get_norm("muon", shape=(64, 32))         # .norm .dual .lmo .constants .attaining
    newton_schulz(G, method="ns5", steps=None)      # approximate polar factor U V^T
    lmo_quality(G, method) -> (kappa_lo, kappa_hi)  # approximate-LMO constants
    nuclear_norm_bounds(Z) -> (lower, upper)        # SVD-free certified nuclear-norm bounds
    get_norm("schatten", shape, q=4.0)              # Schatten-q norm (SchattenNorm), q in [1, inf]
    schatten_norm(X, q), schatten_lmo(G, q), schatten_sharp(G, q), schatten_constants(shape, q)
    ns_scalar_map(s, method) (alias phi_k)          # NS on one singular value

The numba twins live in :mod:`nalr_theory.geometry._kernels`.

Documentation: :doc:`/math/geometry` (the mathematics) and :doc:`/guide/geometry` (the user guide) in the package's documentation.
"""

from .base_norms import BASE_NORMS, rank_tolerance
from .newton_schulz import (
    METHODS,
    NS5_COEFFICIENTS,
    NS_CUBIC_COEFFICIENTS,
    POLAR_EXPRESS_COEFFICIENTS,
    YOU_QUINTIC_COEFFICIENTS,
    lmo_quality,
    newton_schulz,
    ns_band,
    ns_coefficients,
    ns_scalar_map,
    phi_k,
)
from .layout import Layer, Layout, as_layers
from .norm import NORM_NAMES, Norm, get_norm
from .nuclear_quadrature import nuclear_norm_bounds
from .presets import PRESETS
from .schatten import SchattenNorm, schatten_constants, schatten_lmo, schatten_norm, schatten_sharp

__all__ = [
    "BASE_NORMS",
    "Layer",
    "Layout",
    "as_layers",
    "METHODS",
    "NORM_NAMES",
    "NS5_COEFFICIENTS",
    "NS_CUBIC_COEFFICIENTS",
    "POLAR_EXPRESS_COEFFICIENTS",
    "YOU_QUINTIC_COEFFICIENTS",
    "Norm",
    "PRESETS",
    "get_norm",
    "lmo_quality",
    "newton_schulz",
    "ns_band",
    "ns_coefficients",
    "ns_scalar_map",
    "nuclear_norm_bounds",
    "phi_k",
    "rank_tolerance",
    "SchattenNorm",
    "schatten_constants",
    "schatten_lmo",
    "schatten_norm",
    "schatten_sharp",
]
