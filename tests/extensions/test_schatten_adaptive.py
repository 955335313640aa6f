"""The adaptive Schatten-q method: the hand-checkable cases of its criterion and steps, the
numba twin on random features, the engine, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import engine, geometry, optimizers, problems
from nalr_theory.geometry import Layer
from nalr_theory.optimizers import rules

GRID = np.array([2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 9.0, 17.0, 33.0, np.inf])


def singular(M):
    return np.linalg.svd(M, compute_uv=False)


def select(G, A, grid=GRID):
    """``rules.select_schatten`` on the spectra of ``G`` and ``A``."""
    return rules.select_schatten(singular(G), singular(A), grid)


def test_isotropic_both_is_an_exact_tie_broken_to_q2():
    k = 4
    index, J = select(np.eye(k), np.eye(k))
    np.testing.assert_allclose(J, np.sqrt(k), rtol=1e-14)
    assert GRID[index] == 2.0


def test_low_stable_rank_activations_favour_muon():
    index, J = select(np.eye(2), np.diag([1.0, 0.0]))
    assert J[0] == pytest.approx(np.sqrt(2)) and J[-1] == pytest.approx(2.0)
    assert GRID[index] == np.inf and np.all(np.diff(J) > 0)  # rank-one A: J increases in q


def test_rank_one_gradient_favours_sgd():
    rng = np.random.default_rng(0)
    G = np.outer(rng.standard_normal(4), rng.standard_normal(3))
    index, J = select(G, rng.standard_normal((3, 7)))
    assert GRID[index] == 2.0 and np.all(np.diff(J) < 0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_isotropic_activations_never_beat_frobenius(shape):
    rng = np.random.default_rng(1)
    G = rng.standard_normal(shape)
    _, J = select(G, np.eye(shape[1]))
    assert np.all(J[1:] < J[0])  # strict for a generic gradient
    if shape[0] >= shape[1]:  # flat spectrum and d_out >= d_in: an exact tie
        Q = np.linalg.qr(rng.standard_normal(shape))[0]
        _, J = select(Q, np.eye(shape[1]))
        np.testing.assert_allclose(J, J[0], rtol=1e-13)


@pytest.mark.parametrize("spectrum", ["power", "spiked", "relu"])
def test_the_guaranteed_decrease_is_a_lower_bound_on_random_features(spectrum):
    """``N J(q)^2 / 2 <=`` the exact line-search decrease ``<G, d>^2 N / (2 ||d A||_F^2)`` along
    ``d = lmo_{S_q}(G)``, for every q of the grid."""
    problem = problems.get("random_features", spectrum=spectrum)
    x = problem.init(3)
    G, A = problem.grad(x)["W"], problem.activations(x)["W"]
    N = A.shape[1]
    for q in GRID:
        d = geometry.schatten_lmo(G, q)
        exact = np.sum(G * d) ** 2 * N / (2 * np.sum((d @ A) ** 2))
        guaranteed = N * rules.schatten_criterion(singular(G), singular(A), q) ** 2 / 2
        assert guaranteed <= exact * (1 + 1e-12)
        # and the line search really is exact: f(X + tau d) at its minimiser
        tau = -np.sum(G * d) * N / np.sum((d @ A) ** 2)
        assert problem.f(x) - problem.f({"W": x["W"] + tau * d}) == pytest.approx(exact, rel=1e-8)


def _run(opt, grads_sequence, A, x):
    state = opt.init()
    for t, grads in enumerate(grads_sequence, start=1):
        inputs = {"activations": {"w": A}} if opt.needs_selection(t) else {}
        updates, state = opt.step(state, grads, params=x, **inputs)
        x = {name: x[name] + updates[name] for name in x}
    return x, state


def test_end_point_recovery_sgd_and_muon():
    """q fixed at 2 (sharp form): momentum SGD; q fixed at inf: the exact-SVD Muon direction."""
    rng = np.random.default_rng(2)
    layers = [Layer("w", (5, 3), "spectral")]
    sequence = [{"w": rng.standard_normal((5, 3))} for _ in range(200)]
    A, start = rng.standard_normal((3, 9)), {"w": rng.standard_normal((5, 3))}
    beta, lr = 0.9, 0.01
    sgd, _ = _run(optimizers.schatten_adaptive(layers, lr, beta=beta, grid=[2.0], form="sharp"), sequence, A, start)
    x, B = start["w"].copy(), np.zeros((5, 3))
    for grads in sequence:
        B = beta * B + (1 - beta) * grads["w"]
        x = x - lr * ((1 - beta) * grads["w"] + beta * B)
    np.testing.assert_allclose(sgd["w"], x, rtol=0, atol=1e-12)
    muon_like, _ = _run(optimizers.schatten_adaptive(layers, lr, beta=beta, grid=[np.inf]), sequence, A, start)
    x, B = start["w"].copy(), np.zeros((5, 3))
    for grads in sequence:
        B = beta * B + (1 - beta) * grads["w"]
        x = x + lr * geometry.get_norm("spectral").lmo((1 - beta) * grads["w"] + beta * B)
    np.testing.assert_allclose(muon_like["w"], x, rtol=0, atol=1e-12)


def test_refinement_never_loses_to_the_grid_and_finds_interior_maxima():
    rng = np.random.default_rng(5)
    for _ in range(20):
        G, A = rng.standard_normal((5, 4)) @ np.diag([1, 0.5, 0.2, 0.05]), rng.standard_normal((4, 12))
        sG, sA = singular(G), singular(A)
        index, J = rules.select_schatten(sG, sA, GRID)
        q = rules.refine_schatten(sG, sA, GRID, index, 40)
        assert rules.schatten_criterion(sG, sA, q) >= J[index]
        dense = np.concatenate([1 / np.linspace(0.5, 1e-4, 4000), [np.inf]])
        assert rules.schatten_criterion(sG, sA, q) >= np.max([rules.schatten_criterion(sG, sA, x) for x in dense]) \
            * (1 - 1e-6)  # the grid bracket holds the global maximum on these (unimodal) examples


def test_spectral_ema_averages_the_spectra_between_selections():
    previous, new = np.array([3.0, 1.0]), np.array([1.0, 1.0])
    np.testing.assert_allclose(rules.spectrum_ema(previous, new, 0.75), [2.5, 1.0])
    assert np.array_equal(rules.spectrum_ema(np.zeros(0), new, 0.75), new)  # the first selection


def test_freeze_after_fixes_q_and_every_spaces_selections():
    rng = np.random.default_rng(4)
    layers = [Layer("w", (4, 4), "spectral")]
    opt = optimizers.schatten_adaptive(layers, 0.01, every=3, freeze_after=7)
    assert [t for t in range(1, 15) if opt.needs_selection(t)] == [1, 4, 7]
    sequence = [{"w": rng.standard_normal((4, 4))} for _ in range(12)]
    _, state = _run(opt, sequence, rng.standard_normal((4, 10)), {"w": np.zeros((4, 4))})
    assert state.diagnostics.refreshed[0] == 0.0 and not np.isnan(state.q[0])


@pytest.mark.parametrize("form", ["lmo", "sharp"])
def test_numba_equals_reference_over_200_steps_on_random_features(form):
    """The engine's run (numba step) against the NumPy reference, 200 steps. Compared relative
    to each quantity's scale over the run: near the optimum the momentum is nearly rank
    deficient and the exact polar factor amplifies the last-bit differences of two LAPACK SVD
    calls (NumPy's and numba's), from ~1e-15 at step 150 to ~3e-12 (absolute) at step 199 on
    f ~ 0.03; the step itself is equal to 1e-10 from identical states at every step (below)."""
    problem = problems.get("random_features", spectrum="spiked")
    opt = optimizers.schatten_adaptive(problem.layers, 0.02, form=form, weight_decay=0.01)
    fast = engine.simulate(problem, opt, 200, 2, record_every=10)
    slow = engine.reference_simulate(problem, opt, 200, 2, record_every=10)
    assert not np.any(fast.diverged)
    assert np.max(np.abs(fast.f - slow.f)) <= 1e-10 * np.max(np.abs(slow.f))
    scale = np.max(np.abs(slow.final["W"]))
    assert np.max(np.abs(fast.final["W"] - slow.final["W"])) <= 1e-10 * scale
    np.testing.assert_array_equal(fast.extra["q"], slow.extra["q"])
    assert np.max(np.abs(fast.extra["J"] - slow.extra["J"])) <= 1e-10 * np.max(np.abs(slow.extra["J"]))
    assert fast.f[:, -1].mean() < problem.f(problem.init(0))


def test_problems_without_activations_are_refused_unless_isotropic():
    problem = problems.get("sigmoidal", shapes=[(4, 3)], norms=["spectral"])
    with pytest.raises(ValueError, match="^activations: problem 'sigmoidal'"):
        engine.simulate(problem, optimizers.schatten_adaptive(problem.layers, 0.01), 5, 1)
    result = engine.simulate(problem, optimizers.schatten_adaptive(problem.layers, 0.01, activations="isotropic"),
                             20, 1)
    assert np.all(result.extra["q"] == 2.0)  # isotropic curvature: Frobenius always wins


@pytest.mark.parametrize("options, name", [
    (dict(grid=[1.5, 3.0]), "grid"), (dict(grid=[]), "grid"), (dict(grid="abc"), "grid"), (dict(every=0), "every"),
    (dict(freeze_after=0), "freeze_after"), (dict(form="dual"), "form"), (dict(radius=0.0), "radius"),
    (dict(activations="none"), "activations"), (dict(beta=1.0), "beta"), (dict(lr=-1.0), "lr"),
    (dict(spectral_ema=1.0), "spectral_ema"), (dict(spectral_ema=-0.1), "spectral_ema"), (dict(refine=1), "refine"),
])
def test_bad_options_name_the_parameter(options, name):
    options = dict(dict(lr=0.01), **options)
    lr = options.pop("lr")
    with pytest.raises(ValueError, match=f"^{name}:"):
        optimizers.schatten_adaptive([Layer("w", (3, 3), "spectral")], lr, **options)


def test_bad_activations():
    opt = optimizers.schatten_adaptive([Layer("w", (3, 4), "spectral")], 0.01)
    state, grads = opt.init(), {"w": np.ones((3, 4))}
    with pytest.raises(ValueError, match="^activations: step 1"):
        opt.step(state, grads)
    with pytest.raises(ValueError, match=r"^activations\['w'\]: expected a real \(d_in = 4"):
        opt.step(state, grads, activations={"w": np.ones((3, 5))})
    with pytest.raises(ValueError, match=r"^activations\['w'\]: contains non-finite"):
        opt.step(state, grads, activations={"w": np.full((4, 5), np.nan)})
    with pytest.raises(ValueError, match="^activations: missing layer 'w'"):
        opt.step(state, grads, activations={})


def stepwise_equality(problem, opt, T=200, seed=0):
    """From the same state at every step t = 1..T of the reference run, the numba step's update
    and state equal the reference's to 1e-10 relative (the largest relative error is returned)."""
    fast = opt.with_backend("numba")
    rng = np.random.default_rng(seed)
    x, state, worst = problem.init(0), opt.init(), 0.0
    for t in range(1, T + 1):
        record = problem.oracle(x, rng, t)
        inputs = opt.step_inputs(problem, x, record, rng, t)
        updates, new_state = opt.step(state, record.grads, params=x, **inputs)
        fast_updates, fast_state = fast.step(state, record.grads, params=x, **inputs)
        for name in problem.names:
            for a, b in ((updates[name], fast_updates[name]), (new_state.momentum[name], fast_state.momentum[name])):
                error = np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300)
                worst = max(worst, error)
        x, state = {name: x[name] + updates[name] for name in x}, new_state
    return worst


@pytest.mark.parametrize("options", [dict(form="lmo"), dict(form="sharp"), dict(refine=True, spectral_ema=0.9)])
def test_numba_step_equals_reference_at_every_step(options):
    problem = problems.get("random_features", spectrum="spiked")
    opt = optimizers.schatten_adaptive(problem.layers, 0.02, weight_decay=0.01, **options)
    assert stepwise_equality(problem, opt) <= 1e-10
