"""Optional problem capabilities: Hessian-vector products (closed form and the
finite-difference fallback), the exact Hessian diagonal, the Hutchinson estimator built on
``hvp``, the Gauss-Newton-Bartlett estimate of random-feature regression, the Schatten
smoothness constants of that family, and the errors: a missing capability, bad arguments,
bad options of ``random_features`` (each ``ValueError`` names the culprit)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nalr_theory import problems
from nalr_theory.geometry import Layer
from nalr_theory.problems import CAPABILITIES, noise

from ._cases import random_like, small
from ._statistics import chi_square_checks

STEP = 1e-5


def raises_naming(parameter, call, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        call(*args, **kwargs)
    assert str(info.value).startswith(parameter), str(info.value)


def central_difference_hvp(problem, X, V, h=STEP):
    """``(grad f(X + h V) - grad f(X - h V)) / 2h``, computed here, independently of the package."""
    plus = problem.grad({n: X[n] + h * V[n] for n in problem.names})
    minus = problem.grad({n: X[n] - h * V[n] for n in problem.names})
    return {n: (plus[n] - minus[n]) / (2 * h) for n in problem.names}


def relative_error(a, b, names):
    top = max(max(np.abs(a[n]).max(), np.abs(b[n]).max()) for n in names)
    return max(np.abs(a[n] - b[n]).max() for n in names) / max(top, 1e-12)


def full_hessian(problem, X):
    """The Hessian as a matrix on the flat layout, column ``k`` = ``hvp`` along unit vector ``k``."""
    size = problem.layout.size
    H = np.empty((size, size))
    for k in range(size):
        unit = np.zeros(size)
        unit[k] = 1.0
        H[:, k] = problem.flatten(problem.hvp(X, problem.unflatten(unit)))
    return H


# ------------------------------------------------------------------ hvp and hess_diag

@pytest.mark.parametrize("family", ["sigmoidal", "random_features"])
def test_exact_hvp_matches_finite_differences(family):
    problem = small(family)
    assert problem.hvp_kind == "exact" and {"hvp", "hess_diag"} <= problem.capabilities
    rng = np.random.default_rng(0)
    for seed in range(3):
        X = random_like(problem, rng, 0.8) if seed else problem.init(0)
        V = random_like(problem, rng)
        exact = problem.hvp(X, V)
        assert relative_error(exact, central_difference_hvp(problem, X, V), problem.names) < 1e-6
        # linear in V, and a symmetric operator: <W, H V> = <V, H W>
        W = random_like(problem, rng)
        HW = problem.hvp(X, W)
        left = sum(np.sum(W[n] * exact[n]) for n in problem.names)
        right = sum(np.sum(V[n] * HW[n]) for n in problem.names)
        assert left == pytest.approx(right, rel=1e-10, abs=1e-12)
        doubled = problem.hvp(X, {n: 2 * V[n] for n in problem.names})
        assert relative_error(doubled, {n: 2 * exact[n] for n in problem.names}, problem.names) < 1e-12


@pytest.mark.parametrize("family", ["sigmoidal", "random_features"])
def test_hess_diag_matches_full_hessian_from_hvp(family):
    problem = small(family)
    rng = np.random.default_rng(1)
    for X in (problem.init(0), random_like(problem, rng, 1.5)):
        H = full_hessian(problem, X)
        np.testing.assert_allclose(H, H.T, atol=1e-10 * np.abs(H).max())
        diagonal = problem.flatten(problem.hess_diag(X))
        np.testing.assert_allclose(diagonal, np.diag(H), rtol=1e-10, atol=1e-12 * np.abs(H).max())
        # and against differences of the gradient, entry by entry (independent of hvp)
        flat = problem.flatten(X)
        for k in rng.choice(flat.size, size=min(10, flat.size), replace=False):
            unit = np.zeros(flat.size)
            unit[k] = 1.0
            numeric = central_difference_hvp(problem, X, problem.unflatten(unit))
            assert problem.flatten(numeric)[k] == pytest.approx(diagonal[k], rel=1e-6, abs=1e-8)


def test_random_features_hessian_is_the_feature_moment():
    problem = small("random_features")
    S = problem.inputs @ problem.inputs.T / problem.samples
    X = problem.init(0)
    V = random_like(problem, np.random.default_rng(2))
    np.testing.assert_allclose(problem.hvp(X, V)["W"], V["W"] @ S, rtol=1e-13)
    diagonal = problem.hess_diag(X)["W"]
    assert diagonal.shape == problem.layout.shapes[0]
    np.testing.assert_allclose(diagonal, np.broadcast_to(np.diag(S), diagonal.shape), rtol=1e-13)


@pytest.mark.parametrize("family", ["low_rank", "deep_linear", "teacher_student", "token_model"])
def test_finite_difference_fallback(family):
    problem = small(family)
    assert problem.hvp_kind == "finite_difference" and "hvp" in problem.capabilities
    rng = np.random.default_rng(3)
    X = problem.init(1)
    V = random_like(problem, rng)
    numeric = problem.hvp(X, V)
    # a different step size gives the same numbers to the accuracy of central differences
    assert relative_error(numeric, central_difference_hvp(problem, X, V, 1e-4), problem.names) < 1e-5
    assert all(np.all(v == 0) for v in problem.hvp(X, {n: 0 * V[n] for n in problem.names}).values())


def test_finite_difference_fallback_against_the_low_rank_closed_form():
    """``f = 1/4 ||U V^T - M||^2``: ``d grad_U = ((dU V^T + U dV^T) V + R dV) / 2`` and
    ``d grad_V = ((dU V^T + U dV^T)^T U + R^T dU) / 2``."""
    problem = problems.get("low_rank", pairs=[(4, 3, 2)])
    rng = np.random.default_rng(4)
    X = random_like(problem, rng)
    D = random_like(problem, rng)
    U, V, dU, dV = X["U1"], X["V1"], D["U1"], D["V1"]
    R = U @ V.T - problem.target[0]
    change = dU @ V.T + U @ dV.T
    expected = {"U1": (change @ V + R @ dV) / 2, "V1": (change.T @ U + R.T @ dU) / 2}
    assert relative_error(problem.hvp(X, D), expected, problem.names) < 1e-8


# ------------------------------------------------------------------ Hutchinson

class Quadratic(problems.Problem):
    """``f(x) = 1/2 x^T H x`` on one 4x1 layer, with its Hessian as a closed-form ``hvp``."""

    name = "quadratic_hessian"
    certified = True

    def __init__(self, hessian):
        self.hessian = np.asarray(hessian, dtype=float)
        super().__init__([Layer("x", (4, 1), "l2")], None, {})

    def _init(self, rng):
        return {"x": rng.standard_normal((4, 1))}

    def _f(self, params):
        return 0.5 * float(params["x"].T @ self.hessian @ params["x"])

    def _grad(self, params):
        return {"x": self.hessian @ params["x"]}

    def _hvp(self, params, V):
        return {"x": self.hessian @ V["x"]}


HESSIAN = np.array([[4.0, 1.0, -0.5, 0.0],
                    [1.0, 2.0, 0.3, -1.2],
                    [-0.5, 0.3, -1.0, 0.7],
                    [0.0, -1.2, 0.7, 0.5]])


def test_hutchinson_on_a_fixed_quadratic_is_unbiased_with_the_stated_variance():
    """1e5 Gaussian probes ``u * (H u)``: the mean is within 4 standard errors of ``diag H``,
    and the variance is ``2 H_ii^2 + sum_{j != i} H_ij^2`` (within 4 standard errors of the
    sample variance, estimated from the probes' fourth moments)."""
    problem = Quadratic(HESSIAN)
    X = problem.init(0)
    assert problem.hvp_kind == "exact"
    H = full_hessian(problem, X)
    np.testing.assert_array_equal(H, HESSIAN)
    rng = np.random.default_rng(20251206)
    probes = rng.standard_normal((100_000, 4))
    for u in probes[:20]:  # the probes below go through the problem's own hvp
        np.testing.assert_allclose(problem.hvp(X, {"x": u[:, None]})["x"][:, 0], H @ u, rtol=1e-14)
    samples = probes * (probes @ H.T)
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    standard_error = samples.std(axis=0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(mean - np.diag(H)) < 4 * standard_error), (mean, np.diag(H))
    expected_variance = 2 * np.diag(H) ** 2 + (np.sum(H**2, axis=1) - np.diag(H) ** 2)
    centred = (samples - mean) ** 2
    variance = centred.mean(axis=0) * n / (n - 1)
    variance_error = centred.std(axis=0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(variance - expected_variance) < 4 * variance_error), (variance, expected_variance)
    assert np.all(variance_error < 0.05 * expected_variance)  # informative to a few per cent


def test_hutchinson_on_sigmoidal_blocks_matches_the_closed_form_diagonal():
    """One probe over all layers jointly, ``u * hvp(X, u)``; 8000 probes; each coordinate's
    mean within 4 standard errors of ``hess_diag`` (negative curvature included)."""
    problem = small("sigmoidal")
    X = random_like(problem, np.random.default_rng(5), 1.0)
    diagonal = problem.flatten(problem.hess_diag(X))
    assert np.any(diagonal < 0) and np.any(diagonal > 0)
    rng = np.random.default_rng(6)
    draws = []
    for _ in range(8000):
        u = rng.standard_normal(problem.layout.size)
        draws.append(u * problem.flatten(problem.hvp(X, problem.unflatten(u))))
    draws = np.array(draws)
    standard_error = draws.std(axis=0, ddof=1) / math.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - diagonal) < 4 * standard_error)


