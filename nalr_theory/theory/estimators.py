"""Noise-estimate intervals and LANTON's weight interval (special case 4 of the theorem).

Problem
    LANTON sets ``w_t^l = alpha^l / max_{j in group(l)} alpha^j``, ``alpha^l = 1/sqrt(H_t^l)``
    from a noise estimate ``H_t^l = beta2 H_{t-1}^l + (1 - beta2) n_t^l`` (``H = n`` at the
    first sample: an EMA of samples ``n_t^l``; ``nalr_theory.optimizers.lanton``, samples
    from ``nalr_theory.optimizers.noise_estimators``). The theorem's ``w_lo`` form needs a
    pathwise interval ``H^l in [h_lo[l], h_hi[l]]``; which estimator gives one?

Algorithm
    * ``oracle_ema_interval``: under A2b the oracle sample ``||xi_t||_*^2`` lies in
      ``[sigma_lo^2, sigma_hi^2]``, and an EMA started at the first sample is a convex
      combination of samples, so ``H`` stays in the same interval on every path.
    * ``two_sample_interval``: ``z = ||G - G'||_*^2 = ||xi - xi'||_*^2 in [0, 4 sigma_hi^2]``
      on every draw (triangle inequality; ``0`` when ``xi = xi'`` is possible): **no positive
      pathwise lower bound**, ``w_lo = 0``. In expectation ``sigma_lo^2 <= E[z | F] <=
      4 sigma_hi^2`` (Jensen: ``E_{xi'} ||xi - xi'|| >= ||xi||``; ``(a+b)^2 <= 2a^2 + 2b^2``),
      and in Frobenius ``E z = 2 E||xi||_F^2`` exactly. ``scale`` multiplies ``z`` (the
      ``two_sample`` estimator of ``nalr_theory.optimizers.noise_estimators`` is ``z / 2``).
    * ``clipped_interval``: clipping ``H`` into ``[h_min, h_max]`` maps the interval
      ``[lo, hi]`` to ``[clip(lo), clip(hi)]``, positive whenever ``h_min > 0``.
    * ``lanton_weight_interval``: ``w = min(1, sqrt(min_{j in group, j != l} H^j / H^l))``
      is increasing in each ``H^j`` and decreasing in ``H^l``, each appearing once, so the
      interval is attained at corners:
      ``w_hi[l] = min(1, sqrt(min_{j in group, j != l} h_hi[j] / h_lo[l]))``,
      ``w_lo[l] = min(1, sqrt(min_{j in group, j != l} h_lo[j] / h_hi[l]))``, and ``1`` for a
      group of one layer. Including ``j = l`` in the ``w_lo`` minimum (interval arithmetic
      on ``alpha^l / max_j alpha^j`` with ``H^l`` twice) is valid but *not* tight.

Guarantee
    Every interval is tight (tests: attained by explicit draws/corners, never violated by
    random paths). The weights satisfy ``w <= 1`` on every path for any estimator, hence the
    weighted-on-path form of the theorem always applies.

References
    ``nalr_theory.theory.theorem.lanton_special_case`` (special case 4);
    ``nalr_theory.optimizers.lanton`` and ``nalr_theory.optimizers.noise_estimators`` (LANTON,
    estimators); Hao et al., LANTON, arXiv 2510.14009 (2025).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check


@dataclass(frozen=True)
class NoiseEstimateInterval:
    """Per-layer bounds on a noise estimate ``H^l``.

    ``pathwise_lo/hi``: on every path; ``expectation_lo/hi``: bounds on ``E[n | F]`` (the
    conditional mean of one sample); ``pathwise_lower_bound``: whether ``pathwise_lo > 0``
    for every layer (the condition for the theorem's ``w_lo`` form).
    """

    estimator: str
    pathwise_lo: np.ndarray
    pathwise_hi: np.ndarray
    expectation_lo: np.ndarray
    expectation_hi: np.ndarray
    note: str

    @property
    def pathwise_lower_bound(self) -> bool:
        """Whether ``pathwise_lo > 0`` for every layer (needed by the theorem's ``w_lo`` form)."""
        return bool(np.all(self.pathwise_lo > 0))


def _sigma_bounds(sigma_lo, sigma_hi):
    lo = check.nonnegative(np.atleast_1d(sigma_lo), "sigma_lo")
    hi = check.positive(np.atleast_1d(sigma_hi), "sigma_hi")
    lo, hi = np.broadcast_arrays(lo, hi)
    if np.any(lo > hi):
        raise ValueError(f"sigma_lo: must be <= sigma_hi, got {lo} > {hi}")
    return lo.astype(np.float64), hi.astype(np.float64)


def oracle_ema_interval(sigma_lo, sigma_hi) -> NoiseEstimateInterval:
    """EMA of the oracle value ``||xi_t||_*^2`` under A2b: ``[sigma_lo^2, sigma_hi^2]``."""
    lo, hi = _sigma_bounds(sigma_lo, sigma_hi)
    return NoiseEstimateInterval(
        "oracle", lo**2, hi**2, lo**2, hi**2,
        "EMA (first value = first sample) of ||xi_t||_*^2: a convex combination of samples in [sigma_lo^2, sigma_hi^2].",
    )


def two_sample_interval(sigma_lo, sigma_hi, scale: float = 1.0, frobenius: bool = False) -> NoiseEstimateInterval:
    """EMA of ``scale * ||G - G'||_*^2`` under A2b (``scale = 1/2``: optimizers' ``two_sample``).

    Pathwise ``[0, 4 scale sigma_hi^2]`` (no positive lower bound). In expectation
    ``[scale sigma_lo^2, 4 scale sigma_hi^2]``, or ``[2 scale sigma_lo^2, 2 scale sigma_hi^2]``
    in the Frobenius norm (``E||xi - xi'||_F^2 = 2 E||xi||_F^2``).
    """
    lo, hi = _sigma_bounds(sigma_lo, sigma_hi)
    factor = check.positive_scalar(scale, "scale")
    if frobenius:
        expectation = (2 * factor * lo**2, 2 * factor * hi**2)
    else:
        expectation = (factor * lo**2, 4 * factor * hi**2)
    return NoiseEstimateInterval(
        "two_sample", np.zeros_like(lo), 4 * factor * hi**2, expectation[0], expectation[1],
        "||xi - xi'||_*^2 can be 0 (xi' = xi) or 4 sigma_hi^2 (xi' = -xi, both of norm sigma_hi): no pathwise "
        "lower bound; use clipping for the w_lo form, or the weighted-on-path form.",
    )


def clipped_interval(interval: NoiseEstimateInterval, h_min, h_max) -> NoiseEstimateInterval:
    """``H`` clipped into ``[h_min, h_max]`` (``h_min > 0`` gives a pathwise lower bound)."""
    low = check.positive(h_min, "h_min")
    high = check.positive(h_max, "h_max")
    if np.any(low > high):
        raise ValueError(f"h_min: must be <= h_max, got {h_min} > {h_max}")

    def clip(values):
        return np.minimum(np.maximum(values, low), high)

    return NoiseEstimateInterval(
        interval.estimator + "+clip",
        clip(interval.pathwise_lo), clip(interval.pathwise_hi),
        clip(interval.pathwise_lo), clip(interval.pathwise_hi),
        f"{interval.estimator} clipped into [h_min, h_max]; the expectation bounds are the clipped pathwise ones.",
    )


def _groups(groups, layers: int) -> list:
    if groups is None:
        return [0] * layers
    groups = list(groups)
    if len(groups) != layers:
        raise ValueError(f"groups: expected {layers} labels (one per layer), got {len(groups)}")
    return groups


def lanton_weights(H, groups=None, w_min: float = 0.0) -> np.ndarray:
    """LANTON's weights ``alpha^l / max_{j in group(l)} alpha^j``, ``alpha = H^(-1/2)``; floor ``w_min``."""
    values = check.positive(np.atleast_1d(H), "H")
    labels = _groups(groups, values.shape[-1])
    floor = float(check.nonnegative(w_min, "w_min"))
    alpha = 1.0 / np.sqrt(values)
    weights = np.empty_like(alpha)
    for label in set(labels):
        members = [index for index, other in enumerate(labels) if other == label]
        weights[..., members] = alpha[..., members] / np.max(alpha[..., members], axis=-1, keepdims=True)
    return np.maximum(weights, floor)


def lanton_weight_interval(h_lo, h_hi, groups=None, w_min: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Tight ``(w_lo, w_hi)`` of LANTON's weights when ``H^l in [h_lo[l], h_hi[l]]`` on every path.

    ``groups``: one label per layer (default: one group). A zero ``h_lo`` of another layer
    gives ``w_lo = 0`` (no pathwise lower bound); ``w_min`` raises both bounds to the floor.
    """
    low = check.nonnegative(np.atleast_1d(h_lo), "h_lo")
    high = check.positive(np.atleast_1d(h_hi), "h_hi")
    if low.shape != high.shape or low.ndim != 1:
        raise ValueError(f"h_lo: expected the shape of h_hi, one value per layer, got {low.shape} and {high.shape}")
    if np.any(low > high):
        raise ValueError(f"h_lo: must be <= h_hi, got {low} > {high}")
    labels = _groups(groups, low.shape[0])
    floor = float(check.nonnegative(w_min, "w_min"))
    w_lo = np.ones_like(low)
    w_hi = np.ones_like(low)
    for index, label in enumerate(labels):
        others = [other for other, name in enumerate(labels) if name == label and other != index]
        if not others:
            continue
        with np.errstate(divide="ignore"):
            w_hi[index] = 1.0 if low[index] == 0 else min(1.0, np.sqrt(np.min(high[others]) / low[index]))
        w_lo[index] = min(1.0, np.sqrt(np.min(low[others]) / high[index]))
    return np.maximum(w_lo, floor), np.maximum(w_hi, floor)


def lanton_weight_interval_naive(h_lo, h_hi, groups=None) -> tuple[np.ndarray, np.ndarray]:
    """Interval arithmetic on ``alpha^l / max_{j in group} alpha^j`` with ``j = l`` included.

    Valid but loose: ``H^l`` appears twice (e.g. a one-layer group gets
    ``w_lo = sqrt(h_lo/h_hi) < 1`` instead of the exact ``1``). Kept to show why the tight
    ``w_lo`` of :func:`lanton_weight_interval` excludes the layer itself.
    """
    low = check.positive(np.atleast_1d(h_lo), "h_lo")
    high = check.positive(np.atleast_1d(h_hi), "h_hi")
    labels = _groups(groups, low.shape[0])
    w_lo = np.empty_like(low)
    w_hi = np.empty_like(low)
    for index, label in enumerate(labels):
        members = [other for other, name in enumerate(labels) if name == label]
        # alpha^l in [h_hi^-1/2, h_lo^-1/2]; max_j alpha^j in [max_j h_hi^-1/2, max_j h_lo^-1/2]
        w_lo[index] = min(1.0, (1 / np.sqrt(high[index])) / np.max(1 / np.sqrt(low[members])))
        w_hi[index] = min(1.0, (1 / np.sqrt(low[index])) / np.max(1 / np.sqrt(high[members])))
    return w_lo, w_hi


__all__ = [
    "NoiseEstimateInterval",
    "clipped_interval",
    "lanton_weight_interval",
    "lanton_weight_interval_naive",
    "lanton_weights",
    "oracle_ema_interval",
    "two_sample_interval",
]
