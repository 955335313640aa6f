"""Property tests of GEOMETRY.md "What the tests must prove": Hoelder, LMO optimality,
duality, equivalence constants and their tightness, radius scaling, invariances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory.geometry import BASE_NORMS, PRESETS, get_norm

from .strategies import (
    MATRIX_NORMS,
    NONZERO_KINDS,
    SPECTRAL_NORMS,
    make_matrix,
    matrices,
    norm_and_matrix,
    shapes,
)

REL = 1e-10


def close(x, y, rel=REL):
    return abs(x - y) <= rel * max(1.0, abs(x), abs(y))


@given(norm_and_matrix(), st.integers(0, 2**32 - 1))
def test_hoelder(case, seed):
    name, shape, G = case
    norm = get_norm(name, shape)
    D = np.random.default_rng(seed).standard_normal(shape)
    assert np.sum(G * D) <= norm.dual(G) * norm.norm(D) * (1 + 1e-12) + 1e-300


@given(norm_and_matrix())
def test_lmo_attains_dual_and_has_unit_norm(case):
    name, shape, G = case
    norm = get_norm(name, shape)
    D = norm.lmo(G)
    dual = norm.dual(G)
    assert close(float(np.sum(G * D)), -dual)
    if np.any(G != 0):
        assert close(norm.norm(D), 1.0)
    else:
        assert np.all(D == 0)


@given(norm_and_matrix(kinds=NONZERO_KINDS), st.integers(0, 2**32 - 1))
@settings(max_examples=60)
def test_no_feasible_point_beats_the_lmo(case, seed):
    name, shape, G = case
    norm = get_norm(name, shape)
    best = float(np.sum(G * norm.lmo(G)))
    rng = np.random.default_rng(seed)
    for _ in range(50):
        D = rng.standard_normal(shape) * rng.uniform(0, 1, shape) ** 3
        D /= norm.norm(D)
        assert np.sum(G * D) >= best - 1e-12 * max(1.0, abs(best))


@pytest.mark.parametrize("shape", [(1, 3), (3, 1), (2, 3), (3, 3), (2, 5)])
def test_max_abs_lmo_against_every_extreme_point(shape):
    # the max_abs unit ball is the cube: its extreme points are the sign matrices
    G = make_matrix("gaussian", shape, 7)
    norm = get_norm("max_abs", shape)
    best = min(
        float(np.sum(G * np.reshape(signs, shape)))
        for signs in itertools.product((-1.0, 1.0), repeat=shape[0] * shape[1])
    )
    assert close(best, float(np.sum(G * norm.lmo(G))))


def _dual_unit_ball_extreme_points(base: str, shape, rng, count: int):
    """Extreme points of the dual unit ball {||G||_* <= 1}: +-e_ij (l1), rank-one u v^T
    (nuclear), a unit vector in one column (sum of column norms) or row; Frobenius: sphere."""
    m, n = shape
    for _ in range(count):
        if base == "max_abs":
            Z = np.zeros(shape)
            Z[rng.integers(m), rng.integers(n)] = rng.choice([-1.0, 1.0])
        elif base == "spectral":
            u, v = rng.standard_normal(m), rng.standard_normal(n)
            Z = np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
        elif base == "col_norm":
            Z = np.zeros(shape)
            g = rng.standard_normal(m)
            Z[:, rng.integers(n)] = g / np.linalg.norm(g)
        elif base == "row_norm":
            Z = np.zeros(shape)
            g = rng.standard_normal(n)
            Z[rng.integers(m), :] = g / np.linalg.norm(g)
        else:
            Z = rng.standard_normal(shape)
            Z /= np.linalg.norm(Z)
        yield Z


@pytest.mark.parametrize("base", sorted(BASE_NORMS))
@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)])
def test_dual_of_dual_is_the_primal(base, shape):
    """||X|| = max over the dual unit ball of <X, G>, by sampling its extreme points and
    polishing the best one with a local optimiser (numerical, small shapes)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(11)
    norm = get_norm(base, shape)
    for trial in range(3):
        X = make_matrix("gaussian", shape, 100 + trial)
        values = [
            (float(np.sum(X * Z)), Z)
            for Z in _dual_unit_ball_extreme_points(base, shape, rng, 4000)
        ]
        sampled, start = max(values, key=lambda pair: pair[0])
        def ratio(g):
            dual = norm.dual(g.reshape(shape))
            # the ratio is scale-invariant; the penalty pins the scale so the simplex can't stall
            return -np.sum(X * g.reshape(shape)) / dual + (dual - 1.0) ** 2

        if base == "spectral":
            # the nuclear norm is nonsmooth: polish along its extreme points u v^T instead
            m = shape[0]
            rank_one = lambda uv: -(uv[:m] @ X @ uv[m:]) / (np.linalg.norm(uv[:m]) * np.linalg.norm(uv[m:]))
            u, s_, vt = np.linalg.svd(start)
            point = minimize(rank_one, np.concatenate([u[:, 0], vt[0]]) * s_[0], method="BFGS").x
            polished = -rank_one(point)
        else:
            point = start.ravel()
            for _ in range(3):  # restarts: Nelder-Mead on a nonsmooth objective
                point = minimize(ratio, point, method="Nelder-Mead",
                                 options={"xatol": 1e-13, "fatol": 1e-15, "maxfev": 20000}).x
            polished = float(np.sum(X * point.reshape(shape)) / norm.dual(point.reshape(shape)))
        primal = norm.norm(X)
        # every dual-ball point obeys Hoelder, and the supremum reaches the primal value
        assert max(sampled, polished) <= primal * (1 + 1e-9)
        assert max(sampled, polished) >= primal * (1 - 1e-6)


