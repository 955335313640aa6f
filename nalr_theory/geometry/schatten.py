"""The Schatten-q norms: a one-parameter family of layer geometries from SGD to Muon.

Problem
    Give a layer ``X`` of shape ``(m, n)`` the Schatten norm
    ``||X||_{S_q} = (sum_i s_i(X)^q)^(1/q)`` of its singular values ``s_i``, ``q in [1, inf]``
    (``q = inf``: the largest singular value, the spectral norm; ``q = 2``: Frobenius;
    ``q = 1``: nuclear), its dual norm, which is ``S_{q*}`` with ``q* = q / (q - 1)``
    (``1* = inf``, ``inf* = 1``), and its linear minimisation oracle
    ``lmo(G) = argmin_{||D||_{S_q} <= 1} <G, D>``. The family interpolates between the
    geometry of SGD (``q = 2``, the Frobenius LMO ``-G / ||G||_F``) and that of Muon
    (``q = inf``, the spectral LMO ``-U V^T``).

Algorithm
    One SVD ``G = U diag(s) V^T`` (reduced; singular values at or below
    ``rank_tolerance(shape) * s_max`` of ``base_norms`` are dropped as numerically zero, as
    the spectral LMO does):

    * ``schatten_norm(X, q) = s_max (sum_i (s_i / s_max)^q)^(1/q)``; exactly the
      ``frobenius`` norm of ``base_norms`` at ``q = 2`` (no SVD), ``s_max`` at ``q = inf``
      and ``sum_i s_i`` at ``q = 1``.
    * ``schatten_lmo(G, q) = -U diag(s^(q*-1)) V^T / ||s||_{q*}^(q*-1)`` for ``q in (1, inf]``,
      with ``q* - 1 = 1 / (q - 1)``. It is computed on ``t = s / s_max`` as
      ``-U diag(t^(1/(q-1))) V^T / (sum_i t_i^(q*))^(1/q)`` (the same matrix, since
      ``(q* - 1) / q* = 1 / q``), so that no power overflows or underflows. At ``q = 2`` it
      is exactly the ``frobenius`` LMO and at ``q = inf`` exactly the ``spectral`` LMO of
      ``base_norms`` (those functions are called). ``lmo(0) = 0``.
    * ``schatten_sharp(G, q) = U diag(s^(1/(q-1))) V^T`` for ``q in [2, inf]``: the
      unnormalised ("sharp") steepest-descent direction of the penalty
      ``(1/q) ||dX||_{S_q}^q``, that is ``argmax_D <G, D> - (1/q) ||D||_{S_q}^q``. It is ``G``
      itself at ``q = 2`` (a copy, no SVD) and the polar factor ``U V^T`` at ``q = inf``.
    * ``schatten_constants(shape, q) = (a, b, rho)`` compares the *dual* norm with
      Frobenius (``k = min(m, n)``): ``||Z||_{S_q*} <= a ||Z||_F`` and
      ``||Z||_F <= b ||Z||_{S_q*}``. For ``q >= 2``: ``a = k^(1/2 - 1/q)``, ``b = 1``; a flat
      spectrum attains ``a`` and a rank-one matrix attains ``b``. These are the
      ``frobenius`` row of the table of ``base_norms`` at ``q = 2`` and its ``spectral`` row
      at ``q = inf``. ``rho = a b``.

Guarantee
    For ``G != 0`` and ``q in (1, inf]``: ``<G, lmo(G)> = -||G||_{S_q*}`` and
    ``||lmo(G)||_{S_q} = 1`` up to rounding (the Hoelder inequality
    ``<A, B> <= ||A||_{S_q} ||B||_{S_q*}`` shows that no feasible point does better); the
    equivalence inequalities hold and are attained by ``schatten_attaining``. Every value
    is scale-robust: the powers are taken on ``s / s_max`` and LAPACK's SVD rescales
    extreme matrices itself, so entries near ``1e160`` or ``1e-170`` give the same relative
    accuracy as entries near 1, and ``norm(c G) = c norm(G)``, ``lmo(c G) = lmo(G)``.
    ``||X||_{S_q}`` is non-increasing in ``q``.

References
    T. Massena, C. Friedrich, M. Serrurier, "From SGD to Muon: Adaptive Optimization via
    Schatten-p Norms", arXiv 2605.19781 (2026). The paper's text was not read; the
    definitions here follow the first author's blog post of 2026-02-19,
    https://massena-t.github.io/blog/2026/02/19/schatten-muon.html, which presents the same
    method. Their exponent ``p`` equals our ``q - 1`` (this package writes ``q`` because
    ``p`` counts layers in ``nalr_theory.theory``). R. Bhatia, "Matrix Analysis", Springer
    (1997), chapter IV (Schatten norms, their duality and the Hoelder inequality).

Decisions (choices of this package): the LMO written in normalised form (the blog gives the
sharp form only); the rank tolerance of the spectral LMO applied at every ``q`` (to the LMO
and to the sharp form, so that numerically-zero directions are dropped and both forms are
continuous at ``q = inf``); the LMO at ``q = 1`` (a nuclear-norm ball, whose minimiser is not
unique when the top singular value is repeated) is not provided and raises; for ``q < 2``
the equivalence constants are ``a = 1``, ``b = k^(1/q - 1/2)`` (then ``S_q*`` is below
Frobenius), attained by a rank-one and a flat-spectrum matrix respectively.

The numba twins (same names and signatures: ``schatten_norm(X, q)``, ``schatten_lmo(G, q)``,
``schatten_sharp(G, q)``) are in ``nalr_theory.geometry._kernels``; they compile the
spectrum helpers of this module as they are (one source for both sides) and dispatch the
end points to the twins of ``base_norms``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from ._validation import as_matrix, as_positive, as_shape, check_own_shape, shape_or_own
from .base_norms import frobenius_lmo, frobenius_primal, rank_tolerance, spectral_lmo

__all__ = [
    "SchattenNorm",
    "as_schatten_exponent",
    "schatten_attaining",
    "schatten_constants",
    "schatten_dual_exponent",
    "schatten_lmo",
    "schatten_norm",
    "schatten_sharp",
]

_INF_STRINGS = ("inf", "+inf", "infinity", "+infinity")


def as_schatten_exponent(
    q, name: str = "q", *, minimum: float = 1.0, open_minimum: bool = False
) -> float:
    """Return the Schatten exponent ``q`` as a float in ``[minimum, inf]`` (``(minimum, inf]``
    when ``open_minimum``), or raise ``ValueError`` naming ``name``.

    Accepts a real number (``int``, ``float``, NumPy scalar; ``float("inf")`` and ``np.inf``
    for the spectral end point) or the string ``"inf"``; rejects ``bool``, ``nan``, complex
    numbers and values below the range.
    """
    bracket = "(" if open_minimum else "["
    wanted = f"a real number in {bracket}{minimum:g}, inf] or 'inf'"
    if isinstance(q, str):
        if q.strip().lower() in _INF_STRINGS:
            return math.inf
        raise ValueError(f"{name}: expected {wanted}, got {q!r}")
    if isinstance(q, bool) or not isinstance(q, (Real, np.floating, np.integer)):
        raise ValueError(f"{name}: expected {wanted}, got {q!r}")
    value = float(q)
    if math.isnan(value) or value < minimum or (open_minimum and value == minimum):
        raise ValueError(f"{name}: expected {wanted}, got {q!r}")
    return value


# --- spectrum helpers: plain NumPy that numba compiles as is (``_kernels`` uses them) -------

def _spectrum_norm(s, q):
    """``(sum_i s_i^q)^(1/q)`` of singular values ``s`` sorted in decreasing order (``q >= 1``),
    computed as ``s_max (sum_i (s_i / s_max)^q)^(1/q)``."""
    peak = s[0]
    if peak == 0.0:
        return 0.0
    if q == math.inf:
        return peak
    if q == 1.0:
        return np.sum(s)
    t = s / peak
    return peak * np.sum(t**q) ** (1.0 / q)


def _lmo_from_svd(U, s, Vt, q, tolerance):
    """``-U diag(t^(1/(q-1))) V^T / (sum t^(q*))^(1/q)``, ``t = s / s_max`` over the kept
    singular values, for ``1 < q < inf``; the zero matrix when ``s_max = 0``."""
    if s[0] == 0.0:
        return np.zeros((U.shape[0], Vt.shape[1]))
    rank = np.count_nonzero(s > tolerance * s[0])  # the kept, leading ones
    t = s[:rank] / s[0]
    weights = t ** (1.0 / (q - 1.0)) / np.sum(t ** (q / (q - 1.0))) ** (1.0 / q)
    left = np.ascontiguousarray(U[:, :rank]) * (-weights)
    return left @ np.ascontiguousarray(Vt[:rank, :])


def _sharp_from_svd(U, s, Vt, q, tolerance):
    """``U diag(s^(1/(q-1))) V^T`` over the kept singular values, for ``2 <= q < inf``; the
    zero matrix when ``s_max = 0``."""
    if s[0] == 0.0:
        return np.zeros((U.shape[0], Vt.shape[1]))
    rank = np.count_nonzero(s > tolerance * s[0])  # the kept, leading ones
    weights = s[:rank] ** (1.0 / (q - 1.0))
    left = np.ascontiguousarray(U[:, :rank]) * weights
    return left @ np.ascontiguousarray(Vt[:rank, :])


# --- the reference on validated input (``by_code`` dispatches here) -------------------------

def _norm(X: np.ndarray, q: float) -> float:
    if q == 2.0:
        return frobenius_primal(X)
    return float(_spectrum_norm(np.linalg.svd(X, compute_uv=False), q))


def _lmo(G: np.ndarray, q: float) -> np.ndarray:
    if q == 2.0:
        return frobenius_lmo(G)
    if q == math.inf:
        return spectral_lmo(G)
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    return _lmo_from_svd(U, s, Vt, q, rank_tolerance(G.shape))


def _sharp(G: np.ndarray, q: float) -> np.ndarray:
    if q == 2.0:
        return G.copy()
    if q == math.inf:
        return -spectral_lmo(G)
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    return _sharp_from_svd(U, s, Vt, q, rank_tolerance(G.shape))


# --- public functions (validate, then the reference) ----------------------------------------

def schatten_norm(X, q) -> float:
    """Schatten norm ``||X||_{S_q} = (sum_i s_i(X)^q)^(1/q)`` for ``q in [1, inf]``.

    ``q = inf`` gives the largest singular value (spectral norm), ``q = 2`` the Frobenius
    norm (computed without an SVD), ``q = 1`` the nuclear norm. Scale-robust: the powers are
    taken on ``s / s_max``.
    """
    return _norm(as_matrix(X, "X"), as_schatten_exponent(q))


def schatten_dual_exponent(q) -> float:
    """The dual exponent ``q* = q / (q - 1)`` of ``q in [1, inf]``, with ``1* = inf`` and
    ``inf* = 1``: the dual norm of ``S_q`` is ``S_{q*}``."""
    q = as_schatten_exponent(q)
    if q == 1.0:
        return math.inf
    if q == math.inf:
        return 1.0
    return q / (q - 1.0)


def schatten_lmo(G, q) -> np.ndarray:
    """``argmin_{||D||_{S_q} <= 1} <G, D>`` for ``q in (1, inf]`` (a new array).

    ``-U diag(s^(q*-1)) V^T / ||s||_{q*}^(q*-1)`` from the reduced SVD of ``G`` (singular
    values above the rank tolerance of ``base_norms``); exactly the Frobenius LMO
    ``-G / ||G||_F`` at ``q = 2`` and the spectral LMO ``-U V^T`` at ``q = inf``;
    ``lmo(0) = 0``. For ``G != 0``: ``<G, lmo(G)> = -||G||_{S_q*}`` and ``||lmo(G)||_{S_q} = 1``.
    """
    return _lmo(as_matrix(G, "G"), as_schatten_exponent(q, open_minimum=True))


def schatten_sharp(G, q) -> np.ndarray:
    """The sharp (unnormalised steepest-descent) direction ``U diag(s^(1/(q-1))) V^T`` of ``G``
    for ``q in [2, inf]`` (a new array; the caller subtracts it).

    It maximises ``<G, D> - (1/q) ||D||_{S_q}^q``; ``G`` itself (a copy) at ``q = 2``, the
    polar factor ``U V^T`` at ``q = inf``. Singular values at or below the rank tolerance of
    ``base_norms`` are dropped (``q > 2``).
    """
    return _sharp(as_matrix(G, "G"), as_schatten_exponent(q, minimum=2.0))


def schatten_constants(shape, q) -> tuple[float, float, float]:
    """``(a, b, rho)`` with ``||Z||_{S_q*} <= a ||Z||_F``, ``||Z||_F <= b ||Z||_{S_q*}`` and
    ``rho = a b``, ``k = min(shape)``.

    For ``q >= 2``: ``a = k^(1/2 - 1/q)`` (``sqrt(k)`` at ``q = inf``, the ``spectral`` row of
    ``base_norms``; ``1`` at ``q = 2``, the ``frobenius`` row) and ``b = 1``. For ``q < 2``:
    ``a = 1`` and ``b = k^(1/q - 1/2)``.
    """
    k = min(as_shape(shape))
    q = as_schatten_exponent(q)
    if q == math.inf:
        a, b = math.sqrt(k), 1.0
    elif q >= 2.0:
        a, b = float(k) ** (0.5 - 1.0 / q), 1.0
    else:
        a, b = 1.0, float(k) ** (1.0 / q - 0.5)
    return a, b, a * b


def schatten_attaining(shape, q) -> dict[str, np.ndarray]:
    """Matrices attaining each inequality of :func:`schatten_constants`: ``{"a": Z_a, "b": Z_b}``.

    For ``q >= 2`` ``Z_a`` has a flat spectrum (``eye(m, n)``: all ``k`` singular values 1)
    and ``Z_b`` is rank-one (a single entry); for ``q < 2`` the roles are swapped. At
    ``q = 2`` both attain (every inequality is an equality).
    """
    dims = as_shape(shape)
    q = as_schatten_exponent(q)
    flat = np.eye(*dims)
    rank_one = np.zeros(dims)
    rank_one[0, 0] = 1.0
    if q >= 2.0:
        return {"a": flat, "b": rank_one}
    return {"a": rank_one, "b": flat}


@dataclass(frozen=True)
class SchattenNorm:
    """The Schatten norm ``||X||_{S_q} / r`` of a layer; build it with
    ``get_norm("schatten", shape, radius, q=q)`` (``nalr_theory.geometry.norm``).

    Attributes: ``q`` (float in ``[1, inf]``), ``radius`` ``r`` (default 1), ``shape`` (or
    ``None``; a norm built with a shape checks every input's shape) and ``name``
    (``"schatten"``). As for the base norms, the radius scales the norm, the dual and the
    LMO: ``||X||_r = ||X||_{S_q} / r``, ``||G||_{r,*} = r ||G||_{S_q*}``,
    ``lmo_r(G) = r lmo(G)``; ``rho`` is unchanged.
    """

    q: float
    radius: float = 1.0
    shape: tuple[int, int] | None = None
    name: str = field(default="schatten", init=False)

    def __post_init__(self):
        object.__setattr__(self, "q", as_schatten_exponent(self.q))
        object.__setattr__(self, "radius", as_positive(self.radius, "radius"))
        if self.shape is not None:
            object.__setattr__(self, "shape", as_shape(self.shape))

    @property
    def dual_exponent(self) -> float:
        """``q* = q / (q - 1)``: the dual norm is ``S_{q*}`` (scaled by the radius)."""
        return schatten_dual_exponent(self.q)

    def _check(self, value, argument: str) -> np.ndarray:
        return check_own_shape(as_matrix(value, argument), argument, self.shape)

    def norm(self, X) -> float:
        """Primal value ``||X||_r = ||X||_{S_q} / r``."""
        return _norm(self._check(X, "X"), self.q) / self.radius

    def dual(self, G) -> float:
        """Dual value ``||G||_{r,*} = r ||G||_{S_q*}`` (exact, by SVD unless ``q* = 2``)."""
        return self.radius * _norm(self._check(G, "G"), self.dual_exponent)

    def lmo(self, G) -> np.ndarray:
        """``lmo_r(G) = r * argmin_{||D||_{S_q} <= 1} <G, D>`` (a new array); ``q > 1``."""
        G = self._check(G, "G")
        if self.q == 1.0:
            raise ValueError(
                "q: the LMO of the nuclear-norm ball (q = 1) is not unique and is not "
                "provided; use q > 1"
            )
        return self.radius * _lmo(G, self.q)

    def dual_estimate(self, G) -> float:
        """``-<G, lmo_r(G)>``, equal to the dual norm ``||G||_{r,*}`` (the LMO is exact)."""
        G = self._check(G, "G")
        return -float(np.sum(G * self.lmo(G)))

    def constants(self, shape=None) -> tuple[float, float, float]:
        """``(a, b, rho)`` with ``||Z||_{r,*} <= a ||Z||_F`` and ``||Z||_F <= b ||Z||_{r,*}``
        (``a_r = r a``, ``b_r = b / r``, ``rho = a b`` as in :func:`schatten_constants`)."""
        a, b, rho = schatten_constants(shape_or_own(shape, self.shape), self.q)
        return self.radius * a, b / self.radius, rho

    def attaining(self, shape=None) -> dict[str, np.ndarray]:
        """Matrices attaining each inequality: ``{"a": Z_a, "b": Z_b}`` (see
        :func:`schatten_attaining`)."""
        return schatten_attaining(shape_or_own(shape, self.shape), self.q)
