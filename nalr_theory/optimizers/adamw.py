"""AdamW: the ecosystem's default, for comparison and for the non-matrix layers of Muon/D-Muon.

Problem
    Per-coordinate adaptive steps from running first and second moments of the gradient.

Algorithm (rules: ``rules.adamw_moments``, ``rules.adamw_direction``; step ``steps.adamw_step``)
    ``m_t = beta1 m_{t-1} + (1 - beta1) G_t``, ``v_t = beta2 v_{t-1} + (1 - beta2) G_t^2``,
    ``m^_t = m_t / (1 - beta1^t)``, ``v^_t = v_t / (1 - beta2^t)``,
    ``X_{t+1} = X_t - eta_t (m^_t / (sqrt(v^_t) + eps) + lambda X_t)`` (decoupled decay).

Guarantee
    No LMO guarantee (AdamW is not an LMO method); the step of each coordinate is at most
    about ``eta_t / (1 - beta1)`` in size (a sign-like method), which is why its update RMS
    is ~0.2 in practice and D-Muon matches it.

References
    D. P. Kingma, J. Ba, "Adam" (ICLR 2015); I. Loshchilov, F. Hutter, "Decoupled weight
    decay regularization" (ICLR 2019); ``torch.optim.AdamW`` defaults (``lr = 1e-3``,
    ``betas = (0.9, 0.999)``, ``eps = 1e-8``, ``weight_decay = 0.01``).
"""

from __future__ import annotations

from .base import Optimizer
from .config import build_layers, make_config


def adamw(layers, lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, backend="reference") -> Optimizer:
    """AdamW on every layer, with ``torch.optim.AdamW``'s defaults."""
    layers = build_layers(layers)
    config = make_config("adamw", lr=lr, beta=0.0, adamw_lr=lr, adamw_betas=betas, adamw_eps=eps,
                         adamw_weight_decay=weight_decay,
                         names=dict(adamw_lr="lr", adamw_betas="betas", adamw_eps="eps",
                                    adamw_weight_decay="weight_decay"))
    return Optimizer(layers, ("adamw",) * len(layers), config, backend)
