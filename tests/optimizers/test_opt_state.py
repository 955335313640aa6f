"""State: a plain record that saves, reloads and resumes bit for bit; the stateful wrapper;
the engine's flat kernel called directly, one row per seed."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import optimizers
from nalr_theory.optimizers import _kernels

from .helpers import gradient_sequence, make_layers, random_tree, run

BUILDERS = {
    "lanton_consecutive": lambda layers, backend: optimizers.lanton(layers, 0.05, estimator="consecutive", lag=1,
                                                                    backend=backend),
    "lanton_dmuon_residual": lambda layers, backend: optimizers.lanton(layers, 0.01, base="dmuon",
                                                                       estimator="momentum_residual",
                                                                       backend=backend),
    "normuon": lambda layers, backend: optimizers.normuon(layers, 0.01, backend=backend),
    "adamw": lambda layers, backend: optimizers.adamw(layers, 0.01, backend=backend),
}


@pytest.mark.parametrize("backend", ["reference", "numba"])
@pytest.mark.parametrize("method", list(BUILDERS))
def test_save_reload_resumes_bit_for_bit(method, backend, tmp_path):
    layers = make_layers("spectral", "ns5")
    optimizer = BUILDERS[method](layers, backend)
    sequence = gradient_sequence(layers, 12)
    params = random_tree(layers, np.random.default_rng(1))
    straight, straight_states, final = run(optimizer, sequence, params)

    first, states, middle = run(optimizer, sequence[:5], params)
    optimizers.save_state(tmp_path / "state.npz", states[-1])
    reloaded = optimizers.load_state(tmp_path / "state.npz")
    resumed, resumed_states, resumed_final = run(optimizer, sequence[5:], middle, state=reloaded)

    for a, b in zip(straight, first + resumed):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    for name in final:
        np.testing.assert_array_equal(final[name], resumed_final[name])
    expected, got = optimizers.state_to_arrays(straight_states[-1]), optimizers.state_to_arrays(resumed_states[-1])
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_array_equal(expected[key], got[key], err_msg=key)


def test_reference_and_numba_share_one_state_record():
    layers = make_layers("spectral", "ns5")
    reference = optimizers.lanton(layers, 0.05, base="dmuon", estimator="consecutive")
    twin = reference.with_backend("numba")
    sequence = gradient_sequence(layers, 10)
    params = random_tree(layers, np.random.default_rng(2))
    _, states, middle = run(reference, sequence[:5], params)
    continued_ref, _, _ = run(reference, sequence[5:], middle, state=states[-1])
    continued_nb, _, _ = run(twin, sequence[5:], middle, state=states[-1])
    for a, b in zip(continued_ref, continued_nb):
        for name in a:
            np.testing.assert_allclose(b[name], a[name], rtol=1e-10, atol=1e-300)


def test_state_is_a_documented_record_and_never_mutated():
    layers = make_layers("spectral")
    optimizer = optimizers.lanton(layers, 0.05, base="dmuon", estimator="consecutive")
    state = optimizer.init()
    assert state._fields == ("step", "momentum", "second_moment", "row_second_moment", "previous_grads",
                             "momentum_mass", "noise_estimate", "weights", "diagnostics")
    assert state.diagnostics._fields == ("weights", "noise_sample", "noise_estimate", "momentum_dual_norm",
                                         "step_length", "update_rms")
    assert set(state.second_moment) == {"w2"} and set(state.previous_grads) == set(state.momentum)
    grads, params = random_tree(layers, np.random.default_rng(0)), random_tree(layers, np.random.default_rng(1))
    _, state = optimizer.step(state, grads, params=params)
    snapshot = optimizers.state_to_arrays(state)
    grads_copy = {name: value.copy() for name, value in grads.items()}
    optimizer.step(state, grads, params=params)
    for key, value in optimizers.state_to_arrays(state).items():
        np.testing.assert_array_equal(value, snapshot[key])
    grads["w0"][:] = 0.0  # the state must not alias the caller's arrays
    np.testing.assert_array_equal(state.previous_grads["w0"], grads_copy["w0"])
    record = optimizer.describe()
    assert record["method"] == "lanton" and record["estimator"] == "consecutive" and record["base"] == "dmuon"
    assert [layer["kind"] for layer in record["layers"]] == ["lmo", "lmo", "adamw"]


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_stateful_wrapper(backend, tmp_path):
    layers = make_layers("spectral")
    functional = optimizers.muon(layers, weight_decay=0.1)
    stateful = optimizers.Stateful(optimizers.muon(layers, weight_decay=0.1, backend=backend))
    rng = np.random.default_rng(3)
    params = random_tree(layers, rng)
    params["w2"] = params["w2"].ravel()  # a 1-D bias keeps its shape
    state = functional.init(params)
    expected = {name: np.asarray(value, dtype=float).reshape(layer.shape)
                for (name, value), layer in zip(params.items(), layers)}
    for t in range(4):
        grads = random_tree(layers, rng)
        grads_before = {name: value.copy() for name, value in grads.items()}
        params_before = {name: value.copy() for name, value in params.items()}
        updates, state = functional.step(state, grads, params=expected)
        expected = {name: expected[name] + updates[name] for name in expected}
        new_params = stateful.step(params, grads)
        for name in params:  # inputs untouched, outputs new arrays with the caller's shapes
            np.testing.assert_array_equal(params[name], params_before[name])
            np.testing.assert_array_equal(grads[name], grads_before[name])
            assert new_params[name].shape == params[name].shape
            assert not np.shares_memory(new_params[name], params[name])
            np.testing.assert_allclose(new_params[name].reshape(expected[name].shape), expected[name], rtol=1e-10)
        params = new_params
    assert stateful.state.step == 4 and stateful.diagnostics.update_rms.shape == (3,)
    stateful.save(tmp_path / "s.npz")
    other = optimizers.Stateful(optimizers.muon(layers, weight_decay=0.1, backend=backend))
    other.load(tmp_path / "s.npz")
    grads = random_tree(layers, rng)
    np.testing.assert_array_equal(other.step(params, grads)["w0"], stateful.step(params, grads)["w0"])


def test_engine_calls_the_flat_kernel_on_one_row_per_seed():
    # what the simulation engine does: (R, size) state arrays, schedule tables, no Python objects
    layers = make_layers("spectral", "ns5")
    optimizer = optimizers.lanton(layers, optimizers.schedules.cosine(0.05, 20), estimator="consecutive",
                                  weight_decay=0.01)
    layout, config = optimizer.layout, optimizer.kernel_config()
    seeds, steps = 3, 20
    lr_table, beta_table = optimizer.config.lr.values(steps), optimizer.config.beta.values(steps)
    flat0 = optimizer.to_flat(optimizer.init())
    state = [np.tile(array, (seeds, 1)) for array in flat0]
    params = np.stack([layout.flatten(random_tree(layers, np.random.default_rng(10 + r))) for r in range(seeds)])
    sequences = [gradient_sequence(layers, steps, seed=r) for r in range(seeds)]
    expected_params = []
    for r in range(seeds):  # the reference, seed by seed
        _, _, final = run(optimizer, sequences[r], layout.unflatten(params[r]))
        expected_params.append(layout.flatten(final))
    updates = np.zeros(layout.size)
    diagnostics = optimizers.Diagnostics(*(np.zeros(len(layout)) for _ in optimizers.Diagnostics._fields))
    empty = np.zeros(0)
    for t in range(1, steps + 1):
        for r in range(seeds):
            grads = layout.flatten(sequences[r][t - 1][0])
            inputs = optimizers.StepInputs(params[r], grads, empty, empty)
            row = optimizers.FlatState(*(array[r] for array in state))
            status = _kernels.step(t, lr_table[t - 1], beta_table[t - 1], lr_table[t - 1], inputs, row, updates,
                                   diagnostics, *config)
            assert status == -1
            params[r] += updates
    for r in range(seeds):
        np.testing.assert_allclose(params[r], expected_params[r], rtol=1e-10)