# ------------------------------------------------------------------ Gauss-Newton-Bartlett

def test_gnb_full_batch_is_unbiased_and_chi_square():
    """``E hhat_ij = (A A^T)_jj / N`` (the Hessian diagonal) and ``hhat / E hhat ~ chi^2_1``."""
    problem = small("random_features")
    X = random_like(problem, np.random.default_rng(7))
    target = problem.hess_diag(X)["W"]
    A = problem.inputs
    np.testing.assert_allclose(target[0], np.diag(A @ A.T) / problem.samples, rtol=1e-13)
    rng = np.random.default_rng(8)
    draws = np.array([problem.gnb(X, rng)["W"] for _ in range(20000)])
    assert np.all(draws >= 0)
    chi_square_checks(draws / target)


def test_gnb_minibatch_targets_the_batch_moment():
    """With ``batch_size`` the columns are drawn first (``rng.integers(0, N, B)``, as the
    minibatch oracle draws them): conditionally on the batch ``A_b``,
    ``hhat_ij / ((A_b A_b^T)_jj / N_b) ~ chi^2_1``; unconditionally ``E hhat = diag(S)``."""
    problem = small("random_features")
    X = problem.init(0)
    N, B = problem.samples, 5
    ratios, draws = [], []
    for seed in range(12000):
        index = np.random.default_rng(seed).integers(0, N, B)
        A_b = problem.inputs[:, index]
        target = np.diag(A_b @ A_b.T) / B
        hhat = problem.gnb(X, np.random.default_rng(seed), batch_size=B)["W"]
        ratios.append(hhat / target)
        draws.append(hhat)
    chi_square_checks(np.array(ratios))
    draws = np.array(draws)
    error = draws.std(axis=0, ddof=1) / math.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - problem.hess_diag(X)["W"]) < 4 * error)


