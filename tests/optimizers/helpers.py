"""Shared helpers for the optimizer tests: small layers, gradient sequences, runners."""

from __future__ import annotations

import numpy as np

from nalr_theory.geometry import Layer

SHAPES = ((6, 4), (4, 6), (5, 1))

# (preset, lmo_method): every norm preset of GEOMETRY.md, spectral ones with exact and NS LMOs
PRESETS = (
    ("spectral", "svd"), ("spectral", "ns5"), ("frobenius", "svd"), ("max_abs", "svd"), ("col_norm", "svd"),
    ("row_norm", "svd"), ("rms_to_rms", "svd"), ("muon", "ns5"), ("dmuon", "ns5"), ("sign", "svd"),
    ("colnorm", "svd"), ("rownorm", "svd"), ("l2", "svd"), ("linf", "svd"),
)
VECTOR_ONLY = {"l2", "linf"}


def make_layers(preset: str = "spectral", lmo_method="svd", shapes=SHAPES, group=None) -> list[Layer]:
    """Three small layers sharing one norm (hence one LANTON group); vectors for l2/linf."""
    if preset in VECTOR_ONLY:
        shapes = ((6, 1), (4, 1), (5, 1))
    return [Layer(f"w{i}", shape, preset, group=group, lmo_method=lmo_method) for i, shape in enumerate(shapes)]


def random_tree(layers, rng, scale=1.0) -> dict[str, np.ndarray]:
    return {layer.name: scale * rng.standard_normal(layer.shape) for layer in layers}


def gradient_sequence(layers, steps: int, seed: int = 0, sigmas=None):
    """``steps`` triples ``(grads, grads2, noise)``: a fixed mean per layer plus noise of
    per-layer size (``sigmas``, default 0.5, 1, 2, ...) so noise-adaptive weights differ."""
    rng = np.random.default_rng(seed)
    sigmas = sigmas or [0.5 * 2.0**i for i in range(len(layers))]
    mean = random_tree(layers, rng)
    sequence = []
    for _ in range(steps):
        noise = {layer.name: s * rng.standard_normal(layer.shape) for layer, s in zip(layers, sigmas)}
        noise2 = {layer.name: s * rng.standard_normal(layer.shape) for layer, s in zip(layers, sigmas)}
        grads = {name: mean[name] + noise[name] for name in mean}
        grads2 = {name: mean[name] + noise2[name] for name in mean}
        sequence.append((grads, grads2, noise))
    return sequence


def run(optimizer, sequence, params, state=None):
    """Apply ``optimizer`` along ``sequence``; return (list of updates, list of states, params)."""
    state = optimizer.init(params) if state is None else state
    all_updates, states = [], []
    for grads, grads2, noise in sequence:
        updates, state = optimizer.step(state, grads, grads2, noise, params=params)
        params = {name: params[name] + updates[name] for name in params}
        all_updates.append(updates)
        states.append(state)
    return all_updates, states, params


def max_relative_difference(a: dict, b: dict) -> float:
    worst = 0.0
    for name in a:
        scale = max(float(np.max(np.abs(a[name]))), 1e-300)
        worst = max(worst, float(np.max(np.abs(a[name] - b[name]))) / scale)
    return worst
