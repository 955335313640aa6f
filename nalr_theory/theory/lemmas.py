"""Lemmas L1-L4 of the layerwise analysis, each a sympy statement with a machine check.

Setting
    The analysed family is ``B_0 = 0``, ``B_t = beta B_{t-1} + (1-beta) G_t``,
    ``X_{t+1}^l = X_t^l + eta w_t^l d_t^l``, ``d_t^l = lmo_l(B_t^l)`` (or an approximate LMO
    with ``<B, d> <= -kappa_lo ||B||_*``, ``||d|| <= kappa_hi``), ``g_t = grad f(X_t)``,
    ``eps_t = B_t - g_t``, ``G_t = g_t + xi_t``.

Statement
    * **L1 (one step).** ``f(X_{t+1}) <= f(X_t) - eta kappa_lo sum_l w ||g^l||_*
      + eta (kappa_lo + kappa_hi) sum_l w ||eps^l||_* + (eta^2 kappa_hi^2 / 2) w^T L w``;
      the exact LMO is ``kappa_lo = kappa_hi = 1`` (obtained by substitution).
    * **L2 (momentum error, unrolled).** ``eps_t = -beta^t g_1 + sum_{k=2..t}
      beta^(t-k+1) (g_{k-1} - g_k) + (1-beta) sum_{k=1..t} beta^(t-k) xi_k``.
    * **L3 (martingale in a dual norm).** For deterministic ``c_k`` under A2v,
      ``E||sum_k c_k xi_k||_* <= min(rho sigma sqrt(sum c_k^2), sigma sum |c_k|)``; for the
      momentum coefficients ``c_k = (1-beta) beta^(t-k)`` this is at most
      ``sigma min(1, rho sqrt((1-beta)/(1+beta)))``.
    * **L4 (momentum error bound).** ``E||eps_t^l||_* <= beta^t ||g_1^l||_*
      + eta kappa_hi beta/(1-beta) sum_j L[l,j] w_hi[j] + sigma_l min(1, rho_l
      sqrt((1-beta)/(1+beta)))``, and the sharper finite-``t`` form with
      ``beta (1 - beta^(t-1))/(1-beta)`` and ``min(rho sqrt((1-beta)(1-beta^(2t))/(1+beta)),
      1 - beta^t)``.

Proof sketch
    Each :class:`~nalr_theory.theory.statement.Statement` carries its own sketch: L1 from
    ``<g, d> = <B, d> - <eps, d>`` and A1's consequence; L2 by unrolling the recursion
    ``eps_t = beta eps_{t-1} + beta (g_{t-1} - g_t) + (1-beta) xi_t``; L3 from Frobenius
    orthogonality of martingale increments (first branch) or the triangle inequality
    (second); L4 from L2, A1 (drift), L3 (noise) and the geometric sums.

Check
    L2 is verified symbolically for ``t = 1..5`` both against the recursion and against the
    algorithm's definition (``verify_l2``); the geometric sums and the L3 regime threshold
    ``1 - beta < 2/(rho^2 + 1)`` are derived by sympy (``verify_geometric_sums``,
    ``rho_branch_threshold``). L1 (pathwise) and L4 (in expectation) are checked by
    Monte-Carlo in the tests.

References
    ``nalr_theory.theory.assumptions`` (A1-A3); Cutkosky & Mehta, "Momentum improves
    normalized SGD" (2020);
    Pethick et al. (Scion, 2025); Hao et al. (LANTON, arXiv 2510.14009, 2025).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import _validation as check
from .statement import Expectation, Statement
from .symbols import (
    L,
    beta,
    eps_norm,
    eta,
    f_next,
    f_now,
    g1_norm,
    grad_norm,
    j,
    k,
    kappa_hi,
    kappa_lo,
    l,
    martingale_norm,
    p,
    quadratic_form,
    rho,
    rho_scalar,
    sigma,
    sigma_scalar,
    t,
    w_hi,
    w_path,
)

_REFERENCES = "nalr_theory.theory.lemmas; Cutkosky & Mehta 2020; Hao et al. 2025 (arXiv 2510.14009)"

# Sequences used by L2 (scalars standing for matrices: every identity is linear in them).
gradient = sp.IndexedBase("g")
noise = sp.IndexedBase("xi")
momentum_error = sp.IndexedBase("varepsilon")


# --- L1 -----------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def lemma_l1_inexact() -> Statement:
    """L1 for an approximate LMO with descent ratio ``kappa_lo`` and norm excess ``kappa_hi``."""
    rhs = (
        f_now
        - eta * kappa_lo * sp.Sum(w_path[l] * grad_norm[l], (l, 1, p))
        + eta * (kappa_lo + kappa_hi) * sp.Sum(w_path[l] * eps_norm[l], (l, 1, p))
        + eta**2 * kappa_hi**2 / 2 * quadratic_form(w_path)
    )
    return Statement(
        key="L1_inexact",
        title="One step (approximate LMO)",
        lhs=f_next,
        rhs=rhs,
        hypotheses=(
            "A1",
            "<B, d> <= -kappa_lo ||B||_* and ||d|| <= kappa_hi for every layer (0 < kappa_lo <= kappa_hi)",
            "pathwise: any weights w_t, which may depend on the current sample",
        ),
        proof_sketch=(
            "<g, d> = <B, d> - <eps, d> <= -kappa_lo ||B||_* + kappa_hi ||eps||_* "
            "<= -kappa_lo ||g||_* + (kappa_lo + kappa_hi) ||eps||_*; the step has length "
            "eta w kappa_hi, so the quadratic term of A1's consequence is "
            "(eta^2 kappa_hi^2 / 2) w^T L w."
        ),
        check="Monte-Carlo, pathwise, on a coupled quadratic with Newton-Schulz-like perturbed directions (tests).",
        references=_REFERENCES + "; nalr_theory.geometry.newton_schulz (approximate LMOs, kappa_lo/kappa_hi)",
    )


@lru_cache(maxsize=None)
def lemma_l1() -> Statement:
    """L1 for the exact LMO: the inexact statement with ``kappa_lo = kappa_hi = 1``."""
    inexact = lemma_l1_inexact().subs({kappa_lo: 1, kappa_hi: 1}, "kappa_lo = kappa_hi = 1 (exact LMO)")
    return Statement(
        key="L1",
        title="One step (exact LMO)",
        lhs=inexact.lhs,
        rhs=inexact.rhs,
        hypotheses=("A1", "<B, d> = -||B||_* and ||d|| <= 1 (exact LMO, including B = 0, sign(0) = 0)"),
        proof_sketch="<g, d> = <B, d> - <eps, d> <= -||B||_* + ||eps||_* <= -||g||_* + 2 ||eps||_*.",
        check=(
            "Monte-Carlo, pathwise (tests); a too-short direction d = lmo/2 violates this exact form "
            "but satisfies the inexact one with kappa = 1/2."
        ),
        references=_REFERENCES,
        substitutions=inexact.substitutions,
    )


# --- L2 -----------------------------------------------------------------------------------

def momentum_error_unrolled(step):
    """The L2 closed form of ``eps_t`` (``step`` an integer or a sympy symbol)."""
    return (
        -beta**step * gradient[1]
        + sp.Sum(beta ** (step - k + 1) * (gradient[k - 1] - gradient[k]), (k, 2, step))
        + (1 - beta) * sp.Sum(beta ** (step - k) * noise[k], (k, 1, step))
    )


@lru_cache(maxsize=None)
def lemma_l2() -> Statement:
    """L2: the unrolled momentum error."""
    return Statement(
        key="L2",
        title="Momentum error, unrolled",
        lhs=momentum_error[t],
        rhs=momentum_error_unrolled(t),
        relation="=",
        hypotheses=("B_0 = 0, B_t = beta B_{t-1} + (1-beta) G_t, eps_t = B_t - g_t, t >= 1",),
        proof_sketch=(
            "eps_1 = -beta g_1 + (1-beta) xi_1 and, for t >= 2, "
            "eps_t = beta eps_{t-1} + beta (g_{t-1} - g_t) + (1-beta) xi_t; unroll."
        ),
        check="verify_l2(): symbolic identity for t = 1..5 against the recursion and the algorithm.",
        references=_REFERENCES,
    )


def momentum_error_by_recursion(t_max: int) -> list:
    """``[eps_1, ..., eps_{t_max}]`` from the recursion of the L2 proof sketch."""
    errors = [-beta * gradient[1] + (1 - beta) * noise[1]]
    for step in range(2, t_max + 1):
        errors.append(
            beta * errors[-1] + beta * (gradient[step - 1] - gradient[step]) + (1 - beta) * noise[step]
        )
    return errors


def momentum_error_by_algorithm(t_max: int) -> list:
    """``[B_t - g_t]`` for ``t = 1..t_max`` straight from the momentum update, ``B_0 = 0``."""
    buffer, errors = sp.Integer(0), []
    for step in range(1, t_max + 1):
        buffer = beta * buffer + (1 - beta) * (gradient[step] + noise[step])
        errors.append(buffer - gradient[step])
    return errors


def verify_l2(t_max: int = 5) -> bool:
    """Symbolic check of L2 for ``t = 1..t_max``: closed form == recursion == algorithm."""
    if int(t_max) != t_max or t_max < 1:
        raise ValueError(f"t_max: expected a positive integer, got {t_max!r}")
    by_recursion = momentum_error_by_recursion(t_max)
    by_algorithm = momentum_error_by_algorithm(t_max)
    for step in range(1, t_max + 1):
        closed = momentum_error_unrolled(step).doit()
        if sp.expand(closed - by_recursion[step - 1]) != 0:
            return False
        if sp.expand(closed - by_algorithm[step - 1]) != 0:
            return False
    return True


# --- L3 -----------------------------------------------------------------------------------

def martingale_cap(rho_value=rho_scalar, momentum=beta):
    """The asymptotic L3 factor ``min(1, rho sqrt((1-beta)/(1+beta)))``."""
    return sp.Min(1, rho_value * sp.sqrt((1 - momentum) / (1 + momentum)))


def martingale_cap_at_step(step, rho_value=rho_scalar, momentum=beta):
    """The finite-``t`` L3 factor ``min(rho sqrt((1-beta)(1-beta^(2t))/(1+beta)), 1-beta^t)``."""
    return sp.Min(
        rho_value * sp.sqrt((1 - momentum) / (1 + momentum)) * sp.sqrt(1 - momentum ** (2 * step)),
        1 - momentum**step,
    )


@lru_cache(maxsize=None)
def lemma_l3() -> Statement:
    """L3: the martingale bound in a dual norm, for general deterministic coefficients."""
    coefficient = sp.IndexedBase("c")
    n_terms = sp.Symbol("n", integer=True, positive=True)
    lhs = Expectation(martingale_norm)
    rhs = sp.Min(
        rho_scalar * sigma_scalar * sp.sqrt(sp.Sum(coefficient[k] ** 2, (k, 1, n_terms))),
        sigma_scalar * sp.Sum(sp.Abs(coefficient[k]), (k, 1, n_terms)),
    )
    return Statement(
        key="L3",
        title="Martingale in a dual norm",
        lhs=lhs,
        rhs=rhs,
        hypotheses=(
            "||Z||_* <= a ||Z||_F and ||Z||_F <= b ||Z||_*, rho = a b",
            "c_k deterministic; A2v with E[xi_k | F_{k-1}] = 0",
        ),
        proof_sketch=(
            "First branch: E||Z||_* <= a sqrt(E||Z||_F^2) = a sqrt(sum c_k^2 E||xi_k||_F^2) "
            "(martingale increments are orthogonal in the Frobenius inner product) "
            "<= a b sigma sqrt(sum c_k^2). Second: triangle inequality and Jensen. "
            "For c_k = (1-beta) beta^(t-k): sum c_k^2 = (1-beta)(1-beta^(2t))/(1+beta), "
            "sum |c_k| = 1 - beta^t; the first branch beats sigma only when 1-beta < 2/(rho^2+1). "
            "Tight (both branches equal and attained) for k equal coefficients on orthogonal "
            "rank-one (spectral) directions; loose by about sqrt(min(m, n)) for isotropic Gaussian noise."
        ),
        check="verify_geometric_sums(), rho_branch_threshold(); Monte-Carlo and the tight case in the tests.",
        references=_REFERENCES + "; nalr_theory.geometry.norm (Norm.constants: norm-equivalence constants)",
    )


def _generic_branch(expression):
    """Drop the ``beta = 1`` branches of sympy's geometric sums (``0 <= beta < 1`` here).

    In every ``Piecewise`` keep the first branch whose condition is not an equality: the
    ``b != 1`` closed form of a finite sum, the convergent ``b < 1`` form of a series.
    """
    def generic(piecewise):
        for value, condition in piecewise.args:
            if not isinstance(condition, sp.Eq):
                return value
        raise ValueError("no generic branch")  # pragma: no cover

    return expression.replace(lambda node: isinstance(node, sp.Piecewise), generic)


@lru_cache(maxsize=None)
def momentum_coefficient_sums() -> dict[str, sp.Expr]:
    """Closed forms (sympy ``summation``) of the sums behind L3, L4 and the theorem.

    With ``c_k = (1-beta) beta^(t-k)``, ``k = 1..t``: ``sum_sq`` = ``sum c_k^2``,
    ``sum_abs`` = ``sum |c_k|``, ``drift`` = ``sum_{k=2..t} beta^(t-k+1)``; over the horizon:
    ``g1_time`` = ``sum_{t=1..T} beta^t``, ``drift_time`` = ``sum_{t=1..T} beta (1 -
    beta^(t-1))/(1-beta)``; the series ``geometric`` = ``sum_{k>=1} beta^k`` and
    ``square`` = ``(1-beta)^2 sum_{k>=0} beta^(2k)``. Each for ``0 < beta < 1``.
    """
    b = sp.Symbol("b", positive=True)  # stands for beta, 0 < b < 1
    horizon = sp.Symbol("T", integer=True, positive=True)

    def closed(summand, limits):
        value = _generic_branch(sp.summation(summand, limits))
        return sp.factor(sp.simplify(value)).subs(b, beta).subs(horizon, sp.Symbol("T", positive=True))

    return {
        "sum_sq": closed(((1 - b) * b ** (t - k)) ** 2, (k, 1, t)),
        "sum_abs": closed((1 - b) * b ** (t - k), (k, 1, t)),
        "drift": closed(b ** (t - k + 1), (k, 2, t)),
        "g1_time": closed(b**t, (t, 1, horizon)),
        "drift_time": closed(b * (1 - b ** (t - 1)) / (1 - b), (t, 1, horizon)),
        "geometric": closed(b**k, (k, 1, sp.oo)),
        "square": sp.factor(sp.simplify(
            (1 - b) ** 2 * _generic_branch(sp.summation(b ** (2 * (k - 1)), (k, 1, sp.oo)))
        )).subs(b, beta),
    }


def verify_geometric_sums() -> bool:
    """The closed forms used by L2-L4, checked against :func:`momentum_coefficient_sums`.

    ``sum_{k>=1} beta^k = beta/(1-beta)``; ``(1-beta)^2 sum_{k>=0} beta^(2k) =
    (1-beta)/(1+beta)``; ``sum c_k^2 = (1-beta)(1-beta^(2t))/(1+beta)``;
    ``sum |c_k| = 1-beta^t``; ``sum_{k=2..t} beta^(t-k+1) = beta(1-beta^(t-1))/(1-beta)``;
    ``sum_{t=1..T} beta^t = beta(1-beta^T)/(1-beta)``; and
    ``sum_{t=1..T} beta(1-beta^(t-1))/(1-beta) = beta/(1-beta) (T - (1-beta^T)/(1-beta))``.
    """
    sums = momentum_coefficient_sums()
    horizon = sp.Symbol("T", positive=True)
    expected = {
        "geometric": beta / (1 - beta),
        "square": (1 - beta) / (1 + beta),
        "sum_sq": (1 - beta) * (1 - beta ** (2 * t)) / (1 + beta),
        "sum_abs": 1 - beta**t,
        "drift": beta * (1 - beta ** (t - 1)) / (1 - beta),
        "g1_time": beta * (1 - beta**horizon) / (1 - beta),
        "drift_time": beta / (1 - beta) * (horizon - (1 - beta**horizon) / (1 - beta)),
    }
    return all(
        sp.simplify(sp.powsimp(sp.expand(sums[key] - value), force=True)) == 0
        or _numerically_equal(sums[key], value)
        for key, value in expected.items()
    )


def _numerically_equal(first, second, trials: int = 12) -> bool:
    rng = np.random.default_rng(0)
    free = sorted((first - second).free_symbols, key=str)
    for _ in range(trials):
        values = {}
        for symbol in free:
            values[symbol] = sp.Float(rng.uniform(0.05, 0.95)) if symbol == beta else sp.Integer(int(rng.integers(2, 9)))
        if abs(complex(sp.N((first - second).subs(values), 30))) > 1e-20:
            return False
    return True


@lru_cache(maxsize=None)
def rho_branch_threshold() -> sp.Expr:
    """Solve ``rho sqrt((1-beta)/(1+beta)) < 1`` for ``1 - beta`` (``rho > 1``).

    Returns the sympy upper bound on ``1 - beta``, which is ``2 / (rho^2 + 1)``.
    """
    r = sp.Symbol("r", positive=True)
    one_minus = sp.Symbol("q", positive=True)  # q = 1 - beta
    # rho^2 (1 - beta) < 1 + beta  <=>  rho^2 q < 2 - q  (both sides positive)
    solution = sp.solve(sp.Eq(r**2 * one_minus, 2 - one_minus), one_minus)
    return sp.simplify(solution[0].subs(r, rho_scalar))


# --- L4 -----------------------------------------------------------------------------------

def coupled_step(weights=w_hi):
    """``sum_j L[l, j] w[j]``: the drift of layer ``l``'s gradient per unit step."""
    return sp.Sum(L[l, j] * weights[j], (j, 1, p))


