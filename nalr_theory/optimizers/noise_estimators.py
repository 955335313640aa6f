"""Noise estimators: LANTON's per-layer estimate ``n_t^l`` of the squared dual-norm noise.

Problem
    Estimate ``||xi_t^l||_{l,*}^2``, the squared size of the gradient noise of layer ``l`` in
    the dual norm of that layer's geometry, from what an optimizer sees.

Algorithm (``d`` is the layer's dual norm, ``rules.dual_value``; the sample is ``rules.noise_sample``)
    ============================  ===========================================  ==============
    name                          ``n_t``                                      first step
    ============================  ===========================================  ==============
    ``two_sample``                ``d(G_t - G'_t)^2 / 2`` (``G'`` a 2nd draw)  1
    ``consecutive``               ``d(G_t - G_{t-1})^2 / 2``                   2
    ``momentum_residual``         ``d(G_t - B_{t-1} / m_{t-1})^2``             2
    ``oracle``                    ``d(xi_t)^2`` (the problem's noise)          1
    ============================  ===========================================  ==============

    Dual norm ``d``: ``dual="exact"`` (the norm's dual; nuclear norm by SVD for spectral
    layers), ``dual="ns"`` (the cheap estimate ``-<Z, D(Z)>`` with the layer's
    Newton-Schulz coefficients, ``ns5`` for an exact-LMO layer: one extra NS per layer, as
    costly as the base's own LMO), ``dual="gram"`` (nuclear norm as ``sum sqrt(eig(Z Z^T))``
    on the smaller Gram matrix: exact up to ``~sqrt(eps) s_max`` per singular value, a
    LAPACK eigensolver per layer), or ``dual="quadrature"`` (the certified Gauss-Radau lower
    bound of ``geometry.nuclear_norm_bounds``: two GEMMs, 0.88-0.99 of the nuclear norm
    on noise-like matrices; the cheap dual: LANTON at 1.11-1.16x its base's step cost on the
    numba kernel, 1.12-1.21x on the NumPy reference, in ``benchmarks/bench_optimizers.py``).
    Non-spectral duals are cheap and always exact.

Guarantee
    With ``xi, xi'`` independent, mean zero: ``E ||xi - xi'||_F^2 / 2 = E ||xi||_F^2``, so
    ``two_sample`` is unbiased in Frobenius and within norm-equivalence factors otherwise;
    ``oracle`` is exact; ``consecutive`` adds the drift of the true gradient; the residual
    lags the momentum (the table above). A step without a sample (``t`` below the first
    step) reports ``nan`` and leaves ``H`` untouched.

References
    Hao et al., arXiv 2510.14009 (LANTON).

Decisions (spec silent): the momentum residual uses the mass-normalised momentum ``B / m``
(``momentum.mass``): for the EMA it equals the spec's ``B_{t-1}`` once ``beta^t`` is
negligible and removes the zero-initialisation bias before; for the heavy-ball sum (scale
``1 / (1 - beta)``) it is the only reading under which ``G - B`` is a noise residual.
``consecutive`` and ``momentum_residual`` have no sample at ``t = 1`` (nothing to compare
with); the weights are then uniform (``w = 1``).
"""

from __future__ import annotations

import numpy as np

from ..geometry import Norm, ns_coefficients
from ..geometry.base_norms import SPECTRAL

ESTIMATORS = ("two_sample", "consecutive", "momentum_residual", "oracle")
DUALS = ("exact", "ns", "gram", "quadrature")
FIRST_STEP = {"two_sample": 1, "consecutive": 2, "momentum_residual": 2, "oracle": 1}


def cheap_dual_coefficients(norm: Norm) -> np.ndarray:
    """Newton-Schulz rows of the ``dual="ns"`` estimate: the layer's own, or ``ns5``."""
    if norm.code != SPECTRAL:
        return np.zeros((0, 3))
    if norm.ns_coefficients.shape[0] > 0:
        return norm.ns_coefficients
    return ns_coefficients("ns5")
