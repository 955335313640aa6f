"""LANTON, hand-checked: equal noise gives the base method, a 4x noisier layer gets 1/4 of
the quiet layer's weight, lag=1 applies the previous weights, estimators' first steps,
clipping's pathwise lower bound (THEORY.md case 4)."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import optimizers
from nalr_theory.geometry import Layer, get_norm
from nalr_theory.optimizers.rules import group_weights

from .helpers import make_layers, random_tree


def bounded_noise(layers, sigmas, rng, norms=None):
    """``xi = sigma D / ||D||_*``: dual norm exactly ``sigma`` (up to rounding) in the layer norm."""
    noise = {}
    for index, (layer, sigma) in enumerate(zip(layers, sigmas)):
        norm = norms[index] if norms else get_norm(layer.norm, layer.shape, layer.radius, layer.lmo_method)
        D = rng.standard_normal(layer.shape)
        noise[layer.name] = sigma * D / norm.dual(D)
    return noise


def oracle_run(optimizer, layers, sigmas, steps, seed=0, norms=None):
    """Constant true gradient plus bounded noise; returns (updates, states)."""
    rng = np.random.default_rng(seed)
    mean = random_tree(layers, rng)
    params = random_tree(layers, rng, scale=0.01)
    state = optimizer.init(params)
    all_updates, states = [], []
    for _ in range(steps):
        noise = bounded_noise(layers, sigmas, rng, norms)
        grads = {name: mean[name] + noise[name] for name in mean}
        updates, state = optimizer.step(state, grads, noise=noise, params=params)
        params = {name: params[name] + updates[name] for name in params}
        all_updates.append(updates)
        states.append(state)
    return all_updates, states


BASES = {
    "lmo_momentum": (lambda layers, **kw: optimizers.lmo_momentum(layers, 0.05, **kw), "spectral"),
    "scion": (lambda layers, **kw: optimizers.scion(layers, 0.05, **kw), "sign"),
    "dmuon": (lambda layers, **kw: optimizers.dmuon(layers, 0.05, **kw), "spectral"),
}


@pytest.mark.parametrize("base", list(BASES))
def test_equal_noise_gives_the_base_method(base):
    build, preset = BASES[base]
    layers = make_layers(preset, shapes=((6, 4), (4, 6), (5, 4)))
    base_optimizer = build(layers)
    lanton = optimizers.lanton(layers, 0.05, base=base, estimator="oracle")
    # the noise in each layer's own (base) norm, so every H is exactly the same sigma^2
    norms = base_optimizer.layout.norms
    updates_lanton, states = oracle_run(lanton, layers, [0.7, 0.7, 0.7], 50, norms=norms)
    updates_base, _ = oracle_run(base_optimizer, layers, [0.7, 0.7, 0.7], 50, norms=norms)
    for t, (a, b) in enumerate(zip(updates_lanton, updates_base), start=1):
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-13, atol=1e-300, err_msg=f"step {t} {name}")
    assert np.allclose(states[-1].diagnostics.weights, 1.0, rtol=0, atol=1e-14)


def test_unequal_noise_does_not_give_the_base_method():
    # the converse, so the test above can fail: heterogeneous noise changes the steps
    layers = make_layers("spectral", shapes=((6, 4), (4, 6)))
    lanton = optimizers.lanton(layers, 0.05, estimator="oracle")
    updates_lanton, _ = oracle_run(lanton, layers, [0.7, 1.4], 5)
    updates_base, _ = oracle_run(optimizers.lmo_momentum(layers, 0.05), layers, [0.7, 1.4], 5)
    assert not np.allclose(updates_lanton[-1]["w1"], updates_base[-1]["w1"])


def test_four_times_noisier_layer_gets_a_quarter_of_the_weight_oracle():
    # Stated tolerance: with the oracle estimator and noise of dual norm exactly sigma,
    # H = sigma^2 at every step, so w_noisy / w_quiet = 1/4 up to eps = 1e-12 relative: 1e-9.
    layers = make_layers("spectral", shapes=((6, 4), (4, 6), (5, 4)))
    lanton = optimizers.lanton(layers, 0.05, estimator="oracle")
    _, states = oracle_run(lanton, layers, [1.0, 4.0, 2.0], 100)
    for state in states:
        weights = state.diagnostics.weights
        assert weights[0] == pytest.approx(1.0, abs=1e-9)
        assert weights[1] / weights[0] == pytest.approx(0.25, abs=1e-9)
        assert weights[2] / weights[0] == pytest.approx(0.5, abs=1e-9)
        np.testing.assert_allclose(state.noise_estimate, [1.0, 16.0, 4.0], rtol=1e-12)


@pytest.mark.parametrize("estimator", ["two_sample", "consecutive", "momentum_residual"])
def test_four_times_noisier_layer_gets_a_quarter_of_the_weight_estimated(estimator):
    # Frobenius layers, constant true gradient, noise of Frobenius norm exactly sigma in a
    # uniformly random direction: every estimator's E[n] is proportional to sigma^2 with the
    # same factor for both layers (two_sample, consecutive: sigma^2; residual: sigma^2 (1 +
    # (1 - beta)/(1 + beta))). Stated tolerance: the mean ratio over the last 1000 of 2000
    # steps (beta2 = 0.99) is within 3% of 1/4 (its standard error is about 0.2%).
    layers = [Layer("quiet", (6, 4), "frobenius"), Layer("noisy", (4, 6), "frobenius")]
    lanton = optimizers.lanton(layers, 0.01, estimator=estimator, beta2=0.99)
    rng = np.random.default_rng(3)
    mean = random_tree(layers, rng)
    params = random_tree(layers, rng)
    state = lanton.init(params)
    ratios = []
    for t in range(2000):
        draws = [bounded_noise(layers, [1.0, 4.0], rng) for _ in range(2)]
        grads = {name: mean[name] + draws[0][name] for name in mean}
        grads2 = {name: mean[name] + draws[1][name] for name in mean}
        _, state = lanton.step(state, grads, grads2)
        if t >= 1000:
            ratios.append(state.diagnostics.weights[1] / state.diagnostics.weights[0])
    assert np.mean(ratios) == pytest.approx(0.25, rel=0.03)
    assert state.diagnostics.weights[0] == 1.0


@pytest.mark.parametrize("dual", ["exact", "quadrature"])
def test_four_times_noisier_spectral_layer_with_the_cheap_dual(dual):
    # Same-shape spectral layers, i.i.d. Gaussian noise of scale 1 and 4, consecutive
    # estimator: the quadrature lower bound is scale-homogeneous and its ratio to the nuclear
    # norm concentrates (0.92-0.93 at 12x12) identically for both layers, so the weights keep
    # the exact dual's 1/4. Stated tolerance: mean ratio over the last 500 of 1000 steps
    # (beta2 = 0.99) within 3% of 1/4.
    layers = [Layer("quiet", (12, 12), "spectral"), Layer("noisy", (12, 12), "spectral")]
    lanton = optimizers.lanton(layers, 0.01, estimator="consecutive", dual=dual, beta2=0.99)
    rng = np.random.default_rng(8)
    mean = random_tree(layers, rng)
    state = lanton.init()
    ratios = []
    for t in range(1000):
        grads = {"quiet": mean["quiet"] + rng.standard_normal((12, 12)),
                 "noisy": mean["noisy"] + 4.0 * rng.standard_normal((12, 12))}
        _, state = lanton.step(state, grads)
        if t >= 500:
            ratios.append(state.diagnostics.weights[1] / state.diagnostics.weights[0])
    assert np.mean(ratios) == pytest.approx(0.25, rel=0.03)


def test_lag_one_applies_the_previous_weights():
    layers = make_layers("spectral", shapes=((6, 4), (4, 6), (5, 4)))
    rng = np.random.default_rng(0)
    sigmas = [1.0, 3.0, 2.0]
    sequence = []
    mean = random_tree(layers, rng)
    for _ in range(30):
        noise = {layer.name: s * rng.standard_normal(layer.shape) for layer, s in zip(layers, sigmas)}
        sequence.append({name: mean[name] + noise[name] for name in mean})
    now = optimizers.lanton(layers, 0.05, estimator="consecutive")
    lagged = optimizers.lanton(layers, 0.05, estimator="consecutive", lag=1)
    state_now, state_lagged = now.init(), lagged.init()
    previous_weights = np.ones(3)  # w_0 = 1
    for t, grads in enumerate(sequence, start=1):
        updates_now, state_now = now.step(state_now, grads)
        updates_lagged, state_lagged = lagged.step(state_lagged, grads)
        np.testing.assert_array_equal(state_lagged.diagnostics.weights, previous_weights)
        np.testing.assert_array_equal(state_lagged.weights, state_now.weights)  # same w_t computed
        for l, name in enumerate(now.layout.names):
            # same momentum and direction; only the weight differs
            expected = updates_now[name] * (previous_weights[l] / state_now.diagnostics.weights[l])
            np.testing.assert_allclose(updates_lagged[name], expected, rtol=1e-13)
        previous_weights = state_now.diagnostics.weights
    assert np.ptp(previous_weights) > 0.1  # the weights did vary, so the test can fail


@pytest.mark.parametrize("estimator, first", [("two_sample", 1), ("oracle", 1), ("consecutive", 2),
                                              ("momentum_residual", 2)])
def test_first_sample_initialises_H_without_bias(estimator, first):
    layers = make_layers("frobenius", shapes=((3, 3), (3, 3)))
    optimizer = optimizers.lanton(layers, 0.1, estimator=estimator, beta2=0.9)
    rng = np.random.default_rng(1)
    state = optimizer.init()
    for t in range(1, 4):
        grads, grads2 = random_tree(layers, rng), random_tree(layers, rng)
        noise = random_tree(layers, rng)
        previous = state
        _, state = optimizer.step(state, grads, grads2, noise)
        samples = state.diagnostics.noise_sample
        if t < first:
            assert np.all(np.isnan(samples)) and np.all(state.diagnostics.weights == 1.0)
        elif t == first:
            np.testing.assert_array_equal(state.noise_estimate, samples)  # H_1 = n_1, not (1 - beta2) n_1
        else:
            np.testing.assert_allclose(state.noise_estimate, 0.9 * previous.noise_estimate + 0.1 * samples)


def test_estimator_values_by_hand():
    layer = Layer("w", (4, 3), "spectral")
    rng = np.random.default_rng(2)
    G1, G2, G2b, xi = (rng.standard_normal((4, 3)) for _ in range(4))
    nuclear = lambda Z: np.sum(np.linalg.svd(Z, compute_uv=False))  # noqa: E731
    cases = {
        "two_sample": nuclear(G2 - G2b) ** 2 / 2,
        "consecutive": nuclear(G2 - G1) ** 2 / 2,
        "momentum_residual": nuclear(G2 - G1) ** 2,  # B_1 / m_1 = G_1 for either momentum form
        "oracle": nuclear(xi) ** 2,
    }
    for estimator, expected in cases.items():
        for form in ("ema", "heavy_ball"):
            optimizer = optimizers.lanton([layer], 0.1, estimator=estimator, momentum_form=form)
            state = optimizer.init()
            _, state = optimizer.step(state, {"w": G1}, {"w": G1}, {"w": xi})
            _, state = optimizer.step(state, {"w": G2}, {"w": G2b}, {"w": xi})
            assert state.diagnostics.noise_sample[0] == pytest.approx(expected, rel=1e-12), (estimator, form)


@pytest.mark.parametrize("dual", ["ns", "gram", "quadrature"])
def test_cheap_duals_track_the_exact_one(dual):
    # gram: exact up to rounding; ns: within NS5's descent ratio kappa_lo (>= 0.68);
    # quadrature: the certified lower bound, at least the one-node bound ||Z||_F^2 / ||Z Z^T||_F^(1/2)
    layer = Layer("w", (8, 5), "spectral")
    rng = np.random.default_rng(4)
    values = {}
    for mode in ("exact", dual):
        optimizer = optimizers.lanton([layer], 0.1, estimator="oracle", dual=mode)
        _, state = optimizer.step(optimizer.init(), {"w": rng.standard_normal((8, 5))},
                                  noise={"w": np.random.default_rng(5).standard_normal((8, 5))})
        values[mode] = state.diagnostics.noise_sample[0]
    ratio = np.sqrt(values[dual] / values["exact"])
    if dual == "gram":
        assert ratio == pytest.approx(1.0, rel=1e-10)
    elif dual == "quadrature":
        xi = np.random.default_rng(5).standard_normal((8, 5))
        one_node = np.sum(xi * xi) ** 1.5 / np.linalg.norm(xi.T @ xi)
        assert one_node / np.linalg.norm(xi, "nuc") - 1e-12 <= ratio <= 1.0 + 1e-12
        assert ratio > 0.9  # a Gaussian 8x5 matrix: Marchenko-Pastur-like spectrum
    else:
        assert 0.68 <= ratio <= 1.0 + 1e-12


def test_clip_gives_the_pathwise_lower_bound():
    h_min, h_max = 0.25, 4.0
    layers = make_layers("spectral", shapes=((4, 4), (4, 4), (4, 4)))
    optimizer = optimizers.lanton(layers, 0.05, estimator="consecutive", clip=(h_min, h_max))
    rng = np.random.default_rng(6)
    state = optimizer.init()
    lowest = 1.0
    for _ in range(200):
        scales = 0.1 * np.exp(2.0 * rng.standard_normal(3))  # wildly heterogeneous noise
        grads = {layer.name: s * rng.standard_normal(layer.shape) for layer, s in zip(layers, scales)}
        _, state = optimizer.step(state, grads)
        lowest = min(lowest, state.diagnostics.weights.min())
    assert lowest >= np.sqrt(h_min / h_max) - 1e-15
    assert lowest < 0.6  # the clip is active, so the bound is what holds the weights up


def test_weights_lie_in_zero_one_and_w_min_is_a_floor():
    H = np.array([1.0, 100.0, 1e4, 0.5, 2.0])
    groups = np.array([0, 0, 0, 1, -1])
    weights = group_weights(H, groups, 1e-6, 0.0, 0.0, np.inf)
    e = 1e-6 * 1e4  # eps is relative to the group's largest H
    expected = [1.0, np.sqrt((1 + e) / (100 + e)), np.sqrt((1 + e) / (1e4 + e)), 1.0, 1.0]
    np.testing.assert_allclose(weights, expected, rtol=1e-14)
    assert np.all((weights > 0) & (weights <= 1))
    floored = group_weights(H, groups, 1e-6, 0.05, 0.0, np.inf)
    np.testing.assert_allclose(floored, [1.0, expected[1], 0.05, 1.0, 1.0], rtol=1e-14)


def test_zero_noise_group_gets_uniform_weights():
    weights = group_weights(np.zeros(3), np.array([0, 0, 0]), 1e-12, 0.0, 0.0, np.inf)
    np.testing.assert_array_equal(weights, np.ones(3))


def test_groups_are_normalised_separately():
    layers = [Layer("a", (4, 4), "spectral", group="hidden"), Layer("b", (4, 4), "spectral", group="hidden"),
              Layer("c", (4, 4), "spectral", group="head")]
    optimizer = optimizers.lanton(layers, 0.05, estimator="oracle")
    _, states = oracle_run(optimizer, layers, [1.0, 2.0, 8.0], 3)
    np.testing.assert_allclose(states[-1].diagnostics.weights, [1.0, 0.5, 1.0], rtol=1e-9)


def test_adamw_layers_take_no_part_in_the_groups():
    layers = make_layers("spectral")  # (5, 1) is a vector: AdamW under D-Muon
    optimizer = optimizers.lanton(layers, 0.01, base="dmuon", estimator="oracle")
    assert optimizer.kinds == ("lmo", "lmo", "adamw")
    _, states = oracle_run(optimizer, layers, [1.0, 2.0, 100.0], 3, norms=optimizer.layout.norms)
    diagnostics = states[-1].diagnostics
    np.testing.assert_allclose(diagnostics.weights, [1.0, 0.5, 1.0], rtol=1e-9)
    assert np.isnan(diagnostics.noise_sample[2]) and np.isnan(diagnostics.noise_estimate[2])