@given(norm_and_matrix(kinds=NONZERO_KINDS))
def test_equivalence_inequalities(case):
    name, shape, Z = case
    norm = get_norm(name, shape)
    a, b, rho = norm.constants()
    frobenius = float(np.linalg.norm(Z))
    assert norm.dual(Z) <= a * frobenius * (1 + 1e-12)
    assert frobenius <= b * norm.dual(Z) * (1 + 1e-12)
    assert close(rho, a * b)


@pytest.mark.parametrize("name", MATRIX_NORMS)
@given(shape=shapes())
def test_equivalence_constants_are_attained(name, shape):
    norm = get_norm(name, shape)
    a, b, _ = norm.constants()
    attaining = norm.attaining()
    Za, Zb = attaining["a"], attaining["b"]
    assert close(norm.dual(Za), a * np.linalg.norm(Za))
    assert close(np.linalg.norm(Zb), b * norm.dual(Zb))


def test_rho_table():
    expected = {
        "spectral": lambda m, n: math.sqrt(min(m, n)),
        "frobenius": lambda m, n: 1.0,
        "max_abs": lambda m, n: math.sqrt(m * n),
        "col_norm": lambda m, n: math.sqrt(n),
        "row_norm": lambda m, n: math.sqrt(m),
    }
    for base, rho in expected.items():
        for shape in [(1, 5), (5, 1), (3, 7), (7, 3)]:
            assert close(get_norm(base, shape).constants()[2], rho(*shape))


@given(norm_and_matrix(), st.floats(1e-3, 1e3), st.integers(0, 2**32 - 1))
def test_radius_scaling(case, radius, seed):
    name, shape, G = case
    plain = get_norm(name, shape, radius=1.0)
    scaled = get_norm(name, shape, radius=radius)
    X = np.random.default_rng(seed).standard_normal(shape)
    assert close(scaled.norm(X), plain.norm(X) / radius)
    assert close(scaled.dual(G), radius * plain.dual(G))
    assert np.allclose(scaled.lmo(G), radius * plain.lmo(G), rtol=1e-12, atol=1e-12 * radius)
    assert close(scaled.constants()[2], plain.constants()[2])


@pytest.mark.parametrize(
    "name, radius",
    [
        ("rms_to_rms", lambda m, n: math.sqrt(m / n)),
        ("muon", lambda m, n: math.sqrt(max(1, m / n))),
        ("dmuon", lambda m, n: 0.2 * math.sqrt(max(m, n))),
        ("sign", lambda m, n: 1 / n),
        ("colnorm", lambda m, n: math.sqrt(m)),
        ("rownorm", lambda m, n: 1 / math.sqrt(n)),
    ],
)
def test_presets_pin_their_published_radius(name, radius):
    for shape in [(8, 2), (2, 8), (5, 5), (768, 3072)]:
        assert close(get_norm(name, shape).radius, radius(*shape))
    assert PRESETS[name].source


