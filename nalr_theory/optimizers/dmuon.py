"""D-Muon (Moonlight): Muon with heavy-ball momentum, update RMS matched to AdamW, decay.

Problem
    Make Muon a drop-in replacement for AdamW at scale: one learning rate and one weight
    decay for every layer, with AdamW's hyperparameters reused.

Algorithm (rules: ``steps.lmo_step``; AdamW layers ``steps.adamw_step``)
    Spectral matrix layers: ``B_t = mu B_{t-1} + G_t`` (heavy ball, ``mu = beta = 0.95``),
    ``U_t = G_t + mu B_t`` (Nesterov), ``X_{t+1} = X_t (1 - eta_t lambda)
    - eta_t 0.2 sqrt(max(m, n)) ns5(U_t)`` (the ``dmuon`` preset), ``lambda = 0.1``.
    Vectors ``(n, 1)`` and the layers in ``adamw_layers``: AdamW with the same learning rate
    and decay, ``betas = (0.9, 0.95)``, ``eps = 1e-8``.
    Matrix layers declared in another norm (the token model's ``sign`` embedding and head)
    keep their norm and LMO by default (``non_spectral="keep"``); ``"adamw"`` routes them to
    AdamW as Muon's reference code does for embeddings and heads, ``"spectral"`` gives them
    the method's preset, ``"raise"`` refuses them.

Guarantee
    For an exact polar factor the update's RMS is ``0.2 eta`` whatever the shape
    (``||U V^T||_F = sqrt(min(m, n))``); with ``ns5`` it lies in ``0.2 eta`` times the
    ``geometry.ns_band()`` band, which is what lets AdamW's ``lr`` and ``lambda`` carry over.

References
    J. Liu et al., "Muon is scalable for LLM training" (Moonshot AI, 2025),
    github.com/MoonshotAI/Moonlight (``lr = 1e-3``, ``wd = 0.1``, ``momentum = 0.95``,
    Nesterov, ``ns_steps = 5``, AdamW ``betas = (0.9, 0.95)``, ``eps = 1e-8``).
"""

from __future__ import annotations

from .base import Optimizer
from .config import assign_geometry, build_layers, make_config


def dmuon(layers, lr=1e-3, *, beta=0.95, nesterov=True, momentum_form="heavy_ball", weight_decay=0.1,
          lmo_method="ns5", adamw_layers=(), adamw_lr=None, adamw_betas=(0.9, 0.95), adamw_eps=1e-8,
          adamw_weight_decay=None, non_spectral="keep", backend="reference") -> Optimizer:
    """D-Muon with Moonlight's defaults; ``adamw_lr``/``adamw_weight_decay`` default to ``lr``/``weight_decay``."""
    layers, kinds = assign_geometry(build_layers(layers), "dmuon", lmo_method, adamw_layers, non_spectral)
    config = make_config("dmuon", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay, adamw_lr=adamw_lr, adamw_betas=adamw_betas,
                         adamw_eps=adamw_eps,
                         adamw_weight_decay=weight_decay if adamw_weight_decay is None else adamw_weight_decay)
    return Optimizer(layers, kinds, config, backend)
