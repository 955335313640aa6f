"""Orthogonalisers beyond Newton-Schulz 5: the named schedules ``you_quintic`` and
``polar_express`` (coefficient data, scalar-map bands, polar-factor accuracy, kappa
constants, both backends) and the orthogonaliser benchmark's quick mode."""

from __future__ import annotations

import importlib
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory import optimizers
from nalr_theory.geometry import (
    METHODS,
    POLAR_EXPRESS_COEFFICIENTS,
    YOU_QUINTIC_COEFFICIENTS,
    Layer,
    get_norm,
    lmo_quality,
    newton_schulz,
    ns_band,
    ns_coefficients,
    ns_scalar_map,
)

from ..optimizers.helpers import gradient_sequence, make_layers, max_relative_difference, random_tree
from .strategies import NONZERO_KINDS, matrices

# the module (``nalr_theory.geometry.newton_schulz`` the attribute is the function)
ns_module = importlib.import_module("nalr_theory.geometry.newton_schulz")
NEW = ("you_quintic", "polar_express")
S_MIN = 2e-3


def polar(G):
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


# --- coefficient data -------------------------------------------------------------------


def test_schedules_have_their_documented_rows():
    assert len(YOU_QUINTIC_COEFFICIENTS) == 5 and all(len(row) == 3 for row in YOU_QUINTIC_COEFFICIENTS)
    assert YOU_QUINTIC_COEFFICIENTS[0] == (4.0848, -6.8946, 2.9270)
    raw = ns_module.POLAR_EXPRESS_RAW_COEFFICIENTS
    assert len(raw) == len(POLAR_EXPRESS_COEFFICIENTS) == 8
    assert raw[0] == (8.28721201814563, -23.595886519098837, 17.300387312530933)
    # safety factor 1.01 on every row but the last (the classical quintic 15/8, -10/8, 3/8)
    for (a, b, c), (sa, sb, sc) in zip(raw[:-1], POLAR_EXPRESS_COEFFICIENTS[:-1]):
        assert (sa, sb, sc) == (a / 1.01, b / 1.01**3, c / 1.01**5)
    assert POLAR_EXPRESS_COEFFICIENTS[-1] == raw[-1] == (1.875, -1.25, 0.375)
    assert set(NEW) <= set(METHODS) and METHODS[:3] == ("svd", "ns5", "ns_cubic")


def test_default_steps_and_the_steps_rule():
    assert ns_coefficients("you_quintic").shape == (5, 3)
    assert ns_coefficients("polar_express").shape == (8, 3)
    assert np.array_equal(ns_coefficients("polar_express", 3), np.array(POLAR_EXPRESS_COEFFICIENTS[:3]))
    longer = ns_coefficients("you_quintic", 7)
    assert np.array_equal(longer[:5], np.array(YOU_QUINTIC_COEFFICIENTS))
    assert np.array_equal(longer[5:], np.array([YOU_QUINTIC_COEFFICIENTS[-1]] * 2))
    with pytest.raises(ValueError, match="steps"):
        ns_coefficients("polar_express", 0)
    # ns5 stays the default everywhere
    assert np.array_equal(ns_coefficients(), ns_coefficients("ns5"))


# --- scalar maps and bands -----------------------------------------------------------------

DOCUMENTED_BANDS = {  # (lo on [2e-3, 1], hi on [0, 1]), module docstring, to 4 digits
    ("ns5", None): (0.6818, 1.2024),
    ("you_quintic", None): (0.8524, 1.1451),
    ("polar_express", 5): (0.8702, 1.1236),
}


@pytest.mark.parametrize("method, steps", list(DOCUMENTED_BANDS))
def test_documented_bands(method, steps):
    lo, hi = ns_band(method, steps)
    doc_lo, doc_hi = DOCUMENTED_BANDS[(method, steps)]
    assert abs(lo - doc_lo) < 1e-4 and abs(hi - doc_hi) < 1e-4


