"""The UBA-form schedule (unverified formula): the hand-checkable tests of its definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from nalr_theory.optimizers import schedules


def test_end_points():
    schedule = schedules.uba(2.0, 50, final=0.1, phi=0.8)
    assert schedule(1) == 2.0  # progress 0
    assert schedule(50) == pytest.approx(0.1 + 1.9 * schedules.uba_factor(49 / 50, 0.8), rel=1e-15)
    assert schedule(51) == 0.1  # after the horizon, like cosine
    assert schedules.uba_factor(0.0, 0.8) == 1.0 and schedules.uba_factor(1.0, 0.8) == pytest.approx(0.0, abs=1e-16)


@pytest.mark.parametrize("warmup", [0, 3])
def test_phi_two_is_cosine_bit_for_bit(warmup):
    uba, cosine = schedules.uba(0.7, 40, 0.02, 2.0, warmup), schedules.cosine(0.7, 40, 0.02, warmup)
    values = uba.values(45)
    assert np.array_equal(values, cosine.values(45))
    assert np.max(np.abs(values - cosine.values(45))) <= 1e-15


@pytest.mark.parametrize("phi, expected", [(0.5, 0.8), (1.0, 2 / 3), (2.0, 0.5), (6.0, 0.25)])
def test_midpoint(phi, expected):
    # horizon 10, no warmup: progress (t - 1) / 10 is 1/2 at t = 6
    assert schedules.uba(1.0, 10, 0.0, phi)(6) == pytest.approx(expected, rel=1e-14)
    assert schedules.uba_factor(0.5, phi) == pytest.approx(2 / (phi + 2), rel=1e-14)


@pytest.mark.parametrize("phi", [0.1, 1.0, 2.0, 10.0])
def test_monotone_non_increasing(phi):
    values = schedules.uba(1.0, 500, 0.0, phi).values(501)
    assert np.all(np.diff(values) <= 0.0)


def test_numba_twin_equals_reference():
    compiled = njit(schedules.uba_factor)  # numba compiles the same function
    grid = np.linspace(0.0, 1.0, 101)
    for phi in (0.1, 0.8, 2.0, 6.0):
        reference = np.array([schedules.uba_factor(s, phi) for s in grid])
        twin = np.array([compiled(s, phi) for s in grid])
        assert np.max(np.abs(reference - twin)) <= 1e-15


def test_label_says_unverified():
    schedule = schedules.uba(1.0, 10, phi=0.8)
    assert "unverified" in repr(schedule) and schedule.label == "UBA-form (unverified formula)"


@pytest.mark.parametrize("build, name", [
    (lambda: schedules.uba(1.0, 10, phi=0.0), "phi"),
    (lambda: schedules.uba(1.0, 10, phi=-1.0), "phi"),
    (lambda: schedules.uba(1.0, 10, phi=math.nan), "phi"),
    (lambda: schedules.uba(0.0, 10), "peak"),
    (lambda: schedules.uba(1.0, 10, final=-0.1), "final"),
    (lambda: schedules.uba(1.0, 10, final=2.0), "final"),
    (lambda: schedules.uba(1.0, 0), "horizon"),
    (lambda: schedules.uba(1.0, 10, warmup_steps=10), "warmup_steps"),
    (lambda: schedules.uba(1.0, 10).values(0), "horizon"),
])
def test_bad_input_names_the_parameter(build, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        build()
