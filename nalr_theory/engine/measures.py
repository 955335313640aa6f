"""The stationarity measures of a run: one pure function, compiled by numba for the engine.

Problem
    The bound controls an average over the run of a stationarity measure of the iterates.
    Three measures matter (``nalr_theory.theory.theorem``): the plain one the theorem states
    for uniform steps, the weighted-on-path one LANTON's bound controls for any estimator,
    and the noise-normalised one in which adaptive weights can win.

Algorithm
    With ``d_l = ||grad_l f(X_t)||_{l,*}`` (exact gradient, layer ``l``'s dual norm):
    ``plain = sum_l d_l``, ``weighted = sum_l w_t^l d_l`` (``w_t`` the weights applied at
    step ``t``), ``noise_normalised = sum_l d_l / sigma_l``.

Guarantee
    ``M(T) = (1/T) sum_{t=1..T} S(X_t)`` is the quantity the theorem bounds
    (``nalr_theory.theory.theorem``); the engine accumulates it at every step.

References
    ``nalr_theory.theory.adaptivity`` (the noise-normalised comparison).
"""

from __future__ import annotations

import numpy as np


def stationarity_measures(grad_dual, weights, inverse_sigma):
    """``(plain, weighted, noise_normalised)`` from the per-layer dual norms of the gradient."""
    return np.sum(grad_dual), np.sum(weights * grad_dual), np.sum(grad_dual * inverse_sigma)