@lru_cache(maxsize=None)
def lemma_l4() -> Statement:
    """L4 (asymptotic geometric sums), with the approximate-LMO step length ``kappa_hi``."""
    rhs = (
        beta**t * g1_norm[l]
        + eta * kappa_hi * beta / (1 - beta) * coupled_step()
        + sigma[l] * martingale_cap(rho[l])
    )
    return Statement(
        key="L4",
        title="Momentum error bound",
        lhs=Expectation(eps_norm[l]),
        rhs=rhs,
        hypotheses=("A1", "A2v", "w_t <= w_hi on every path", "step length <= eta w kappa_hi (kappa_hi = 1 exact LMO)"),
        proof_sketch=(
            "Triangle inequality on L2; ||g_{k-1}^l - g_k^l||_* <= sum_j L[l,j] eta kappa_hi w_hi[j] by A1; "
            "sum_{k=2..t} beta^(t-k+1) <= beta/(1-beta); L3 on the noise sum with "
            "(1-beta)^2 sum_k beta^(2k) = (1-beta)/(1+beta)."
        ),
        check="Monte-Carlo in expectation with a stated confidence (tests); finite form <= this form.",
        references=_REFERENCES,
    )


@lru_cache(maxsize=None)
def lemma_l4_finite() -> Statement:
    """L4 with the exact finite sums (the form the lambdified bound uses)."""
    rhs = (
        beta**t * g1_norm[l]
        + eta * kappa_hi * beta * (1 - beta ** (t - 1)) / (1 - beta) * coupled_step()
        + sigma[l] * martingale_cap_at_step(t, rho[l])
    )
    return Statement(
        key="L4_finite",
        title="Momentum error bound (exact finite sums)",
        lhs=Expectation(eps_norm[l]),
        rhs=rhs,
        hypotheses=lemma_l4().hypotheses,
        proof_sketch="As L4, keeping sum_{k=2..t} beta^(t-k+1) = beta(1-beta^(t-1))/(1-beta) and both L3 branches exact.",
        check="Monte-Carlo (tests); pointwise <= L4.",
        references=_REFERENCES,
    )