def test_gnb_reproducible_and_drawn_from_rng_only():
    problem = small("random_features")
    X = problem.init(0)
    first = problem.gnb(X, np.random.default_rng(3), batch_size=4)["W"]
    again = problem.gnb(X, np.random.default_rng(3), batch_size=4)["W"]
    np.testing.assert_array_equal(first, again)
    rng = np.random.default_rng(3)
    problem.gnb(X, rng)
    expected = np.random.default_rng(3)
    expected.standard_normal((problem.layout.shapes[0][0], problem.samples))
    assert rng.random() == expected.random()  # full batch: one d_out x N Gaussian draw, nothing else


# ------------------------------------------------------------------ Schatten smoothness

def schatten(M, q):
    s = np.linalg.svd(M, compute_uv=False)
    return s.max() if math.isinf(q) else float(np.sum(s**q) ** (1 / q))


def dual_exponent(q):
    return 1.0 if math.isinf(q) else q / (q - 1)


@pytest.mark.parametrize("spectrum", ["power", "spiked", "relu"])
def test_schatten_smoothness_bounds_sampled_pairs(spectrum):
    problem = problems.get("random_features", d_out=3, d_in=5, samples=20, spectrum=spectrum, alpha=0.7)
    rng = np.random.default_rng(9)
    s = problem.feature_singular_values
    N = problem.samples
    assert problem.schatten_smoothness(2) == pytest.approx(s[0] ** 2 / N, rel=1e-12)
    assert problem.schatten_smoothness(math.inf) == pytest.approx(np.sum(s**2) / N, rel=1e-12)
    assert problem.schatten_smoothness(4) == pytest.approx(np.sum(s**4) ** 0.5 / N, rel=1e-12)  # r = 4
    values = [problem.schatten_smoothness(q) for q in (2, 2.5, 3, 4, 8, 32, math.inf)]
    assert np.all(np.diff(values) >= -1e-12)  # ||A||_{S_r} grows as r falls (q grows)
    for q in (2, 2.5, 3, 4, 8, 32, math.inf):
        L = problem.schatten_smoothness(q)
        worst = 0.0
        for _ in range(200):
            X, Y = random_like(problem, rng, 2.0), random_like(problem, rng, 2.0)
            if rng.random() < 0.5:  # low-rank and flat-spectrum moves: where the bounds bite
                u, _, vt = np.linalg.svd(rng.standard_normal(problem.layout.shapes[0]), full_matrices=False)
                Y = {"W": X["W"] + (u[:, :1] @ vt[:1] if rng.random() < 0.5 else u @ vt)}
            D = Y["W"] - X["W"]
            change = problem.grad(Y)["W"] - problem.grad(X)["W"]
            lipschitz = schatten(change, dual_exponent(q)) / (L * schatten(D, q))
            gX = problem.grad(X)["W"]
            quadratic = (problem.f(Y) - problem.f(X) - np.sum(gX * D)) / (0.5 * L * schatten(D, q) ** 2)
            worst = max(worst, lipschitz, quadratic)
        assert worst <= 1 + 1e-9, (q, worst)


