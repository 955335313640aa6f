"""Noise models: zero mean, A2b on every draw (bounded, every preset), E||xi||_*^2 = sigma^2
(Gaussian and Student-t, within the stated Monte-Carlo error), time-varying profiles,
minibatch noise, reproducibility, numba draws equal to the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nalr_theory.problems import noise
from nalr_theory.problems._kernels import draw_noise, noise_and_norms
from nalr_theory.problems.noise import gaussian_dual_second_moment
from nalr_theory.geometry.base_norms import COL_NORM, FROBENIUS, MAX_ABS, ROW_NORM, SPECTRAL

from ._cases import all_presets, small

DRAWS = 1500


def fast_draws(problem, seed, count, t=0):
    """``count`` noise draws as flat vectors via the numba twin (proven equal below)."""
    rng = np.random.default_rng(seed)
    args = problem.noise.kernel_data()
    return np.array([draw_noise(t, rng, *args) for _ in range(count)])


def dual_norms(problem, draws):
    layout = problem.layout
    return np.array([[norm.dual(draw[layout.offsets[l]:layout.offsets[l + 1]].reshape(norm.shape))
                      for l, norm in enumerate(layout.norms)] for draw in draws])


def assert_mean_zero(problem, draws):
    """Projection of each layer's noise on two fixed directions: |mean| < 4 standard errors."""
    directions = np.random.default_rng(123).standard_normal((2, draws.shape[1]))
    for l in range(len(problem.names)):
        block = slice(problem.layout.offsets[l], problem.layout.offsets[l + 1])
        for direction in directions:
            values = draws[:, block] @ direction[block]
            z = abs(values.mean()) / (values.std(ddof=1) / math.sqrt(values.size))
            assert z < 4, (problem.names[l], z)


