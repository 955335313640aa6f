"""Traps a new user fell into (optimizer-rules issue), each pinned by a test that failed before.

- error messages name the parameter the user wrote (``betas``, ``eps``, ``norm``), never a
  doubled ``layers: layers:``;
- a LANTON gradient near 1e160 (its squared dual norm overflows) raises the package's
  "diverged at step t" error on both backends, instead of ``OverflowError`` (reference) or
  ``ZeroDivisionError`` (numba);
- ``load_state`` of a file that is not a saved state names the file;
- complex gradients are refused, naming the argument.
"""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import optimizers
from nalr_theory.geometry import Layer

from .helpers import make_layers, random_tree

LAYERS = make_layers("spectral")


@pytest.mark.parametrize("build, name", [
    (lambda: optimizers.adamw(LAYERS, betas=(0.9, 1.0)), "betas"),
    (lambda: optimizers.adamw(LAYERS, betas=0.9), "betas"),
    (lambda: optimizers.adamw(LAYERS, eps=0.0), "eps"),
    (lambda: optimizers.adamw(LAYERS, lr=-1.0), "lr"),
    (lambda: optimizers.adamw(LAYERS, weight_decay=-1.0), "weight_decay"),
    (lambda: optimizers.normuon(LAYERS, eps=-1.0), "eps"),
    (lambda: optimizers.normuon(LAYERS, beta2=1.0), "beta2"),
    (lambda: optimizers.muon(LAYERS, adamw_betas=(0.9, 1.0)), "adamw_betas"),
])
def test_messages_name_the_parameter_the_user_wrote(build, name):
    with pytest.raises(ValueError) as info:
        build()
    message = str(info.value)
    assert message.startswith(f"{name}:"), message
    assert "adamw_betas[1]" not in message and "[0]" not in message


@pytest.mark.parametrize("layers", [
    lambda: [Layer("a", (6, 4), "nuclear")],
    lambda: [Layer("a", (6, 4), "spectral"), Layer("a", (6, 4), "spectral")],
    lambda: [("a", (6, 4), "spectral", "ns5")],
    lambda: [],
])
def test_layer_errors_are_not_prefixed_twice(layers):
    with pytest.raises(ValueError) as info:
        optimizers.lmo_momentum(layers(), 0.1)
    message = str(info.value)
    assert "layers: layers:" not in message
    assert not message.startswith("layers: name"), message


def test_unknown_norm_names_norm():
    with pytest.raises(ValueError, match="^norm: unknown norm 'nuclear'"):
        optimizers.lmo_momentum([Layer("a", (6, 4), "nuclear")], 0.1)


@pytest.mark.parametrize("backend", ["reference", "numba"])
@pytest.mark.parametrize("dual", optimizers.DUALS)
@pytest.mark.parametrize("estimator", ["two_sample", "consecutive", "momentum_residual", "oracle"])
def test_overflowing_noise_sample_is_reported_as_divergence(estimator, dual, backend):
    layers = make_layers("rms_to_rms", "ns5")
    optimizer = optimizers.lanton(layers, 0.01, estimator=estimator, dual=dual, backend=backend)
    rng = np.random.default_rng(0)
    state = optimizer.init()
    huge = lambda: {name: 1e160 * g for name, g in random_tree(layers, rng).items()}  # noqa: E731
    with pytest.raises(FloatingPointError, match=r"^diverged at step [12]: the noise sample of layer 'w0'"):
        for _ in range(3):
            grads = huge()
            _, state = optimizer.step(state, grads, grads2=huge(), noise=grads)


def test_both_backends_agree_on_where_a_run_diverges():
    layers = make_layers("spectral", "ns5")
    messages = []
    for backend in ("reference", "numba"):
        optimizer = optimizers.lanton(layers, 0.01, estimator="consecutive", dual="quadrature", backend=backend)
        rng = np.random.default_rng(1)
        state = optimizer.init()
        with pytest.raises(FloatingPointError) as info:
            for t in range(1, 10):
                scale = 1.0 if t < 4 else 1e160
                grads = {name: scale * g for name, g in random_tree(layers, rng).items()}
                _, state = optimizer.step(state, grads)
        messages.append(str(info.value))
    assert messages[0] == messages[1] == "diverged at step 4: the noise sample of layer 'w0' is not finite (overflow)"


def test_load_state_of_a_file_that_is_not_a_state_names_the_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a state")
    with pytest.raises(ValueError, match="^path: .*notes.txt.* is not a saved optimizer state"):
        optimizers.load_state(text)
    array = tmp_path / "array.npy"
    np.save(array, np.zeros(3))
    with pytest.raises(ValueError, match="^path: .*array.npy"):
        optimizers.load_state(array)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ValueError, match="^path: .*other.npz.*missing"):
        optimizers.load_state(other)
    with pytest.raises(ValueError, match="^path: no such file"):
        optimizers.load_state(tmp_path / "missing.npz")


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_complex_gradients_are_refused(backend):
    optimizer = optimizers.lmo_momentum(LAYERS, 0.1, backend=backend)
    grads = random_tree(LAYERS, np.random.default_rng(0))
    grads["w1"] = grads["w1"] + 1j
    with pytest.raises(ValueError, match=r"^grads\['w1'\]: complex"):
        optimizer.step(optimizer.init(), grads)
