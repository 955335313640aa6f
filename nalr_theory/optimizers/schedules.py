"""Step-size and momentum schedules: pure functions of the step ``t`` (and a horizon ``T``).

Problem
    Give the learning rate ``eta_t`` and the momentum ``beta_t`` of step ``t = 1, 2, ...`` as
    deterministic functions, so that a run is a function of its configuration and seed only
    and the simulation engine can tabulate them once (``schedule.values(T)``) instead of
    calling Python at every step.

Algorithm
    * ``constant(value)``: ``value`` at every step.
    * ``theory_lr(c_eta, horizon)``: ``eta = c_eta T^(-3/4)``; ``theory_beta(c_beta, horizon)``:
      ``1 - beta = c_beta T^(-1/2)``, clipped to ``beta = 0`` when ``c_beta > sqrt(T)`` (then
      ``feasible`` is false: the theorem makes no ``T^(-1/4)`` claim there).
      ``horizon_tuned(c_eta, c_beta, horizon)`` returns the pair.
    * ``linear_warmup(peak, warmup_steps)``: ``peak * t / warmup_steps`` up to ``warmup_steps``,
      then ``peak``.
    * ``cosine(peak, horizon, final=0, warmup_steps=0)``: linear warmup, then
      ``final + (peak - final) (1 + cos(pi s)) / 2`` with ``s`` the fraction of the post-warmup
      phase already done (``s = 0`` at its first step); ``final`` after the horizon.
    * ``warmup_stable_decay(peak, horizon, warmup_steps, decay_steps, final=0)``: linear warmup,
      ``peak`` until the last ``decay_steps`` steps, then a linear decay reaching ``final`` at
      ``t = horizon``; ``final`` afterwards.

Guarantee
    Every schedule is a frozen dataclass (hashable, comparable, printable), its value at ``t``
    depends on ``t`` and its fields only, and ``values(T)[t - 1] == schedule(t)`` bit for bit.
    Parameters are checked at construction (``ValueError`` naming the parameter).

References
    ``nalr_theory.theory.schedules`` (rate and optimal constants); Loshchilov & Hutter, "SGDR" (2017)
    for cosine; Hu et al., "MiniCPM" (2024) and Wen et al. (2024) for warmup-stable-decay.

Decisions (spec silent): steps are 1-based; warmup starts at ``peak / warmup_steps`` (never
0, which would waste a step); a decayed schedule may reach ``final = 0``, so optimizers accept
a schedule value ``>= 0`` while a constant ``lr`` must be ``> 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Callable

import numpy as np


def _real(value, name: str, *, low: float = -math.inf, low_open: bool = False,
          high: float = math.inf, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    if number < low or (low_open and number == low) or number > high or (high_open and number == high):
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ValueError(f"{name}: must lie in {left}{low}, {high}{right}, got {value!r}")
    return number


def _steps(value, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


class Schedule:
    """Base class: ``schedule(t)`` for ``t >= 1`` and ``schedule.values(T)``."""

    def __call__(self, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def values(self, horizon: int) -> np.ndarray:
        """``[schedule(1), ..., schedule(horizon)]`` as a float64 array (the engine's table)."""
        horizon = _steps(horizon, "horizon", minimum=1)
        return np.array([self(t) for t in range(1, horizon + 1)], dtype=np.float64)


@dataclass(frozen=True)
class Constant(Schedule):
    """``value`` at every step (unchecked here: :func:`constant` validates)."""

    value: float

    def __call__(self, t: int) -> float:
        return self.value


@dataclass(frozen=True)
class LinearWarmup(Schedule):
    """``peak * t / warmup_steps`` for ``t < warmup_steps``, then ``peak`` (unchecked here:
    :func:`linear_warmup` validates)."""

    peak: float
    warmup_steps: int

    def __call__(self, t: int) -> float:
        if t < self.warmup_steps:
            return self.peak * t / self.warmup_steps
        return self.peak


@dataclass(frozen=True)
class Cosine(Schedule):
    """``peak * t / warmup_steps`` for ``t <= warmup_steps``; then, up to ``t = horizon``,
    ``final + (peak - final) (1 + cos(pi s)) / 2`` with
    ``s = (t - warmup_steps - 1) / (horizon - warmup_steps)``; ``final`` for ``t > horizon``
    (unchecked here: :func:`cosine` validates).
    """

    peak: float
    horizon: int
    final: float = 0.0
    warmup_steps: int = 0

    def __call__(self, t: int) -> float:
        if t <= self.warmup_steps:
            return self.peak * t / self.warmup_steps
        if t > self.horizon:
            return self.final
        done = (t - self.warmup_steps - 1) / (self.horizon - self.warmup_steps)
        return self.final + (self.peak - self.final) * 0.5 * (1.0 + math.cos(math.pi * done))


@dataclass(frozen=True)
class WarmupStableDecay(Schedule):
    """``peak * t / warmup_steps`` for ``t <= warmup_steps``; ``peak`` up to
    ``t = horizon - decay_steps``; then ``peak + (final - peak) (t - horizon + decay_steps) / decay_steps``;
    ``final`` for ``t >= horizon`` (unchecked here: :func:`warmup_stable_decay` validates).
    """

    peak: float
    horizon: int
    warmup_steps: int
    decay_steps: int
    final: float = 0.0

    def __call__(self, t: int) -> float:
        if t <= self.warmup_steps:
            return self.peak * t / self.warmup_steps
        decay_start = self.horizon - self.decay_steps
        if t <= decay_start:
            return self.peak
        if t >= self.horizon:
            return self.final
        return self.peak + (self.final - self.peak) * (t - decay_start) / self.decay_steps


@dataclass(frozen=True)
class TheoryLR(Schedule):
    """``eta = c_eta T^(-3/4)`` for the horizon ``T`` (constant in ``t``)."""

    c_eta: float
    horizon: int

    def __call__(self, t: int) -> float:
        return self.c_eta * self.horizon ** -0.75


@dataclass(frozen=True)
class TheoryBeta(Schedule):
    """``1 - beta = c_beta T^(-1/2)``; ``beta = 0`` (and ``feasible`` false) if ``c_beta > sqrt(T)``."""

    c_beta: float
    horizon: int

    @property
    def feasible(self) -> bool:
        """Whether ``c_beta <= sqrt(horizon)``, i.e. ``1 - c_beta T^(-1/2) >= 0`` needs no clipping."""
        return self.c_beta <= math.sqrt(self.horizon)

    def __call__(self, t: int) -> float:
        return max(0.0, 1.0 - self.c_beta * self.horizon ** -0.5)


def constant(value) -> Constant:
    """The constant schedule ``value``."""
    return Constant(_real(value, "value"))


def linear_warmup(peak, warmup_steps) -> LinearWarmup:
    """``peak * t / warmup_steps`` for ``t < warmup_steps``, then ``peak``."""
    return LinearWarmup(_real(peak, "peak", low=0.0, low_open=True), _steps(warmup_steps, "warmup_steps", minimum=1))


def cosine(peak, horizon, final=0.0, warmup_steps=0) -> Cosine:
    """Linear warmup then cosine decay from ``peak`` to ``final`` at ``t = horizon + 1``."""
    peak = _real(peak, "peak", low=0.0, low_open=True)
    horizon = _steps(horizon, "horizon", minimum=1)
    final = _real(final, "final", low=0.0, high=peak)
    warmup_steps = _steps(warmup_steps, "warmup_steps")
    if warmup_steps >= horizon:
        raise ValueError(f"warmup_steps: must be < horizon ({horizon}), got {warmup_steps}")
    return Cosine(peak, horizon, final, warmup_steps)


def warmup_stable_decay(peak, horizon, warmup_steps, decay_steps, final=0.0) -> WarmupStableDecay:
    """Linear warmup, constant ``peak``, linear decay to ``final`` over the last ``decay_steps``."""
    peak = _real(peak, "peak", low=0.0, low_open=True)
    horizon = _steps(horizon, "horizon", minimum=1)
    warmup_steps = _steps(warmup_steps, "warmup_steps")
    decay_steps = _steps(decay_steps, "decay_steps", minimum=1)
    final = _real(final, "final", low=0.0, high=peak)
    if warmup_steps + decay_steps > horizon:
        raise ValueError(
            f"decay_steps: warmup_steps + decay_steps must be <= horizon ({horizon}), "
            f"got {warmup_steps} + {decay_steps}"
        )
    return WarmupStableDecay(peak, horizon, warmup_steps, decay_steps, final)


def theory_lr(c_eta, horizon) -> TheoryLR:
    """The theory's horizon-tuned step ``eta = c_eta T^(-3/4)``."""
    return TheoryLR(_real(c_eta, "c_eta", low=0.0, low_open=True), _steps(horizon, "horizon", minimum=1))


def theory_beta(c_beta, horizon) -> TheoryBeta:
    """The theory's horizon-tuned momentum ``1 - beta = c_beta T^(-1/2)`` (``beta >= 0``)."""
    return TheoryBeta(_real(c_beta, "c_beta", low=0.0, low_open=True), _steps(horizon, "horizon", minimum=1))


def horizon_tuned(c_eta, c_beta, horizon) -> tuple[TheoryLR, TheoryBeta]:
    """``(theory_lr(c_eta, T), theory_beta(c_beta, T))``: the schedule pair of ``nalr_theory.theory.schedules``."""
    return theory_lr(c_eta, horizon), theory_beta(c_beta, horizon)


@dataclass(frozen=True)
class FunctionSchedule(Schedule):
    """Wraps a user function ``t -> value`` (values are checked by the optimizer each step)."""

    function: Callable[[int], float]

    def __call__(self, t: int) -> float:
        return float(self.function(t))


def as_schedule(value, name: str, *, low: float, low_open: bool, high: float = math.inf,
                high_open: bool = False) -> Schedule:
    """A float (checked against the interval, message naming ``name``) or a schedule/callable."""
    if isinstance(value, Schedule):
        return value
    if callable(value):
        return FunctionSchedule(value)
    return Constant(_real(value, name, low=low, low_open=low_open, high=high, high_open=high_open))