def _orthogonal(k, rng):
    Q, R = np.linalg.qr(rng.standard_normal((k, k)))
    return Q * np.sign(np.diag(R))


@pytest.mark.parametrize("name", SPECTRAL_NORMS)
@given(matrices(), st.integers(0, 2**32 - 1))
def test_spectral_orthogonal_invariance(name, G, seed):
    shape = G.shape
    rng = np.random.default_rng(seed)
    U, V = _orthogonal(shape[0], rng), _orthogonal(shape[1], rng)
    norm = get_norm(name, shape)
    rotated = U @ G @ V
    assert close(norm.norm(rotated), norm.norm(G), 1e-9)
    assert close(norm.dual(rotated), norm.dual(G), 1e-9)
    # equivariance of the LMO; the exact polar factor is unique only on the numerical range,
    # so compare where G is not rank-ambiguous (tolerance relative to s_max)
    s = np.linalg.svd(G, compute_uv=False)
    if s[0] == 0 or (s[-1] > 0 and s[-1] / s[0] > 1e-6) or min(shape) == 1:
        assert np.allclose(norm.lmo(rotated), U @ norm.lmo(G) @ V, atol=1e-8 * norm.radius)


@pytest.mark.parametrize("name", ["max_abs", "sign"])
@given(matrices(), st.integers(0, 2**32 - 1))
def test_max_abs_signed_permutation_invariance(name, G, seed):
    shape = G.shape
    rng = np.random.default_rng(seed)
    P = np.eye(shape[0])[rng.permutation(shape[0])] * rng.choice([-1.0, 1.0], shape[0])[:, None]
    Q = np.eye(shape[1])[rng.permutation(shape[1])] * rng.choice([-1.0, 1.0], shape[1])[None, :]
    norm = get_norm(name, shape)
    moved = P @ G @ Q
    assert close(norm.norm(moved), norm.norm(G))
    assert close(norm.dual(moved), norm.dual(G))
    assert np.array_equal(norm.lmo(moved), P @ norm.lmo(G) @ Q)


def test_vector_aliases_reduce_to_familiar_norms():
    x = np.array([3.0, -4.0, 0.0])
    assert get_norm("linf").norm(x) == 4.0 and get_norm("linf").dual(x) == 7.0
    assert np.array_equal(get_norm("linf").lmo(x), -np.sign(x).reshape(-1, 1))
    assert get_norm("l2").norm(x) == 5.0 and get_norm("l2").dual(x) == 5.0
    for base in ("max_abs", "row_norm"):
        assert get_norm(base).dual(x.reshape(-1, 1)) == 7.0
    for base in ("frobenius", "col_norm", "spectral"):
        assert close(get_norm(base).dual(x.reshape(-1, 1)), 5.0)


def test_lmo_tie_breaks_are_deterministic():
    G = np.array([[0.0, 2.0], [0.0, -1.0]])
    assert np.array_equal(get_norm("max_abs").lmo(G), [[0.0, -1.0], [-0.0, 1.0]])
    col = get_norm("col_norm").lmo(G)
    assert np.array_equal(col[:, 0], [0.0, 0.0])
    row = get_norm("row_norm").lmo(np.array([[0.0, 0.0], [3.0, 4.0]]))
    assert np.array_equal(row[0], [0.0, 0.0]) and np.allclose(row[1], [-0.6, -0.8])
    for name in MATRIX_NORMS:
        assert np.all(get_norm(name, (2, 3)).lmo(np.zeros((2, 3))) == 0)


def test_spectral_lmo_drops_numerically_zero_directions():
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal((5, 1)), rng.standard_normal((1, 4))
    G = u @ v + 1e-20 * rng.standard_normal((5, 4))   # rank one up to rounding
    D = get_norm("spectral").lmo(G)
    assert np.allclose(np.linalg.svd(D, compute_uv=False), [1, 0, 0, 0], atol=1e-12)
