"""Hand-checked cases of the methods: Scion's ball, D-Muon's RMS, Muon unrolled by hand,
AdamW by hand, NorMuon's row normalisation, momentum forms, fixed weights, weight decay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nalr_theory import optimizers
from nalr_theory.geometry import Layer, get_norm, newton_schulz, ns_band
from nalr_theory.optimizers import schedules

from .helpers import gradient_sequence, make_layers, random_tree, run

BALL_PRESETS = ["spectral", "rms_to_rms", "frobenius", "sign", "colnorm", "rownorm", "max_abs"]


@pytest.mark.parametrize("constrained", [True, False])
def test_scion_constrained_iterates_stay_in_the_ball(constrained):
    layers = [Layer(f"w_{name}", (5, 4), name) for name in BALL_PRESETS]
    norms = [get_norm(layer.norm, layer.shape) for layer in layers]
    rng = np.random.default_rng(0)
    params = {}
    for layer, norm in zip(layers, norms):
        X = rng.standard_normal(layer.shape)
        params[layer.name] = 0.9 * X / norm.norm(X)  # start inside the unit ball of the layer norm
    optimizer = optimizers.scion(layers, 0.1, constrained=constrained)
    state = optimizer.init(params)
    mean = random_tree(layers, rng)  # a persistent gradient pushes the iterate outwards
    largest = 0.0
    for _ in range(200):
        grads = {name: mean[name] + rng.standard_normal(mean[name].shape) for name in mean}
        updates, state = optimizer.step(state, grads, params=params)
        params = {name: params[name] + updates[name] for name in params}
        largest = max(largest, max(norm.norm(params[layer.name]) for layer, norm in zip(layers, norms)))
    if constrained:
        assert largest <= 1.0 + 1e-12
    else:
        assert largest > 2.0  # the unconstrained step leaves the ball: the test can fail


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 8), (16, 3)])
def test_dmuon_update_rms_is_0_2_within_the_ns5_band(shape):
    lo, hi = ns_band("ns5")
    layer = Layer("w", shape, "spectral")
    for lmo_method, band in (("ns5", (0.2 * lo, 0.2 * hi)), ("svd", (0.2 - 1e-12, 0.2 + 1e-12))):
        optimizer = optimizers.dmuon([layer], lr=1e-3, weight_decay=0.0, lmo_method=lmo_method)
        _, states, _ = run(optimizer, gradient_sequence([layer], 30), {"w": np.zeros(shape)})
        ratios = np.array([state.diagnostics.update_rms[0] / 1e-3 for state in states])
        assert np.all((ratios >= band[0]) & (ratios <= band[1])), (lmo_method, ratios.min(), ratios.max())
    assert abs(ratios.mean() - 0.2) < 1e-12


def test_muon_nesterov_matches_three_steps_unrolled_by_hand():
    rng = np.random.default_rng(7)
    G = [rng.standard_normal((6, 4)) for _ in range(3)]
    lr, beta = 0.02, 0.95
    scale = math.sqrt(max(1.0, 6 / 4))
    expected, B = [], np.zeros((6, 4))
    for g in G:
        B = beta * B + (1 - beta) * g
        U = (1 - beta) * g + beta * B
        expected.append(-lr * scale * newton_schulz(U, "ns5"))
    for backend in ("reference", "numba"):
        optimizer = optimizers.muon([Layer("w", (6, 4))], backend=backend)
        state = optimizer.init()
        for t, g in enumerate(G):
            updates, state = optimizer.step(state, {"w": g})
            np.testing.assert_allclose(updates["w"], expected[t], rtol=1e-12, atol=1e-16)
    # without Nesterov the steps differ (so the comparison above can fail)
    plain = optimizers.muon([Layer("w", (6, 4))], nesterov=False)
    state = plain.init()
    for g in G:
        updates, state = plain.step(state, {"w": g})
    assert not np.allclose(updates["w"], expected[-1], rtol=1e-3)


def test_adamw_matches_the_torch_formula_by_hand():
    rng = np.random.default_rng(8)
    lr, (b1, b2), eps, wd = 1e-2, (0.9, 0.999), 1e-8, 0.01
    X = rng.standard_normal((3, 2))
    m = v = np.zeros_like(X)
    optimizer = optimizers.adamw([Layer("w", (3, 2))], lr)
    state = optimizer.init()
    params = {"w": X.copy()}
    for t in range(1, 6):
        g = rng.standard_normal((3, 2))
        # torch.optim.AdamW: decay, then addcdiv with bias-corrected step size and denominator
        X_expected = X * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denominator = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
        X_expected = X_expected - (lr / (1 - b1**t)) * m / denominator
        updates, state = optimizer.step(state, {"w": g}, params=params)
        params = {"w": params["w"] + updates["w"]}
        X = X_expected
        np.testing.assert_allclose(params["w"], X_expected, rtol=1e-13)


def test_normuon_equalises_row_rms_and_keeps_the_frobenius_norm():
    layer = Layer("w", (8, 3), "spectral")  # tall: NS5 rows have unequal norms
    optimizer = optimizers.normuon([layer], lr=1.0, beta2=0.0)  # v_t = this step's row means
    G = np.random.default_rng(9).standard_normal((8, 3))
    updates, state = optimizer.step(optimizer.init(), {"w": G})
    update = updates["w"]
    row_rms = np.sqrt(np.mean(update**2, axis=1))
    np.testing.assert_allclose(row_rms, row_rms[0], rtol=1e-8)
    # the Frobenius norm of the NS5 output is kept, times the dmuon radius
    B = 0.05 * G
    O = newton_schulz(0.05 * G + 0.95 * B, "ns5")
    radius = 0.2 * math.sqrt(8)
    assert np.linalg.norm(update) == pytest.approx(radius * np.linalg.norm(O), rel=1e-9)
    # ... and the row RMS really changed compared with plain NS5
    plain = np.sqrt(np.mean(O**2, axis=1))
    assert np.ptp(plain) / plain.mean() > 0.05


@pytest.mark.parametrize("preset", ["spectral", "sign", "colnorm"])
def test_momentum_forms_agree_for_scale_invariant_lmos(preset):
    layers = make_layers(preset)
    sequence = gradient_sequence(layers, 20)
    params = random_tree(layers, np.random.default_rng(0))
    ema, _, _ = run(optimizers.lmo_momentum(layers, 0.1, beta=0.8, nesterov=True), sequence, params)
    heavy, _, _ = run(optimizers.lmo_momentum(layers, 0.1, beta=0.8, nesterov=True, momentum_form="heavy_ball"),
                      sequence, params)
    for a, b in zip(ema, heavy):
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-14)


def test_heavy_ball_momentum_is_the_ema_over_one_minus_beta():
    layers = make_layers("spectral")
    sequence = gradient_sequence(layers, 10)
    _, ema, _ = run(optimizers.lmo_momentum(layers, 0.1, beta=0.8), sequence, random_tree(layers, np.random.default_rng(0)))
    _, heavy, _ = run(optimizers.lmo_momentum(layers, 0.1, beta=0.8, momentum_form="heavy_ball"), sequence,
                      random_tree(layers, np.random.default_rng(0)))
    for name in ema[-1].momentum:
        np.testing.assert_allclose(heavy[-1].momentum[name] * 0.2, ema[-1].momentum[name], rtol=1e-12)
    assert heavy[-1].momentum_mass == pytest.approx((1 - 0.8**10) / 0.2)
    assert ema[-1].momentum_mass == pytest.approx(1 - 0.8**10)


def test_fixed_layerwise_scales_each_layer_and_oracle_weights():
    layers = make_layers("spectral")
    weights = optimizers.oracle_weights({"w0": 0.5, "w1": 2.0, "w2": 1.0})
    assert weights == pytest.approx({"w0": 1.0, "w1": 0.25, "w2": 0.5})
    sequence = gradient_sequence(layers, 5)
    params = random_tree(layers, np.random.default_rng(0))
    fixed, states, _ = run(optimizers.fixed_layerwise(layers, 0.1, weights), sequence, params)
    uniform, _, _ = run(optimizers.lmo_momentum(layers, 0.1), sequence, params)
    for a, b in zip(fixed, uniform):
        for name in a:
            np.testing.assert_allclose(a[name], weights[name] * b[name], rtol=1e-14)
    np.testing.assert_allclose(states[-1].diagnostics.step_length, [0.1, 0.025, 0.05])
    grouped = optimizers.oracle_weights(
        {"a": 1.0, "b": 2.0, "c": 4.0},
        [Layer("a", (2, 2), group="x"), Layer("b", (2, 2), group="x"), Layer("c", (2, 2), group="y")])
    assert grouped == pytest.approx({"a": 1.0, "b": 0.5, "c": 1.0})


def test_decoupled_weight_decay():
    layers = make_layers("spectral")
    optimizer = optimizers.dmuon(layers, 0.01, weight_decay=0.1)
    rng = np.random.default_rng(3)
    grads, params = random_tree(layers, rng), random_tree(layers, rng)
    zeros = {name: np.zeros_like(value) for name, value in params.items()}
    with_params, _ = optimizer.step(optimizer.init(), grads, params=params)
    at_zero, _ = optimizer.step(optimizer.init(), grads, params=zeros)
    for name in params:  # AdamW layer (vector) included: same lr and decay under D-Muon
        np.testing.assert_allclose(with_params[name] - at_zero[name], -0.01 * 0.1 * params[name], rtol=1e-12)


def test_muon_style_geometry_assignment():
    layers = [Layer("embed", (10, 4), "sign"), Layer("hidden", (4, 4), "spectral"), Layer("bias", (4, 1), "l2")]
    muon = optimizers.muon(layers, adamw_layers=("embed",))
    assert muon.kinds == ("adamw", "lmo", "adamw")
    assert muon.layout.norms[1].name == "muon" and muon.layout.norms[1].ns_coefficients.shape == (5, 3)
    # asked for explicitly, a declared non-spectral matrix layer takes the method's spectral preset
    dmuon = optimizers.dmuon(layers, non_spectral="spectral")
    assert dmuon.kinds == ("lmo", "lmo", "adamw")
    assert dmuon.layout.norms[0].radius == pytest.approx(0.2 * math.sqrt(10))
    assert optimizers.normuon(layers, non_spectral="spectral").kinds == ("normuon", "normuon", "adamw")
    assert optimizers.scion(layers, 0.1).layout.norms[0].name == "sign"  # Scion keeps the presets


@pytest.mark.parametrize("build", [
    lambda layers, **o: optimizers.muon(layers, **o),
    lambda layers, **o: optimizers.dmuon(layers, **o),
    lambda layers, **o: optimizers.normuon(layers, **o),
    lambda layers, **o: optimizers.lanton(layers, 0.01, base="dmuon", **o),
], ids=["muon", "dmuon", "normuon", "lanton[dmuon]"])
def test_declared_non_spectral_matrix_layers_are_not_silently_made_spectral(build):
    # the token model's geometry: sign embedding and head around a spectral hidden layer
    layers = [Layer("embed", (8, 6), "sign"), Layer("hidden", (8, 8), "spectral"), Layer("head", (6, 8), "sign")]
    kept = build(layers)
    assert [norm.name for norm in kept.layout.norms] == ["sign", build(layers).layout.norms[1].name, "sign"]
    assert kept.kinds[0] == kept.kinds[2] == "lmo"  # their own LMO (sign), not Newton-Schulz
    assert kept.layout.norms[0].ns_coefficients.shape == (0, 3)
    assert kept.layout.norms[1].base == "spectral"
    assert build(layers, non_spectral="adamw").kinds == ("adamw", kept.kinds[1], "adamw")
    with pytest.raises(ValueError, match="^non_spectral: layer 'embed'"):
        build(layers, non_spectral="raise")
    with pytest.raises(ValueError, match="^non_spectral: unknown value"):
        build(layers, non_spectral="orthogonalise")
    # the kept sign layer moves by the sign LMO: every entry by the same amount
    rng = np.random.default_rng(0)
    params = {layer.name: rng.standard_normal(layer.shape) for layer in layers}
    grads = {layer.name: rng.standard_normal(layer.shape) for layer in layers}
    updates, _ = kept.step(kept.init(params), grads, params=params)
    sizes = np.abs(updates["embed"] + (kept.config.weight_decay * kept.config.lr(1)) * params["embed"])
    np.testing.assert_allclose(sizes, sizes.flat[0], rtol=1e-12)


def test_reference_defaults_of_each_method():
    layers = make_layers("spectral")
    muon, dmuon = optimizers.muon(layers).config, optimizers.dmuon(layers).config
    assert (muon.lr(1), muon.beta(1), muon.momentum_form, muon.nesterov, muon.weight_decay) == (
        0.02, 0.95, "ema", True, 0.0)
    assert (muon.adamw_lr(1), muon.adamw_betas, muon.adamw_eps) == (3e-4, (0.9, 0.95), 1e-10)
    assert (dmuon.lr(1), dmuon.beta(1), dmuon.momentum_form, dmuon.nesterov, dmuon.weight_decay) == (
        1e-3, 0.95, "heavy_ball", True, 0.1)
    assert (dmuon.adamw_lr, dmuon.adamw_weight_decay, dmuon.adamw_eps) == (None, 0.1, 1e-8)
    lanton = optimizers.lanton(layers, 0.1, base="dmuon").config
    assert (lanton.momentum_form, lanton.weight_decay, lanton.beta2, lanton.eps, lanton.estimator) == (
        "heavy_ball", 0.1, 0.9, 1e-12, "consecutive")
    scion = optimizers.scion(layers, 0.1).config
    assert (scion.beta(1), scion.momentum_form, scion.nesterov, scion.constrained) == (0.9, "ema", False, False)


def test_schedules_drive_the_step_length():
    layers = make_layers("spectral")
    lr = schedules.cosine(0.1, 20, warmup_steps=5)
    _, states, _ = run(optimizers.lmo_momentum(layers, lr), gradient_sequence(layers, 20),
                       random_tree(layers, np.random.default_rng(0)))
    lengths = [state.diagnostics.step_length[0] for state in states]
    np.testing.assert_allclose(lengths, lr.values(20), rtol=0, atol=0)


def test_diagnostics_momentum_dual_norm_is_the_exact_dual_for_exact_lmos():
    layers = make_layers("spectral")
    sequence = gradient_sequence(layers, 3)
    _, states, _ = run(optimizers.lmo_momentum(layers, 0.1), sequence, random_tree(layers, np.random.default_rng(0)))
    state = states[-1]
    for l, layer in enumerate(layers):
        norm = get_norm(layer.norm, layer.shape)
        assert state.diagnostics.momentum_dual_norm[l] == pytest.approx(norm.dual(state.momentum[layer.name]),
                                                                        rel=1e-12)


@pytest.mark.parametrize("build", [
    lambda layers: optimizers.scion(layers, 0.05),
    lambda layers: optimizers.scion(layers, 0.05, nesterov=True),
    lambda layers: optimizers.scion(layers, 0.05, constrained=True),
    lambda layers: optimizers.lmo_momentum(layers, 0.05, momentum_form="heavy_ball", weight_decay=0.1),
], ids=["scion", "nesterov", "constrained", "heavy_ball_weight_decay"])
@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_lmo_step_entry_is_lmo_step_on_max_abs_layers_bit_for_bit(build, backend):
    """The engine updates max-abs layers entry by entry (``steps.lmo_step_entry``); on whole
    arrays and on each entry it gives ``lmo_step``'s momentum and update exactly, zeros and
    signed zeros included, on either backend."""
    from nalr_theory.geometry.base_norms import MAX_ABS
    from nalr_theory.optimizers import _kernels
    from nalr_theory.optimizers import steps as reference_steps

    steps = reference_steps if backend == "reference" else _kernels.steps
    options = build(make_layers("sign")).options
    rng = np.random.default_rng(7)
    B_previous, G, X = (rng.standard_normal((5, 4)) for _ in range(3))
    G[0, :2], B_previous[0, :2] = 0.0, 0.0  # momentum entries that are exactly zero
    G[1, 0], B_previous[1, 0] = -0.0, -0.0
    B, _, _, update = steps.lmo_step(B_previous, G, X, 0.9, 0.03, options, MAX_ABS, 2.5, np.zeros((0, 3)))
    if backend == "reference":  # the NumPy rules broadcast: the same function on whole arrays
        B_whole, update_whole = steps.lmo_step_entry(B_previous, G, X, 0.9, 0.03, options, 2.5)
        np.testing.assert_array_equal(B_whole, B)
        np.testing.assert_array_equal(update_whole, update)
    entries = [steps.lmo_step_entry(b, g, x, 0.9, 0.03, options, 2.5)
               for b, g, x in zip(B_previous.ravel(), G.ravel(), X.ravel())]
    B_entries = np.array([entry[0] for entry in entries]).reshape(B.shape)
    update_entries = np.array([entry[1] for entry in entries]).reshape(update.shape)
    for got, expected in ((B_entries, B), (update_entries, update)):
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