def test_schatten_smoothness_is_attained_at_the_end_points():
    """``q = 2``: ``D = e v_1^T`` (top right singular vector of ``A``) attains ``s_1^2 / N``.
    ``q = inf`` with ``d_out >= d_in``: any ``D`` with ``D^T D = I`` has ``||D||_2 = 1`` and
    ``||D A||_F = ||A||_F``, so ``||A||_F^2 / N`` is attained."""
    problem = problems.get("random_features", d_out=6, d_in=4, samples=16)
    X = problem.init(0)
    u, s, vt = np.linalg.svd(problem.inputs, full_matrices=False)
    for q, D in ((2, np.outer(np.eye(6)[0], u[:, 0])), (math.inf, np.eye(6)[:, :4])):
        L = problem.schatten_smoothness(q)
        Y = {"W": X["W"] + D}
        gap = problem.f(Y) - problem.f(X) - np.sum(problem.grad(X)["W"] * D)
        assert gap == pytest.approx(0.5 * L * schatten(D, q) ** 2, rel=1e-10)


def test_schatten_smoothness_bad_q():
    problem = small("random_features")
    for q in (1.5, 0, -3, math.nan, "inf", None, True):
        raises_naming("q", problem.schatten_smoothness, q)


# ------------------------------------------------------------------ errors

