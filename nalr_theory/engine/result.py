"""The record a simulation returns, shared by the engine and its reference."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: the stationarity measures a run can average (see :func:`nalr_theory.engine.simulate`)
MEASURES = ("plain", "weighted", "noise_normalised")


@dataclass(frozen=True)
class SimulationResult:
    """R seeds x T steps of one optimizer on one problem (seeds on axis 0).

    ``steps`` (records,)
        the recorded steps ``t`` (``record_every, 2 record_every, ...``, and ``T``).
    ``f``, ``stationarity`` (R, records)
        ``f(X_t)`` and the plain stationarity ``S(X_t) = sum_l ||grad_l f(X_t)||_{l,*}``.
    ``grad_dual``, ``weights``, ``noise_estimate``, ``noise_dual``, ``step_length`` (R, records, p)
        per layer at the recorded steps: ``||grad_l f(X_t)||_{l,*}``, the weight ``w_t^l``
        applied at step ``t``, LANTON's ``H_t^l`` (NaN where there is none), the dual norm
        of the oracle's noise ``||xi_t^l||_{l,*}`` and the step length ``eta_t w_t^l``.
    ``average`` {measure: (R,)}
        exact time averages over ``t = 1..T`` (every step, whatever ``record_every``):
        ``plain`` ``(1/T) sum_t S(X_t)``, ``weighted`` ``(1/T) sum_t sum_l w_t^l ||grad_l||``,
        ``noise_normalised`` ``(1/T) sum_t sum_l ||grad_l|| / sigma_l`` (NaN if some
        ``sigma_l = 0``). A diverged seed's averages are NaN.
    ``average_grad_dual`` (R, p)
        exact time averages ``(1/T) sum_t ||grad_l f(X_t)||_{l,*}`` per layer (every step; NaN
        for a diverged seed): any fixed weighting ``sum_l w_l ||grad_l||`` is a dot product.
    ``diverged_at`` (R,)
        0, or the step at which the seed produced a non-finite value; its later records are
        NaN and the other seeds go on.
    ``final`` {layer: (R, m, n)}
        the last iterate of each seed (``X_{T+1}``; NaN for a diverged seed).
    ``extra`` {name: (R, records, p)}
        the method's own per-layer diagnostics at the recorded steps, for the methods that
        report more (Sophia: ``win_rate``, ``kappa_lo``, ``kappa_hi``; the adaptive Schatten
        method: ``q``, ``J``, ``J_sgd``, ``J_muon``); empty for the others.
    """

    steps: np.ndarray
    f: np.ndarray
    stationarity: np.ndarray
    grad_dual: np.ndarray
    weights: np.ndarray
    noise_estimate: np.ndarray
    noise_dual: np.ndarray
    step_length: np.ndarray
    average: dict
    average_grad_dual: np.ndarray
    diverged_at: np.ndarray
    final: dict
    seeds: tuple = ()
    layer_names: tuple = ()
    extra: dict = field(default_factory=dict)

    @property
    def diverged(self) -> np.ndarray:
        """Boolean (R,): which seeds diverged."""
        return self.diverged_at > 0


def recorded_steps(T: int, record_every: int) -> np.ndarray:
    """``record_every, 2 record_every, ..., T`` (``T`` always recorded)."""
    steps = np.arange(record_every, T + 1, record_every, dtype=np.int64)
    if steps.size == 0 or steps[-1] != T:
        steps = np.append(steps, np.int64(T))
    return steps
