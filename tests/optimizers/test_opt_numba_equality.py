"""Equality contract (ALGORITHMS.md): reference and numba twin, same state and gradients,
produce updates equal to 1e-10 relative over 200 steps, for every method x norm preset x
noise estimator (and the options that change the kernel's path)."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import optimizers
from nalr_theory.optimizers import schedules

from .helpers import PRESETS, gradient_sequence, make_layers, max_relative_difference, random_tree

STEPS = 200
REL = 1e-10


def assert_twins_agree(optimizer, layers, steps=STEPS, seed=0):
    twin = optimizer.with_backend("numba")
    sequence = gradient_sequence(layers, steps, seed)
    params = random_tree(layers, np.random.default_rng(seed + 1), scale=0.01)
    params_ref, params_nb = dict(params), dict(params)
    state_ref = optimizer.init(params)
    state_nb = twin.init(params)
    for t, (grads, grads2, noise) in enumerate(sequence, start=1):
        updates_ref, state_ref = optimizer.step(state_ref, grads, grads2, noise, params=params_ref)
        updates_nb, state_nb = twin.step(state_nb, grads, grads2, noise, params=params_nb)
        worst = max_relative_difference(updates_ref, updates_nb)
        assert worst <= REL, f"step {t}: relative difference {worst:.3g}"
        for field, a, b in zip(state_ref.diagnostics._fields, state_ref.diagnostics, state_nb.diagnostics):
            np.testing.assert_allclose(b, a, rtol=REL, atol=0, equal_nan=True, err_msg=f"step {t}: {field}")
        np.testing.assert_allclose(state_nb.noise_estimate, state_ref.noise_estimate, rtol=REL, atol=0)
        params_ref = {n: params_ref[n] + updates_ref[n] for n in params}
        params_nb = {n: params_nb[n] + updates_nb[n] for n in params}
    assert state_nb.step == state_ref.step == steps
    for name in state_ref.momentum:
        np.testing.assert_allclose(state_nb.momentum[name], state_ref.momentum[name], rtol=REL, atol=1e-300)


# methods that run on the layers' own norms: every preset applies
PRESET_METHODS = {
    "lmo_momentum": lambda layers: optimizers.lmo_momentum(layers, 0.05),
    "scion": lambda layers: optimizers.scion(layers, 0.05, nesterov=True),
    "scion_constrained": lambda layers: optimizers.scion(layers, 0.05, constrained=True),
    "fixed_layerwise": lambda layers: optimizers.fixed_layerwise(
        layers, 0.05, {layer.name: w for layer, w in zip(layers, (1.0, 0.5, 0.25))}),
}
for _estimator in optimizers.ESTIMATORS:
    PRESET_METHODS[f"lanton[{_estimator}]"] = (
        lambda layers, e=_estimator: optimizers.lanton(layers, 0.05, estimator=e))
    PRESET_METHODS[f"lanton[scion,{_estimator}]"] = (
        lambda layers, e=_estimator: optimizers.lanton(layers, 0.05, base="scion", estimator=e, constrained=True,
                                                       lag=1))


@pytest.mark.parametrize("method", list(PRESET_METHODS))
@pytest.mark.parametrize("preset, lmo_method", PRESETS, ids=[f"{p}-{m}" for p, m in PRESETS])
def test_preset_methods(method, preset, lmo_method):
    layers = make_layers(preset, lmo_method)
    assert_twins_agree(PRESET_METHODS[method](layers), layers)


# methods with their own geometry (Muon-style presets, AdamW on vectors)
OWN_GEOMETRY = {
    "muon": lambda layers: optimizers.muon(layers),
    "muon[svd,heavy_ball]": lambda layers: optimizers.muon(layers, lmo_method="svd", momentum_form="heavy_ball",
                                                           weight_decay=0.01),
    "dmuon": lambda layers: optimizers.dmuon(layers, 0.01),
    "dmuon[ema,no_nesterov,adamw_layers]": lambda layers: optimizers.dmuon(
        layers, 0.01, momentum_form="ema", nesterov=False, adamw_layers=("w1",)),
    "normuon": lambda layers: optimizers.normuon(layers, 0.01, weight_decay=0.1),
    "normuon[muon,svd]": lambda layers: optimizers.normuon(layers, 0.02, preset="muon", lmo_method="svd"),
    "adamw": lambda layers: optimizers.adamw(layers, 0.01),
}
for _estimator in optimizers.ESTIMATORS:
    for _dual in optimizers.DUALS:
        OWN_GEOMETRY[f"lanton[dmuon,{_estimator},{_dual}]"] = (
            lambda layers, e=_estimator, d=_dual: optimizers.lanton(layers, 0.01, base="dmuon", estimator=e, dual=d))


@pytest.mark.parametrize("method", list(OWN_GEOMETRY))
def test_own_geometry_methods(method):
    layers = make_layers("spectral")
    assert_twins_agree(OWN_GEOMETRY[method](layers), layers)


@pytest.mark.parametrize("estimator", optimizers.ESTIMATORS)
@pytest.mark.parametrize("dual", optimizers.DUALS)
@pytest.mark.parametrize("lmo_method", ["svd", "ns5"])
def test_lanton_dual_modes(estimator, dual, lmo_method):
    layers = make_layers("rms_to_rms", lmo_method)
    assert_twins_agree(optimizers.lanton(layers, 0.05, estimator=estimator, dual=dual), layers)


OPTIONS = {
    "heavy_ball_nesterov": dict(momentum_form="heavy_ball", nesterov=True),
    "ema_nesterov_decay": dict(nesterov=True, weight_decay=0.1),
    "lag_clip_wmin": dict(lag=1, clip=(0.5, 20.0), w_min=0.3),
    "beta2_eps": dict(beta2=0.5, eps=1e-3),
    "schedules": dict(lr=schedules.cosine(0.05, STEPS, warmup_steps=10), beta=schedules.theory_beta(2.0, STEPS)),
    "wsd_callable_beta": dict(lr=schedules.warmup_stable_decay(0.05, STEPS, 10, 50), beta=lambda t: 0.5 + 0.4 * t / STEPS),
}


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("estimator", ["consecutive", "momentum_residual"])
def test_lanton_options(option, estimator):
    layers = make_layers("spectral", "ns5")
    options = dict(lr=0.05) | OPTIONS[option]
    assert_twins_agree(optimizers.lanton(layers, estimator=estimator, **options), layers)


UNREPORTED_DIAGNOSTICS = {
    "scion": lambda layers: optimizers.scion(layers, 0.05, nesterov=True),
    "lanton[dmuon,consecutive,quadrature]": lambda layers: optimizers.lanton(layers, 0.05, base="dmuon",
                                                                             estimator="consecutive", dual="quadrature"),
    "dmuon[adamw_layers]": lambda layers: optimizers.dmuon(layers, 0.01, adamw_layers=("w1",)),
    "normuon": lambda layers: optimizers.normuon(layers, 0.01, weight_decay=0.1),
}


# max-abs layers: unreported, the step runs them entry by entry in place
# (``steps.lmo_step_entry``); reported, it takes the array path. Both must agree bit for bit
MAX_ABS_UNREPORTED = {
    "scion[nesterov]": lambda layers: optimizers.scion(layers, 0.05, nesterov=True),
    "scion[constrained]": lambda layers: optimizers.scion(layers, 0.05, constrained=True),
    "lmo_momentum[heavy_ball,weight_decay]": lambda layers: optimizers.lmo_momentum(
        layers, 0.05, momentum_form="heavy_ball", weight_decay=0.1),
    "lanton[scion,momentum_residual]": lambda layers: optimizers.lanton(
        layers, 0.05, base="scion", estimator="momentum_residual", nesterov=True),
}


@pytest.mark.parametrize("method, preset", [(method, "spectral") for method in UNREPORTED_DIAGNOSTICS]
                         + [(method, preset) for method in MAX_ABS_UNREPORTED for preset in ("sign", "max_abs")])
def test_step_skips_empty_diagnostics_and_changes_nothing_else(method, preset):
    """The engine hands ``_kernels.step`` empty ``momentum_dual_norm`` and ``update_rms`` (it
    records neither): the step must then compute and write neither, and give the same
    updates, state and other diagnostics, bit for bit, as with every diagnostic reported."""
    from nalr_theory.optimizers import _kernels
    from nalr_theory.optimizers.state import Diagnostics, StepInputs

    layers = make_layers(preset)
    optimizer = {**UNREPORTED_DIAGNOSTICS, **MAX_ABS_UNREPORTED}[method](layers)
    layout = optimizer.layout
    table, options = optimizer.kernel_config()
    p = len(layout)
    params = random_tree(layers, np.random.default_rng(1), scale=0.01)
    runs = []
    for reported in (True, False):
        flat = optimizer.to_flat(optimizer.init(params))
        x = layout.flatten(params, "params").copy()
        unreported = np.zeros(p) if reported else np.zeros(0)
        diagnostics = Diagnostics(np.zeros(p), np.zeros(p), np.zeros(p), unreported, np.zeros(p), unreported.copy())
        updates_seen = []
        for t, (grads, grads2, noise) in enumerate(gradient_sequence(layers, 30, seed=0), start=1):
            inputs = StepInputs(x, layout.flatten(grads, "grads"), layout.flatten(grads2, "grads2"),
                                layout.flatten(noise, "noise"))
            updates = np.zeros(layout.size)
            assert _kernels.step(t, 0.05, 0.9, 0.01, inputs, flat, updates, diagnostics, table, options) == -1
            x = x + updates
            updates_seen.append(updates)
            if reported:
                assert np.all(np.isfinite(diagnostics.update_rms))
            else:
                assert diagnostics.momentum_dual_norm.shape == diagnostics.update_rms.shape == (0,)
        runs.append((np.array(updates_seen), flat, diagnostics))
    (updates_a, flat_a, diagnostics_a), (updates_b, flat_b, diagnostics_b) = runs
    np.testing.assert_array_equal(updates_b, updates_a)
    for field, a, b in zip(flat_a._fields, flat_a, flat_b):
        np.testing.assert_array_equal(b, a, err_msg=field)
    for field in ("weights", "noise_sample", "noise_estimate", "step_length"):
        np.testing.assert_array_equal(getattr(diagnostics_b, field), getattr(diagnostics_a, field), err_msg=field)
