"""numba twins of the geometry reference (``base_norms``, ``newton_schulz``, ``norm``).

Every kernel takes a validated finite float64 C-contiguous 2-D array (the engine passes
reshaped slices of its flat parameter vector), a base-norm ``code`` (``base_norms.SPECTRAL``
...) and a ``radius``. The spectral LMO is exact when ``coefficients`` has no rows and
Newton-Schulz otherwise (``newton_schulz.ns_coefficients`` builds the rows). Tests prove
each kernel equal to its reference to 1e-12 relative.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base_norms import COL_NORM, FROBENIUS, MAX_ABS, SPECTRAL  # else: ROW_NORM
from .nuclear_quadrature import two_node_rule as _two_node_rule_py

_EPS64 = np.finfo(np.float64).eps


@njit(cache=True)
def singular_values(X):
    return np.linalg.svd(X, full_matrices=False)[1]


@njit(cache=True)
def frobenius_norm(X):
    # BLAS ddot, bit-identical to the reference (see base_norms.frobenius_primal)
    flat = np.ascontiguousarray(X).ravel()
    return np.sqrt(np.dot(flat, flat))


@njit(cache=True)
def column_norms(X):
    # row-major sweep: contiguous reads, and the same summation order as np.sum(axis=0)
    m, n = X.shape
    squares = np.zeros(n)
    for i in range(m):
        for j in range(n):
            squares[j] += X[i, j] * X[i, j]
    return np.sqrt(squares)


@njit(cache=True)
def row_norms(X):
    m, n = X.shape
    norms = np.empty(m)
    for i in range(m):
        total = 0.0
        for j in range(n):
            total += X[i, j] * X[i, j]
        norms[i] = np.sqrt(total)
    return norms


@njit(cache=True)
def primal_norm(code, radius, X):
    """``||X||_r = ||X|| / r`` for the base norm ``code``."""
    m, n = X.shape
    if code == SPECTRAL:
        value = singular_values(X)[0]
    elif code == FROBENIUS:
        value = frobenius_norm(X)
    elif code == MAX_ABS:
        value = np.max(np.abs(X))
    elif code == COL_NORM:
        value = np.max(column_norms(X))
    else:
        value = np.max(row_norms(X))
    return value / radius


@njit(cache=True)
def dual_norm(code, radius, G):
    """``||G||_{r,*} = r ||G||_*`` for the base norm ``code``."""
    m, n = G.shape
    if code == SPECTRAL:
        value = np.sum(singular_values(G))
    elif code == FROBENIUS:
        value = frobenius_norm(G)
    elif code == MAX_ABS:
        value = np.sum(np.abs(G))
    elif code == COL_NORM:
        value = np.sum(column_norms(G))
    else:
        value = np.sum(row_norms(G))
    return radius * value


@njit(cache=True)
def newton_schulz(G, coefficients, eps):
    """Approximate polar factor of ``G`` by the Newton-Schulz rows ``coefficients``."""
    transpose = G.shape[0] > G.shape[1]
    if transpose:
        X = np.ascontiguousarray(G.T)
    else:
        X = G.copy()
    X = X / (frobenius_norm(X) + eps)
    for k in range(coefficients.shape[0]):
        a = coefficients[k, 0]
        b = coefficients[k, 1]
        c = coefficients[k, 2]
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
    if transpose:
        return np.ascontiguousarray(X.T)
    return X


@njit(cache=True)
def polar_factor_svd(G):
    """Exact ``U V^T`` over singular values above ``max(m, n) * eps * s_max``."""
    m, n = G.shape
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    out = np.zeros((m, n))
    if s[0] == 0.0:
        return out
    cutoff = max(m, n) * _EPS64 * s[0]
    rank = 0
    for i in range(s.shape[0]):
        if s[i] > cutoff:
            rank += 1
    return np.ascontiguousarray(U[:, :rank]) @ np.ascontiguousarray(Vt[:rank, :])


@njit(cache=True)
def _reciprocal_or_zero(norms):
    # zero columns/rows stay zero (GEOMETRY.md tie-break), as in base_norms._safe_normalise
    out = np.zeros_like(norms)
    for k in range(norms.shape[0]):
        if norms[k] > 0.0:
            out[k] = 1.0 / norms[k]
    return out


@njit(cache=True)
def lmo(code, radius, G, coefficients, eps):
    """``lmo_r(G)`` for the base norm ``code`` (a new array)."""
    m, n = G.shape
    out = np.zeros((m, n))
    if code == SPECTRAL:
        if coefficients.shape[0] > 0:
            out = -newton_schulz(G, coefficients, eps)
        else:
            out = -polar_factor_svd(G)
    elif code == FROBENIUS:
        norm = frobenius_norm(G)
        if norm > 0.0:
            out = -G / norm
    elif code == MAX_ABS:
        out = -np.sign(G)
    elif code == COL_NORM:
        scale = _reciprocal_or_zero(column_norms(G))
        for i in range(m):
            for j in range(n):
                out[i, j] = -G[i, j] * scale[j]
    else:
        scale = _reciprocal_or_zero(row_norms(G))
        for i in range(m):
            for j in range(n):
                out[i, j] = -G[i, j] * scale[i]
    return radius * out


@njit(cache=True)
def dual_estimate(code, radius, G, coefficients, eps):
    """Cheap dual norm ``-<G, lmo_r(G)>``."""
    return -np.sum(G * lmo(code, radius, G, coefficients, eps))


@njit(cache=True)
def constants(code, radius, m, n):
    """``(a, b, rho)`` including the radius (``a_r = r a``, ``b_r = b / r``)."""
    if code == SPECTRAL:
        a = np.sqrt(min(m, n))
    elif code == FROBENIUS:
        a = 1.0
    elif code == MAX_ABS:
        a = np.sqrt(m * n)
    elif code == COL_NORM:
        a = np.sqrt(n)
    else:
        a = np.sqrt(m)
    return radius * a, 1.0 / radius, a


@njit(cache=True)
def ns_scalar_map(s, coefficients):
    """``phi_k(s)`` on an array of normalised singular values."""
    value = s.copy()
    for k in range(coefficients.shape[0]):
        a = coefficients[k, 0]
        b = coefficients[k, 1]
        c = coefficients[k, 2]
        value = a * value + b * value**3 + c * value**5
    return value


@njit(cache=True)
def lmo_quality(G, coefficients, eps):
    """``(kappa_lo, kappa_hi)`` of ``D = lmo(G)`` (spectral, radius 1); ``G != 0``."""
    direction = lmo(SPECTRAL, 1.0, G, coefficients, eps)
    kappa_lo = -np.sum(G * direction) / np.sum(singular_values(G))
    kappa_hi = singular_values(direction)[0]
    return kappa_lo, kappa_hi



# the scalar closed form: the reference function compiled as is (one source for both sides)
two_node_rule = njit(cache=True)(_two_node_rule_py)


@njit(cache=True)
def gram_products(Z):
    """Twin of ``nuclear_quadrature.gram_products`` (empty ``A`` when ``F = 0``)."""
    m, n = Z.shape
    F = frobenius_norm(Z)
    if F == 0.0:
        return 0.0, np.zeros((0, 0)), np.zeros((0, 0))
    if m <= n:
        A = Z @ Z.T  # BLAS reads the transposed (F-ordered) view: no copy
    else:
        A = Z.T @ Z
    A *= 1.0 / (F * F)
    return F, A, A @ A


@njit(cache=True)
def central_products(A, A2, mean):
    """Twin of ``nuclear_quadrature.central_products``, one fused pass, no temporaries."""
    k = A.shape[0]
    squares, cross = 0.0, 0.0
    for i in range(k):
        for j in range(k):
            e = A[i, j] - mean if i == j else A[i, j]
            r = A2[i, j] - mean * A[i, j]
            squares += e * e
            cross += e * r
    return squares, cross


@njit(cache=True)
def radau_lower(F, A, A2):
    """Twin of ``nuclear_quadrature.radau_lower``, one fused pass, no temporaries."""
    if F == 0.0:
        return 0.0
    flat = A.ravel()
    mean = np.dot(flat, flat)  # BLAS ddot, as the reference
    variance, third = 0.0, 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            r = A2[i, j] - mean * A[i, j]
            variance += A[i, j] * r
            third += r * r
    return F * two_node_rule(mean, variance, third, -0.5)


@njit(cache=True)
def gauss_upper(F, A, A2):
    """Twin of ``nuclear_quadrature.gauss_upper``."""
    if F == 0.0:
        return 0.0
    k = A.shape[0]
    squares, cross = central_products(A, A2, 1.0 / k)
    return F * k * two_node_rule(1.0 / k, squares / k, cross / k, 0.5)


@njit(cache=True)
def nuclear_norm_lower(Z):
    """Twin of ``nuclear_quadrature.nuclear_norm_lower``."""
    F, A, A2 = gram_products(Z)
    return radau_lower(F, A, A2)


@njit(cache=True)
def nuclear_norm_bounds(Z):
    """Twin of ``nuclear_quadrature.nuclear_norm_bounds``."""
    F, A, A2 = gram_products(Z)
    return radau_lower(F, A, A2), gauss_upper(F, A, A2)
