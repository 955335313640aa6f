"""LANTON: noise-adaptive layerwise learning rates on any LMO momentum base.

Problem
    Layers sharing a geometry (a group) get one learning rate in Scion, D-Muon and Muon, yet
    their gradient noise differs and changes over time. Give the quieter layers larger
    steps, on the fly, without knowing the noise levels.

Algorithm (rule: ``steps.lanton_weights``; samples ``rules.noise_sample``)
    ``n_t^l`` is the noise estimator's sample (``noise_estimators``), then::

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
    ``0 < w_t^l <= 1`` on every path, so the bound of ``nalr_theory.theory.theorem`` holds
    in the weighted-on-path form for any estimator; if ``H^l`` stays in
    ``[h_lo[l], h_hi[l]]`` (``clip``, or the ``oracle`` estimator under A2b) then
    ``w_t^l >= min(1, sqrt(min_{j != l} h_lo[j] / h_hi[l]))`` (special case 4). With equal
    ``H`` in a group LANTON is its base exactly.

References
    J. Hao, X. Gong, J. Xu, Z. Wang, M. Liu, "Noise-adaptive layerwise learning rates:
    accelerating geometry-aware optimization for deep neural network training",
    arXiv 2510.14009 (2025).

Decisions: a group whose noise estimates are all zero gets uniform weights
(no information, and ``1/sqrt(0)`` would be ``inf/inf``); ``clip`` acts on the weights only
(the state keeps the unclipped ``H``, an estimate comparable with the oracle value); layers
updated by AdamW (``base="dmuon"``) take no part in any group; the default estimator is
``consecutive`` (needs nothing from the problem; experiments pass ``two_sample`` when the
problem can draw a second sample).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import rules, steps
from .base import Optimizer, diverged
from .config import check_choice, make_config
from .dmuon import dmuon
from .lmo_momentum import lmo_momentum
from .noise_estimators import ESTIMATORS, cheap_dual_coefficients
from .scion import scion

BASES = {"lmo_momentum": lmo_momentum, "scion": scion, "dmuon": dmuon}


class Lanton(Optimizer):
    """LANTON on its base: the base's routing and steps, with a noise-adaptive ``lr`` scale."""

    def __init__(self, layers, kinds, config, backend="reference"):
        super().__init__(layers, kinds, config, backend)
        self.dual_coefficients = tuple(cheap_dual_coefficients(norm) for norm in self.layout.norms)

    def noise_sample(self, l, state, grads, grads2, noise) -> float:
        """``n_t^l`` of layer ``l`` (``rules.noise_sample`` on the layer's arrays)."""
        name, norm, opts = self.layout.names[l], self.layout.norms[l], self.options
        G = grads[name]
        return float(rules.noise_sample(
            opts.estimator, norm.code, norm.radius, opts.dual, self.dual_coefficients[l], G,
            G if grads2 is None else grads2[name], G if noise is None else noise[name],
            state.previous_grads.get(name, G), state.momentum[name], state.momentum_mass))

    def reference_step(self, state, grads, grads2, noise, params, t, lr, beta, adamw_lr):
        """Weights from the noise estimates, then the base's step with ``lr * w_t^l``."""
        first = self.options.first_sample
        samples = np.full(len(self.layout), np.nan)
        for l in self.adaptive_layers if t >= first else ():
            samples[l] = self.noise_sample(l, state, grads, grads2, noise)
            if not np.isfinite(samples[l]):
                raise diverged(t, f"the noise sample of layer {self.layout.names[l]!r}")
        H, weights, scale = steps.lanton_weights(state.noise_estimate, samples, t, state.weights, self.options,
                                                 self.adaptive_groups)
        updates, new_state = self.apply(state, grads, params, t, lr, beta, adamw_lr, scale)
        reported = np.where(self.adaptive_mask, H, np.nan) if t >= first else np.full(len(H), np.nan)
        diagnostics = new_state.diagnostics._replace(noise_sample=samples, noise_estimate=reported)
        return updates, new_state._replace(noise_estimate=H, weights=weights, diagnostics=diagnostics)


def lanton(layers, lr, *, base="lmo_momentum", estimator="consecutive", dual="exact", beta2=0.9, eps=1e-12,
           w_min=0.0, clip=None, lag=0, backend="reference", **base_options) -> Optimizer:
    """LANTON on ``base`` (``"lmo_momentum"``, ``"scion"`` or ``"dmuon"``).

    ``estimator``: ``"two_sample"`` (pass ``grads2`` at each step), ``"consecutive"``,
    ``"momentum_residual"`` or ``"oracle"`` (pass ``noise``); ``dual``: ``"exact"``, ``"ns"``,
    ``"gram"`` or ``"quadrature"`` (``noise_estimators``; ``"quadrature"`` is the cheap one);
    ``beta2``, ``eps``, ``w_min``, ``clip``, ``lag`` as in the module docstring;
    ``base_options`` go to the base (``beta``, ``momentum_form``, ``nesterov``,
    ``weight_decay``, ``constrained`` for Scion, ``adamw_*`` and ``non_spectral`` for D-Muon).
    """
    check_choice(base, "base", tuple(BASES))
    check_choice(estimator, "estimator", ESTIMATORS)
    base_optimizer = BASES[base](layers, lr, backend=backend, **base_options)
    checked = make_config("lanton", lr=lr, beta=0.0, adaptive=True, base=base, estimator=estimator, dual=dual,
                          beta2=beta2, eps=eps, w_min=w_min, clip=clip, lag=lag)
    config = dataclasses.replace(
        base_optimizer.config, method="lanton", adaptive=True, base=base, estimator=checked.estimator,
        dual=checked.dual, beta2=checked.beta2, eps=checked.eps, w_min=checked.w_min, clip=checked.clip,
        lag=checked.lag,
    )
    return Lanton(base_optimizer.layout.layers, base_optimizer.kinds, config, backend)
