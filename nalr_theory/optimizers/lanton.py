"""LANTON: noise-adaptive layerwise learning rates on any LMO momentum base.

Problem
    Layers sharing a geometry (a group) get one learning rate in Scion, D-Muon and Muon, yet
    their gradient noise differs and changes over time. Give the quieter layers larger
    steps, on the fly, without knowing the noise levels.

Algorithm (per layer ``l``; ``n_t^l`` from a noise estimator, ``noise_estimators.py``)
    ::

        H_t^l = n_t^l                                   at the first sample (no zero-init bias)
        H_t^l = beta2 H_{t-1}^l + (1 - beta2) n_t^l      afterwards
        alpha_t^l = 1 / sqrt(H_t^l + eps * max_{j in group(l)} H_t^j)
        w_t^l = max(w_min, alpha_t^l / max_{j in group(l)} alpha_t^j)   (quietest layer: 1)
        X_{t+1}^l = X_t^l + eta_t w_t^l D_l(B_t^l)       (D_l: the base's direction)

    Options: ``clip=(h_min, h_max)`` clips ``H`` inside the weight formula; ``lag=1`` applies
    ``w_{t-1}`` (``w_0 = 1``) so the current sample cannot influence its own step; the base is
    ``lmo_momentum`` (default), ``scion`` or ``dmuon`` with its own defaults and options.
    The weights multiply the step, never the momentum.

Guarantee
    ``0 < w_t^l <= 1`` on every path, so THEORY.md's bound holds in the weighted-on-path form
    for any estimator; if ``H^l`` stays in ``[h_lo[l], h_hi[l]]`` (``clip``, or the ``oracle``
    estimator under A2b) then ``w_t^l >= min(1, sqrt(min_{j != l} h_lo[j] / h_hi[l]))``
    (THEORY.md, special case 4). With equal ``H`` in a group LANTON is its base exactly.

References
    J. Hao, X. Gong, J. Xu, Z. Wang, M. Liu, "Noise-adaptive layerwise learning rates:
    accelerating geometry-aware optimization for deep neural network training",
    arXiv 2510.14009 (2025); ALGORITHMS.md, method 6.

Decisions (spec silent): a group whose noise estimates are all zero gets uniform weights
(no information, and ``1/sqrt(0)`` would be ``inf/inf``); ``clip`` acts on the weights only
(the state keeps the unclipped ``H``, an estimate comparable with the oracle value); layers
updated by AdamW (``base="dmuon"``) take no part in any group; the default estimator is
``consecutive`` (needs nothing from the problem; experiments pass ``two_sample`` when the
problem can draw a second sample).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .base import Optimizer, check_choice, make_config
from .noise_estimators import ESTIMATORS

BASES = ("lmo_momentum", "scion", "dmuon")


def update_noise_estimate(previous: np.ndarray, samples: np.ndarray, t: int, first_step: int,
                          beta2: float) -> np.ndarray:
    """``H_t`` from ``H_{t-1}`` and the samples ``n_t`` (layers without a sample keep ``H``)."""
    has_sample = ~np.isnan(samples)
    if t < first_step:
        return np.array(previous)
    if t == first_step:
        return np.where(has_sample, samples, previous)
    return np.where(has_sample, beta2 * previous + (1.0 - beta2) * samples, previous)


def layer_weights(noise_estimate: np.ndarray, group_ids: np.ndarray, eps: float, w_min: float = 0.0,
                  clip=None) -> np.ndarray:
    """``w^l = alpha^l / max_{j in group(l)} alpha^j``, ``alpha = 1 / sqrt(H + eps max_group H)``.

    Layers with ``group_ids < 0`` (not adaptive) get 1.
    """
    H = noise_estimate if clip is None else np.clip(noise_estimate, clip[0], clip[1])
    weights = np.ones_like(H)
    for group in set(group_ids.tolist()) - {-1}:
        members = group_ids == group
        group_H = H[members]
        largest = group_H.max()
        if largest > 0.0:
            alpha = 1.0 / np.sqrt(group_H + eps * largest)
            weights[members] = alpha / alpha.max()
    return np.maximum(weights, w_min) if w_min > 0.0 else weights


def lanton(layers, lr, *, base="lmo_momentum", estimator="consecutive", dual="exact", beta2=0.9, eps=1e-12,
           w_min=0.0, clip=None, lag=0, backend="reference", **base_options) -> Optimizer:
    """LANTON on ``base`` (``"lmo_momentum"``, ``"scion"`` or ``"dmuon"``).

    ``estimator``: ``"two_sample"`` (pass ``grads2`` at each step), ``"consecutive"``,
    ``"momentum_residual"`` or ``"oracle"`` (pass ``noise``); ``dual``: ``"exact"``, ``"ns"``,
    ``"gram"`` or ``"quadrature"`` (``noise_estimators``; ``"quadrature"`` is the cheap one); ``beta2``, ``eps``, ``w_min``, ``clip``, ``lag`` as
    in the module docstring; ``base_options`` go to the base (``beta``, ``momentum_form``,
    ``nesterov``, ``weight_decay``, ``constrained`` for Scion, ``adamw_*`` for D-Muon ...).
    """
    from .dmuon import dmuon
    from .lmo_momentum import lmo_momentum
    from .scion import scion

    check_choice(base, "base", BASES)
    check_choice(estimator, "estimator", ESTIMATORS)
    constructor = {"lmo_momentum": lmo_momentum, "scion": scion, "dmuon": dmuon}[base]
    base_optimizer = constructor(layers, lr, backend=backend, **base_options)
    checked = make_config("lanton", lr=lr, beta=0.0, adaptive=True, base=base, estimator=estimator, dual=dual,
                          beta2=beta2, eps=eps, w_min=w_min, clip=clip, lag=lag)
    config = dataclasses.replace(
        base_optimizer.config, method="lanton", adaptive=True, base=base, estimator=checked.estimator,
        dual=checked.dual, beta2=checked.beta2, eps=checked.eps, w_min=checked.w_min, clip=checked.clip,
        lag=checked.lag,
    )
    return Optimizer(base_optimizer.layout.layers, base_optimizer.kinds, config, backend)