def test_capabilities_declared_per_family():
    expected = {
        "sigmoidal": {"hvp", "hess_diag"},
        "low_rank": {"hvp", "activations"},
        "deep_linear": {"hvp", "activations", "gnb"},
        "teacher_student": {"hvp", "activations", "gnb"},
        "token_model": {"hvp", "activations"},
        "random_features": {"hvp", "hess_diag", "activations", "gnb"},
    }
    for family, capabilities in expected.items():
        problem = small(family)
        assert problem.capabilities == frozenset(capabilities), family
        assert problem.capabilities <= set(CAPABILITIES)
        assert problem.describe()["capabilities"] == sorted(capabilities)
    assert problems.get("sigmoidal_hetero").capabilities == frozenset({"hvp", "hess_diag"})


@pytest.mark.parametrize("family", ["sigmoidal", "low_rank", "deep_linear", "teacher_student", "token_model"])
def test_missing_capability_raises_naming_it(family):
    problem = small(family)
    X = problem.init(0)
    rng = np.random.default_rng(0)
    if "gnb" not in problem.capabilities:
        raises_naming("gnb", problem.gnb, X, rng)
    if family == "sigmoidal":  # the only family without activations (tests/problems/test_prob_activations.py)
        raises_naming("activations", problem.activations, X)
        assert problem.oracle(X, rng).activations is None
    else:
        raises_naming("hess_diag", problem.hess_diag, X)


def test_withdrawn_hvp_raises_naming_it():
    class NoCurvature(Quadratic):
        """A problem that withdraws every capability."""

        @property
        def capabilities(self):
            return frozenset()

    problem = NoCurvature(HESSIAN)
    X = problem.init(0)
    assert problem.hvp_kind is None
    raises_naming("hvp", problem.hvp, X, X)
    raises_naming("hess_diag", problem.hess_diag, X)


def test_capability_arguments_are_validated():
    problem = small("random_features")
    X = problem.init(0)
    raises_naming("V['W']", problem.hvp, X, {"W": np.zeros((2, 2))})
    raises_naming("V", problem.hvp, X, {"Z": np.zeros((3, 5))})
    raises_naming("params['W']", problem.hess_diag, {"W": np.full((3, 5), np.nan)})
    raises_naming("rng", problem.gnb, X, 42)
    raises_naming("batch_size", problem.gnb, X, np.random.default_rng(0), batch_size=0)
    raises_naming("batch_size", problem.gnb, X, np.random.default_rng(0), batch_size=2.5)
    raises_naming("batch_size", problem.gnb, X, np.random.default_rng(0), batch_size=problem.samples + 1)
    raises_naming("batch", problem.activations, X, batch=[0, problem.samples])
    raises_naming("batch", problem.activations, X, batch=[-1])
    raises_naming("batch", problem.activations, X, batch=[])
    raises_naming("batch", problem.activations, X, batch=[0.5])
    np.testing.assert_array_equal(problem.activations(X, batch=[3, 3, 0])["W"], problem.inputs[:, [3, 3, 0]])
    np.testing.assert_array_equal(problem.activations(X)["W"], problem.inputs)


BAD_OPTIONS = [
    ("d_out", 0), ("d_in", -1), ("d_in", 2.5), ("samples", 0), ("spectrum", "flat"), ("spectrum", None),
    ("alpha", -0.5), ("alpha", math.nan), ("spike", 0.0), ("spikes", 0), ("spikes", 7), ("input_dim", 0),
    ("label_noise", -0.1), ("label_noise", math.inf), ("norm", "bogus"), ("norm", ["spectral"]), ("norm", "linf"),
    ("init_scale", -1.0), ("instance_seed", -1), ("noise", "bounded"),
]


@pytest.mark.parametrize("option, value", BAD_OPTIONS)
def test_random_features_bad_options_name_the_option(option, value):
    options = dict(d_in=6, samples=32)
    options[option] = value
    raises_naming(option, problems.get, "random_features", **options)


def test_random_features_minibatch_larger_than_the_data():
    raises_naming("batch_size", problems.get, "random_features", samples=8, noise=noise.minibatch(9))
