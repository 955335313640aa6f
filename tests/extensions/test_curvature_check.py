"""Tracking of Sophia's curvature estimators against the exact Hessian diagonal."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import problems
from nalr_theory.experiments import curvature_check


def test_estimators_are_unbiased_and_the_ema_shrinks_their_noise_as_predicted():
    draws, beta2 = 4000, 0.99
    check = curvature_check(problems.get("random_features"), draws=draws, beta2=beta2)
    assert set(check.mean_error) == {"hutchinson", "hutchinson_block", "gnb"}
    for estimator in check.mean_error:
        # unbiased: the mean's error is sampling error, about draw_error / sqrt(draws)
        assert check.mean_error[estimator][0] <= 4 * check.draw_error[estimator][0] / np.sqrt(draws)
        predicted = check.draw_error[estimator][0] * np.sqrt((1 - beta2) / (1 + beta2))
        assert 0.5 * predicted <= check.ema_error[estimator][0] <= 2 * predicted
    assert check.negative["gnb"][0] == 0.0 and check.negative["hutchinson"][0] > 0.1
    assert "hutchinson" in check.table()


def test_problems_without_an_exact_diagonal_or_sampled_labels():
    sigmoidal = problems.get("sigmoidal", shapes=[(3, 3)], norms=["spectral"])
    assert set(curvature_check(sigmoidal, draws=20).mean_error) == {"hutchinson", "hutchinson_block"}
    with pytest.raises(ValueError, match="^problem:"):
        curvature_check(problems.get("low_rank", pairs=[(3, 3, 1)]), draws=20)
    with pytest.raises(ValueError, match="^draws:"):
        curvature_check(sigmoidal, draws=1)
    with pytest.raises(ValueError, match="^estimators:"):
        curvature_check(sigmoidal, draws=5, estimators=["adam"])
