"""LMO momentum: the family analysed in ``nalr_theory.theory`` (unconstrained Scion, uSCG).

Problem
    Minimise ``f(X^1, ..., X^p)`` from stochastic gradients ``G_t = grad f(X_t) + xi_t``,
    each layer ``X^l`` with its own norm ``||.||_l`` (``nalr_theory.geometry``).

Algorithm (rule: ``steps.lmo_step``)
    ``B_t = beta B_{t-1} + (1 - beta) G_t`` (``B_0 = 0``; heavy-ball form and Nesterov
    look-ahead ``U_t`` optional, ``rules.momentum``, ``rules.nesterov``), then per layer
    ``X_{t+1}^l = X_t^l + eta_t w^l lmo_l(U_t^l) - eta_t w^l lambda X_t^l`` with ``w^l = 1``
    (``fixed_layerwise``: constant ``w^l``; ``lanton``: noise-adaptive ``w_t^l``).

Guarantee
    ``nalr_theory.theory.lemmas`` (lemma L1) and ``nalr_theory.theory.theorem``: with an
    exact LMO, ``||X_{t+1}^l - X_t^l||_l <= eta_t w^l`` and, for ``eta = c_eta T^(-3/4)``,
    ``1 - beta = c_beta T^(-1/2)``, ``(1/T) sum_t E sum_l ||grad_l f(X_t)||_* = O(T^(-1/4))``.

References
    Pethick et al., "Training deep learning models with norm-constrained LMOs" (2025, uSCG);
    Cutkosky & Mehta, "Momentum improves normalized SGD" (2020).

Decision: the layerwise weight multiplies the layer's whole learning rate, decoupled decay
included (``X <- X - eta w (lambda X - D)``), as a per-layer learning rate does in every
PyTorch optimizer; with ``w = 1`` this is exactly the base method.
"""

from __future__ import annotations

from .base import Optimizer
from .config import build_layers, make_config


def lmo_momentum(layers, lr, *, beta=0.9, momentum_form="ema", nesterov=False, weight_decay=0.0,
                 backend="reference") -> Optimizer:
    """LMO momentum with uniform weights on the layers' own norms (the analysed family).

    ``lr`` and ``beta``: floats or schedules (``schedules``); ``momentum_form``: ``"ema"``
    (default) or ``"heavy_ball"``; ``weight_decay``: decoupled ``lambda`` (needs ``params``
    at each step when > 0); ``backend``: ``"reference"`` or ``"numba"``.
    """
    layers = build_layers(layers)
    config = make_config("lmo_momentum", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay)
    return Optimizer(layers, ("lmo",) * len(layers), config, backend)
