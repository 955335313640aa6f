"""Sophia: the hand-checkable cases of its definition, the numba twin, the engine, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import engine, optimizers, problems
from nalr_theory.geometry import Layer
from nalr_theory.optimizers import rules

VECTOR = [Layer("x", (2, 1), "l2")]


def newton_settings(**options):
    settings = dict(beta1=0.0, beta2=0.0, k=1, gamma=1.0, curvature="exact")
    settings.update(options)
    return optimizers.sophia(VECTOR, 1.0, **settings)


def run_quadratic(c, x, steps, **options):
    """Sophia on ``f = 1/2 sum_i c_i x_i^2`` with exact gradients and the exact curvature."""
    opt = newton_settings(**options)
    state, path = opt.init(), []
    c, x = np.array(c, dtype=float).reshape(2, 1), np.array(x, dtype=float).reshape(2, 1)
    for t in range(1, steps + 1):
        hhat = {"x": c.copy()} if opt.needs_curvature(t) else None
        updates, state = opt.step(state, {"x": c * x}, hhat=hhat)
        x = x + updates["x"]
        path.append(x.ravel().copy())
    return path, state


def test_newton_step_on_a_separable_quadratic():
    path, _ = run_quadratic((100.0, 0.01), (0.5, 3.0), 3)
    np.testing.assert_allclose(path, [[0.0, 2.0], [0.0, 1.0], [0.0, 0.0]], atol=1e-15)


def test_negative_curvature_moves_downhill_by_the_sign():
    path, state = run_quadratic((-1.0, 1.0), (0.1, 0.1), 1)
    np.testing.assert_allclose(path[0], [1.1, 0.0], atol=1e-15)
    assert state.diagnostics.win_rate[0] == 0.5  # the second coordinate is unclipped


def test_sign_momentum_equivalence_before_the_first_estimate():
    """``first_refresh="after_k"`` and ``T <= k``: ``h = 0`` throughout, so every coordinate is
    clipped and Sophia is LMO momentum in the max_abs geometry (EMA, no Nesterov)."""
    rng = np.random.default_rng(3)
    layers = [Layer("a", (5, 4), "max_abs"), Layer("b", (3, 1), "linf")]
    T, beta1 = 200, 0.9
    sophia = optimizers.sophia(layers, 0.01, beta1=beta1, k=T, first_refresh="after_k", weight_decay=0.1)
    base = optimizers.lmo_momentum(layers, 0.01, beta=beta1, weight_decay=0.1)
    params = {layer.name: rng.standard_normal(layer.shape) for layer in layers}
    x_sophia, x_base = dict(params), dict(params)
    state_sophia, state_base = sophia.init(), base.init()
    for t in range(1, T + 1):
        assert not sophia.needs_curvature(t)
        grads = {layer.name: rng.standard_normal(layer.shape) for layer in layers}
        update_sophia, state_sophia = sophia.step(state_sophia, grads, params=x_sophia)
        update_base, state_base = base.step(state_base, grads, params=x_base)
        x_sophia = {name: x_sophia[name] + update_sophia[name] for name in x_sophia}
        x_base = {name: x_base[name] + update_base[name] for name in x_base}
    for name in params:
        np.testing.assert_allclose(x_sophia[name], x_base[name], rtol=0, atol=1e-12)
    assert np.all(state_sophia.diagnostics.kappa_lo == 1.0) and np.all(state_sophia.diagnostics.win_rate == 0.0)


@pytest.mark.parametrize("first_refresh, expected", [("t1", [1, 4, 7, 10]), ("after_k", [4, 7, 10])])
def test_refresh_schedule_counts_estimator_calls(first_refresh, expected):
    """k = 3, T = 10: the estimator runs at t = 1, 4, 7, 10 (paper) or, as the official code,
    after t = 3, 6, 9 (at the iterate steps 4, 7, 10 start from): 4 and 3 calls."""

    class CountingProblem:
        name, capabilities, calls = "stub", frozenset({"hess_diag"}), []

        def hess_diag(self, params):
            CountingProblem.calls.append(params["t"])
            return {"x": np.ones((2, 1))}

    opt = newton_settings(k=3, first_refresh=first_refresh)
    opt.check_problem(CountingProblem())
    for t in range(1, 11):
        opt.step_inputs(CountingProblem(), {"t": t}, None, np.random.default_rng(0), t)
    assert CountingProblem.calls == expected


def test_official_code_form_maps_to_ours():
    """Official SophiaG: ``X(1 - lr lambda) - lr sign(B) min(|B| / (rho bs h_code + 1e-15), 1)`` with
    ``h_code = h / bs`` and ``rho = gamma`` gives the same update as ours."""
    rng = np.random.default_rng(0)
    B, h, X = rng.standard_normal((6, 5)), rng.uniform(0.5, 2.0, (6, 5)), rng.standard_normal((6, 5))
    gamma, lr, decay, batch = 0.05, 0.03, 0.1, 480
    official = X * (1 - lr * decay) - lr * np.sign(B) * np.minimum(np.abs(B) / (gamma * batch * (h / batch) + 1e-15),
                                                                    1.0)
    direction = rules.sophia_direction(B, h, gamma, 1e-12, 1.0)[0]
    ours = X + rules.decoupled_step(direction, X, lr, decay)
    np.testing.assert_allclose(ours, official, rtol=0, atol=1e-15)


def test_kappa_and_step_bound():
    rng = np.random.default_rng(1)
    B, h = rng.standard_normal((8, 8)), rng.standard_normal((8, 8))  # some curvature negative
    direction, win, kappa_lo, kappa_hi = rules.sophia_direction(B, h, 0.5, 1e-12, 1.0)
    assert np.max(np.abs(direction)) <= 1.0 and kappa_hi <= 1.0
    unclipped = np.abs(B) < 0.5 * h
    assert win == pytest.approx(unclipped.mean())
    assert kappa_lo == pytest.approx(-np.sum(B * direction) / np.sum(np.abs(B)))
    assert 0 < kappa_lo <= 1


@pytest.mark.parametrize("curvature, family", [("hutchinson", "sigmoidal"), ("exact", "sigmoidal"),
                                               ("gnb", "random_features"), ("hutchinson", "random_features")])
def test_numba_equals_reference_over_200_steps(curvature, family):
    """The engine's run (numba step) equals the NumPy reference to 1e-10 over 200 steps, on a
    family without activations (rotated sigmoidal) and on random features."""
    problem = (problems.get("sigmoidal", shapes=[(4, 3), (3, 5)], norms=["spectral", "sign"], curvature=[1.0, 2.0])
               if family == "sigmoidal" else problems.get("random_features"))
    opt = optimizers.sophia(problem.layers, 0.02, curvature=curvature, k=3, weight_decay=0.01)
    fast = engine.simulate(problem, opt, 200, 2, record_every=10)
    slow = engine.reference_simulate(problem, opt, 200, 2, record_every=10)
    assert not np.any(fast.diverged)
    np.testing.assert_allclose(fast.f, slow.f, rtol=1e-10, atol=0)
    for name in problem.names:
        np.testing.assert_allclose(fast.final[name], slow.final[name], rtol=1e-10, atol=1e-12)
    for key in ("win_rate", "kappa_lo", "kappa_hi"):
        np.testing.assert_allclose(fast.extra[key], slow.extra[key], rtol=1e-10, atol=1e-12)
    assert fast.f[:, -1].mean() < problem.f(problem.init(0))  # it optimises


def test_estimator_the_problem_cannot_serve_names_the_capability():
    problem = problems.get("low_rank", pairs=[(4, 3, 2)])
    opt = optimizers.sophia(problem.layers, 0.01, curvature="gnb")
    with pytest.raises(ValueError, match="^curvature:.*'gnb'"):
        engine.simulate(problem, opt, 5, 1)


@pytest.mark.parametrize("options, name", [
    (dict(beta1=1.0), "beta1"), (dict(beta2=-0.1), "beta2"), (dict(k=0), "k"), (dict(k=2.5), "k"),
    (dict(gamma=0.0), "gamma"), (dict(eps=0.0), "eps"), (dict(clip=0.0), "clip"), (dict(curvature="adam"), "curvature"),
    (dict(hvp="diag"), "hvp"), (dict(probes=0), "probes"), (dict(first_refresh="t0"), "first_refresh"),
    (dict(bias_correction=1), "bias_correction"), (dict(fresh_batch=0), "fresh_batch"),
    (dict(clip_sampled=0.0), "clip_sampled"),
])
def test_bad_options_name_the_parameter(options, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        optimizers.sophia(VECTOR, 0.1, **options)


def test_bad_curvature_inputs():
    opt = newton_settings(k=2)
    state = opt.init()
    grads = {"x": np.ones((2, 1))}
    with pytest.raises(ValueError, match="^hhat: step 1 refreshes"):
        opt.step(state, grads)
    with pytest.raises(ValueError, match=r"^hhat\['x'\]: shape"):
        opt.step(state, grads, hhat={"x": np.ones((3, 1))})
    with pytest.raises(ValueError, match=r"^hhat\['x'\]"):
        opt.step(state, grads, hhat={"x": np.array([[np.nan], [1.0]])})
    _, state = opt.step(state, grads, hhat={"x": np.ones((2, 1))})
    with pytest.raises(ValueError, match="^hhat: step 2 is not a refresh step"):
        opt.step(state, grads, hhat={"x": np.ones((2, 1))})
    with pytest.raises(ValueError, match="^state:"):
        opt.step("not a state", grads)


def test_gnb_fresh_batch_and_clipped_sampled_gradient():
    """``fresh_batch`` draws the estimate on a fresh minibatch; ``clip_sampled = c`` rescales
    ``hhat = N_b ghat^2`` so that ``||ghat|| <= c``, and leaves it alone when already below."""
    problem = problems.get("random_features")
    x = problem.init(0)
    plain = optimizers.sophia(problem.layers, 0.01, curvature="gnb", fresh_batch=8)
    clipped = optimizers.sophia(problem.layers, 0.01, curvature="gnb", fresh_batch=8, clip_sampled=1e-3)
    loose = optimizers.sophia(problem.layers, 0.01, curvature="gnb", fresh_batch=8, clip_sampled=1e6)
    estimates = [opt.curvature_estimate(problem, x, np.random.default_rng(7)) for opt in (plain, clipped, loose)]
    np.testing.assert_array_equal(estimates[0]["W"], problem.gnb(x, np.random.default_rng(7), 8)["W"])
    assert np.sum(estimates[1]["W"]) / 8 == pytest.approx(1e-6, rel=1e-12)  # ||ghat||^2 = c^2
    np.testing.assert_array_equal(estimates[2]["W"], estimates[0]["W"])
