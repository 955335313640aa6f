"""Assumptions A1-A3 of the layerwise analysis as sympy statements; which noise models hold them.

Problem
    State the hypotheses of the layerwise analysis so that a user can read, print and
    change them: A1 (layerwise smoothness with a nonnegative coupling matrix ``L``), A2
    (unbiased layerwise noise: the variance form A2v and the almost-sure form A2b), A3
    (``f`` bounded below, ``Delta = f(X_1) - f_inf``).

Algorithm
    Each assumption is a :class:`~nalr_theory.theory.statement.Statement` over the symbols
    of :mod:`nalr_theory.theory.symbols`. :func:`noise_model_assumptions` says which of
    A2v and A2b a named noise model of ``nalr_theory.problems.noise`` satisfies.

Guarantee
    A1 with diagonal ``L`` is the layerwise assumption of Gluon and of the LANTON paper; a
    full ``L`` is this toolkit's generalisation. Consequence of A1 (tested numerically on a
    coupled quadratic): ``f(Y) <= f(X) + <grad f(X), Y - X> + 1/2 sum_{l,j} L[l,j]
    ||Y^l - X^l|| ||Y^j - X^j||``. Gaussian noise and Student-t with ``nu > 2`` satisfy A2v;
    Student-t with ``nu <= 2`` does not; only bounded noise satisfies A2b.

References
    Riabinin et al., "Gluon" (2025); Hao et al., LANTON, arXiv 2510.14009 (2025);
    ``nalr_theory.problems.noise`` (noise models).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .statement import Expectation, Statement
from .symbols import (
    Delta,
    L,
    f_first,
    f_inf,
    grad_diff_norm,
    j,
    l,
    p,
    sigma,
    sigma_hi,
    sigma_lo,
    step_norm,
    xi_norm,
)

_REFERENCES = "nalr_theory.theory.assumptions; Hao et al. 2025 (LANTON, arXiv 2510.14009)"


@lru_cache(maxsize=None)
def assumption_a1() -> Statement:
    """A1: ``||grad_l f(X) - grad_l f(Y)||_{l,*} <= sum_j L[l,j] ||X^j - Y^j||_j``, ``L >= 0``."""
    return Statement(
        key="A1",
        title="Layerwise smoothness with coupling",
        lhs=grad_diff_norm[l],
        rhs=sp.Sum(L[l, j] * step_norm[j], (j, 1, p)),
        hypotheses=("for all X, Y and every layer l", "L is a nonnegative p x p matrix"),
        proof_sketch=(
            "Consequence (integrate along the segment and use Hoelder layer by layer): "
            "f(Y) <= f(X) + <grad f(X), Y - X> + 1/2 sum_{l,j} L[l,j] ||Y^l - X^l|| ||Y^j - X^j||."
        ),
        check="Coupled quadratic in the tests: A1 holds with the stated L and its consequence on random pairs.",
        references=_REFERENCES,
    )


@lru_cache(maxsize=None)
def assumption_a2v() -> Statement:
    """A2v: ``E[||xi^l||_*^2 | F_{t-1}] <= sigma_l^2`` (with ``E[xi | F_{t-1}] = 0``)."""
    return Statement(
        key="A2v",
        title="Layerwise noise, variance form",
        lhs=Expectation(xi_norm[l] ** 2),
        rhs=sigma[l] ** 2,
        hypotheses=(
            "E[xi | F_{t-1}] = 0, F_t containing every sample drawn up to step t "
            "(including a second sample when an estimator draws one)",
        ),
        proof_sketch="Enough for the theorem. Gaussian and Student-t (nu > 2) satisfy it; Student-t (nu <= 2) does not.",
        references=_REFERENCES,
    )


@lru_cache(maxsize=None)
def assumption_a2b() -> Statement:
    """A2b: ``sigma_lo[l] <= ||xi^l||_* <= sigma_hi[l]`` on every draw."""
    return Statement(
        key="A2b",
        title="Layerwise noise, almost-sure form",
        lhs=xi_norm[l],
        rhs=sp.Interval(sigma_lo[l], sigma_hi[l]),
        relation="in",
        hypotheses=("on every draw",),
        proof_sketch="Needed only for LANTON's pathwise weight intervals (the w_lo form).",
        references=_REFERENCES,
    )


@lru_cache(maxsize=None)
def assumption_a3() -> Statement:
    """A3: ``f_inf = inf f > -inf`` and ``Delta = f(X_1) - f_inf``."""
    return Statement(
        key="A3",
        title="Bounded below",
        lhs=Delta,
        rhs=f_first - f_inf,
        relation="=",
        hypotheses=("f_inf = inf f > -infinity",),
        references=_REFERENCES,
    )


def assumptions() -> dict[str, Statement]:
    """All assumptions, keyed ``A1``, ``A2v``, ``A2b``, ``A3``."""
    return {
        "A1": assumption_a1(),
        "A2v": assumption_a2v(),
        "A2b": assumption_a2b(),
        "A3": assumption_a3(),
    }


def noise_model_assumptions(model: str, nu: float | None = None) -> dict[str, bool]:
    """Which of A2v, A2b a noise model of ``nalr_theory.problems.noise`` satisfies.

    ``model`` in ``bounded``, ``gaussian``, ``student_t`` (needs ``nu > 0``); the
    time-varying and minibatch wrappers inherit the base model's answer.
    """
    if model == "bounded":
        return {"A2v": True, "A2b": True}
    if model == "gaussian":
        return {"A2v": True, "A2b": False}
    if model == "student_t":
        if nu is None or not nu > 0:
            raise ValueError(f"nu: Student-t needs nu > 0 degrees of freedom, got {nu!r}")
        return {"A2v": bool(nu > 2), "A2b": False}
    raise ValueError(f"model: expected 'bounded', 'gaussian' or 'student_t', got {model!r}")


__all__ = [
    "assumption_a1",
    "assumption_a2b",
    "assumption_a2v",
    "assumption_a3",
    "assumptions",
    "noise_model_assumptions",
]
