"""Muon: EMA momentum with Nesterov, orthogonalised by Newton-Schulz, AdamW elsewhere.

Problem
    Steepest descent for the hidden matrices of a network in the spectral (RMS->RMS up to
    shape) norm, at the cost of a few matrix products per layer.

Algorithm (rules: ``steps.lmo_step``; AdamW layers ``steps.adamw_step``)
    Spectral matrix layers (shape ``(m, n)``, ``n > 1``): ``B_t = beta B_{t-1} + (1 - beta) G_t``,
    ``U_t = (1 - beta) G_t + beta B_t``, ``O_t = ns5(U_t)``,
    ``X_{t+1} = X_t - eta_t (sqrt(max(1, m/n)) O_t + lambda X_t)`` (the ``muon`` preset:
    ``lmo_muon(U) = -sqrt(max(1, m/n)) ns5(U)``). Vectors ``(n, 1)`` and the layers named in
    ``adamw_layers`` (embeddings, heads) are updated by AdamW with their own learning rate.
    Matrix layers declared in another norm (the token model's ``sign`` embedding and head)
    keep their norm and LMO by default (``non_spectral="keep"``); ``"adamw"`` routes them to
    AdamW as Muon's reference code does for embeddings and heads, ``"spectral"`` gives them
    the method's preset, ``"raise"`` refuses them.

Guarantee
    ``ns5`` output singular values lie in ``geometry.ns_band()`` (about ``[0.68, 1.20]``), so
    the step's spectral norm is ``eta sqrt(max(1, m/n))`` up to that band (an inexact LMO
    with constants ``kappa_lo``, ``kappa_hi``; ``nalr_theory.theory.lemmas``, lemma L1).

References
    K. Jordan, Y. Jin, V. Boza, J. You, F. Cesista, L. Newhouse, J. Bernstein, "Muon: an
    optimizer for hidden layers in neural networks" (2024), github.com/KellerJordan/Muon
    (``lr = 0.02``, ``momentum = 0.95``, Nesterov, ``weight_decay = 0``; AdamW
    ``lr = 3e-4``, ``betas = (0.9, 0.95)``, ``eps = 1e-10``).
"""

from __future__ import annotations

from .base import Optimizer
from .config import assign_geometry, build_layers, make_config


def muon(layers, lr=0.02, *, beta=0.95, nesterov=True, momentum_form="ema", weight_decay=0.0,
         lmo_method="ns5", adamw_layers=(), adamw_lr=3e-4, adamw_betas=(0.9, 0.95), adamw_eps=1e-10,
         adamw_weight_decay=0.0, non_spectral="keep", backend="reference") -> Optimizer:
    """Muon with its reference defaults; spectral matrix layers take the ``muon`` preset."""
    layers, kinds = assign_geometry(build_layers(layers), "muon", lmo_method, adamw_layers, non_spectral)
    config = make_config("muon", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay, adamw_lr=adamw_lr, adamw_betas=adamw_betas,
                         adamw_eps=adamw_eps, adamw_weight_decay=adamw_weight_decay)
    return Optimizer(layers, kinds, config, backend)
