"""Bad input raises ValueError naming the parameter; nothing returns NaN silently."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory.geometry import Layout, get_norm, lmo_quality, newton_schulz, ns_coefficients


def raises(parameter):
    return pytest.raises(ValueError, match=rf"^{parameter}")


def test_unknown_names():
    with raises("name"):
        get_norm("nuclear")
    with raises("method"):
        newton_schulz(np.eye(2), "ns7")
    with raises("lmo_method"):
        get_norm("max_abs", lmo_method="ns5")


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((2, 2, 2)), np.float64(1.0)])
def test_wrong_ndim(bad):
    with raises("G"):
        get_norm("spectral").lmo(bad)
    with raises("X"):
        get_norm("max_abs").norm(bad)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_entries(value):
    G = np.ones((3, 2))
    G[1, 0] = value
    for name in ("spectral", "frobenius", "max_abs", "col_norm", "row_norm"):
        with raises("G"):
            get_norm(name).dual(G)
        with raises("G"):
            get_norm(name).lmo(G)
    with raises("G"):
        newton_schulz(G)
    with raises("G"):
        lmo_quality(G)


@pytest.mark.parametrize("radius", [0.0, -1.0, np.nan, np.inf, "1", True])
def test_radius_must_be_positive(radius):
    with raises("radius"):
        get_norm("spectral", radius=radius)


def test_matrix_only_norms_on_vectors_and_vector_norms_on_matrices():
    with raises("G"):
        get_norm("spectral").lmo(np.ones(3))
    with raises("G"):
        get_norm("linf").lmo(np.ones((3, 2)))
    with raises("shape"):
        get_norm("l2", shape=(3, 2))
    assert get_norm("l2").lmo(np.ones(4)).shape == (4, 1)


def test_shapes():
    with raises("shape"):
        get_norm("muon")  # presets need the shape
    with raises("shape"):
        get_norm("spectral", shape=(0, 3))
    with raises("shape"):
        get_norm("spectral", shape=(2, 3, 4))
    with raises("G"):
        get_norm("spectral", shape=(2, 3)).lmo(np.ones((3, 2)))
    with raises("steps"):
        ns_coefficients("ns5", steps=0)


def test_zero_matrix_has_no_descent_ratio():
    with raises("G"):
        lmo_quality(np.zeros((2, 2)))


def test_layout_checks():
    layout = Layout([("a", (2, 3), "muon"), ("b", (4, 1), "l2")])
    good = {"a": np.ones((2, 3)), "b": np.ones(4)}
    assert layout.flatten(good).shape == (10,)
    with raises("grads"):
        layout.check_tree({"a": np.ones((2, 3))}, "grads")
    with pytest.raises(ValueError, match=r"^grads\['a'\]"):
        layout.check_tree({"a": np.ones((3, 2)), "b": np.ones(4)}, "grads")
    with pytest.raises(ValueError, match=r"^grads\['b'\]"):
        layout.check_tree({"a": np.ones((2, 3)), "b": np.array([1, np.nan, 1, 1])}, "grads")
    with raises("layers"):
        Layout([("a", (2, 3)), ("a", (2, 3))])
    with raises("norm"):  # the Layer field, not get_norm's parameter `name`
        Layout([("a", (2, 3), "nope")])
