"""Certified coupling matrices never violated (A1 in the declared norms, thousands of random
pairs in the certified region), tight where claimed, and the local-smoothness report below
the certified constants along real LMO trajectories."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory import problems

from ._cases import all_presets, small

PAIRS_PER_EXAMPLE = 12
SLACK = 1 + 1e-9


def a1_ratios(problem, certificate, X, Y):
    """``||grad_l f(X) - grad_l f(Y)||_{l,*} / sum_j L[l,j] ||X^j - Y^j||_j`` per layer."""
    gX, gY = problem.grad(X), problem.grad(Y)
    moves = np.array([norm.norm(X[n] - Y[n]) for n, norm in zip(problem.names, problem.layout.norms)])
    changes = np.array([norm.dual(gX[n] - gY[n]) for n, norm in zip(problem.names, problem.layout.norms)])
    return changes / np.maximum(certificate.L @ moves, 1e-300)


def point_in_ball(problem, certificate, rng, fraction):
    """A point with ``||X^l - centre^l||_l = fraction_l * radius_l`` (exactly on the sphere)."""
    point = {}
    for index, (name, norm) in enumerate(zip(problem.names, problem.layout.norms)):
        direction = rng.standard_normal(norm.shape)
        if rng.random() < 0.5:  # extreme points of the unit ball are where constants are attained
            direction = norm.lmo(direction)
        centre = 0.0 if certificate.centre is None else certificate.centre[name]
        point[name] = centre + fraction[index] * certificate.radius[index] * direction / norm.norm(direction)
    return point


def nearby(problem, X, rng, size):
    """``X`` moved by ``size`` along an extreme point in each layer (some layers left alone)."""
    Y = {}
    for name, norm in zip(problem.names, problem.layout.norms):
        step = norm.lmo(rng.standard_normal(norm.shape)) if rng.random() < 0.8 else 0.0
        Y[name] = X[name] + size * step
    return Y


# ------------------------------------------------------------------ rotated sigmoidal blocks

SIGMOIDAL = all_presets()
SIGMOIDAL_CERTIFICATE = SIGMOIDAL.certificate()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), spread=st.sampled_from([0.0, 0.1, 1.0, 3.0]),
       size=st.sampled_from([1e-4, 1e-2, 0.3, 2.0]))
def test_sigmoidal_certified_L_holds_whole_space(seed, spread, size):
    rng = np.random.default_rng(seed)
    centre = SIGMOIDAL.minimiser()
    for _ in range(PAIRS_PER_EXAMPLE):
        X = {n: centre[n] + spread * rng.standard_normal(v.shape) for n, v in centre.items()}
        Y = nearby(SIGMOIDAL, X, rng, size)
        assert np.all(a1_ratios(SIGMOIDAL, SIGMOIDAL_CERTIFICATE, X, Y) <= SLACK)


def test_sigmoidal_constant_is_diagonal_and_tight_in_every_preset():
    """At the minimiser the Hessian is ``2 c I``: an extreme-point step of layer ``l`` attains
    ``2 c a_l^2`` up to O(step^2); so ``2 c rho_l`` (``rho = a b``) would be violated wherever
    ``a_l > b_l``, e.g. spectral radius 1: ``a^2 = min(m, n) > a b = sqrt(min(m, n))``."""
    L = SIGMOIDAL_CERTIFICATE.L
    assert np.count_nonzero(L - np.diag(np.diag(L))) == 0
    X = SIGMOIDAL.minimiser()
    grads_X = SIGMOIDAL.grad(X)
    for index, (name, norm) in enumerate(zip(SIGMOIDAL.names, SIGMOIDAL.layout.norms)):
        # the Frobenius-to-dual ratio is maximal on the matrix attaining a; the primal ratio on
        # its extreme points: both meet on a flat-spectrum / all-equal-magnitude direction
        step = 1e-5 * norm.attaining()["a"]
        Y = dict(X, **{name: X[name] + step})
        ratio = norm.dual(SIGMOIDAL.grad(Y)[name] - grads_X[name]) / norm.norm(step)
        assert ratio <= L[index, index] * SLACK
        assert ratio >= 0.999 * L[index, index], (name, ratio, L[index, index])
        a, b, rho = norm.constants()
        naive = 2 * SIGMOIDAL.curvature[index] * a * b
        if a > 1.01 * b:  # e.g. spectral radius 1: a = sqrt(min(m, n)) > b = 1
            assert ratio > naive * 1.01, (name, "the rho-transfer would be violated here")


# ------------------------------------------------------------------ low rank and deep linear

def ball_family(name):
    problem = small(name)
    start = problem.init(0)
    return problem, problem.certificate(radius=0.5, centre=start), problem.certificate()


LOW_RANK = ball_family("low_rank")
DEEP_LINEAR = ball_family("deep_linear")
DEEP_LINEAR_PRESETS = problems.get("deep_linear", widths=(3, 4, 2), samples=8, norms=["sign", "rownorm"])


@pytest.mark.parametrize("which", [0, 1])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.sampled_from([1e-4, 1e-2, 0.2, 1.0]),
       edge=st.sampled_from([0.3, 0.9, 1.0]))
def test_low_rank_certified_L_holds_on_ball(which, seed, size, edge):
    problem, local_ball, default_ball = LOW_RANK
    certificate = (local_ball, default_ball)[which]
    assert certificate.region == "ball" and certificate.certified
    check_pairs_in_ball(problem, certificate, seed, size, edge)


@pytest.mark.parametrize("which", [0, 1])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.sampled_from([1e-4, 1e-2, 0.2, 1.0]),
       edge=st.sampled_from([0.3, 0.9, 1.0]))
def test_deep_linear_certified_L_holds_on_ball(which, seed, size, edge):
    problem, local_ball, default_ball = DEEP_LINEAR
    check_pairs_in_ball(problem, (local_ball, default_ball)[which], seed, size, edge)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.sampled_from([1e-3, 0.1, 1.0]))
def test_deep_linear_certified_L_holds_in_sign_and_rownorm_geometry(seed, size):
    problem = DEEP_LINEAR_PRESETS
    check_pairs_in_ball(problem, problem.certificate(radius=[2.0, 1.0]), seed, size, 1.0)


def check_pairs_in_ball(problem, certificate, seed, size, edge):
    rng = np.random.default_rng(seed)
    p = len(problem.names)
    for _ in range(PAIRS_PER_EXAMPLE):
        X = point_in_ball(problem, certificate, rng, edge * rng.uniform(0.5, 1.0, p))
        Y = point_in_ball(problem, certificate, rng, edge * rng.uniform(0.0, 1.0, p)) if size >= 1.0 else None
        if Y is None:
            Y = nearby(problem, X, rng, size * min(certificate.radius))
            # keep Y in the ball: pull it back toward the centre if needed
            for index, (name, norm) in enumerate(zip(problem.names, problem.layout.norms)):
                centre = 0.0 if certificate.centre is None else certificate.centre[name]
                excess = norm.norm(Y[name] - centre) / certificate.radius[index]
                if excess > 1:
                    Y[name] = centre + (Y[name] - centre) / excess
        assert np.all(a1_ratios(problem, certificate, X, Y) <= SLACK)


def test_coupled_families_have_off_diagonal_coupling():
    for problem, certificate, _ in (LOW_RANK, DEEP_LINEAR):
        L = certificate.L
        assert np.all(L >= 0) and np.count_nonzero(L - np.diag(np.diag(L))) > 0


def test_a1_check_can_fail():
    """A quarter of the low-rank constant is violated by some pair: the checks have teeth."""
    problem, certificate, _ = LOW_RANK
    from dataclasses import replace

    shrunk = replace(certificate, L=certificate.L / 50)
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(50):
        X = point_in_ball(problem, shrunk, rng, np.ones(len(problem.names)))
        Y = point_in_ball(problem, shrunk, rng, np.ones(len(problem.names)))
        worst = max(worst, a1_ratios(problem, shrunk, X, Y).max())
    assert worst > 1


# ------------------------------------------------------------------ local estimates

def lmo_trajectory(problem, start, lr, steps, rng=None):
    """``X_{t+1} = X_t + lr * lmo_l(G_t)`` with the exact gradient (or the oracle if ``rng``)."""
    points = [start]
    for t in range(steps):
        X = points[-1]
        G = problem.grad(X) if rng is None else problem.oracle(X, rng, t).grads
        points.append({n: X[n] + lr * norm.lmo(G[n]) for n, norm in zip(problem.names, problem.layout.norms)})
    return points


@pytest.mark.parametrize("family", ["sigmoidal", "low_rank", "deep_linear"])
def test_local_estimate_below_certified_constant(family):
    problem = small(family)
    start = problem.init(0)
    lr, steps = 0.02, 40
    trajectory = lmo_trajectory(problem, start, lr, steps)
    certificate = problem.travel_certificate(start, lr * steps * np.ones(len(problem.names)))
    for point in trajectory if certificate.region == "ball" else ():  # the travel ball contains the run
        for index, (name, norm) in enumerate(zip(problem.names, problem.layout.norms)):
            assert norm.norm(point[name] - start[name]) <= certificate.radius[index] * SLACK
    report = problem.local_smoothness(trajectory, certificate)
    L = certificate.L
    assert report.steps == steps
    assert np.all(report.row <= L.sum(axis=1) * SLACK)
    assert np.all(report.tightness <= SLACK)
    assert np.all(report.row > 0)
    if family == "sigmoidal":
        assert np.all(report.along_path <= np.diag(L) * SLACK)
    probe = problems.probe_matrix(problem, trajectory[::10], np.random.default_rng(0))
    assert np.all(probe <= L * SLACK + 1e-12)


def test_local_estimate_report_on_default_heterogeneous_problem():
    problem = problems.get("sigmoidal_hetero")
    start = problem.init(0)
    trajectory = lmo_trajectory(problem, start, 0.05, 30, np.random.default_rng(0))
    report = problem.local_smoothness(trajectory, problem.certificate())
    assert np.all(report.along_path <= np.diag(problem.certificate().L) * SLACK)
    assert np.all(report.tightness <= SLACK)


@pytest.mark.parametrize("family", ["teacher_student", "token_model"])
def test_estimated_families_say_so(family):
    problem = small(family)
    certificate = problem.certificate()
    assert problem.certified is False and certificate.certified is False
    assert "NOT CERTIFIED" in certificate.notes
    assert certificate.L.shape == (len(problem.names),) * 2 and np.all(certificate.L >= 0)
    assert problem.describe()["certified"] is False