@lru_cache(maxsize=None)
def _l4_numeric(finite: bool):
    statement = lemma_l4_finite() if finite else lemma_l4()
    per_layer = {
        "g1": sp.Symbol("g1"),
        "Lw": sp.Symbol("Lw"),
        "sigma": sp.Symbol("sigma_l"),
        "rho": sp.Symbol("rho_l"),
    }
    expression = statement.rhs.subs(coupled_step(), per_layer["Lw"])
    expression = expression.subs({g1_norm[l]: per_layer["g1"], sigma[l]: per_layer["sigma"], rho[l]: per_layer["rho"]})
    arguments = (t, beta, eta, kappa_hi, per_layer["g1"], per_layer["Lw"], per_layer["sigma"], per_layer["rho"])
    return sp.lambdify(arguments, expression, "numpy")


def l4_bound(step, beta_value, eta_value, g1, L_matrix, w_hi_values, sigma_values, rho_values,
             kappa_hi_value=1.0, finite=True) -> np.ndarray:
    """Numeric L4 bound on ``E||eps_t^l||_*`` for every layer (lambdified from the statement).

    Returns an array of shape ``(p,)`` (or broadcast with ``step``'s shape in front).
    """
    step = check.horizon(step, "t")
    beta_value = check.momentum(beta_value, "beta")
    eta_value = check.positive(eta_value, "eta")
    L_matrix = check.coupling_matrix(L_matrix)
    layers = L_matrix.shape[0]
    g1 = check.layer_vector(g1, "g1", layers)
    w_hi_values = check.layer_vector(w_hi_values, "w_hi", layers)
    sigma_values = check.layer_vector(sigma_values, "sigma", layers)
    rho_values = check.layer_vector(rho_values, "rho", layers, strictly_positive=True)
    kappa = check.positive_scalar(kappa_hi_value, "kappa_hi")
    function = _l4_numeric(bool(finite))
    step = np.asarray(step)[..., None]
    return function(step, beta_value, eta_value, kappa, g1, L_matrix @ w_hi_values, sigma_values, rho_values)


def lemmas() -> dict[str, Statement]:
    """Every lemma statement, keyed by name."""
    return {
        "L1": lemma_l1(),
        "L1_inexact": lemma_l1_inexact(),
        "L2": lemma_l2(),
        "L3": lemma_l3(),
        "L4": lemma_l4(),
        "L4_finite": lemma_l4_finite(),
    }


__all__ = [
    "coupled_step",
    "l4_bound",
    "lemma_l1",
    "lemma_l1_inexact",
    "lemma_l2",
    "lemma_l3",
    "lemma_l4",
    "lemma_l4_finite",
    "lemmas",
    "martingale_cap",
    "martingale_cap_at_step",
    "momentum_coefficient_sums",
    "momentum_error_by_algorithm",
    "momentum_error_by_recursion",
    "momentum_error_unrolled",
    "rho_branch_threshold",
    "verify_geometric_sums",
    "verify_l2",
]
