"""Fixed layerwise weights: LMO momentum with constant per-layer step multipliers.

Problem
    Give layer ``l`` its own constant step ``eta_t w^l`` (Gluon-style layerwise steps), e.g.
    the oracle weights that know each layer's noise level.

Algorithm (rule: ``steps.lmo_step`` with ``step = eta_t w^l``)
    ``X_{t+1}^l = X_t^l + eta_t w^l lmo_l(B_t^l)``, ``w^l in (0, 1]`` constant
    (``lmo_momentum`` otherwise). ``oracle_weights(sigma)`` gives the oracle weights of special case 3
    (``nalr_theory.theory.theorem``),
    ``w^l = sigma_min / sigma_l`` (minimum within each group when ``layers`` is given).

Guarantee
    Special case 3 of ``nalr_theory.theory.theorem``: the theorem with ``w_lo = w_hi = w`` bounds the weighted
    stationarity ``S_w(X) = sum_l w_l ||grad_l f(X)||_*``; with the oracle weights it improves
    on uniform steps in the noise-normalised measure exactly when the ``sigma_l`` differ.

References
    Riabinin et al., "Gluon: making Muon & Scion great again" (2025) for layerwise
    smoothness and steps.
"""

from __future__ import annotations

import math
from typing import Mapping

from .base import Optimizer
from .config import build_layers, build_layout, check_real, make_config


def oracle_weights(sigma: Mapping[str, float], layers=None) -> dict[str, float]:
    """``{name: sigma_min / sigma_l}``, the minimum taken within each layer group if ``layers``."""
    if not isinstance(sigma, Mapping) or not sigma:
        raise ValueError("sigma: expected a non-empty dict layer name -> noise level")
    values = {name: check_real(value, f"sigma[{name!r}]", low=0.0, low_open=True) for name, value in sigma.items()}
    groups = {name: 0 for name in values}
    if layers is not None:
        layout = build_layout(build_layers(layers))
        if set(layout.names) != set(values):
            raise ValueError("sigma: layer names do not match layers")
        groups = {name: int(g) for name, g in zip(layout.names, layout.group_ids)}
    smallest = {}
    for name, value in values.items():
        smallest[groups[name]] = min(value, smallest.get(groups[name], math.inf))
    return {name: smallest[groups[name]] / value for name, value in values.items()}


def fixed_layerwise(layers, lr, weights, *, beta=0.9, momentum_form="ema", nesterov=False, weight_decay=0.0,
                    backend="reference") -> Optimizer:
    """LMO momentum with constant weights ``weights = {name: w in (0, 1]}``."""
    layers = build_layers(layers)
    names = [layer.name for layer in layers]
    if not isinstance(weights, Mapping) or set(weights) != set(names):
        raise ValueError(f"weights: expected a dict with one weight per layer {names}")
    values = tuple(check_real(weights[name], f"weights[{name!r}]", low=0.0, low_open=True, high=1.0)
                   for name in names)
    config = make_config("fixed_layerwise", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay, fixed_weights=values)
    return Optimizer(layers, ("lmo",) * len(layers), config, backend)
