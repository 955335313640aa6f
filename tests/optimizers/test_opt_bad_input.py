"""Bad input (ALGORITHMS.md list): ValueError naming the parameter, before any state
change; non-finite gradients never produce a silent NaN update (both backends)."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import optimizers
from nalr_theory.geometry import Layer
from nalr_theory.optimizers import _kernels

from .helpers import make_layers, random_tree

LAYERS = make_layers("spectral")
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("build, name", [
    (lambda: optimizers.get("adam", LAYERS), "name"),
    (lambda: optimizers.lmo_momentum([Layer("w", (3, 3), "nuclear")], 0.1), "norm"),
    (lambda: optimizers.lmo_momentum([Layer("w", (4, 6), "l2")], 0.1), "shape"),
    (lambda: optimizers.lmo_momentum([Layer("w", (0, 6))], 0.1), "shape"),
    (lambda: optimizers.lmo_momentum([Layer("w", (3, 3)), Layer("w", (3, 3))], 0.1), "layers"),
    (lambda: optimizers.lmo_momentum([], 0.1), "layers"),
    (lambda: optimizers.lmo_momentum(42, 0.1), "layers"),
    (lambda: optimizers.lanton(LAYERS, 0.1, estimator="psychic"), "estimator"),
    (lambda: optimizers.lanton(LAYERS, 0.1, dual="nuclear"), "dual"),
    (lambda: optimizers.lanton(LAYERS, 0.1, base="adam"), "base"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.1, momentum_form="polyak"), "momentum_form"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.1, backend="cuda"), "backend"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.0), "lr"),
    (lambda: optimizers.lmo_momentum(LAYERS, -1.0), "lr"),
    (lambda: optimizers.lmo_momentum(LAYERS, NAN), "lr"),
    (lambda: optimizers.lmo_momentum(LAYERS, INF), "lr"),
    (lambda: optimizers.lmo_momentum(LAYERS, "fast"), "lr"),
    (lambda: optimizers.muon(LAYERS, adamw_lr=0.0), "adamw_lr"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.1, beta=1.0), "beta"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.1, beta=-0.1), "beta"),
    (lambda: optimizers.lanton(LAYERS, 0.1, beta2=1.0), "beta2"),
    (lambda: optimizers.lanton(LAYERS, 0.1, beta2=-0.5), "beta2"),
    (lambda: optimizers.normuon(LAYERS, beta2=1.5), "beta2"),
    (lambda: optimizers.lanton(LAYERS, 0.1, eps=0.0), "eps"),
    (lambda: optimizers.lanton(LAYERS, 0.1, eps=-1e-12), "eps"),
    (lambda: optimizers.fixed_layerwise(LAYERS, 0.1, {"w0": 1.0, "w1": 0.0, "w2": 1.0}), "weights"),
    (lambda: optimizers.fixed_layerwise(LAYERS, 0.1, {"w0": 1.0, "w1": 1.5, "w2": 1.0}), "weights"),
    (lambda: optimizers.fixed_layerwise(LAYERS, 0.1, {"w0": 1.0, "w1": NAN, "w2": 1.0}), "weights"),
    (lambda: optimizers.fixed_layerwise(LAYERS, 0.1, {"w0": 1.0}), "weights"),
    (lambda: optimizers.lanton(LAYERS, 0.1, w_min=1.5), "w_min"),
    (lambda: optimizers.lanton(LAYERS, 0.1, clip=(2.0, 1.0)), "clip"),
    (lambda: optimizers.lanton(LAYERS, 0.1, clip=3.0), "clip"),
    (lambda: optimizers.lanton(LAYERS, 0.1, lag=2), "lag"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.1, weight_decay=-0.1), "weight_decay"),
    (lambda: optimizers.lmo_momentum(LAYERS, 0.1, nesterov="yes"), "nesterov"),
    (lambda: optimizers.scion(LAYERS, 0.1, constrained=True, weight_decay=0.1), "weight_decay"),
    (lambda: optimizers.scion(LAYERS, 1.5, constrained=True), "lr"),
    (lambda: optimizers.muon(LAYERS, adamw_betas=(0.9, 1.0)), "adamw_betas"),
    (lambda: optimizers.muon(LAYERS, adamw_layers=("nope",)), "adamw_layers"),
    (lambda: optimizers.adamw(LAYERS, eps=0.0), "eps"),  # the parameter the user wrote
    (lambda: optimizers.normuon(LAYERS, preset="scion"), "preset"),
    (lambda: optimizers.oracle_weights({"a": -1.0}), "sigma"),
    (lambda: optimizers.Stateful("muon"), "optimizer"),
])
def test_bad_construction(build, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        build()


def first_step_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return random_tree(LAYERS, rng), random_tree(LAYERS, rng), random_tree(LAYERS, rng)


def corrupt(tree, name, value):
    bad = {key: array.copy() for key, array in tree.items()}
    bad[name][0, 0] = value
    return bad


@pytest.mark.parametrize("backend", ["reference", "numba"])
@pytest.mark.parametrize("value", [NAN, INF, -INF])
@pytest.mark.parametrize("argument", ["grads", "grads2", "noise", "params"])
def test_non_finite_inputs_raise_before_any_state_change(backend, value, argument):
    estimator = {"grads2": "two_sample", "noise": "oracle"}.get(argument, "consecutive")
    optimizer = optimizers.lanton(LAYERS, 0.1, estimator=estimator, weight_decay=0.1, backend=backend)
    grads, grads2, params = first_step_inputs()
    state = optimizer.init(params)
    _, state = optimizer.step(state, grads, grads2, grads2, params=params)
    saved = optimizers.state_to_arrays(state)
    inputs = dict(grads=grads, grads2=grads2, noise=grads2, params=params)
    inputs[argument] = corrupt(inputs[argument], "w1", value)
    with pytest.raises(ValueError, match=rf"^{argument}\['w1'\]: contains non-finite"):
        optimizer.step(state, **inputs)
    after = optimizers.state_to_arrays(state)
    assert saved.keys() == after.keys()
    for key in saved:
        np.testing.assert_array_equal(saved[key], after[key])
    # the same state still steps normally: nothing was half-applied
    updates, _ = optimizer.step(state, grads, grads2, grads2, params=params)
    assert all(np.all(np.isfinite(u)) for u in updates.values())


@pytest.mark.parametrize("call, name", [
    (lambda opt, s, g: opt.step(s, {"w0": g["w0"], "w1": g["w1"]}), "grads"),
    (lambda opt, s, g: opt.step(s, dict(g, extra=g["w0"])), "grads"),
    (lambda opt, s, g: opt.step(s, dict(g, w0=np.ones((4, 6)))), r"grads\['w0'\]"),
    (lambda opt, s, g: opt.step(s, [g["w0"]]), "grads"),
    (lambda opt, s, g: opt.step(s, g, params={"w0": g["w0"]}), "params"),
    (lambda opt, s, g: opt.step(None, g), "state"),
    (lambda opt, s, g: opt.step(optimizers.muon(make_layers("spectral", shapes=((2, 2),))).init(), g), "state"),
])
def test_mismatched_names_shapes_and_states(call, name):
    optimizer = optimizers.lmo_momentum(LAYERS, 0.1)
    grads, _, _ = first_step_inputs()
    with pytest.raises(ValueError, match=f"^{name}"):
        call(optimizer, optimizer.init(), grads)


@pytest.mark.parametrize("build, missing", [
    (lambda: optimizers.lanton(LAYERS, 0.1, estimator="two_sample"), "grads2"),
    (lambda: optimizers.lanton(LAYERS, 0.1, estimator="oracle"), "noise"),
    (lambda: optimizers.dmuon(LAYERS), "params"),
    (lambda: optimizers.scion(LAYERS, 0.1, constrained=True), "params"),
])
def test_missing_step_inputs(build, missing):
    optimizer = build()
    grads, _, _ = first_step_inputs()
    with pytest.raises(ValueError, match=f"^{missing}:"):
        optimizer.step(optimizer.init(), grads)


@pytest.mark.parametrize("options, name", [
    (dict(lr=lambda t: -1.0), "lr"),
    (dict(lr=lambda t: float("nan")), "lr"),
    (dict(lr=0.1, beta=lambda t: 1.0), "beta"),
])
def test_bad_schedule_values_raise_at_the_step(options, name):
    optimizer = optimizers.lmo_momentum(LAYERS, **options)
    grads, _, _ = first_step_inputs()
    with pytest.raises(ValueError, match=f"^{name}: schedule value at step 1"):
        optimizer.step(optimizer.init(), grads)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_overflow_is_reported_as_divergence_not_returned(backend):
    layers = [Layer("w", (3, 3), "max_abs", radius=10.0)]
    optimizer = optimizers.lmo_momentum(layers, 1e308, backend=backend)
    grads = {"w": np.ones((3, 3))}
    with pytest.raises(FloatingPointError, match="^diverged at step 1: updates\\['w'\\]"):
        optimizer.step(optimizer.init(), grads)
    stateful = optimizers.Stateful(optimizers.lmo_momentum(layers, 1e307, backend=backend))
    with pytest.raises(FloatingPointError, match="^diverged at step 1: params\\['w'\\]"):
        stateful.step({"w": np.full((3, 3), -1.7e308)}, grads)
    assert stateful.state is None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_kernel_reports_the_first_non_finite_input_and_changes_nothing(bad):
    optimizer = optimizers.lanton(LAYERS, 0.1, estimator="two_sample", weight_decay=0.1)
    layout, p = optimizer.layout, len(optimizer.layout)
    grads, grads2, params = (layout.flatten(tree) for tree in first_step_inputs())
    flat = optimizer.to_flat(optimizer.init())
    for k, argument in enumerate(["grads", "grads2", "noise", "params"]):
        inputs = dict(grads=grads.copy(), grads2=grads2.copy(), noise=np.zeros(0), params=params.copy())
        if argument == "noise":
            inputs["noise"] = np.zeros(layout.size)
        inputs[argument][layout.offsets[2] + 1] = bad  # layer 2
        state = optimizers.FlatState(*(array.copy() for array in flat))
        updates = np.zeros(layout.size)
        diagnostics = optimizers.Diagnostics(*(np.zeros(p) for _ in optimizers.Diagnostics._fields))
        step_inputs = optimizers.StepInputs(inputs["params"], inputs["grads"], inputs["grads2"], inputs["noise"])
        status = _kernels.step(1, 0.1, 0.9, 0.1, step_inputs, state, updates, diagnostics, *optimizer.kernel_config())
        assert status == k * p + 2
        for before, after in zip(flat, state):
            np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("method, options", [
    ("lmo_momentum", dict(lr=0.1)), ("lmo_momentum", dict(lr=0.1, beta=0.5)),
    ("lmo_momentum", dict(lr=lambda t: 0.1 / t, beta=lambda t: 1.0 - 1.0 / (t + 1))),
    ("scion", dict(lr=0.5, constrained=True)), ("dmuon", dict(lr=0.1, adamw_lr=lambda t: 0.01 * t)),
])
def test_schedule_table_is_the_checked_values_of_each_step(method, options):
    # the engine's table, each schedule tabulated at once, row t - 1 being schedule_values(t)
    optimizer = getattr(optimizers, method)(LAYERS, **options)
    expected = np.array([optimizer.schedule_values(t) for t in range(1, 301)])
    assert np.array_equal(optimizer.schedule_table(300), expected)


@pytest.mark.parametrize("options, message", [
    (dict(lr=lambda t: 0.1 if t < 7 else -1.0), "lr: schedule value at step 7"),
    (dict(lr=lambda t: 0.1 if t < 5 else float("nan")), "lr: schedule value at step 5"),
    (dict(lr=0.1, beta=lambda t: 0.9 if t < 9 else 1.0), "beta: schedule value at step 9"),
    (dict(lr=lambda t: 0.1 if t < 4 else -1.0, beta=lambda t: 0.9 if t < 4 else 1.0), "lr: schedule value at step 4"),
])
def test_schedule_table_raises_the_first_failing_steps_error(options, message):
    optimizer = optimizers.lmo_momentum(LAYERS, **options)
    with pytest.raises(ValueError, match=f"^{message}"):
        optimizer.schedule_table(20)


def test_schedule_table_of_the_constrained_step_raises_where_lr_passes_1():
    optimizer = optimizers.scion(LAYERS, lambda t: 0.5 * t, constrained=True)
    with pytest.raises(ValueError, match="^lr: the constrained .* at step 3"):
        optimizer.schedule_table(20)
