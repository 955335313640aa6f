"""Schedules: pure functions of t (and T), the horizon-tuned theory pair, bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nalr_theory.optimizers import schedules


def test_constant_and_tables():
    schedule = schedules.constant(0.3)
    assert schedule(1) == schedule(10**6) == 0.3
    np.testing.assert_array_equal(schedule.values(4), [0.3] * 4)


@pytest.mark.parametrize("T", [1, 256, 10**4])
def test_horizon_tuned_theory_schedule(T):
    lr, beta = schedules.horizon_tuned(2.0, 3.0, T)
    assert lr(1) == lr(T) == pytest.approx(2.0 * T ** -0.75, rel=1e-15)
    expected_beta = max(0.0, 1.0 - 3.0 / math.sqrt(T))
    assert beta(5) == pytest.approx(expected_beta, abs=1e-15)
    assert beta.feasible == (3.0 <= math.sqrt(T))
    assert 0.0 <= beta(1) < 1.0


def test_linear_warmup():
    schedule = schedules.linear_warmup(1.0, 4)
    np.testing.assert_allclose(schedule.values(6), [0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_cosine():
    schedule = schedules.cosine(1.0, 10, final=0.1, warmup_steps=2)
    values = schedule.values(12)
    np.testing.assert_allclose(values[:2], [0.5, 1.0])
    assert values[2] == 1.0  # first post-warmup step: s = 0
    assert np.all(np.diff(values[2:10]) < 0)
    assert values[9] > 0.1 and values[10] == values[11] == 0.1
    middle = 2 + 4  # s = 1/2 at t = 7
    assert values[middle] == pytest.approx(0.1 + 0.9 * 0.5)


def test_warmup_stable_decay():
    schedule = schedules.warmup_stable_decay(1.0, 10, warmup_steps=2, decay_steps=4, final=0.0)
    np.testing.assert_allclose(schedule.values(11), [0.5, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0])


def test_values_match_calls_bit_for_bit():
    for schedule in (schedules.cosine(0.7, 33, 0.01, 3), schedules.warmup_stable_decay(0.7, 33, 3, 7),
                     schedules.theory_lr(1.3, 33), schedules.theory_beta(0.5, 33)):
        np.testing.assert_array_equal(schedule.values(40), [schedule(t) for t in range(1, 41)])


@pytest.mark.parametrize("build, name", [
    (lambda: schedules.linear_warmup(0.0, 3), "peak"),
    (lambda: schedules.linear_warmup(1.0, 0), "warmup_steps"),
    (lambda: schedules.cosine(1.0, 10, final=2.0), "final"),
    (lambda: schedules.cosine(1.0, 10, warmup_steps=10), "warmup_steps"),
    (lambda: schedules.cosine(float("nan"), 10), "peak"),
    (lambda: schedules.warmup_stable_decay(1.0, 10, 5, 6), "decay_steps"),
    (lambda: schedules.theory_lr(-1.0, 10), "c_eta"),
    (lambda: schedules.theory_beta(1.0, 0), "horizon"),
    (lambda: schedules.constant("x"), "value"),
    (lambda: schedules.constant(1.0).values(0), "horizon"),
])
def test_bad_parameters(build, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        build()
