"""Exact gradients against central finite differences (reference and numba), and the numba
twins equal to the NumPy reference for f, grad and the noisy oracle (same seed, same draws)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory.problems import noise

from ._cases import FAMILIES, random_like, small

STEP = 1e-5


def directional_errors(f, grads, point, rng, names):
    """Relative error of ``<grad_l, D>`` against ``(f(X + h D_l) - f(X - h D_l)) / 2h`` per layer."""
    errors = []
    for name in names:
        direction = rng.standard_normal(point[name].shape)
        plus = dict(point, **{name: point[name] + STEP * direction})
        minus = dict(point, **{name: point[name] - STEP * direction})
        numeric = (f(plus) - f(minus)) / (2 * STEP)
        exact = float(np.sum(grads[name] * direction))
        errors.append(abs(numeric - exact) / max(abs(exact), abs(numeric), 1e-8))
    return np.array(errors)


@pytest.mark.parametrize("family", FAMILIES)
def test_reference_gradient_matches_finite_differences(family):
    problem = small(family)
    rng = np.random.default_rng(1)
    for seed in range(3):
        point = problem.init(seed)
        errors = directional_errors(problem.f, problem.grad(point), point, rng, problem.names)
        assert errors.max() < 1e-6, (family, errors)


@pytest.mark.parametrize("family", FAMILIES)
def test_numba_gradient_matches_finite_differences(family):
    problem = small(family)
    kernels = problem.kernels
    rng = np.random.default_rng(2)
    point = problem.init(7)

    def f(params):
        return kernels.f(problem.flatten(params), kernels.data)

    grads = problem.unflatten(kernels.grad(problem.flatten(point), kernels.data))
    errors = directional_errors(f, grads, point, rng, problem.names)
    assert errors.max() < 1e-6, (family, errors)


def test_finite_difference_check_can_fail():
    problem = small("sigmoidal")
    point = problem.init(0)
    wrong = {name: 1.01 * g for name, g in problem.grad(point).items()}
    errors = directional_errors(problem.f, wrong, point, np.random.default_rng(0), problem.names)
    assert errors.max() > 1e-3


@pytest.mark.parametrize("family", FAMILIES)
def test_numba_twins_equal_reference(family):
    problem = small(family)
    kernels = problem.kernels
    for seed in range(2):
        point = problem.init(seed) if seed == 0 else random_like(problem, np.random.default_rng(seed), 0.7)
        x = problem.flatten(point)
        assert kernels.f(x, kernels.data) == pytest.approx(problem.f(point), rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(kernels.grad(x, kernels.data), problem.flatten(problem.grad(point)),
                                   rtol=1e-11, atol=1e-13)
        # the engine's entry points compute the same numbers, once
        value, exact_grad = kernels.value_and_grad(x, kernels.data)
        assert value == kernels.f(x, kernels.data)
        np.testing.assert_array_equal(exact_grad, kernels.grad(x, kernels.data))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("model", ["bounded", "minibatch"])
def test_oracle_at_the_exact_gradient_is_the_oracle(family, model):
    from nalr_theory import problems

    kind = noise.bounded(0.1, 0.3) if model == "bounded" else noise.minibatch(4)
    try:
        problem = small(family, kind)
    except (ValueError, TypeError):
        pytest.skip(f"{family} has no {model} noise")
    assert isinstance(problem, problems.Problem)
    kernels = problem.kernels
    x = problem.flatten(problem.init(0))
    first, second = np.random.default_rng(5), np.random.default_rng(5)
    for t in (1, 2):
        expected = kernels.oracle(x, kernels.data, t, first)
        got = kernels.oracle_at(x, kernels.grad(x, kernels.data), kernels.data, t, second)
        for a, b in zip(expected, got):
            np.testing.assert_array_equal(a, b)


ADDITIVE = {
    "bounded": noise.bounded(0.1, 0.3),
    "gaussian": noise.gaussian(0.2),
    "student": noise.heavy_tailed(5.0, sigma=0.2),
    "cauchy_like": noise.heavy_tailed(1.0, scale=0.2),
    "decay": noise.time_varying(noise.gaussian(0.2), "decay", tau=3.0, power=1.0),
    "swap": noise.time_varying(noise.bounded([0.1, 0.2, 0.4], [0.2, 0.4, 0.8]), "swap", at=2),
}


@pytest.mark.parametrize("model", sorted(ADDITIVE))
def test_numba_oracle_draws_equal_reference_additive(model):
    problem = small("sigmoidal", ADDITIVE[model])
    kernels = problem.kernels
    point = problem.init(3)
    x = problem.flatten(point)
    reference_rng, numba_rng = np.random.default_rng(11), np.random.default_rng(11)
    for t in range(5):
        record = problem.oracle(point, reference_rng, t)
        grads, xi = kernels.oracle(x, kernels.data, t, numba_rng)
        np.testing.assert_allclose(xi, problem.flatten(record.noise), rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(grads, problem.flatten(record.grads), rtol=1e-11, atol=1e-14)
    # both generators were advanced identically
    assert reference_rng.random() == numba_rng.random()


@pytest.mark.parametrize("family", FAMILIES)
def test_numba_oracle_draws_equal_reference_every_family(family):
    problem = small(family) if family in ("teacher_student", "token_model") else small(family, noise.gaussian(0.3))
    kernels = problem.kernels
    point = problem.init(4)
    x = problem.flatten(point)
    reference_rng, numba_rng = np.random.default_rng(5), np.random.default_rng(5)
    for t in range(3):
        record = problem.oracle(point, reference_rng, t)
        grads, xi = kernels.oracle(x, kernels.data, t, numba_rng)
        np.testing.assert_allclose(grads, problem.flatten(record.grads), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(xi, problem.flatten(record.noise), rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("family", ["teacher_student", "token_model"])
def test_minibatch_families_accept_additive_noise(family):
    problem = small(family, noise.bounded(0.1, 0.2))
    kernels = problem.kernels
    point = problem.init(0)
    reference_rng, numba_rng = np.random.default_rng(9), np.random.default_rng(9)
    record = problem.oracle(point, reference_rng, 0)
    grads, xi = kernels.oracle(problem.flatten(point), kernels.data, 0, numba_rng)
    np.testing.assert_allclose(xi, problem.flatten(record.noise), rtol=1e-11, atol=1e-14)
    assert all(0.1 - 1e-12 <= v <= 0.2 + 1e-12 for v in record.noise_dual.values())


@settings(max_examples=400, deadline=None)
@given(magnitude=st.floats(-30.0, 30.0), negative=st.booleans())
def test_sigmoidal_twin_phi_with_one_division_is_within_the_rounding_bound(magnitude, negative):
    """The twin's ``phi`` and ``phi'`` (one division) against ``sigmoidal.phi`` and
    ``phi_prime`` (two): the twin rounds ``phi`` at most 5 times (``u`` each, relative) and
    the reference 4, ``phi'`` 8 and 6 times, so they differ by at most 9 and 14 ``u |value|``,
    at most that many units in the last place."""
    from nalr_theory.problems._sigmoidal_numba import phi_and_slope
    from nalr_theory.problems.sigmoidal import phi, phi_prime

    r = (-1.0 if negative else 1.0) * 10.0 ** magnitude
    value, slope = phi_and_slope(r)
    for twin, reference, roundings in ((value, phi(r), 9), (slope, phi_prime(r), 14)):
        assert abs(twin - reference) <= roundings * np.spacing(abs(reference)), (r, twin, reference)
