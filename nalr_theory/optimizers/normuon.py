"""NorMuon: Muon's orthogonalised step with a per-neuron (row) second-moment normalisation.

Problem
    Newton-Schulz equalises singular values but leaves rows (neurons) with very different
    update sizes; normalise each row by a running estimate of its second moment, a
    neuron-wise adaptive baseline against which to compare LANTON's layerwise adaptivity.

Algorithm (rule: ``steps.normuon_step``; AdamW layers ``steps.adamw_step``)
    Momentum and Nesterov as Muon (EMA, ``beta = 0.95``), ``O = ns5(U_t)``,
    ``v_t = beta2 v_{t-1} + (1 - beta2) mean_j O_ij^2`` (one value per row, ``v_0 = 0``),
    ``O' = O / (sqrt(v_t) + eps)``, ``O'' = O' ||O||_F / (||O'||_F + eps)`` (Frobenius norm of
    ``O`` kept), ``X_{t+1} = X_t - eta_t (r O'' + lambda X_t)`` with ``r`` the preset's radius
    (default ``dmuon``: update RMS matched to AdamW, as D-Muon). Vectors: AdamW.

Guarantee
    ``||O''||_F = ||O||_F`` (up to ``eps``), so the update RMS is D-Muon's; within the layer,
    rows get equal RMS in the long run.

References
    Z. Li et al., "NorMuon: making Muon more efficient and scalable", arXiv 2510.05491
    (2025), github.com/zichongli5/NorMuon (``beta2 = 0.95``, ``1 / (sqrt(v) + 1e-10)``).

Decisions: the row normaliser is the reference code's ``1 / (sqrt(v) + eps)`` (the seed text
writes ``1 / sqrt(v + eps)``; the difference is below ``1e-10`` relative for any
non-degenerate row); the default scale is the ``dmuon`` RMS (``preset="muon"`` gives
the reference code's Muon scaling, ``lr = 0.02``).
"""

from __future__ import annotations

from .base import Optimizer
from .config import assign_geometry, build_layers, check_choice, make_config


def normuon(layers, lr=1e-3, *, beta=0.95, beta2=0.95, eps=1e-10, nesterov=True, momentum_form="ema",
            weight_decay=0.0, preset="dmuon", lmo_method="ns5", adamw_layers=(), adamw_lr=None,
            adamw_betas=(0.9, 0.95), adamw_eps=1e-8, adamw_weight_decay=0.0, non_spectral="keep",
            backend="reference") -> Optimizer:
    """NorMuon; ``preset`` ``"dmuon"`` (default, AdamW-matched RMS) or ``"muon"`` (reference code)."""
    check_choice(preset, "preset", ("dmuon", "muon"))
    layers, kinds = assign_geometry(build_layers(layers), preset, lmo_method, adamw_layers, non_spectral)
    # the spectral layers (now in ``preset``) take NorMuon's step; kept non-spectral ones their own LMO
    kinds = tuple("normuon" if kind == "lmo" and layer.norm == preset else kind for layer, kind in zip(layers, kinds))
    config = make_config("normuon", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay, adamw_lr=adamw_lr, adamw_betas=adamw_betas,
                         adamw_eps=adamw_eps, adamw_weight_decay=adamw_weight_decay, normuon_beta2=beta2,
                         normuon_eps=eps, names=dict(normuon_beta2="beta2", normuon_eps="eps"))
    return Optimizer(layers, kinds, config, backend)
