"""Reference vs numba twins: equal to 1e-12 relative on every function and shape family."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from nalr_theory.geometry import get_norm, lmo_quality, ns_coefficients, ns_scalar_map
from nalr_theory.geometry import _kernels as kernels

from .strategies import KINDS, NONZERO_KINDS, SPECTRAL_NORMS, matrices, norm_and_matrix

REL = 1e-12
METHODS = ["svd", "ns5", "ns_cubic"]


def assert_close(numba_value, reference_value, scale):
    difference = np.max(np.abs(np.asarray(numba_value) - np.asarray(reference_value)))
    assert difference <= REL * max(scale, 1e-300), (difference, scale)


@given(norm_and_matrix())
@settings(max_examples=200)
def test_norm_dual_lmo_and_constants(case):
    name, shape, G = case
    methods = METHODS if name in SPECTRAL_NORMS else ["svd"]
    for method in methods:
        norm = get_norm(name, shape, lmo_method=method)
        args = (norm.code, norm.radius)
        assert_close(kernels.primal_norm(*args, G), norm.norm(G), abs(norm.norm(G)))
        assert_close(kernels.dual_norm(*args, G), norm.dual(G), abs(norm.dual(G)))
        lmo = norm.lmo(G)
        assert_close(kernels.lmo(*args, G, norm.ns_coefficients, norm.ns_eps), lmo, norm.radius)
        estimate = norm.dual_estimate(G)
        assert_close(
            kernels.dual_estimate(*args, G, norm.ns_coefficients, norm.ns_eps), estimate,
            abs(norm.dual(G)),
        )
        assert np.allclose(kernels.constants(*args, *shape), norm.constants(), rtol=REL, atol=0)


@given(G=matrices(kinds=KINDS), method=st.sampled_from(["ns5", "ns_cubic"]))
def test_newton_schulz(G, method):
    from nalr_theory.geometry import newton_schulz

    coefficients = ns_coefficients(method)
    assert_close(kernels.newton_schulz(G, coefficients, 1e-7), newton_schulz(G, method), 1.0)


@given(G=matrices(kinds=NONZERO_KINDS), method=st.sampled_from(METHODS))
def test_lmo_quality(G, method):
    reference = lmo_quality(G, method)
    twin = kernels.lmo_quality(G, ns_coefficients(method), 1e-7)
    assert_close(twin, reference, 1.0)


@pytest.mark.parametrize("method", ["ns5", "ns_cubic"])
def test_scalar_map(method):
    s = np.linspace(0, 1, 1001)
    assert_close(kernels.ns_scalar_map(s, ns_coefficients(method)), ns_scalar_map(s, method), 1.0)


def test_kernels_accept_views_of_a_flat_vector():
    # the engine's layout: a layer is a reshaped slice of one flat float64 vector
    rng = np.random.default_rng(0)
    flat = rng.standard_normal(40)
    G = flat[10:34].reshape(4, 6)
    norm = get_norm("muon", (4, 6), lmo_method="ns5")
    assert_close(kernels.lmo(norm.code, norm.radius, G, norm.ns_coefficients, 1e-7), norm.lmo(G), 1.0)


@given(mantissas=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=12),
       exponent=st.integers(-1074, 1022), shift=st.integers(-1080, 1080))
@settings(max_examples=300, deadline=None)
def test_exact_scaling_by_a_power_of_two_is_ldexp_bit_for_bit(mantissas, exponent, shift):
    # the kernels multiply by 2^-e instead of calling ldexp per element: the same correctly
    # rounded value, also where the result or 2^-e is subnormal, and ldexp where 2^-e is no float
    X = np.ldexp(np.asarray(mantissas), exponent).reshape(1, -1)
    with np.errstate(over="ignore"):  # an infinite result is a case too
        expected = np.ldexp(X, -shift)
    assert np.array_equal(kernels._scaled(X, shift), expected)
    for axis in (0, 1):
        lines = X if axis == 1 else X.T.copy()
        Y, exponents, _ = kernels._rescaled_lines(lines, axis)
        per_line = exponents[None, :] if axis == 0 else exponents[:, None]
        assert np.array_equal(Y, np.ldexp(lines, -per_line))


def _in_order_product(A, B):
    """``A @ B`` as the textbook sum over ``p`` in order from 0, each entry rounded per term."""
    C = np.zeros((A.shape[0], B.shape[1]))
    for p in range(A.shape[1]):
        C += np.outer(A[:, p], B[p, :])
    return C


@given(shape=st.tuples(st.integers(1, 8), st.integers(1, 8), st.integers(1, 8)), fortran=st.booleans(),
       a_fortran=st.booleans(), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_small_matmul_sums_each_entry_in_order_bit_for_bit(shape, fortran, a_fortran, seed):
    # the vector rows (rows of 8: the eight rows summed together when A has 8 rows, else
    # row by row) and the loops (shorter rows) must round as the textbook sum over p in
    # order from 0, whatever the layouts of A and B: same bits as before
    m, k, n = shape
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, k))
    B = rng.standard_normal((k, n))
    expected = _in_order_product(A, B)
    assert np.array_equal(kernels.matmul(np.asfortranarray(A) if a_fortran else A,
                                         np.asfortranarray(B) if fortran else B), expected)


@given(shape=st.tuples(st.integers(0, 40), st.integers(0, 40)), exponents=st.integers(0, 12),
       seed=st.integers(0, 2**32 - 1), fortran=st.booleans())
@settings(max_examples=300, deadline=None)
def test_abs_sum_is_numpys_pairwise_sum_bit_for_bit(shape, exponents, seed, fortran):
    # the sign norm's dual (l1) in NumPy's pairwise order: the reference's bits for C order,
    # across block ends (8, 128) and halvings (up to 1600 entries), entries spanning 2^+-12
    rng = np.random.default_rng(seed)
    G = rng.standard_normal(shape) * 2.0 ** rng.integers(-exponents, exponents + 1, shape)
    assert kernels.abs_sum(G) == np.sum(np.abs(G))
    assert kernels.dual_norm(kernels.MAX_ABS, 1.5, G) == 1.5 * np.sum(np.abs(G))
    # the same tree without absolute values: the sigmoidal objective's sum of phi(R)
    assert kernels.pairwise_sum(G) == np.sum(G)
    if fortran:  # other layouts: copied to C order, so within rounding of NumPy's memory order
        F = np.asfortranarray(G)
        assert kernels.abs_sum(F) == pytest.approx(np.sum(np.abs(F)), rel=1e-13, abs=0.0)
        assert kernels.pairwise_sum(F) == pytest.approx(np.sum(F), rel=1e-12, abs=1e-12 * np.sum(np.abs(F)))


def test_abs_sum_propagates_nan_and_inf():
    assert np.isnan(kernels.abs_sum(np.array([[1.0, np.nan] * 80])))
    assert kernels.abs_sum(np.array([[-np.inf] + [1.0] * 200])) == np.inf
    assert np.isnan(kernels.pairwise_sum(np.array([[1.0, np.nan] * 80])))
    assert kernels.pairwise_sum(np.array([[-np.inf] + [1.0] * 200])) == -np.inf


@njit
def _numba_blas_product(A, B):
    return A @ B


@given(shape=st.tuples(st.integers(1, 20), st.integers(1, 20), st.sampled_from([1, 3, 8, 8, 9, 20])),
       seed=st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_product_into_is_matmul_bit_for_bit_in_the_work_array(shape, seed):
    # matmul's bits (numba's BLAS ``A @ B`` past SMALL_MATMUL, the in-order sums below),
    # written into the work array's first m n entries at every size, and nothing past them;
    # BLAS rounds within a few ulps of the in-order sums
    m, k, n = shape
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    work = np.full(m * n + 3, 7.0)
    C = kernels.product_into(A, B, work)
    assert np.array_equal(C, _numba_blas_product(A, B) if max(shape) > kernels.SMALL_MATMUL
                          else _in_order_product(A, B))
    assert np.shares_memory(C, work) and np.array_equal(work[:m * n], C.ravel())
    assert np.all(work[m * n:] == 7.0)
    np.testing.assert_allclose(C, _numba_blas_product(A, B), rtol=0,
                               atol=1e-13 * k * np.abs(A).max() * np.abs(B).max())


@given(shape=st.tuples(st.integers(1, 8), st.integers(1, 8)), rows=st.booleans(), exponent=st.integers(-150, 150),
       seed=st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_small_gram_is_the_in_order_product_bit_for_bit(shape, rows, exponent, seed):
    # X X^T (or X^T X) from one dot product per lower-triangle entry, mirrored: the bits of
    # the product's in-order sums (matmul's), and exactly symmetric
    X = np.random.default_rng(seed).standard_normal(shape) * 2.0 ** exponent
    gram = kernels.gram(X, rows)
    assert np.array_equal(gram, _in_order_product(X, X.T) if rows else _in_order_product(X.T, X))
    assert np.array_equal(gram, gram.T)


def _in_layout(rng, shape, layout):
    """A standard normal array of ``shape`` stored C-ordered, Fortran-ordered (``"F"``) or as
    the transposed view of a C-ordered array (``"T"``)."""
    if layout == "T":
        return rng.standard_normal(shape[::-1]).T
    X = rng.standard_normal(shape)
    return np.asfortranarray(X) if layout == "F" else X


@given(shape=st.tuples(st.integers(1, 20), st.integers(1, 20), st.sampled_from([1, 5, 8, 8, 9, 20])),
       layouts=st.tuples(st.sampled_from("CFT"), st.sampled_from("CFT")), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_products_into_a_given_array_read_nothing_it_held(shape, layouts, seed):
    # the work arrays Newton-Schulz reuses hold the previous iteration's numbers: each
    # product must write every entry, with the bits of its allocating version (numba's
    # BLAS ``@`` past SMALL_MATMUL, the in-order loops below, and for rows of 8 the vector
    # rows, which read A by its strides), whatever the layouts of A and B
    m, k, n = shape
    rng = np.random.default_rng(seed)
    A, B = _in_layout(rng, (m, k), layouts[0]), _in_layout(rng, (k, n), layouts[1])
    C = np.full((m, n), np.nan)
    assert kernels.matmul_into(A, B, C) is C
    expected = _numba_blas_product(A, B) if max(shape) > kernels.SMALL_MATMUL else _in_order_product(A, B)
    assert np.array_equal(C, expected)
    for rows in (True, False):
        size = m if rows else k
        gram = np.full((size, size), np.nan)
        kernels.gram_into(A, rows, gram)
        assert np.array_equal(gram, kernels.gram(A, rows))
    S = kernels.gram(A)
    square = np.full(S.shape, np.nan)
    kernels.symmetric_square_into(S, square)
    assert np.array_equal(square, kernels.matmul(S, S))


def _newton_schulz_with_new_arrays(G, coefficients, eps):
    """The iteration as the reference writes it, each product a new array."""
    X = G.T.copy() if G.shape[0] > G.shape[1] else G.copy()
    X = X / (kernels.frobenius_norm(X) + eps)
    for a, b, c in coefficients:
        A = kernels.gram(X)
        P = b * A + c * kernels.symmetric_square(A)
        X = a * X + kernels.matmul(P, X)
    return np.ascontiguousarray(X.T) if G.shape[0] > G.shape[1] else X


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (8, 8), (8, 16), (16, 8), (16, 16), (40, 9), (100, 97)])
@pytest.mark.parametrize("method", ["ns5", "polar_express"])
def test_newton_schulz_work_arrays_give_the_bits_of_new_arrays(shape, method):
    # three work arrays per call, the iterate and its successor trading places (from the
    # second iteration on, each product overwrites numbers of the one before last)
    G = np.random.default_rng(shape[0] * 1000 + shape[1]).standard_normal(shape)
    coefficients = ns_coefficients(method)
    X = kernels.newton_schulz(G, coefficients, 1e-7)
    assert np.array_equal(X, _newton_schulz_with_new_arrays(G, coefficients, 1e-7))
    assert np.array_equal(kernels.lmo(kernels.SPECTRAL, 1.5, G, coefficients, 1e-7), -1.5 * X)


@given(shape=st.tuples(st.integers(1, 9), st.integers(1, 9)), seed=st.integers(0, 2**32 - 1),
       factors=st.tuples(st.floats(-4.0, 4.0), st.floats(-4.0, 4.0)))
@settings(max_examples=200, deadline=None)
def test_newton_schulz_combination_in_place_rounds_as_the_numpy_expression(shape, seed, factors):
    # Newton-Schulz writes b A + c A^2 over A^2 and a X + P X over P X: the same bits as the
    # reference's expressions, whatever the factors (1.0 * y is y)
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal(shape), rng.standard_normal(shape)
    x_factor, y_factor = factors
    X_before = X.copy()
    for y_scale in (y_factor, 1.0):
        combined = Y.copy()
        kernels._combine_in_place(combined, y_scale, x_factor, X)
        assert np.array_equal(combined, x_factor * X + y_scale * Y)
    assert np.array_equal(X, X_before)  # X is only read


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (8, 8), (16, 16), (40, 9), (64, 64)])
@pytest.mark.parametrize("scale", [1.0, 2.0 ** 600, 2.0 ** -600, 1e-170, 1e160])
def test_certified_gram_nuclear_norm_is_taken_on_well_conditioned_matrices_and_is_the_svd_sum(shape, scale):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    U, _ = np.linalg.qr(rng.standard_normal((shape[0], shape[0])))
    V, _ = np.linalg.qr(rng.standard_normal((shape[1], shape[1])))
    k = min(shape)
    singular = np.linspace(1.0, 0.1, k)  # condition 10: the Gram path's bound must hold
    G = scale * (U[:, :k] * singular) @ V[:, :k].T
    reference = np.sum(np.linalg.svd(G, compute_uv=False))
    gram = kernels.certified_gram_nuclear_norm(G)
    assert gram >= 0.0
    assert abs(gram - reference) <= REL * reference
    assert kernels.nuclear_norm(G) == gram


@given(size=st.integers(1, 64), extra=st.integers(0, 64), kind=st.sampled_from(["plain", "graded", "deficient"]),
       exponent=st.integers(-60, 60), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_symmetric_eigenvalues_are_lapacks_within_the_certificates_error(size, extra, kind, exponent, seed):
    # the certificate assumes eigenvalues of a Gram matrix within 2 (k + p) eps tr(A) of the
    # exact ones; against LAPACK's (itself backward stable) the QL iteration stays within
    # 8 eps tr(A) (measured at most 6.5 over 3000 such matrices), whatever the scale
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((size + extra, size))
    if kind == "graded":  # columns from 1 down to 1e-8
        G *= np.logspace(0, -8, size)[None, :]
    elif kind == "deficient":  # half the columns equal: a cluster of zero eigenvalues
        G[:, : size // 2] = G[:, :1]
    A = np.ldexp(G.T @ G, exponent)
    eigenvalues, work = np.empty(size), np.empty(size)
    assert kernels.symmetric_eigenvalues(A.copy(), eigenvalues, work)
    error = np.max(np.abs(np.sort(eigenvalues) - np.linalg.eigvalsh(A)))
    assert error <= 8.0 * np.finfo(np.float64).eps * np.trace(A)


@pytest.mark.parametrize("shape", [(8, 8), (16, 5), (5, 16)])
def test_certified_gram_nuclear_norm_declines_near_rank_deficient_and_large_matrices(shape):
    rng = np.random.default_rng(0)
    G = rng.standard_normal((shape[0], 2)) @ rng.standard_normal((2, shape[1]))  # rank 2
    assert kernels.certified_gram_nuclear_norm(G) == -1.0
    reference = np.sum(np.linalg.svd(G, compute_uv=False))
    assert abs(kernels.nuclear_norm(G) - reference) <= REL * reference
    assert kernels.certified_gram_nuclear_norm(rng.standard_normal((65, 65))) == -1.0
    assert kernels.certified_gram_nuclear_norm(np.zeros(shape)) == 0.0


@pytest.mark.parametrize("shape", [(8, 8), (40, 60), (95, 120), (96, 96), (128, 100), (100, 160), (256, 256)])
def test_gram_takes_dsyrk_from_its_size_on_and_equals_the_product(shape):
    """``gram`` (``dsyrk`` from ``SYRK_MIN_SIZE`` on) equals ``X X^T`` / ``X^T X`` to a few ulps,
    exactly symmetric on the ``dsyrk`` path; ``symmetric_square`` equals ``A @ A``; both sides
    of the threshold."""
    X = np.random.default_rng(sum(shape)).standard_normal(shape)
    for rows, product in ((True, X @ X.T), (False, X.T @ X)):
        G = kernels.gram(X, rows)
        assert G.shape == product.shape
        assert np.array_equal(G, G.T) or G.shape[0] < kernels.SYRK_MIN_SIZE
        assert_close(G, product, np.max(np.abs(product)))
        assert_close(kernels.symmetric_square(G), product @ product, np.max(np.abs(product @ product)))
    transposed_view = np.asfortranarray(X)  # any layout is taken (copied to C order)
    assert_close(kernels.gram(transposed_view), X @ X.T, np.max(np.abs(X @ X.T)))


@pytest.mark.parametrize("shape", [(128, 100), (100, 160), (256, 256)])
def test_newton_schulz_and_quadrature_twins_on_layers_that_take_dsyrk(shape):
    """The hypothesis twins above draw small layers; these shapes take ``gram``'s ``dsyrk`` path."""
    from nalr_theory.geometry.newton_schulz import NS_EPS, newton_schulz
    from nalr_theory.geometry.nuclear_quadrature import nuclear_norm_bounds

    G = np.random.default_rng(shape[0] * shape[1]).standard_normal(shape)
    for method in ("ns5", "you_quintic"):
        assert_close(kernels.newton_schulz(G, ns_coefficients(method), NS_EPS), newton_schulz(G, method), 1.0)
    lower, upper = nuclear_norm_bounds(G)
    numba_lower, numba_upper = kernels.nuclear_norm_bounds(G)
    assert_close(numba_lower, lower, lower)
    assert_close(numba_upper, upper, upper)


def test_abs_sum_reloads_from_numbas_cache():
    # a recursive function compiled with cache=True crashes when numba reloads it (numba
    # 0.68): the pairwise sum runs its tree with a stack. Two fresh processes, the second
    # reading the cache the first wrote (where the run's cache is writable)
    import subprocess
    import sys

    code = ("import numpy as np; from nalr_theory.geometry import _kernels as k; "
            "G = np.random.default_rng(0).standard_normal((300, 301)); "
            "assert k.abs_sum(G) == np.sum(np.abs(G))")
    for _ in range(2):
        assert subprocess.run([sys.executable, "-c", code], timeout=600).returncode == 0
