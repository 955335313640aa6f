"""Dimension constants for layer shapes, with the built-in transformer shape lists."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nalr_theory.theory import dimension_constants, gpt2_small_layers, llama_1b_layers, model_layers


def test_builtin_shape_lists_reproduce_published_parameter_counts():
    assert sum(layer.size for layer in llama_1b_layers(include_vectors=True)) == 1_100_048_384
    assert sum(layer.size for layer in gpt2_small_layers(include_vectors=True)) == 124_439_808
    assert len(llama_1b_layers()) == 2 + 22 * 7
    assert len(gpt2_small_layers()) == 2 + 12 * 4
    assert {layer.shape for layer in llama_1b_layers() if "k_proj" in layer.name} == {(256, 2048)}
    assert model_layers("gpt2_small")[0].shape == (768, 50257)


def test_rho_follows_geometry_constants():
    shapes = [(64, 32), (32, 64), (10, 1)]
    expected = {
        "spectral": [math.sqrt(32), math.sqrt(32), 1.0],
        "frobenius": [1.0, 1.0, 1.0],
        "max_abs": [math.sqrt(64 * 32), math.sqrt(64 * 32), math.sqrt(10)],
        "col_norm": [math.sqrt(32), math.sqrt(64), 1.0],
        "row_norm": [math.sqrt(64), math.sqrt(32), math.sqrt(10)],
        "dmuon": [math.sqrt(32), math.sqrt(32), 1.0],  # radius does not change rho
        "sign": [math.sqrt(64 * 32), math.sqrt(64 * 32), math.sqrt(10)],
    }
    for norm, values in expected.items():
        assert dimension_constants(shapes, norm, 1.0).rho == pytest.approx(values, rel=1e-14), norm


def test_ratios_and_labels():
    shapes = [(16, 16), (64, 16), (4, 4)]
    sigmas = np.array([0.5, 0.1, 1.0])
    result = dimension_constants(shapes, "spectral", sigmas)
    rho = np.array([4.0, 4.0, 2.0])
    assert result.sum_rho_sigma == pytest.approx(np.sum(rho * sigmas))
    assert result.sigma_max_sum_rho == pytest.approx(1.0 * np.sum(rho))
    assert result.ratio_rho_weighted == pytest.approx(np.sum(rho * sigmas) / np.sum(rho))
    assert result.sum_sigma == pytest.approx(1.6) and result.p_sigma_max == 3.0
    assert result.ratio_unweighted == pytest.approx(1.6 / 3.0)
    assert set(result.labels) >= {"sum_rho_sigma", "sigma_max_sum_rho", "ratio_rho_weighted", "ratio_unweighted"}
    assert "uniform-noise" in result.text()
    homogeneous = dimension_constants(shapes, "spectral", 0.3)
    assert homogeneous.ratio_rho_weighted == pytest.approx(1.0) and homogeneous.ratio_unweighted == pytest.approx(1.0)


def test_transformer_defaults_and_a_heterogeneous_profile():
    layers = llama_1b_layers()
    sigmas = np.where([layer.role == "hidden" for layer in layers], 0.02, 0.5)
    result = dimension_constants(layers, sigmas=sigmas)
    assert result.norms[0] == "sign" and result.norms[1] == "dmuon"
    assert result.rho[0] == pytest.approx(math.sqrt(2048 * 32000))
    assert 0 < result.ratio_rho_weighted <= 1 and 0 < result.ratio_unweighted <= 1
    # the embedding/head carry the largest rho, so weighting by rho moves the ratio up
    assert result.ratio_rho_weighted > result.ratio_unweighted


def test_bad_input():
    with pytest.raises(ValueError, match="norms"):
        dimension_constants([(2, 2), (3, 3)], ["spectral"], 1.0)
    with pytest.raises(ValueError, match="sigmas"):
        dimension_constants([(2, 2)], "spectral", -1.0)
    with pytest.raises(ValueError, match="name"):
        dimension_constants([(2, 2)], "nuclear", 1.0)
    with pytest.raises(ValueError, match="shapes"):
        dimension_constants([], "spectral", 1.0)
    with pytest.raises(ValueError, match="name"):
        model_layers("gpt5")
