"""The public interface: registry, declarations of PROBLEMS.md, f_inf, the default
heterogeneous-noise problem, reproducibility, user-defined problems."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nalr_theory import problems
from nalr_theory.geometry import Layer
from nalr_theory.problems import noise

from ._cases import small

EXPECTED = {"sigmoidal", "sigmoidal_hetero", "low_rank", "deep_linear", "teacher_student", "token_model"}


def test_registry_lists_every_family():
    assert EXPECTED <= set(problems.list())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_declarations(name):
    problem = problems.get(name)
    assert all(isinstance(layer, Layer) for layer in problem.layers)
    assert problem.layout.names == tuple(layer.name for layer in problem.layers)
    point = problem.init(0)
    assert set(point) == set(problem.names)
    value = problem.f(point)
    assert np.isfinite(value) and value >= problem.f_inf - 1e-12
    assert isinstance(problem.second_sample_available, bool)
    certificate = problem.certificate()
    assert certificate.L.shape == (len(problem.layers),) * 2 and np.all(certificate.L >= 0)
    assert certificate.region in ("whole_space", "ball")
    json.dumps(problem.describe())  # machine-readable
    for seed in (0, 1):  # reproducible from (params, seed)
        again = problems.get(name).init(seed)
        assert all(np.array_equal(again[k], problems.get(name).init(seed)[k]) for k in again)


def test_f_inf_is_a_lower_bound_and_attained_where_claimed():
    sigmoidal = small("sigmoidal")
    assert sigmoidal.f(sigmoidal.minimiser()) == pytest.approx(0.0, abs=1e-20)
    deep = problems.get("deep_linear", widths=(3, 4, 2), samples=10, label_noise=0.5)
    assert deep.f_inf > 0
    rng = np.random.default_rng(0)
    for _ in range(20):
        point = {n: rng.standard_normal(s) for n, s in zip(deep.names, deep.layout.shapes)}
        assert deep.f(point) >= deep.f_inf
    token = small("token_model")
    assert 0 < token.f_inf < token.f(token.init(0))
    # the empirical conditional entropy is attained by the bigram table
    counts = np.zeros((5, 5))
    np.add.at(counts, (token.inputs, token.targets), 1.0)
    probabilities = counts / counts.sum(axis=1, keepdims=True)
    assert -np.mean(np.log(probabilities[token.inputs, token.targets])) == pytest.approx(token.f_inf)


def test_default_heterogeneous_noise_problem():
    problem = problems.get("sigmoidal_hetero")
    assert [layer.shape for layer in problem.layers] == [(16, 16)] * 4
    assert all(layer.norm == "spectral" for layer in problem.layers)
    np.testing.assert_allclose(problem.sigma_hi, [0.5, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(problem.sigma_lo, [0.25, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(np.diag(problem.certificate().L), 2 * np.array([2.0, 1.0, 0.5, 0.25]) * 16)
    assert problem.noise.kind == "bounded" and problem.certified
    scaled = problems.get("sigmoidal_hetero", scale=1.0)
    np.testing.assert_allclose(scaled.sigma_hi, [0.05, 0.1, 0.2, 0.4])


def test_user_problem_through_the_public_interface():
    class Quadratic(problems.Problem):
        """f(X) = 1/2 ||X||_F^2 on one 3x2 layer."""

        name = "quadratic"
        certified = True

        def __init__(self, noise=None):
            super().__init__([Layer("X", (3, 2), "frobenius")], noise, {"noise": noise})

        def _init(self, rng):
            return {"X": rng.standard_normal((3, 2))}

        def _f(self, params):
            return 0.5 * np.sum(params["X"] ** 2)

        def _grad(self, params):
            return {"X": params["X"].copy()}

        def _certificate(self, centre, radius):
            return problems.Certificate(np.eye(1), "whole_space", True, self.layout.norms)

    problems.register("quadratic_test", Quadratic)
    problem = problems.get("quadratic_test", noise=noise.bounded(0.1, 0.2))
    record = problem.oracle(problem.init(0), np.random.default_rng(0))
    assert 0.1 <= record.noise_dual["X"] <= 0.2
    assert problem.certificate().L[0, 0] == 1.0


def test_noise_from_config_dict():
    problem = problems.get("sigmoidal", noise={"kind": "time_varying", "profile": "decay", "tau": 5.0,
                                               "base": {"kind": "gaussian", "sigma": 0.3}})
    assert problem.noise.time_varying and problem.noise.kind == "gaussian"
    np.testing.assert_allclose(problem.noise.bounds_at(15)[2], 0.3 * 0.5)
