"""Family 6, random-feature regression: the certified A1 constant never violated on sampled
pairs (several norms) and tight in the spectral norm, ``f_inf`` a lower bound attained by the
least-squares solution, the feature spectra as specified, the minibatch oracle unbiased and
reporting the activations of its own sample, the numba twin drawing the same batches."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory import problems
from nalr_theory.problems import noise
from nalr_theory.problems.random_features import squared_loss_grad

from ._cases import random_like, small
from .test_prob_bad_input import test_params_that_do_not_match_the_declared_layers as check_bad_params
from .test_prob_certified import SLACK, a1_ratios, lmo_trajectory, nearby
from .test_prob_interface import test_declarations as check_declarations

NORMS = ("spectral", "frobenius", "sign", "dmuon", "rms_to_rms", "rownorm", "colnorm")
INSTANCES = {norm: problems.get("random_features", d_out=3, d_in=5, samples=12, norm=norm, spectrum=spectrum)
             for norm, spectrum in zip(NORMS, ("power", "spiked", "relu", "power", "spiked", "relu", "power"))}


@pytest.mark.parametrize("norm", NORMS)
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), spread=st.sampled_from([0.0, 1.0, 5.0]),
       size=st.sampled_from([1e-4, 1e-2, 0.5, 3.0]))
def test_certified_L_holds_on_sampled_pairs(norm, seed, spread, size):
    problem = INSTANCES[norm]
    certificate = problem.certificate()
    assert certificate.certified and certificate.region == "whole_space" and certificate.L.shape == (1, 1)
    rng = np.random.default_rng(seed)
    for _ in range(12):
        X = random_like(problem, rng, spread)
        Y = nearby(problem, X, rng, size) if rng.random() < 0.7 else random_like(problem, rng, spread + 1)
        assert np.all(a1_ratios(problem, certificate, X, Y) <= SLACK)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 6), (6, 1)])
def test_spectral_certificate_is_the_ky_fan_norm_and_tight(shape):
    """``L = sum of the min(d_out, d_in) largest eigenvalues of S = A A^T / N``, attained by
    the step ``D = (top eigenvectors of S)^T`` padded to the layer's shape."""
    d_out, d_in = shape
    problem = problems.get("random_features", d_out=d_out, d_in=d_in, samples=10, alpha=0.5)
    S = problem.inputs @ problem.inputs.T / problem.samples
    eigenvalues, vectors = np.linalg.eigh(S)
    order = np.argsort(eigenvalues)[::-1]
    m = min(shape)
    L = problem.certificate().L[0, 0]
    assert L == pytest.approx(eigenvalues[order[:m]].sum(), rel=1e-12)
    assert L <= m * eigenvalues.max() * (1 + 1e-12)  # never worse than the Frobenius transfer
    D = np.zeros(shape)
    D[:m] = vectors[:, order[:m]].T[:m]
    X = problem.init(0)
    ratio = a1_ratios(problem, problem.certificate(), X, {"W": X["W"] + D})[0]
    assert 1 - 1e-10 <= ratio <= SLACK


def test_spectral_certificate_scales_with_the_radius():
    """``dmuon`` is the spectral norm with radius ``0.2 sqrt(max(d_out, d_in))``: ``L = r^2 * Ky Fan``."""
    spectral = problems.get("random_features", d_out=3, d_in=5, samples=12, norm="spectral")
    muon = problems.get("random_features", d_out=3, d_in=5, samples=12, norm="dmuon")
    radius = muon.layout.norms[0].radius
    assert radius != 1.0
    assert muon.certificate().L[0, 0] == pytest.approx(radius**2 * spectral.certificate().L[0, 0], rel=1e-13)


def test_frobenius_certificate_is_the_top_eigenvalue_and_tight():
    problem = problems.get("random_features", norm="frobenius")
    s = problem.feature_singular_values
    assert problem.certificate().L[0, 0] == pytest.approx(s[0] ** 2 / problem.samples, rel=1e-12)
    assert problem.certificate().L[0, 0] == pytest.approx(problem.schatten_smoothness(2), rel=1e-12)


def test_local_estimate_below_the_certificate():
    problem = small("random_features", noise.exact())
    start = problem.init(0)
    trajectory = lmo_trajectory(problem, start, 0.05, 30)
    certificate = problem.certificate()
    report = problem.local_smoothness(trajectory, certificate)
    assert np.all(report.along_path <= certificate.L.diagonal() * SLACK)
    assert np.all(report.tightness <= SLACK) and np.all(report.row > 0)
    probe = problems.probe_matrix(problem, trajectory[::10], np.random.default_rng(0))
    assert np.all(probe <= certificate.L * SLACK + 1e-12)


# ------------------------------------------------------------------ f_inf and the data

@pytest.mark.parametrize("label_noise, samples", [(0.3, 32), (0.0, 32), (0.3, 4)])
def test_f_inf_is_the_least_squares_optimum(label_noise, samples):
    problem = problems.get("random_features", samples=samples, label_noise=label_noise,
                           noise=noise.minibatch(min(4, samples)))
    best = problem.minimiser()
    assert problem.f(best) >= problem.f_inf
    assert problem.f(best) == pytest.approx(problem.f_inf, abs=1e-10)
    np.testing.assert_allclose(problem.grad(best)["W"], 0.0, atol=1e-10)
    if label_noise == 0.0 or samples <= problem.layout.shapes[0][1]:
        assert problem.f_inf == pytest.approx(0.0, abs=1e-12)  # interpolation
    else:
        assert problem.f_inf > 0
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert problem.f(random_like(problem, rng, rng.uniform(0, 3))) >= problem.f_inf


