"""Newton-Schulz orthogonalisation: the approximate spectral LMO of Muon and its kin.

Problem
    Approximate the polar factor ``U V^T`` of ``G = U S V^T`` (so that the spectral LMO is
    ``-U V^T``) with matrix products only, no SVD.

Algorithm
    Transpose when ``m > n`` (so the Gram matrix is the small one), normalise
    ``X_0 = G / (||G||_F + eps)`` so every singular value lies in ``[0, 1]``, then for each
    coefficient row ``(a, b, c)``: ``A = X X^T``, ``X <- a X + (b A + c A^2) X``. On one
    singular value this is the scalar map ``phi(s) = a s + b s^3 + c s^5`` iterated
    (``ns_scalar_map``), which is all a teacher needs to see why the output is not exactly
    orthogonal.

    * ``ns5``: ``(3.4445, -4.7750, 2.0315)`` five times (Muon's quintic; ``a + b + c != 1``,
      so it does not converge to ``U V^T``: its singular values land in a band around 1).
    * ``ns_cubic``: ``(1.5, -0.5, 0)``; converges to ``U V^T`` for ``||X_0||_2 < sqrt(3)``,
      which Frobenius normalisation guarantees. Default 25 steps (slow start near zero:
      a singular value ``s`` grows by 1.5x per step until it is of order 1).
    * ``you_quintic``: Jiacheng You's five quintic rows, one per step
      (``YOU_QUINTIC_COEFFICIENTS``); a tighter band than ``ns5`` at the same cost.
    * ``polar_express``: the degree-5 Polar Express schedule of Amsel et al., eight rows
      designed for ``[l, u] = [1e-3, 1]`` (``POLAR_EXPRESS_COEFFICIENTS``: the published
      rows with the paper code's safety factor 1.01, i.e. ``(a/1.01, b/1.01^3, c/1.01^5)``
      on every row but the last). Each row is the optimal (minimax) odd quintic for the
      interval the previous rows left, so the band shrinks to ``[1, 1]`` (in float64) after
      the eight steps.
    * a user triple with ``steps``, or a per-step schedule: an array of ``(a, b, c)`` rows.

    Named schedules and ``steps`` (a choice of this package, following the Polar Express
    code): ``steps=None`` runs the whole schedule (5 rows for ``you_quintic``, 8 for
    ``polar_express``); ``steps`` smaller than the schedule runs its first ``steps`` rows;
    larger repeats the last row (for ``polar_express`` the last row is the classical
    quintic ``(15/8, -10/8, 3/8)``, which converges to 1). A user array of rows is run as
    given (``steps`` must match its length).

    Normalisation: every method here divides by ``||G||_F + eps``. The Polar Express code
    divides by ``1.01 ||G||_F + 1e-7`` (a second safety margin for bfloat16); this package
    keeps one normalisation for every method (in float64 the top normalised singular value
    is at most 1, the right end of the interval the schedule was designed for), so the
    ``polar_express`` outputs differ from that code by that 1% rescaling of ``X_0``, not by
    the coefficients. (Rescaling ``G`` cannot reproduce it, the normalisation removes any
    scale; the user schedule ``ns_coefficients("polar_express")`` with its first row
    replaced by ``(a/1.01, b/1.01^3, c/1.01^5)`` does, up to ``eps``.)

Guarantee
    An approximate LMO ``D(G)`` has norm excess ``kappa_hi = ||D(G)||_2`` and descent ratio
    ``kappa_lo = -<G, D(G)> / ||G||_*``; lemma L1 then reads
    ``<g, D(B)> <= -kappa_lo ||g||_* + (kappa_lo + kappa_hi) ||B - g||_*``
    (``nalr_theory.theory.lemmas``, lemma L1, ``lemma_l1_inexact``).
    ``ns5`` output singular values lie in ``[0, 1.2024]`` always and in ``[0.6818, 1.2024]``
    for every singular value with ``s / ||G||_F >= 2e-3`` (``ns_band`` computes the band);
    ``you_quintic``: ``[0, 1.1451]`` and ``[0.8524, 1.1451]``; ``polar_express`` (8 steps):
    ``[0, 1 + 1e-15]`` and ``[1 - 1e-15, 1 + 1e-15]`` (float64 evaluation of the scalar map;
    with 5 steps ``[0.8702, 1.1236]``). Hence ``kappa_lo >= lo`` times the share of the
    nuclear norm carried by singular values above ``2e-3 ||G||_F``, and ``kappa_hi <= hi``.

References
    K. Jordan et al., "Muon: an optimizer for hidden layers" (2024), quintic coefficients
    and ``eps = 1e-7``; N. J. Higham, "Functions of Matrices" (2008), ch. 8 (cubic
    Newton-Schulz for the polar decomposition); N. Amsel, D. Persson, C. Musco, R. M. Gower,
    "The Polar Express: Optimal Matrix Sign Methods and Their Application to the Muon
    Algorithm", arXiv 2505.16932 (2025), and its code (GitHub ``NoahAmsel/PolarExpress``,
    ``polar_express/basic.py``); J. You, 5-step quintic schedule
    (https://x.com/YouJiacheng/status/1905861218138804534), as used in GitHub
    ``microsoft/dion``, ``dion/newton_schulz_triton.py``.

Decision (a choice of this package): ``eps`` is absolute, ``1e-7`` as in Muon's code, for
every method, so a matrix with ``||G||_F`` far below ``eps`` is mapped close to zero, as in
Muon; all arithmetic stays float64 (no hidden bfloat16/float32 as in GPU implementations).
``||G||_F`` is the scale-robust Frobenius norm of ``base_norms`` (finite for entries up to
``~1e307``); if even it overflows, ``2^-e G / (||2^-e G||_F + 2^-e eps)`` is iterated
instead (an exact rescaling), so huge inputs never collapse to zero or nan.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import as_matrix
from .base_norms import frobenius_primal, spectral_lmo

NS5_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_CUBIC_COEFFICIENTS = (1.5, -0.5, 0.0)

#: Jiacheng You's 5-step quintic schedule, one ``(a, b, c)`` row per step. Source: posted at
#: https://x.com/YouJiacheng/status/1905861218138804534 (not read here: X is not in the
#: searchable corpus); the rows were read from GitHub ``microsoft/dion``,
#: ``dion/newton_schulz_triton.py`` (``zeropower_via_newtonschulz5``, ``ns_consts``, commit
#: 0a750c95c73e17213783f724c6bb397e0b3ebc43); they agree digit for digit with the copies
#: found by code search in other public Muon implementations.
YOU_QUINTIC_COEFFICIENTS = (
    (4.0848, -6.8946, 2.9270),
    (3.9505, -6.3029, 2.6377),
    (3.7418, -5.5913, 2.3037),
    (2.8769, -3.1427, 1.2046),
    (2.8366, -3.0525, 1.2012),
)

#: Polar Express, degree 5 (Amsel, Persson, Musco, Gower, arXiv 2505.16932, Algorithm 1):
#: the published rows *before* the safety factor, computed by the authors as
#: ``optimal_composition(l=1e-3, num_iters=8, safety_factor_eps=1e-2, cushion=0.02)``. Read
#: from GitHub ``NoahAmsel/PolarExpress``, ``polar_express/basic.py`` (``_COEFFS``, commit
#: 7f0fb5730e3d5946f96b07404bbe476515f2caec); a search excerpt of the paper's Algorithm 1
#: shows the same rows (the paper itself was not read). The last row is the classical quintic
#: ``(15/8, -10/8, 3/8)``.
POLAR_EXPRESS_RAW_COEFFICIENTS = (
    (8.28721201814563, -23.595886519098837, 17.300387312530933),
    (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    (3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    (3.3184196573706015, -2.488488024314874, 0.51004894012372),
    (2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    (1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
    (1.875, -1.25, 0.375),
)
#: the safety factor of the Polar Express code (same file): every row but the last becomes
#: ``(a / 1.01, b / 1.01**3, c / 1.01**5)``, i.e. ``p(x / 1.01)``, so that rounding cannot
#: push a singular value past the right end of the interval a row was designed for
POLAR_EXPRESS_SAFETY = 1.01
#: the rows ``polar_express`` runs: the raw rows with the safety factor, as in the paper's code
POLAR_EXPRESS_COEFFICIENTS = tuple(
    (a / POLAR_EXPRESS_SAFETY, b / POLAR_EXPRESS_SAFETY**3, c / POLAR_EXPRESS_SAFETY**5)
    for a, b, c in POLAR_EXPRESS_RAW_COEFFICIENTS[:-1]
) + (POLAR_EXPRESS_RAW_COEFFICIENTS[-1],)

#: named per-step schedules: ``steps=None`` runs all rows; fewer runs a prefix; more repeats the last row
SCHEDULES = {"you_quintic": YOU_QUINTIC_COEFFICIENTS, "polar_express": POLAR_EXPRESS_COEFFICIENTS}
DEFAULT_STEPS = {"ns5": 5, "ns_cubic": 25, **{name: len(rows) for name, rows in SCHEDULES.items()}}
NS_EPS = 1e-7
METHODS = ("svd", "ns5", "ns_cubic", "you_quintic", "polar_express")


def ns_coefficients(method="ns5", steps=None) -> np.ndarray:
    """Return the ``(steps, 3)`` float64 array of ``(a, b, c)`` rows for ``method``.

    ``method`` is ``"ns5"``, ``"ns_cubic"``, a named schedule (``"you_quintic"``,
    ``"polar_express"``: all its rows by default, its first ``steps`` rows for a smaller
    ``steps``, its last row repeated for a larger one), a triple ``(a, b, c)`` (repeated
    ``steps`` times, default 5) or an array of rows (a per-step schedule; ``steps`` must then
    be ``None`` or equal to its length). ``"svd"`` has no coefficients: an empty ``(0, 3)``
    array, which the numba kernels read as "exact".
    """
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps: must be a positive integer, got {steps!r}")
        steps = int(steps)
    if isinstance(method, str):
        if method == "svd":
            return np.zeros((0, 3))
        if method not in DEFAULT_STEPS:
            raise ValueError(f"method: unknown Newton-Schulz method {method!r}; known: {METHODS}")
        count = DEFAULT_STEPS[method] if steps is None else steps
        if method in SCHEDULES:
            rows = np.asarray(SCHEDULES[method], dtype=np.float64)
            index = np.minimum(np.arange(count), rows.shape[0] - 1)  # past the end: the last row
            return np.ascontiguousarray(rows[index])
        triple = NS5_COEFFICIENTS if method == "ns5" else NS_CUBIC_COEFFICIENTS
        return np.tile(np.asarray(triple, dtype=np.float64), (count, 1))
    try:
        rows = np.asarray(method, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"method: expected a name, a triple or an array of rows, got {method!r}") from None
    if rows.shape == (3,):
        rows = np.tile(rows, (5 if steps is None else steps, 1))
    elif rows.ndim != 2 or rows.shape[1] != 3 or rows.shape[0] < 1:
        raise ValueError(f"method: coefficient schedule must have shape (k, 3), got {rows.shape}")
    elif steps is not None and steps != rows.shape[0]:
        raise ValueError(f"steps: {steps} disagrees with the schedule's {rows.shape[0]} rows")
    if not np.all(np.isfinite(rows)):
        raise ValueError("method: coefficients must be finite")
    return np.ascontiguousarray(rows)


def newton_schulz(G, method="ns5", steps=None, eps: float = NS_EPS) -> np.ndarray:
    """Approximate polar factor ``U V^T`` of ``G`` (the spectral LMO is its negative).

    ``method="svd"`` returns the exact polar factor (over singular values above the rank
    tolerance). The input is never modified; the zero matrix maps to zero.
    """
    G = as_matrix(G, "G")
    coefficients = ns_coefficients(method, steps)
    if coefficients.shape[0] == 0:
        return -spectral_lmo(G)
    return _iterate(G, coefficients, eps)


def _iterate(G: np.ndarray, coefficients: np.ndarray, eps: float) -> np.ndarray:
    transpose = G.shape[0] > G.shape[1]
    X = G.T if transpose else G
    norm = frobenius_primal(X)
    if norm < math.inf:
        X = X / (norm + eps)
    else:  # ||G||_F above the largest float: normalise the exactly rescaled 2^-e G
        exponent = math.frexp(float(np.max(np.abs(X))))[1]
        X = np.ldexp(X, -exponent)
        X = X / (frobenius_primal(X) + math.ldexp(eps, -exponent))
    for a, b, c in coefficients:
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
    return np.ascontiguousarray(X.T) if transpose else X


def ns_scalar_map(s, method="ns5", steps=None) -> np.ndarray:
    """``phi_k(s)``: what ``k`` Newton-Schulz steps do to one normalised singular value ``s``.

    ``s`` is ``s_i / ||G||_F`` (in ``[0, 1]``); vectorised over ``s``.
    """
    coefficients = ns_coefficients(method, steps)
    if coefficients.shape[0] == 0:
        raise ValueError("method: 'svd' has no scalar map (it is exact: phi(s) = 1 for s > 0)")
    if np.iscomplexobj(s):
        raise ValueError("s: complex values are not supported (normalised singular values are real)")
    try:
        value = np.array(s, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"s: expected real numbers, got {s!r}") from None
    if not np.all(np.isfinite(value)):
        raise ValueError("s: contains non-finite values (nan or inf)")
    for a, b, c in coefficients:
        value = a * value + b * value**3 + c * value**5
    return value


phi_k = ns_scalar_map


def ns_band(method="ns5", steps=None, s_min: float = 2e-3, grid: int = 200_001) -> tuple[float, float]:
    """Band ``[lo, hi]`` of output singular values for inputs with ``s / ||G||_F >= s_min``.

    Evaluated on a fine grid of ``[s_min, 1]`` (the map is a smooth polynomial, so the grid
    maximum is accurate to ~1e-9 at the default resolution); ``hi`` is over ``[0, 1]``.
    """
    s = np.linspace(0.0, 1.0, grid)
    values = ns_scalar_map(s, method, steps)
    return float(values[s >= s_min].min()), float(values.max())


def lmo_quality(G, method="ns5", steps=None) -> tuple[float, float]:
    """``(kappa_lo, kappa_hi)`` of the approximate spectral LMO ``D = -newton_schulz(G)``.

    ``kappa_hi = ||D||_2`` (norm excess) and ``kappa_lo = -<G, D> / ||G||_*`` (descent ratio).
    ``G`` may be one matrix or a stack ``(T, m, n)`` (a trajectory): then the worst case
    over the stack, ``(min kappa_lo, max kappa_hi)``. A zero matrix has no descent ratio and
    raises ``ValueError``.
    """
    array = np.asarray(G, dtype=np.float64)
    if array.ndim == 3:
        pairs = [lmo_quality(matrix, method, steps) for matrix in array]
        return min(p[0] for p in pairs), max(p[1] for p in pairs)
    G = as_matrix(array, "G")
    singular_values = np.linalg.svd(G, compute_uv=False)
    nuclear = float(np.sum(singular_values))
    if nuclear == 0.0:
        raise ValueError("G: the zero matrix has no descent ratio (kappa_lo is 0/0)")
    direction = -newton_schulz(G, method, steps)
    kappa_lo = -float(np.sum(G * direction)) / nuclear
    kappa_hi = float(np.linalg.svd(direction, compute_uv=False)[0])
    return kappa_lo, kappa_hi
