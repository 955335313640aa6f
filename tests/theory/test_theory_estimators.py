"""Noise-estimate intervals and LANTON's tight weight interval."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from _theory_mc_problem import dual_norm

from nalr_theory.theory import (
    clipped_interval,
    lanton_weight_interval,
    lanton_weights,
    oracle_ema_interval,
    two_sample_interval,
)
from nalr_theory.theory.estimators import lanton_weight_interval_naive
from nalr_theory.theory.symbols import h_hi, h_lo
from nalr_theory.theory.theorem import lanton_weight_bounds_symbolic


def _random_case(rng, p):
    groups = list(rng.integers(0, 2, size=p))
    low = rng.uniform(0.1, 2.0, size=p)
    high = low * rng.uniform(1.0, 4.0, size=p)
    return groups, low, high


def test_lanton_weight_interval_contains_every_draw_and_is_attained_at_corners():
    rng = np.random.default_rng(0)
    for _ in range(30):
        p = int(rng.integers(1, 6))
        groups, low, high = _random_case(rng, p)
        w_lo, w_hi = lanton_weight_interval(low, high, groups)
        H = rng.uniform(low, high, size=(2000, p))
        weights = lanton_weights(H, groups)
        assert np.all(weights >= w_lo - 1e-12) and np.all(weights <= w_hi + 1e-12)
        for layer in range(p):
            # corner attaining w_hi: H_l = h_lo[l], others at h_hi; w_lo: H_l = h_hi[l], others at h_lo
            corner_hi = high.copy()
            corner_hi[layer] = low[layer]
            corner_lo = low.copy()
            corner_lo[layer] = high[layer]
            assert lanton_weights(corner_hi, groups)[layer] == pytest.approx(w_hi[layer], rel=1e-12)
            assert lanton_weights(corner_lo, groups)[layer] == pytest.approx(w_lo[layer], rel=1e-12)


def test_one_layer_group_has_weight_exactly_one_and_the_naive_interval_is_loose():
    low, high = np.array([1.0, 2.0, 0.5]), np.array([3.0, 5.0, 4.0])
    groups = ["a", "a", "b"]
    w_lo, w_hi = lanton_weight_interval(low, high, groups)
    assert w_lo[2] == 1.0 and w_hi[2] == 1.0
    naive_lo, naive_hi = lanton_weight_interval_naive(low, high, groups)
    assert naive_lo[2] == pytest.approx(np.sqrt(0.5 / 4.0))  # H^l twice: loose
    assert np.all(naive_lo <= w_lo + 1e-15) and np.all(naive_hi >= w_hi - 1e-15)
    assert np.any(naive_lo < w_lo - 1e-6)


def test_theory_md_formulas_for_w_lo_and_w_hi():
    low, high = np.array([1.0, 2.0, 0.5]), np.array([3.0, 5.0, 4.0])
    w_lo, w_hi = lanton_weight_interval(low, high)
    for layer in range(3):
        others = [j for j in range(3) if j != layer]
        assert w_hi[layer] == pytest.approx(min(1.0, np.sqrt(np.min(high) / low[layer])))  # spec: min over the group
        assert w_lo[layer] == pytest.approx(min(1.0, np.sqrt(np.min(low[others]) / high[layer])))


def test_symbolic_weight_bounds_match_the_numeric_interval():
    groups = [0, 0, 1, 0]
    low, high = np.array([0.4, 1.0, 2.0, 0.7]), np.array([1.5, 1.2, 4.0, 3.0])
    lows, highs = lanton_weight_bounds_symbolic(groups)
    values = {h_lo[i + 1]: low[i] for i in range(4)} | {h_hi[i + 1]: high[i] for i in range(4)}
    w_lo, w_hi = lanton_weight_interval(low, high, groups)
    assert [float(sp.sympify(e).subs(values)) for e in lows] == pytest.approx(list(w_lo), rel=1e-14)
    assert [float(sp.sympify(e).subs(values)) for e in highs] == pytest.approx(list(w_hi), rel=1e-14)


def test_oracle_ema_stays_in_its_interval():
    rng = np.random.default_rng(1)
    sigma_lo, sigma_hi = np.array([0.2, 0.5]), np.array([0.4, 1.5])
    interval = oracle_ema_interval(sigma_lo, sigma_hi)
    assert interval.pathwise_lower_bound
    samples = rng.uniform(sigma_lo, sigma_hi, size=(500, 300, 2)) ** 2
    H = samples[:, 0]
    for step in range(1, 300):
        H = 0.9 * H + 0.1 * samples[:, step]
        assert np.all((H >= interval.pathwise_lo - 1e-15) & (H <= interval.pathwise_hi + 1e-15))


def test_two_sample_interval_has_no_positive_pathwise_lower_bound():
    rng = np.random.default_rng(2)
    sigma_lo, sigma_hi = 0.5, 1.0
    interval = two_sample_interval(sigma_lo, sigma_hi)
    assert not interval.pathwise_lower_bound
    D = rng.standard_normal((3, 2))
    xi = sigma_hi * D / dual_norm(D, "max_abs")
    assert dual_norm(xi - xi, "max_abs") ** 2 == interval.pathwise_lo[0]  # xi' = xi
    assert dual_norm(xi - (-xi), "max_abs") ** 2 == pytest.approx(interval.pathwise_hi[0])  # xi' = -xi
    # in expectation: sigma_lo^2 <= E z <= 4 sigma_hi^2 (max_abs), E z = 2 E||xi||_F^2 (Frobenius)
    for norm in ("max_abs", "frobenius"):
        D1, D2 = rng.standard_normal((2, 200000, 3, 2))
        s1, s2 = rng.uniform(sigma_lo, sigma_hi, size=(2, 200000))
        xi1 = (s1 / dual_norm(D1, norm))[:, None, None] * D1
        xi2 = (s2 / dual_norm(D2, norm))[:, None, None] * D2
        z = dual_norm(xi1 - xi2, norm) ** 2
        expected = two_sample_interval(sigma_lo, sigma_hi, frobenius=(norm == "frobenius"))
        error = 4 * z.std() / np.sqrt(z.size)
        assert expected.expectation_lo[0] - error <= z.mean() <= expected.expectation_hi[0] + error
        assert np.all((z >= 0) & (z <= 4 * sigma_hi**2 + 1e-12))
        if norm == "frobenius":
            assert z.mean() == pytest.approx(2 * np.mean(dual_norm(xi1, norm) ** 2), abs=error)
    assert two_sample_interval(sigma_lo, sigma_hi, scale=0.5).pathwise_hi[0] == pytest.approx(2 * sigma_hi**2)


def test_clipping_restores_a_pathwise_lower_bound():
    interval = clipped_interval(two_sample_interval([0.5, 0.5, 0.5], [1.0, 1.0, 1.0]), h_min=0.1, h_max=2.0)
    assert interval.pathwise_lower_bound
    w_lo, w_hi = lanton_weight_interval(interval.pathwise_lo, interval.pathwise_hi)
    assert w_lo == pytest.approx(np.full(3, np.sqrt(0.1 / 2.0)))  # THEORY.md: sqrt(min h_min / h_max)
    unclipped = two_sample_interval([0.5, 0.5, 0.5], [1.0, 1.0, 1.0])
    w_lo_unclipped, _ = lanton_weight_interval(unclipped.pathwise_lo, unclipped.pathwise_hi)
    assert np.all(w_lo_unclipped == 0.0)


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_lo"):
        oracle_ema_interval(2.0, 1.0)
    with pytest.raises(ValueError, match="h_lo"):
        lanton_weight_interval([2.0], [1.0])
    with pytest.raises(ValueError, match="groups"):
        lanton_weight_interval([1.0, 1.0], [2.0, 2.0], groups=["a"])
    with pytest.raises(ValueError, match="h_min"):
        clipped_interval(oracle_ema_interval(1.0, 2.0), h_min=3.0, h_max=2.0)