def test_spectra_are_as_specified():
    N = 40
    power = problems.get("random_features", d_in=6, samples=N, alpha=1.5)
    np.testing.assert_allclose(power.feature_singular_values / math.sqrt(N), np.arange(1, 7) ** -1.5, rtol=1e-12)
    spiked = problems.get("random_features", d_in=6, samples=N, spectrum="spiked", spike=4.0, spikes=2)
    np.testing.assert_allclose(spiked.feature_singular_values / math.sqrt(N), [4, 4, 1, 1, 1, 1], rtol=1e-12)
    wide = problems.get("random_features", d_in=6, samples=4, alpha=1.0, noise=noise.minibatch(2))
    np.testing.assert_allclose(wide.feature_singular_values[:4] / 2, 1 / np.arange(1, 5), rtol=1e-12)
    assert wide.feature_singular_values.shape == (4,)  # rank min(d_in, N)
    assert wide.certificate().L[0, 0] == pytest.approx(np.sum(1 / np.arange(1, 5) ** 2), rel=1e-12)  # m = 4
    relu = problems.get("random_features", d_in=6, samples=N, spectrum="relu", input_dim=3)
    assert np.all(relu.inputs >= 0) and np.any(relu.inputs == 0)
    for problem in (power, spiked, relu):
        assert problem.inputs.shape == (6, N) and problem.targets.shape == (4, N)
    # reproducible from the instance seed, different across seeds
    again = problems.get("random_features", d_in=6, samples=N, alpha=1.5)
    np.testing.assert_array_equal(again.inputs, power.inputs)
    other = problems.get("random_features", d_in=6, samples=N, alpha=1.5, instance_seed=1)
    assert not np.allclose(other.inputs, power.inputs)


def test_interface_declarations_and_bad_params():
    """The interface checks every built-in family passes (declarations, reproducibility, and
    params that do not match the layer), run on this family."""
    check_declarations("random_features")
    check_bad_params("random_features")


def test_registry_and_description():
    assert "random_features" in problems.list()
    summary = problems.describe("random_features")
    assert "norm" in summary["options"] and "spectrum" in summary["options"]
    problem = problems.get("random_features")
    assert problem.names == ("W",) and problem.layers[0].norm == "spectral"
    assert problem.layout.shapes == ((4, 6),) and problem.samples == 32
    assert problem.noise.kind == "minibatch" and problem.noise.batch_size == 8
    record = problem.describe()
    json.dumps(record)
    assert record["certified"] is True and record["hvp_kind"] == "exact"


# ------------------------------------------------------------------ the oracle

def test_minibatch_oracle_reports_the_activations_of_its_own_sample():
    problem = small("random_features", noise.minibatch(5))
    X = problem.init(0)
    for seed in range(5):
        index = np.random.default_rng(seed).integers(0, problem.samples, 5)
        record = problem.oracle(X, np.random.default_rng(seed), 0)
        np.testing.assert_array_equal(record.activations["W"], problem.inputs[:, index])
        expected = squared_loss_grad(X["W"], problem.inputs[:, index], problem.targets[:, index])[1]
        np.testing.assert_allclose(record.grads["W"], expected, rtol=1e-14)
        np.testing.assert_allclose(record.noise["W"], record.grads["W"] - problem.grad(X)["W"], rtol=1e-14)
        assert record.noise_dual["W"] == pytest.approx(problem.layout.norms[0].dual(record.noise["W"]))


def test_additive_oracle_reports_all_activations():
    problem = small("random_features", noise.gaussian(0.2))
    record = problem.oracle(problem.init(0), np.random.default_rng(0), 3)
    np.testing.assert_array_equal(record.activations["W"], problem.inputs)
    assert record.t == 3


def test_minibatch_noise_is_unbiased_and_the_twin_draws_the_same_batches():
    problem = small("random_features", noise.minibatch(4))
    X = problem.init(0)
    kernels = problem.kernels
    x = problem.flatten(X)
    reference_rng, numba_rng = np.random.default_rng(2), np.random.default_rng(2)
    for t in range(5):
        record = problem.oracle(X, reference_rng, t)
        grads, xi = kernels.oracle(x, kernels.data, t, numba_rng)
        np.testing.assert_allclose(grads, problem.flatten(record.grads), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(xi, problem.flatten(record.noise), rtol=1e-9, atol=1e-13)
    assert reference_rng.random() == numba_rng.random()
    rng = np.random.default_rng(0)
    draws = np.array([kernels.oracle(x, kernels.data, 0, rng)[1] for _ in range(4000)])
    error = draws.std(axis=0, ddof=1) / math.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0)) < 4.5 * error)
    assert problem.second_sample_available and problem.sigma is None


def test_minibatch_noise_shrinks_with_batch_size():
    from nalr_theory.problems import noise_level

    levels = []
    for batch in (2, 32):
        problem = problems.get("random_features", samples=64, noise=noise.minibatch(batch))
        levels.append(noise_level(problem, problem.init(0), np.random.default_rng(0), draws=100)[0])
    assert np.all(levels[1] < levels[0] / 2)
