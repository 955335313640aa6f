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
    * ``uba(peak, horizon, final=0, phi=2, warmup_steps=0)``: **UBA-form (unverified
      formula)**. Cosine's progress ``s`` and factor ``u = (1 + cos(pi s)) / 2``, then
      ``final + (peak - final) 2u / (phi + (2 - phi) u)``: ``phi = 2`` is cosine exactly,
      ``phi -> 0`` stays near ``peak`` until late (stable-then-decay), ``phi > 2`` decays
      early; the midpoint value is ``final + (peak - final) 2 / (phi + 2)``.

Guarantee
    Every schedule is a frozen dataclass (hashable, comparable, printable), its value at ``t``
    depends on ``t`` and its fields only, and ``values(T)[t - 1] == schedule(t)`` bit for bit.
    Parameters are checked at construction (``ValueError`` naming the parameter).

References
    ``nalr_theory.theory.schedules`` (rate and optimal constants); Loshchilov & Hutter, "SGDR" (2017)
    for cosine; Hu et al., "MiniCPM" (2024) and Wen et al. (2024) for warmup-stable-decay;
    A. Tang, Y. Dong, Y. Zeng, X. Zhou, Z. Lin, "Stepsize anything: a unified learning rate
    schedule for budgeted-iteration training" (arXiv 2505.24452, NeurIPS 2025) for UBA. Only
    that paper's abstract could be read (one hyperparameter ``phi`` tied to the condition
    number, derived from a budget-aware min-max problem); the formula above comes from a
    third-party training script, not from the paper, so every label of this schedule says
    "UBA-form (unverified formula)" until the paper's equation and its guidance on ``phi``
    are read and pinned by a test. The paper's convergence theorem is not reproduced here.

Decisions (spec silent): steps are 1-based; warmup starts at ``peak / warmup_steps`` (never
0, which would waste a step); a decayed schedule may reach ``final = 0``, so optimizers accept
a schedule value ``>= 0`` while a constant ``lr`` must be ``> 0``. UBA takes cosine's
parameters (``peak``, ``final`` for the ``eta_max``, ``eta_min`` of the UBA write-ups) and its
progress variable, and composes with the linear warm-up like cosine; its default
``phi = 2`` is ours (it reproduces cosine, so a default run changes nothing), not a
recommendation of the paper, which could not be read.
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

    def values(self, horizon: int) -> np.ndarray:
        """``value`` ``horizon`` times, without a call per step."""
        return np.full(_steps(horizon, "horizon", minimum=1), self.value, dtype=np.float64)


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
        return _warmup_then_decay(self, t, cosine_factor, None)


def _warmup_then_decay(schedule, t: int, factor, shape) -> float:
    """Cosine's and UBA's shared frame: linear warmup, ``final + (peak - final) factor(s)`` with
    ``s = (t - warmup_steps - 1) / (horizon - warmup_steps)`` up to the horizon, ``final`` after."""
    if t <= schedule.warmup_steps:
        return schedule.peak * t / schedule.warmup_steps
    if t > schedule.horizon:
        return schedule.final
    done = (t - schedule.warmup_steps - 1) / (schedule.horizon - schedule.warmup_steps)
    return schedule.final + (schedule.peak - schedule.final) * factor(done, shape)


def cosine_factor(progress: float, unused=None) -> float:
    """``(1 + cos(pi progress)) / 2``: 1 at ``progress = 0``, 0 at ``progress = 1``."""
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def uba_factor(progress: float, phi: float) -> float:
    """The UBA-form factor ``2u / (phi + (2 - phi) u)``, ``u = (1 + cos(pi progress)) / 2``:
    1 at ``progress = 0``, 0 at ``progress = 1``, strictly decreasing for every ``phi > 0``
    (the denominator lies between ``phi`` and 2), and exactly ``u`` (cosine) at ``phi = 2``.
    Plain ``math``, so numba compiles this same function."""
    u = 0.5 * (1.0 + math.cos(math.pi * progress))  # cosine_factor, written out for numba
    return 2.0 * u / (phi + (2.0 - phi) * u)


@dataclass(frozen=True)
class UBA(Schedule):
    """UBA-form (unverified formula): :class:`Cosine` with its factor replaced by
    :func:`uba_factor` (unchecked here: :func:`uba` validates). ``label`` and ``repr`` carry
    the unverified status so that no plot or record calls it "UBA (Tang et al.)".
    """

    peak: float
    horizon: int
    final: float = 0.0
    phi: float = 2.0
    warmup_steps: int = 0

    #: how plots and records name this schedule until the paper's formula is confirmed
    label = "UBA-form (unverified formula)"

    def __repr__(self) -> str:
        return (f"UBA-form (unverified formula)(peak={self.peak!r}, horizon={self.horizon!r}, final={self.final!r}, "
                f"phi={self.phi!r}, warmup_steps={self.warmup_steps!r})")

    def __call__(self, t: int) -> float:
        return _warmup_then_decay(self, t, uba_factor, self.phi)


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


def uba(peak, horizon, final=0.0, phi=2.0, warmup_steps=0) -> UBA:
    """UBA-form (unverified formula): linear warmup, then ``final + (peak - final) uba_factor(s, phi)``
    with cosine's progress ``s``; ``phi = 2`` equals :func:`cosine` exactly (the default, ours)."""
    peak = _real(peak, "peak", low=0.0, low_open=True)
    horizon = _steps(horizon, "horizon", minimum=1)
    final = _real(final, "final", low=0.0, high=peak)
    phi = _real(phi, "phi", low=0.0, low_open=True)
    warmup_steps = _steps(warmup_steps, "warmup_steps")
    if warmup_steps >= horizon:
        raise ValueError(f"warmup_steps: must be < horizon ({horizon}), got {warmup_steps}")
    return UBA(peak, horizon, final, phi, warmup_steps)


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
