"""Momentum: the EMA form (analysed family, Scion, Muon) and the heavy-ball sum (D-Muon).

Problem
    Average the stochastic gradients ``G_t`` of one layer into a direction with less noise.

Algorithm
    * EMA (``"ema"``): ``B_t = beta B_{t-1} + (1 - beta) G_t``, Nesterov direction
      ``U_t = (1 - beta) G_t + beta B_t``.
    * heavy ball (``"heavy_ball"``): ``B_t = beta B_{t-1} + G_t``, Nesterov direction
      ``U_t = G_t + beta B_t``.
    * ``B_0 = 0``; without Nesterov ``U_t = B_t``.
    * The *mass* ``m_t`` (total weight of the gradients in ``B_t``): ``m_t = beta m_{t-1} +
      (1 - beta)`` (EMA) or ``beta m_{t-1} + 1`` (heavy ball), ``m_0 = 0``; ``B_t / m_t`` is a
      weighted average of past gradients whatever the form and the ``beta`` schedule.

Guarantee
    The two forms give directions proportional to each other for a constant ``beta``
    (``B^hb = B^ema / (1 - beta)``), so scale-invariant LMOs (Newton-Schulz, sign, any
    normalised direction) see no difference; estimators built on ``B`` must use ``B / m``.

References
    ALGORITHMS.md ("Momentum"); K. Jordan et al., Muon (2024) for the EMA/Nesterov code;
    Liu et al., "Muon is scalable for LLM training" (2025) for the heavy-ball code.
"""

from __future__ import annotations

import numpy as np

FORMS = ("ema", "heavy_ball")


def accumulate(previous: np.ndarray, grad: np.ndarray, beta: float, form: str) -> np.ndarray:
    """``B_t`` from ``B_{t-1}`` and ``G_t`` (a new array)."""
    if form == "ema":
        return beta * previous + (1.0 - beta) * grad
    return beta * previous + grad


def nesterov(momentum: np.ndarray, grad: np.ndarray, beta: float, form: str) -> np.ndarray:
    """Nesterov look-ahead ``U_t`` from ``B_t`` and ``G_t`` (a new array)."""
    if form == "ema":
        return (1.0 - beta) * grad + beta * momentum
    return grad + beta * momentum


def mass(previous: float, beta: float, form: str) -> float:
    """``m_t`` from ``m_{t-1}``: the total weight of the gradients summed in ``B_t``."""
    if form == "ema":
        return beta * previous + (1.0 - beta)
    return beta * previous + 1.0
