"""LMO momentum: the family analysed in THEORY.md (unconstrained Scion, uSCG), and the one
reference step every method of this package runs.

Problem
    Minimise ``f(X^1, ..., X^p)`` from stochastic gradients ``G_t = grad f(X_t) + xi_t``,
    each layer ``X^l`` with its own norm ``||.||_l`` (GEOMETRY.md).

Algorithm
    ``B_t = beta B_{t-1} + (1 - beta) G_t`` (``B_0 = 0``; heavy-ball form and Nesterov
    look-ahead ``U_t`` optional, ``momentum.py``), then per layer
    ``X_{t+1}^l = X_t^l + eta_t w^l lmo_l(U_t^l) - eta_t w^l lambda X_t^l`` with ``w^l = 1``.
    ``reference_step`` below is the whole family in one function: the weights ``w_t^l`` come
    from ``fixed_layerwise`` (constant) or ``lanton`` (noise-adaptive), the direction from the
    layer's LMO, NorMuon's normalised polar factor or AdamW, and Scion's constrained variant
    replaces the additive step by ``X <- (1 - eta w) X + eta w lmo(B)``.

Guarantee
    THEORY.md, lemma L1 and the theorem: with an exact LMO, ``||X_{t+1}^l - X_t^l||_l <=
    eta_t w^l`` and, for ``eta = c_eta T^(-3/4)``, ``1 - beta = c_beta T^(-1/2)``,
    ``(1/T) sum_t E sum_l ||grad_l f(X_t)||_* = O(T^(-1/4))``.

References
    Pethick et al., "Training deep learning models with norm-constrained LMOs" (2025, uSCG);
    Cutkosky & Mehta, "Momentum improves normalized SGD" (2020); ALGORITHMS.md, method 1.

Decision (spec silent): the layerwise weight multiplies the layer's whole learning rate,
decoupled decay included (``X <- X - eta w (lambda X - D)``), as a per-layer learning rate
does in every PyTorch optimizer; with ``w = 1`` this is exactly the base method.
"""

from __future__ import annotations

import numpy as np

from . import momentum
from .adamw import adamw_direction
from .lanton import layer_weights, update_noise_estimate
from .normuon import normuon_direction
from .scion import constrained_update
from .base import Diagnostics, Optimizer, OptimizerState, build_layers, make_config
from .noise_estimators import FIRST_STEP, noise_sample


def lmo_momentum(layers, lr, *, beta=0.9, momentum_form="ema", nesterov=False, weight_decay=0.0,
                 backend="reference") -> Optimizer:
    """LMO momentum with uniform weights on the layers' own norms (THEORY.md's family).

    ``lr`` and ``beta``: floats or schedules (``schedules``); ``momentum_form``: ``"ema"``
    (default) or ``"heavy_ball"``; ``weight_decay``: decoupled ``lambda`` (needs ``params``
    at each step when > 0); ``backend``: ``"reference"`` or ``"numba"``.
    """
    layers = build_layers(layers)
    config = make_config("lmo_momentum", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay)
    return Optimizer(layers, ("lmo",) * len(layers), config, backend)


def reference_step(optimizer: Optimizer, state: OptimizerState, grads, grads2, noise, params,
                   t: int, lr: float, beta: float, adamw_lr: float):
    """One step of the family on validated inputs: ``(updates, new_state)`` (new arrays)."""
    config, layout, kinds = optimizer.config, optimizer.layout, optimizer.kinds
    p = len(layout)

    # 1. layer weights: fixed, or LANTON's noise-adaptive ones (from H_t, or H_{t-1} with lag=1)
    samples = np.full(p, np.nan)
    noise_estimate = np.array(state.noise_estimate)
    weights = optimizer.fixed_weights.copy()
    applied = weights
    if config.adaptive:
        for l in optimizer.adaptive_layers:
            name = layout.names[l]
            samples[l] = noise_sample(
                config.estimator, layout.norms[l], config.dual, t, grads[name],
                grad2=None if grads2 is None else grads2[name],
                noise=None if noise is None else noise[name],
                previous_grad=state.previous_grads.get(name), previous_momentum=state.momentum[name],
                previous_mass=state.momentum_mass,
            )
        first = FIRST_STEP[config.estimator]
        noise_estimate = update_noise_estimate(state.noise_estimate, samples, t, first, config.beta2)
        if t >= first:
            weights = layer_weights(noise_estimate, optimizer.adaptive_groups, config.eps,
                                                 config.w_min, config.clip)
        applied = np.array(state.weights) if config.lag else weights

    # 2. per layer: momentum, direction, update
    new_momentum, new_second, new_rows, updates = {}, {}, {}, {}
    dual_norms, lengths, rms = np.full(p, np.nan), np.full(p, np.nan), np.zeros(p)
    for l, (name, kind) in enumerate(zip(layout.names, kinds)):
        G = grads[name]
        X = None if params is None else params[name]
        if kind == "adamw":
            beta1, beta2 = config.adamw_betas
            new_momentum[name], new_second[name], direction = adamw_direction(
                state.momentum[name], state.second_moment[name], G, t, beta1, beta2, config.adamw_eps)
            update = adamw_lr * direction
            if config.adamw_weight_decay > 0.0:
                update = update - (adamw_lr * config.adamw_weight_decay) * X
        else:
            B = momentum.accumulate(state.momentum[name], G, beta, config.momentum_form)
            U = momentum.nesterov(B, G, beta, config.momentum_form) if config.nesterov else B
            norm = layout.norms[l]
            if kind == "normuon":
                new_rows[name], direction, dual_norms[l] = normuon_direction(
                    U, state.row_second_moment[name], config.normuon_beta2, config.normuon_eps,
                    norm.radius, norm.ns_coefficients)
            else:
                direction = norm.lmo(U)
                dual_norms[l] = -float(np.sum(U * direction))
            new_momentum[name] = B
            step = lr * applied[l]
            lengths[l] = step
            if config.constrained:  # Scion's conditional-gradient step stays in the ball
                update = constrained_update(X, direction, step)
            else:
                update = step * direction
                if config.weight_decay > 0.0:
                    update = update - (step * config.weight_decay) * X
        updates[name] = update
        rms[l] = np.sqrt(np.sum(update * update) / update.size)

    previous = {name: grads[name].copy() for name in layout.names} if config.estimator == "consecutive" else {}
    has_estimate = t >= FIRST_STEP.get(config.estimator, np.inf)
    reported = np.where(optimizer.adaptive_mask, noise_estimate, np.nan) if has_estimate else np.full(p, np.nan)
    diagnostics = Diagnostics(np.array(applied), samples, reported, dual_norms, lengths, rms)
    new_state = OptimizerState(
        t, new_momentum, new_second, new_rows, previous,
        momentum.mass(state.momentum_mass, beta, config.momentum_form), noise_estimate, weights, diagnostics,
    )
    return updates, new_state