def test_reference_draw_equals_numba_draw_every_kind_and_preset():
    models = [noise.bounded(0.2, 0.5), noise.gaussian(0.3), noise.heavy_tailed(3.0, sigma=0.3),
              noise.heavy_tailed(2.0, scale=0.3),
              noise.time_varying(noise.gaussian(0.3), "spike", start=1, width=2, height=5.0)]
    for model in models:
        problem = all_presets(model)
        reference_rng, numba_rng = np.random.default_rng(4), np.random.default_rng(4)
        for t in range(4):
            reference = problem.flatten(problem.noise.draw(t, reference_rng))
            twin = draw_noise(t, numba_rng, *problem.noise.kernel_data())
            np.testing.assert_allclose(twin, reference, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("model", [noise.bounded(0.2, 0.5),
                                   noise.time_varying(noise.bounded(0.2, 0.5), "decay", tau=2.0, power=1.0),
                                   noise.time_varying(noise.bounded(0.2, 0.5), "spike", start=1, width=2, height=5.0),
                                   noise.exact(), noise.gaussian(0.3), noise.heavy_tailed(3.0, sigma=0.3)])
def test_noise_and_norms_is_the_draw_with_the_dual_norms_it_fixes(model):
    """The engine records bounded noise's dual norms from the draw (no nuclear norm per
    record): each must be the dual norm of the noise drawn (to the 1e-10 of the Gram route's
    nuclear norms), on every preset; zero noise has norm 0; the other kinds leave ``nan``
    (computed by the caller). The draws and the generator's state are ``draw_noise``'s."""
    problem = all_presets(model)
    args = problem.noise.kernel_data()
    first, second = np.random.default_rng(9), np.random.default_rng(9)
    for t in range(5):
        noise_vector, norms = noise_and_norms(t, first, *args)
        np.testing.assert_array_equal(noise_vector, draw_noise(t, second, *args))
        actual = dual_norms(problem, noise_vector[None])[0]
        if problem.noise.kind == "bounded":
            np.testing.assert_allclose(norms, actual, rtol=1e-10, atol=0)
        elif problem.noise.kind == "exact":
            np.testing.assert_array_equal(norms, np.zeros(len(problem.names)))
        else:
            assert np.all(np.isnan(norms))
    assert first.random() == second.random()


def test_bounded_noise_dual_norm_in_interval_on_every_draw_every_preset():
    lo = np.linspace(0.1, 0.5, 13)
    problem = all_presets(noise.bounded(lo, 2 * lo))
    draws = fast_draws(problem, 0, DRAWS)
    norms = dual_norms(problem, draws)
    assert np.all(norms >= lo * (1 - 1e-12)) and np.all(norms <= 2 * lo * (1 + 1e-12))
    # s is uniform on [lo, hi]: its mean is 1.5 lo within 4 standard errors
    se = (lo / math.sqrt(12)) / math.sqrt(DRAWS)
    assert np.all(np.abs(norms.mean(axis=0) - 1.5 * lo) < 4 * se)
    assert_mean_zero(problem, draws)
    record = problem.oracle(problem.init(0), np.random.default_rng(1))
    for name in problem.names:
        assert 0 < record.noise_dual[name]
    np.testing.assert_array_equal(problem.sigma_lo, lo)
    np.testing.assert_array_equal(problem.sigma_hi, 2 * lo)


def test_bounded_noise_with_equal_bounds_has_constant_dual_norm():
    problem = all_presets(noise.bounded(0.3, 0.3))
    norms = dual_norms(problem, fast_draws(problem, 2, 50))
    np.testing.assert_allclose(norms, 0.3, rtol=1e-12)


@pytest.mark.parametrize("model", [noise.gaussian(np.linspace(0.1, 1.3, 13)),
                                   noise.heavy_tailed(6.0, sigma=np.linspace(0.1, 1.3, 13))],
                         ids=["gaussian", "student_t_nu6"])
def test_second_moment_of_dual_norm_is_sigma_squared(model):
    """Mean of ||xi||_*^2 over the draws against sigma^2; tolerance = 4 x the combined
    Monte-Carlo standard error (the draws', plus the nuclear-norm calibration's for spectral
    layers). Student-t uses nu = 6 so that ||xi||_*^2 has a finite variance (nu > 4)."""
    problem = all_presets(model)
    sigma = np.linspace(0.1, 1.3, 13)
    draws = fast_draws(problem, 3, 4000)
    squares = dual_norms(problem, draws) ** 2
    mean = squares.mean(axis=0)
    draw_se = squares.std(axis=0, ddof=1) / math.sqrt(squares.shape[0])
    calibration_se = sigma**2 * problem.noise.calibration_rse
    tolerance = 4 * np.sqrt(draw_se**2 + calibration_se**2)
    assert np.all(np.abs(mean - sigma**2) < tolerance), (mean / sigma**2, tolerance / sigma**2)
    assert np.all(tolerance / sigma**2 < 0.15)  # the check is informative (a few per cent)
    np.testing.assert_allclose(problem.sigma, sigma)
    assert problem.sigma_hi is None and problem.noise.variance_finite
    assert_mean_zero(problem, draws)


def test_exact_second_moments_match_monte_carlo():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((20000, 3, 4))
    for code, dual in [(FROBENIUS, lambda Z: np.sqrt((Z**2).sum(axis=(1, 2)))),
                       (MAX_ABS, lambda Z: np.abs(Z).sum(axis=(1, 2))),
                       (COL_NORM, lambda Z: np.sqrt((Z**2).sum(axis=1)).sum(axis=1)),
                       (ROW_NORM, lambda Z: np.sqrt((Z**2).sum(axis=2)).sum(axis=1)),
                       (SPECTRAL, lambda Z: np.linalg.svd(Z, compute_uv=False).sum(axis=1))]:
        exact, rse = gaussian_dual_second_moment(code, 3, 4)
        values = dual(Z) ** 2
        se = values.std(ddof=1) / math.sqrt(values.size)
        assert abs(values.mean() - exact) < 4 * math.hypot(se, rse * exact), code
    assert gaussian_dual_second_moment(SPECTRAL, 5, 1) == (5.0, 0.0)
    assert 0 < gaussian_dual_second_moment(SPECTRAL, 4, 4)[1] < 0.01


def test_heavy_tailed_construction_and_infinite_variance_declared():
    """``xi = c Z sqrt(q / W)``: rebuild one draw from the same stream by hand."""
    problem = all_presets(noise.heavy_tailed(1.5, scale=0.4))
    assert not problem.noise.variance_finite and np.all(np.isinf(problem.sigma))
    assert problem.sigma_lo is None and problem.sigma_hi is None
    draw = problem.noise.draw(0, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    for index, (name, norm) in enumerate(zip(problem.names, problem.layout.norms)):
        Z = rng.standard_normal(norm.shape)
        W = rng.chisquare(1.5)
        second = norm.radius**2 * gaussian_dual_second_moment(norm.code, *norm.shape)[0]
        np.testing.assert_allclose(draw[name], 0.4 / math.sqrt(second) * math.sqrt(1.5 / W) * Z, rtol=1e-12)
    # heavy tails: the dual norm's empirical second moment keeps growing with the sample
    norms = dual_norms(problem, fast_draws(problem, 9, 4000))[:, 0]
    assert np.max(norms) > 50 * np.median(norms)


def test_heavy_tailed_mean_zero_when_nu_above_one():
    problem = all_presets(noise.heavy_tailed(3.0, sigma=0.5))
    assert_mean_zero(problem, fast_draws(problem, 12, DRAWS))


def test_same_seed_same_draws_and_independent_second_sample():
    problem = small("sigmoidal", noise.gaussian(0.5))
    point = problem.init(0)
    first = problem.oracle(point, np.random.default_rng(42), 3)
    again = problem.oracle(point, np.random.default_rng(42), 3)
    for name in problem.names:
        np.testing.assert_array_equal(first.grads[name], again.grads[name])
    rng = np.random.default_rng(42)
    one, two = problem.oracle(point, rng, 3), problem.oracle(point, rng, 3)
    assert problem.second_sample_available
    assert all(not np.array_equal(one.noise[n], two.noise[n]) for n in problem.names)
    for name in problem.names:  # the record is consistent: grads = exact + noise
        np.testing.assert_allclose(one.grads[name], problem.grad(point)[name] + one.noise[name], rtol=1e-14)
    assert problem.init(5).keys() == point.keys()
    np.testing.assert_array_equal(problem.init(5)["X1"], problem.init(5)["X1"])


def test_time_varying_profiles():
    base = noise.bounded([0.1, 0.2, 0.4], [0.2, 0.4, 0.8])
    decay = small("sigmoidal", noise.time_varying(base, "decay", tau=10.0, power=0.5)).noise
    np.testing.assert_allclose(decay.factor(0), 1.0)
    np.testing.assert_allclose(decay.factor(30), 0.5)
    spike = small("sigmoidal", noise.time_varying(base, "spike", start=5, width=3, height=[1.0, 1.0, 6.0])).noise
    assert list(spike.factor(4)) == [1, 1, 1] and list(spike.factor(5)) == [1, 1, 6] and list(spike.factor(8)) == [1, 1, 1]
    np.testing.assert_allclose(spike.sigma_hi, [0.2, 0.4, 4.8])
    swap_problem = small("sigmoidal", noise.time_varying(base, "swap", at=10))
    swap = swap_problem.noise
    lo, hi, _ = swap.bounds_at(9)
    np.testing.assert_allclose(hi, [0.2, 0.4, 0.8])
    lo, hi, _ = swap.bounds_at(10)
    np.testing.assert_allclose(hi, [0.8, 0.4, 0.2])  # the noisiest layer became the quietest
    np.testing.assert_allclose(lo, [0.4, 0.2, 0.1])
    periodic = small("sigmoidal", noise.time_varying(base, "swap", at=10, period=5)).noise
    np.testing.assert_allclose(periodic.bounds_at(16)[1], [0.2, 0.4, 0.8])
    np.testing.assert_allclose(periodic.bounds_at(21)[1], [0.8, 0.4, 0.2])
    # every draw obeys the bounds of its own step
    rng = np.random.default_rng(0)
    point = swap_problem.init(0)
    for t in (0, 9, 10, 50):
        lo, hi, _ = swap.bounds_at(t)
        record = swap_problem.oracle(point, rng, t)
        values = np.array([record.noise_dual[n] for n in swap_problem.names])
        assert np.all(values >= lo * (1 - 1e-12)) and np.all(values <= hi * (1 + 1e-12))
    np.testing.assert_allclose(swap.sigma_hi, [0.8, 0.4, 0.8])  # envelopes over t


@pytest.mark.parametrize("family", ["teacher_student", "token_model"])
def test_minibatch_noise_is_unbiased_and_reported(family):
    problem = small(family)
    assert problem.noise.kind == "minibatch" and problem.second_sample_available
    assert problem.sigma_lo is None and problem.sigma is None
    point = problem.init(0)
    rng = np.random.default_rng(0)
    kernels = problem.kernels
    x = problem.flatten(point)
    draws = np.array([kernels.oracle(x, kernels.data, 0, rng)[1] for _ in range(DRAWS)])
    assert_mean_zero(problem, draws)
    record = problem.oracle(point, rng)
    exact = problem.grad(point)
    for name, norm in zip(problem.names, problem.layout.norms):
        np.testing.assert_allclose(record.noise[name], record.grads[name] - exact[name])
        assert record.noise_dual[name] == pytest.approx(norm.dual(record.noise[name]))
    from nalr_theory.problems import noise_level

    level, error = noise_level(problem, point, np.random.default_rng(1), draws=40)
    assert np.all(level > 0) and np.all(error < level)


def test_minibatch_noise_shrinks_with_batch_size():
    from nalr_theory.problems import noise_level
    from ._cases import problems

    levels = []
    for batch in (2, 32):
        problem = problems.get("teacher_student", input_dim=3, hidden=5, output_dim=2, teacher_hidden=3, samples=64,
                               noise=noise.minibatch(batch))
        levels.append(noise_level(problem, problem.init(0), np.random.default_rng(0), draws=100)[0])
    assert np.all(levels[1] < levels[0] / 2)
