"""The Gauss-Newton-Bartlett capability (Sophia-G) of the deep linear network (family 3) and
the teacher-student MLP (family 4): the squared loss as a unit-variance Gaussian likelihood.

The target, the Gauss-Newton diagonal ``diag(J^T J) / N_b`` with ``J`` the Jacobian of the
``N_b`` outputs in the weights, is computed here by central differences of the outputs
(independently of the package's code). ``ghat = -J^T z / N_b`` is Gaussian, so each entry of
``hhat / E hhat`` is chi-square with one degree of freedom: mean 1 and variance 2, checked
within 4 standard errors over many draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory.problems.teacher_student import mlp_inputs

from ._cases import random_like, small
from ._statistics import chi_square_checks

FAMILIES = ("deep_linear", "teacher_student")


def outputs(problem, params, columns):
    """The model's outputs on the data columns ``columns`` (computed here)."""
    data = problem.inputs[:, columns]
    if problem.name == "deep_linear":
        for name in problem.names:
            data = params[name] @ data
        return data
    return params["W3"] @ np.tanh(params["W2"] @ np.tanh(params["W1"] @ data))


def gauss_newton_diagonal(problem, params, columns, h=1e-6):
    """``diag(J^T J) / N_b`` by central differences of the outputs, entry by entry."""
    flat = problem.flatten(params)
    diagonal = np.empty(flat.size)
    for k in range(flat.size):
        step = np.zeros(flat.size)
        step[k] = h
        column = (outputs(problem, problem.unflatten(flat + step), columns)
                  - outputs(problem, problem.unflatten(flat - step), columns)) / (2 * h)
        diagonal[k] = np.sum(column**2) / len(columns)
    return diagonal


def test_declared():
    for family in FAMILIES:
        assert "gnb" in small(family).capabilities


def test_deep_linear_closed_form_of_the_target():
    """``E hhat_i[j, k] = ||Q_i[:, j]||^2 sum_b (A^i)[k, b]^2 / N`` against the differences."""
    problem = small("deep_linear")
    X = random_like(problem, np.random.default_rng(1))
    A = problem.activations(X)
    N = problem.dataset_size
    closed = {}
    for i, name in enumerate(problem.names):
        Q = np.eye(X[name].shape[0])  # Q_i = W_p ... W_{i+1}
        for later in problem.names[i + 1:]:
            Q = X[later] @ Q
        closed[name] = np.outer(np.sum(Q**2, axis=0), np.sum(A[name] ** 2, axis=1)) / N
    numeric = gauss_newton_diagonal(problem, X, np.arange(N))
    np.testing.assert_allclose(problem.flatten(closed), numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_gnb_full_batch_is_unbiased_and_chi_square(family):
    problem = small(family)
    X = random_like(problem, np.random.default_rng(7), 0.8)
    target = gauss_newton_diagonal(problem, X, np.arange(problem.dataset_size))
    assert np.all(target > 0)
    rng = np.random.default_rng(8)
    draws = np.array([problem.flatten(problem.gnb(X, rng)) for _ in range(20000)])
    assert np.all(draws >= 0)
    chi_square_checks(draws / target)


@pytest.mark.parametrize("family", FAMILIES)
def test_gnb_minibatch_targets_the_batch_diagonal(family):
    """With ``batch_size`` the indices are drawn first (``rng.integers(0, N, B)``, as the
    minibatch oracle draws them); conditionally on them, ``hhat / GN_b ~ chi^2_1``."""
    problem = small(family)
    X = problem.init(0)
    N, B = problem.dataset_size, 5
    ratios = []
    for seed in range(3000):
        index = np.random.default_rng(seed).integers(0, N, B)
        target = gauss_newton_diagonal(problem, X, index)
        ratios.append(problem.flatten(problem.gnb(X, np.random.default_rng(seed), batch_size=B)) / target)
    chi_square_checks(np.array(ratios))


@pytest.mark.parametrize("family", FAMILIES)
def test_gnb_reproducible_and_drawn_from_rng_only(family):
    problem = small(family)
    X = problem.init(0)
    first = problem.gnb(X, np.random.default_rng(3), batch_size=4)
    again = problem.gnb(X, np.random.default_rng(3), batch_size=4)
    for name in problem.names:
        np.testing.assert_array_equal(first[name], again[name])
    rng = np.random.default_rng(3)
    problem.gnb(X, rng)
    expected = np.random.default_rng(3)
    expected.standard_normal((problem.layout.shapes[-1][0], problem.dataset_size))
    assert rng.random() == expected.random()  # full batch: one d_out x N Gaussian draw, nothing else
    rng = np.random.default_rng(4)
    problem.gnb(X, rng, batch_size=3)
    expected = np.random.default_rng(4)
    expected.integers(0, problem.dataset_size, 3)
    expected.standard_normal((problem.layout.shapes[-1][0], 3))
    assert rng.random() == expected.random()


def test_teacher_student_gnb_at_a_zero_head():
    """With ``W_3 = 0`` the gradients of ``W_1`` and ``W_2`` vanish whatever the labels, so
    their ``hhat`` is 0 (as their Gauss-Newton diagonal); the head's is positive."""
    problem = small("teacher_student")
    X = problem.init(0)
    X["W3"] = np.zeros_like(X["W3"])
    estimate = problem.gnb(X, np.random.default_rng(0))
    assert np.all(estimate["W1"] == 0) and np.all(estimate["W2"] == 0)
    assert np.all(estimate["W3"] > 0)
    a2 = mlp_inputs(X["W1"], X["W2"], problem.inputs)[2]
    assert estimate["W3"].shape == (problem.layout.shapes[2][0], a2.shape[0])
    target = gauss_newton_diagonal(problem, X, np.arange(problem.dataset_size))
    assert np.all(problem.unflatten(target)["W1"] == 0) and np.all(problem.unflatten(target)["W2"] == 0)


@pytest.mark.parametrize("family", FAMILIES)
def test_gnb_bad_batch_size_names_it(family):
    problem = small(family)
    X = problem.init(0)
    for bad in (0, 2.5, problem.dataset_size + 1):
        with pytest.raises(ValueError, match="^batch_size"):
            problem.gnb(X, np.random.default_rng(0), batch_size=bad)
