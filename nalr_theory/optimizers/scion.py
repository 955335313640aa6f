"""Scion: LMO momentum with per-layer norm presets, unconstrained or constrained.

Problem
    Train a network whose layers live in different geometries (input ``colnorm``/``sign``,
    hidden ``rms_to_rms`` spectral, output ``sign``/``rownorm``), with one step size rule.

Algorithm (rule: ``steps.lmo_step``)
    ``B_t = beta B_{t-1} + (1 - beta) G_t`` (Scion's code calls ``1 - beta`` "momentum"),
    then per layer, with the layer's norm preset and radius ``r_l``:

    * unconstrained (uSCG): ``X_{t+1} = X_t + eta_t lmo_l(B_t)``;
    * constrained (SCG, ``constrained=True``): ``X_{t+1} = (1 - eta_t) X_t + eta_t lmo_l(B_t)``.

Guarantee
    Constrained: if ``||X_1||_l <= 1`` (the radius-``r_l`` ball) and ``eta_t <= 1``, then
    ``||X_t||_l <= 1`` for all ``t`` (a convex combination of points of the ball), for an
    exact LMO; Newton-Schulz can overshoot by its norm excess ``kappa_hi``.
    Unconstrained: the bound of ``nalr_theory.theory.theorem`` (the analysed family with
    Scion's radii).

References
    T. Pethick, W. Xie, K. Antonakopoulos, Z. Zhu, A. Silveti-Falls, V. Cevher, "Training
    deep learning models with norm-constrained LMOs" (ICML 2025).

Decisions: the presets are the layers' own (a problem declares them, e.g. the
token model's ``sign`` embedding); default ``beta = 0.9`` (Scion's recommended momentum 0.1),
EMA, no Nesterov; ``constrained=True`` forbids ``weight_decay`` (the ``(1 - eta)`` factor is
already the decay) and needs ``lr <= 1`` and ``params`` at each step.
"""

from __future__ import annotations

from .base import Optimizer
from .config import build_layers, check_bool, make_config


def scion(layers, lr, *, beta=0.9, constrained=False, momentum_form="ema", nesterov=False, weight_decay=0.0,
          backend="reference") -> Optimizer:
    """Scion on the layers' norm presets; ``constrained=True`` for the conditional-gradient step."""
    layers = build_layers(layers)
    if check_bool(constrained, "constrained") and weight_decay != 0.0:
        raise ValueError("weight_decay: must be 0 with constrained=True (the (1 - lr) factor is the decay)")
    config = make_config("scion", lr=lr, beta=beta, momentum_form=momentum_form, nesterov=nesterov,
                         weight_decay=weight_decay, constrained=constrained)
    if constrained and config.lr(1) > 1.0:
        raise ValueError(f"lr: the constrained step needs lr <= 1, got {config.lr(1)!r}")
    return Optimizer(layers, ("lmo",) * len(layers), config, backend)
