"""Monte-Carlo checks of A1, L1 (pathwise), L4 (in expectation) and the theorem.

The problem (a coupled quadratic with bounded noise, LANTON weights from the current
sample) and its LMOs are written with plain numpy in ``_theory_mc_problem.py``.

Confidence statement for the in-expectation checks: each of the ``K`` compared means must
satisfy ``mean <= bound + z SE`` with ``z = 4``; under the bound, each check fails with
probability at most ``P(Z > 4) ~ 3.2e-5`` (CLT), so the familywise false-alarm probability
is at most ``K * 3.2e-5`` (Bonferroni; ``K <= 360`` here: < 1.2 %). Seeds are fixed, so the
outcome is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
from _theory_mc_problem import dual_norm, lmo, make_problem, primal_norm, run

from nalr_theory.theory import (
    bound,
    l4_bound,
    lanton_weight_interval,
    layer_function,
    lemma_l1,
    lemma_l1_inexact,
    oracle_ema_interval,
)

NORMS = ("frobenius", "max_abs", "spectral")
Z_ONE_SIDED = 4.0


def _eps_norms(problem, step):
    return dual_norm(step["B"] - step["g"], problem.norm)  # (paths, p)


def _l1_rhs(statement, problem, step, eta, kappa_lo=None, kappa_hi=None):
    function = layer_function(statement.rhs, problem.p)
    values = {
        "f(X_t)": problem.f(step["X"]),
        "eta": eta,
        "L": problem.L[..., None],
        "w_t": step["w"].T,
        "g_norm": dual_norm(step["g"], problem.norm).T,
        "eps_norm": _eps_norms(problem, step).T,
    }
    if kappa_lo is not None:
        values.update(kappa_lo=kappa_lo, kappa_hi=kappa_hi)
    return function(**values)


@pytest.mark.parametrize("norm", NORMS)
def test_a1_and_its_consequence_hold_on_random_pairs(norm):
    problem = make_problem(norm, seed=1)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((500,) + problem.M.shape)
    Y = X + rng.standard_normal(X.shape) * rng.uniform(0.01, 3.0, size=(500, 1, 1, 1))
    step = primal_norm(Y - X, norm)  # (500, p)
    lhs = dual_norm(problem.grad(X) - problem.grad(Y), norm)
    assert np.all(lhs <= step @ problem.L.T * (1 + 1e-12) + 1e-12)
    linear = np.einsum("slij,slij->s", problem.grad(X), Y - X)
    quadratic = 0.5 * np.einsum("sl,lk,sk->s", step, problem.L, step)
    assert np.all(problem.f(Y) <= problem.f(X) + linear + quadratic + 1e-9)
    # L is not needlessly loose: the diagonal constant is attained (single-layer moves).
    direction = {"frobenius": np.ones((3, 2)) / np.sqrt(6), "max_abs": np.sign(problem.M[0]),
                 "spectral": np.eye(3, 2)}[norm]
    move = np.zeros(problem.M.shape)
    move[0] = direction
    ratio = dual_norm(problem.grad(move) - problem.grad(np.zeros_like(move)), norm)[0] / primal_norm(move, norm)[0]
    assert ratio == pytest.approx(problem.L[0, 0], rel=1e-9)


@pytest.mark.parametrize("norm", NORMS)
def test_l1_exact_lmo_holds_on_every_path_with_lanton_weights(norm):
    problem = make_problem(norm, seed=3)
    X1 = np.zeros(problem.M.shape)
    statement = lemma_l1()
    checked, slack_min = 0, np.inf
    for step in run(problem, X1, T=60, eta=0.05, beta=0.8, paths=64, seed=4):
        rhs = _l1_rhs(statement, problem, step, eta=0.05)
        lhs = problem.f(step["X_next"])
        assert np.all(lhs <= rhs + 1e-10 * (1 + np.abs(rhs)))
        assert np.all(step["w"] <= 1.0) and np.all(np.max(step["w"], axis=-1) == 1.0)
        slack_min = min(slack_min, float(np.min(rhs - lhs)))
        checked += lhs.size
    assert checked == 60 * 64
    assert slack_min < 0.5  # the statement is not vacuous on this problem


def _approximate_direction(norm, rng, spread=(0.7, 1.2), perturbation=0.1):
    def direction(B):
        exact = lmo(B, norm)
        scale = rng.uniform(*spread, size=B.shape[:-2] + (1, 1))
        E = rng.standard_normal(B.shape)
        E /= primal_norm(E, norm)[..., None, None]
        return scale * exact + perturbation * E

    return direction


@pytest.mark.parametrize("norm", NORMS)
def test_l1_inexact_lmo_holds_on_every_path_with_measured_kappas(norm):
    problem = make_problem(norm, seed=5)
    X1 = np.zeros(problem.M.shape)
    statement = lemma_l1_inexact()
    rng = np.random.default_rng(6)
    kappa_seen = []
    for step in run(problem, X1, T=50, eta=0.05, beta=0.8, paths=48, seed=7, direction=_approximate_direction(norm, rng)):
        B, d = step["B"], step["d"]
        kappa_lo_layer = -np.einsum("...ij,...ij->...", B, d) / dual_norm(B, norm)
        kappa_hi_layer = primal_norm(d, norm)
        kappa_lo = np.min(kappa_lo_layer, axis=-1)
        kappa_hi = np.max(kappa_hi_layer, axis=-1)
        assert np.all(kappa_lo > 0) and np.all(kappa_lo <= kappa_hi + 1e-12)
        kappa_seen.append((kappa_lo.min(), kappa_hi.max()))
        rhs = _l1_rhs(statement, problem, step, eta=0.05, kappa_lo=kappa_lo, kappa_hi=kappa_hi)
        assert np.all(problem.f(step["X_next"]) <= rhs + 1e-10 * (1 + np.abs(rhs)))
    lows, highs = zip(*kappa_seen)
    assert min(lows) < 0.85 and max(highs) > 1.1  # really an inexact LMO


def test_too_short_direction_breaks_the_exact_l1_but_not_the_inexact_one():
    problem = make_problem("frobenius", seed=8, sigma_lo=np.full(3, 1e-4), sigma_hi=np.full(3, 2e-4))
    X1 = np.zeros(problem.M.shape)
    half = lambda B: 0.5 * lmo(B, "frobenius")  # noqa: E731
    violations = 0
    for step in run(problem, X1, T=20, eta=0.01, beta=0.0, paths=8, seed=9, direction=half):
        lhs = problem.f(step["X_next"])
        exact = _l1_rhs(lemma_l1(), problem, step, eta=0.01)
        inexact = _l1_rhs(lemma_l1_inexact(), problem, step, eta=0.01, kappa_lo=0.5, kappa_hi=0.5)
        violations += int(np.sum(lhs > exact + 1e-12))
        assert np.all(lhs <= inexact + 1e-12)
    assert violations > 0


def _l4_experiment(norm, paths, T=40, eta=0.002, beta=0.8, seed=10):
    problem = make_problem(norm, seed=seed)
    X1 = np.zeros(problem.M.shape)
    h_interval = oracle_ema_interval(problem.sigma_lo, problem.sigma_hi)
    w_lo, w_hi = lanton_weight_interval(h_interval.pathwise_lo, h_interval.pathwise_hi)
    g1 = dual_norm(problem.grad(X1), norm)
    means, errors, weights_ok = [], [], True
    for step in run(problem, X1, T=T, eta=eta, beta=beta, paths=paths, seed=seed + 1):
        eps = _eps_norms(problem, step)
        means.append(eps.mean(axis=0))
        errors.append(eps.std(axis=0, ddof=1) / np.sqrt(paths))
        weights_ok &= bool(np.all((step["w"] >= w_lo - 1e-12) & (step["w"] <= w_hi + 1e-12)))
    steps = np.arange(1, T + 1)
    finite = l4_bound(steps, beta, eta, g1, problem.L, w_hi, problem.sigma, problem.rho, finite=True)
    asymptotic = l4_bound(steps, beta, eta, g1, problem.L, w_hi, problem.sigma, problem.rho, finite=False)
    return np.array(means), np.array(errors), finite, asymptotic, weights_ok, problem, (eta, beta, w_hi, g1)


@pytest.mark.parametrize("norm", NORMS)
def test_l4_holds_in_expectation(norm):
    means, errors, finite, asymptotic, weights_ok, _, _ = _l4_experiment(norm, paths=1500)
    assert weights_ok  # LANTON weights stay in the oracle-EMA interval on every path
    assert np.all(finite <= asymptotic + 1e-15)
    assert np.all(means <= finite + Z_ONE_SIDED * errors)


def test_l4_check_has_power_in_frobenius():
    """Halving the L3 noise term makes the same check fail: the test can detect a wrong bound."""
    means, errors, finite, _, _, problem, (eta, beta, w_hi, g1) = _l4_experiment("frobenius", paths=1500)
    T = means.shape[0]
    steps = np.arange(1, T + 1)
    no_noise = l4_bound(steps, beta, eta, g1, problem.L, w_hi, np.zeros(problem.p), problem.rho, finite=True)
    halved = no_noise + 0.5 * (finite - no_noise)
    assert np.any(means > halved + Z_ONE_SIDED * errors)


@pytest.mark.parametrize("norm", ("frobenius", "max_abs"))
def test_theorem_bound_holds_in_expectation_with_lanton_weights(norm):
    problem = make_problem(norm, seed=12)
    X1 = np.zeros(problem.M.shape)
    T, eta, beta, paths = 200, 0.02, 0.9, 48
    h_interval = oracle_ema_interval(problem.sigma_lo, problem.sigma_hi)
    w_lo, w_hi = lanton_weight_interval(h_interval.pathwise_lo, h_interval.pathwise_hi)
    weighted = np.zeros(paths)
    on_path = np.zeros(paths)
    for step in run(problem, X1, T=T, eta=eta, beta=beta, paths=paths, seed=13):
        g_norm = dual_norm(step["g"], norm)
        weighted += g_norm @ w_lo / T
        on_path += np.sum(step["w"] * g_norm, axis=-1) / T
    constants = dict(Delta=float(problem.f(X1)) - problem.f_inf, L=problem.L, rho=problem.rho,
                     sigma=problem.sigma, g1=dual_norm(problem.grad(X1), norm))
    value = bound(T, eta, beta, w_hi=w_hi, w_lo=w_lo, **constants)
    upper = weighted.mean() + 3 * weighted.std(ddof=1) / np.sqrt(paths)
    assert upper <= value
    value_on_path = bound(T, eta, beta, **constants)  # w_hi = 1: weighted-on-path form
    assert on_path.mean() + 3 * on_path.std(ddof=1) / np.sqrt(paths) <= value_on_path


def test_l1_inexact_holds_with_newton_schulz_directions_from_geometry():
    """The real approximate LMO (Muon's ns5, from nalr_theory.geometry) with its measured kappas."""
    from nalr_theory.geometry import get_norm

    problem = make_problem("spectral", seed=14, shape=(4, 3))
    ns5 = get_norm("spectral", lmo_method="ns5")

    def direction(B):
        out = np.empty_like(B)
        for index in np.ndindex(B.shape[:-2]):
            out[index] = ns5.lmo(B[index])
        return out

    X1 = np.zeros(problem.M.shape)
    lows = []
    for step in run(problem, X1, T=25, eta=0.05, beta=0.9, paths=12, seed=15, direction=direction):
        B, d = step["B"], step["d"]
        kappa_lo = np.min(-np.einsum("...ij,...ij->...", B, d) / dual_norm(B, "spectral"), axis=-1)
        kappa_hi = np.max(primal_norm(d, "spectral"), axis=-1)
        lows.append(kappa_lo.min())
        rhs = _l1_rhs(lemma_l1_inexact(), problem, step, eta=0.05, kappa_lo=kappa_lo, kappa_hi=kappa_hi)
        assert np.all(problem.f(step["X_next"]) <= rhs + 1e-10 * (1 + np.abs(rhs)))
    assert min(lows) < 0.99  # ns5 is genuinely inexact
