"""The honest statement of when adaptive weights help, on random instances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import differential_evolution

from nalr_theory.theory import (
    adaptivity_constant,
    honest_statements,
    noise_normalised_constant,
    noise_normalised_ratio,
    oracle_noise_weights,
    plain_stationarity_constant,
)


def _instance(rng):
    p = int(rng.integers(2, 7))
    L = rng.uniform(0, 1, size=(p, p)) * (rng.uniform(size=(p, p)) < 0.6) + np.diag(rng.uniform(0.1, 10, size=p))
    return dict(Delta=float(rng.uniform(0.1, 50)), L=L, rho=rng.uniform(1, 40, size=p), sigma=rng.uniform(0.01, 3, size=p))


def _K_typed(w, Delta, L, rho, sigma):
    """THEORY.md: K(w) = 2^(3/2) (2 Delta w^T L w)^(1/4) (2 sum w rho sigma)^(1/2)."""
    return 2**1.5 * (2 * Delta * (w @ L @ w)) ** 0.25 * (2 * np.sum(w * rho * sigma)) ** 0.5


def test_adaptivity_constant_matches_theory_md():
    rng = np.random.default_rng(0)
    for _ in range(30):
        instance = _instance(rng)
        w = rng.uniform(0.05, 1, size=len(instance["rho"]))
        assert adaptivity_constant(w, **instance) == pytest.approx(_K_typed(w, **instance), rel=1e-12)


def test_i_no_weighting_beats_uniform_in_plain_stationarity():
    rng = np.random.default_rng(1)
    for _ in range(200):
        instance = _instance(rng)
        p = len(instance["rho"])
        uniform = plain_stationarity_constant(np.ones(p), **instance)
        w = rng.uniform(0.01, 1, size=p)
        assert plain_stationarity_constant(w, **instance) >= uniform * (1 - 1e-12)
        assert plain_stationarity_constant(np.full(p, 0.37), **instance) == pytest.approx(uniform, rel=1e-12)
        if np.ptp(w) > 1e-3:
            assert plain_stationarity_constant(w, **instance) > uniform


def test_i_numeric_minimisation_over_w_finds_the_uniform_weights():
    """Global search (differential evolution) over w in [e^-4, 1]^p: the minimiser of
    K(w)/min w is a constant vector and the minimum is K(1). Uses the typed K (checked equal
    to adaptivity_constant above) for speed."""
    rng = np.random.default_rng(2)
    for _ in range(4):
        instance = _instance(rng)
        p = len(instance["rho"])
        uniform = plain_stationarity_constant(np.ones(p), **instance)

        def objective(log_w):
            w = np.exp(log_w)
            return _K_typed(w, **instance) / np.min(w)

        result = differential_evolution(objective, [(-4.0, 0.0)] * p, seed=1, tol=1e-12, maxiter=400, polish=True)
        assert result.fun >= uniform * (1 - 1e-12)
        assert result.fun == pytest.approx(uniform, rel=1e-4)
        assert np.ptp(result.x) < 1e-2  # a constant weighting


def test_ii_noise_proportional_weights_beat_uniform_in_noise_normalised_stationarity():
    rng = np.random.default_rng(3)
    for _ in range(200):
        instance = _instance(rng)
        p = len(instance["rho"])
        w = oracle_noise_weights(instance["sigma"])
        ratio = noise_normalised_constant(w, **instance) / noise_normalised_constant(np.ones(p), **instance)
        assert ratio == pytest.approx(noise_normalised_ratio(instance["L"], instance["rho"], instance["sigma"]), rel=1e-12)
        assert ratio < 1  # random sigmas differ
    equal = _instance(rng)
    equal["sigma"] = np.full(len(equal["rho"]), 0.4)
    assert noise_normalised_ratio(equal["L"], equal["rho"], equal["sigma"]) == pytest.approx(1.0, rel=1e-14)


def test_ii_ratio_formula_is_the_ratio_of_K():
    rng = np.random.default_rng(4)
    instance = _instance(rng)
    w = oracle_noise_weights(instance["sigma"])
    p = len(w)
    assert adaptivity_constant(w, **instance) / adaptivity_constant(np.ones(p), **instance) == pytest.approx(
        noise_normalised_ratio(instance["L"], instance["rho"], instance["sigma"]), rel=1e-12)


def test_statements_exist_and_bad_input():
    statements = honest_statements()
    assert set(statements) == {"plain", "noise_normalised", "K"}
    with pytest.raises(ValueError, match="weights"):
        plain_stationarity_constant([1.0, 0.0], 1.0, np.eye(2), [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="sigma"):
        oracle_noise_weights([1.0, -1.0])