def test_polar_express_band_is_one_to_rounding():
    lo, hi = ns_band("polar_express")
    assert 1 - 1e-12 < lo <= hi < 1 + 1e-12


@pytest.mark.parametrize("method", NEW)
def test_scalar_maps_send_the_resolved_interval_into_the_band(method):
    lo, hi = ns_band(method, s_min=S_MIN)
    s = np.concatenate([np.geomspace(S_MIN, 1, 5001), np.random.default_rng(0).uniform(S_MIN, 1, 5000)])
    values = ns_scalar_map(s, method)
    assert np.all(values >= lo - 1e-9) and np.all(values <= hi + 1e-9)
    tiny = np.linspace(0, S_MIN, 101)
    assert np.all(ns_scalar_map(tiny, method) >= -1e-12) and np.all(ns_scalar_map(tiny, method) <= hi + 1e-9)


def test_new_bands_are_tighter_than_ns5():
    ns5_lo, ns5_hi = ns_band("ns5")
    for method in NEW:
        lo, hi = ns_band(method)
        assert lo > ns5_lo and hi < ns5_hi


# --- matrices --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", NEW)
def test_scalar_map_is_the_matrix_map_on_singular_values(method):
    G = np.random.default_rng(3).standard_normal((7, 5))
    s = np.linalg.svd(G, compute_uv=False)
    out = np.linalg.svd(newton_schulz(G, method), compute_uv=False)
    expected = np.sort(ns_scalar_map(s / (np.linalg.norm(G) + 1e-7), method))[::-1]
    assert np.allclose(np.sort(out)[::-1], expected, rtol=1e-9, atol=1e-12)


@given(G=matrices(kinds=NONZERO_KINDS), method=st.sampled_from(NEW))
@settings(max_examples=40)
def test_output_singular_values_stay_in_the_band(G, method):
    lo, hi = ns_band(method)
    out = np.linalg.svd(newton_schulz(G, method), compute_uv=False)
    relative = np.linalg.svd(G, compute_uv=False) / (np.linalg.norm(G) + 1e-7)
    assert np.all(out <= hi + 1e-8)
    assert np.all(out[relative >= S_MIN] >= lo - 1e-8)


@pytest.mark.parametrize("shape", [(8, 8), (12, 5), (5, 12), (30, 20)])
def test_polar_express_approximates_the_polar_factor(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        G = rng.standard_normal(shape)
        O = newton_schulz(G, "polar_express")
        # Gaussian matrices this small have s_min / ||G||_F far above 1e-3: converged
        assert np.linalg.norm(O - polar(G), 2) < 1e-8
        # you_quintic does not converge, but stays in its band around U V^T
        lo, hi = ns_band("you_quintic")
        Y = newton_schulz(G, "you_quintic")
        assert np.linalg.norm(Y - polar(G), 2) <= max(1 - lo, hi - 1) + 1e-9


@given(G=matrices(kinds=NONZERO_KINDS), method=st.sampled_from(NEW))
@settings(max_examples=40)
def test_kappa_relations(G, method):
    lo, hi = ns_band(method)
    kappa_lo, kappa_hi = lmo_quality(G, method)
    s = np.linalg.svd(G, compute_uv=False)
    resolved = s >= S_MIN * (np.linalg.norm(G) + 1e-7)
    # kappa_lo = sum phi(s_i) s_i / sum s_i: positive, at most kappa_hi, at most hi, and at
    # least lo times the share of the nuclear norm carried by resolved singular values
    assert kappa_lo > 0
    assert kappa_lo <= kappa_hi + 1e-12
    assert kappa_hi <= hi + 1e-8
    assert kappa_lo >= lo * s[resolved].sum() / s.sum() - 1e-8


def test_kappa_on_well_conditioned_inputs_brackets_one():
    rng = np.random.default_rng(11)
    stack = rng.standard_normal((6, 10, 7))
    lo_pe, hi_pe = lmo_quality(stack, "polar_express")
    assert abs(lo_pe - 1) < 1e-8 and abs(hi_pe - 1) < 1e-8
    lo_you, hi_you = lmo_quality(stack, "you_quintic")
    band_lo, band_hi = ns_band("you_quintic")
    assert band_lo - 1e-9 <= lo_you <= 1 <= hi_you <= band_hi + 1e-9


# --- public API and both backends -----------------------------------------------------------


@pytest.mark.parametrize("method", NEW)
def test_get_norm_and_layers_accept_the_new_methods(method):
    G = np.random.default_rng(5).standard_normal((6, 4))
    norm = get_norm("spectral", lmo_method=method)
    assert np.allclose(norm.lmo(G), -newton_schulz(G, method), rtol=0, atol=1e-15)
    assert norm.ns_coefficients.shape == (len(ns_module.SCHEDULES[method]), 3)
    short = get_norm("spectral", lmo_method=method, ns_steps=3)
    assert short.ns_coefficients.shape == (3, 3)
    layer = Layer("w", (6, 4), "muon", lmo_method=method)
    assert layer.build_norm().lmo_method == method
    kappa_lo, _ = lmo_quality(G, method)
    assert abs(norm.dual_estimate(G) - kappa_lo * norm.dual(G)) <= 1e-10 * norm.dual(G)


def test_unknown_method_names_the_parameter():
    with pytest.raises(ValueError, match="lmo_method"):
        get_norm("spectral", lmo_method="polar_expres")


@pytest.mark.parametrize("method", NEW)
@pytest.mark.parametrize("build", ["muon", "lmo_momentum"])
def test_numba_backend_equals_the_reference(method, build):
    layers = make_layers("spectral", method)
    optimizer = (optimizers.muon(layers, lmo_method=method) if build == "muon"
                 else optimizers.lmo_momentum(layers, 0.05))
    twin = optimizer.with_backend("numba")
    sequence = gradient_sequence(layers, 5, seed=2)
    params = random_tree(layers, np.random.default_rng(3), scale=0.01)
    state_ref, state_nb = optimizer.init(params), twin.init(params)
    p_ref, p_nb = dict(params), dict(params)
    for grads, grads2, noise in sequence:
        u_ref, state_ref = optimizer.step(state_ref, grads, grads2, noise, params=p_ref)
        u_nb, state_nb = twin.step(state_nb, grads, grads2, noise, params=p_nb)
        assert max_relative_difference(u_ref, u_nb) <= 1e-12
        p_ref = {n: p_ref[n] + u_ref[n] for n in params}
        p_nb = {n: p_nb[n] + u_nb[n] for n in params}


def test_muon_with_you_quintic_differs_from_ns5():
    layers = make_layers("spectral", "svd")
    grads, grads2, noise = gradient_sequence(layers, 1, seed=4)[0]
    params = random_tree(layers, np.random.default_rng(0), scale=0.01)
    updates = {}
    for method in ("ns5", "you_quintic"):
        opt = optimizers.muon(layers, lmo_method=method)
        updates[method], _ = opt.step(opt.init(params), grads, grads2, noise, params=params)
    assert max_relative_difference(updates["ns5"], updates["you_quintic"]) > 1e-3


# --- benchmark quick mode --------------------------------------------------------------------


def test_bench_orthogonalisers_quick_run(capsys, tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "benchmarks"))
    bench = pytest.importorskip("bench_orthogonalisers")
    result = bench.main(["--quick", "--json", str(tmp_path / "bench.json")])
    out = capsys.readouterr().out
    assert (tmp_path / "bench.json").exists()
    for scheme in ("svd", "ns5", "ns_cubic", "you_quintic", "polar_express"):
        assert f"| {scheme} |" in out
    rows = {row["scheme"]: row for row in result["schemes"]}
    assert rows["svd"]["K_star_vs_svd"] == pytest.approx(1.0)
    assert rows["ns5"]["K_star_vs_ns5"] == pytest.approx(1.0)
    for row in result["schemes"]:
        assert row["kappa_lo_random"] > 0 and row["kappa_hi_random"] >= row["kappa_lo_random"]
