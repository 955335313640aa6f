"""numba twins of the geometry reference (``base_norms``, ``newton_schulz``, ``norm``,
``schatten``).

Every kernel takes a validated finite float64 C-contiguous 2-D array (the engine passes
views of slices of its flat parameter vector, ``matrix_view``), a base-norm ``code``
(``base_norms.SPECTRAL`` ...) and a ``radius`` (the Schatten kernels take the exponent ``q``
instead, ``np.inf`` allowed). The spectral LMO is exact when ``coefficients`` has no rows and
Newton-Schulz otherwise (``newton_schulz.ns_coefficients`` builds the rows). Tests prove
each kernel equal to its reference to 1e-12 relative, at every scale: the l2 norms take the
reference's fast path and its exact power-of-two rescaling in the same cases (see
``base_norms``, "Scale robustness").
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .base_norms import COL_NORM, FROBENIUS, MAX_ABS, NORM_MIN, SPECTRAL, SQUARES_MIN  # else: ROW_NORM
from .nuclear_quadrature import GRAM_MAX
from .nuclear_quadrature import two_node_rule as _two_node_rule_py
from .schatten import _lmo_from_svd as _lmo_from_svd_py
from .schatten import _sharp_from_svd as _sharp_from_svd_py
from .schatten import _spectrum_norm as _spectrum_norm_py

_EPS64 = np.finfo(np.float64).eps


try:  # LAPACK's values-only SVD through numba's own LAPACK glue (what np.linalg.svd calls)
    from numba import types as _types
    from numba.np.linalg import _LAPACK, ensure_lapack

    ensure_lapack()
    _GESDD = _LAPACK().numba_ez_gesdd(_types.float64)
except (ImportError, AttributeError):  # pragma: no cover - a numba without that internal API
    _GESDD = None

_KIND_DOUBLE, _JOBZ_VALUES_ONLY = ord("d"), ord("N")

try:  # BLAS dsyrk (symmetric rank-k update) from SciPy's BLAS, the library numba's own ``@`` calls
    import llvmlite.binding as _llvm
    from numba import types as _types
    from numba.extending import get_cython_function_address

    # bound to a symbol name, not to an address, so that the functions calling it can be cached
    _llvm.add_symbol("nalr_theory_dsyrk", get_cython_function_address("scipy.linalg.cython_blas", "dsyrk"))
    _DSYRK = _types.ExternalFunction("nalr_theory_dsyrk", _types.void(*([_types.voidptr] * 10)))
except (ImportError, AttributeError, ValueError):  # pragma: no cover - no SciPy BLAS capsule
    _DSYRK = None

try:  # views of C-contiguous arrays built directly, without numba's general reshape
    from numba import types as _types
    from numba.core import cgutils
    from numba.core.imputils import impl_ret_borrowed
    from numba.extending import intrinsic
    from llvmlite import ir as _ir
    from numba.np.arrayobj import make_array, populate_array

    @intrinsic
    def _c_view_unchecked(typingctx, array, shape):
        """A C-contiguous view of the C-contiguous ``array`` with the tuple ``shape`` (of as
        many entries: not checked here)."""
        if not (isinstance(array, _types.Array) and array.layout == "C" and isinstance(shape, _types.UniTuple)
                and isinstance(shape.dtype, _types.Integer)):
            return None
        view_type = _types.Array(array.dtype, shape.count, "C")

        def codegen(context, builder, signature, args):
            source = make_array(signature.args[0])(context, builder, args[0])
            view = make_array(view_type)(context, builder)
            sizes = [context.cast(builder, size, shape.dtype, _types.intp)
                     for size in cgutils.unpack_tuple(builder, args[1], shape.count)]
            strides = [source.itemsize]
            for size in sizes[:0:-1]:  # C order: each stride the product of the later sizes
                strides.insert(0, builder.mul(strides[0], size))
            # the array's buffer and owner (meminfo, whose count the view increments)
            populate_array(view, data=source.data, shape=sizes, strides=strides, itemsize=source.itemsize,
                           meminfo=source.meminfo, parent=source.parent)
            return impl_ret_borrowed(context, builder, view_type, view._getvalue())

        return view_type(array, shape), codegen

    @njit(cache=True, inline="always")
    def matrix_view(vector, rows, cols):
        """``vector.reshape((rows, cols))`` for a C-contiguous 1-D ``vector`` (a slice of the
        engine's flat arrays): the same view, writes go through, no copy. numba's ``reshape``
        handles any layout and ``-1`` at about 18 ns a call; every step takes a dozen views per
        layer, so this builds the view's shape and strides directly (about 1 ns inlined).
        ``ValueError`` unless ``rows * cols`` is the vector's length."""
        if rows < 0 or cols < 0 or rows * cols != vector.shape[0]:
            raise ValueError("matrix_view: rows * cols must equal the vector's length")
        return _c_view_unchecked(vector, (rows, cols))

    @njit(cache=True, inline="always")
    def vector_view(matrix):
        """``matrix.ravel()`` for a C-contiguous ``matrix``, as :func:`matrix_view` builds it."""
        return _c_view_unchecked(matrix, (matrix.size,))

    @intrinsic
    def _vector_rows(typingctx, A, B, C):
        """``C = A @ B`` for ``B`` of ``(k, 8)`` and ``C`` of ``(m, 8)``, both C-contiguous
        (``A`` any layout; shapes not checked here): each row of ``C`` is one 8-lane vector,
        ``sum_p A[i, p] B[p, :]`` in order from ``p = 0`` and from ``+0.0``, each term a
        multiplication then an addition, lane by lane: the bits of the scalar loops.

        With ``m = 8`` the eight rows are summed together, one register each, ``p`` the outer
        loop: the rows' additions are independent, so they overlap, where row after row each
        row's chain of eight dependent additions set the pace (one thread, a loop of
        products: 8x8 23-26 against 34 ns, 8x4 12.5 against 23.7 ns). Other ``m`` go row
        by row. Each entry's sum is the same either way. Whole steps on 8 of 8x8 (one thread,
        ``simulate``): Scion 7.20 against 7.63 us, LANTON 65.8 against 68.6 us."""
        arrays = (A, B, C)
        if not (all(isinstance(x, _types.Array) and x.ndim == 2 and x.dtype == _types.float64 for x in arrays)
                and B.layout == "C" and C.layout == "C"):
            return None

        def codegen(context, builder, signature, args):
            a, b, c = (make_array(kind)(context, builder, value) for kind, value in zip(signature.args, args))
            double, byte = _ir.DoubleType(), _ir.IntType(8)
            vector = _ir.VectorType(double, SMALL_MATMUL)
            rows, inner = cgutils.unpack_tuple(builder, a.shape, 2)
            a_row_stride, a_col_stride = cgutils.unpack_tuple(builder, a.strides, 2)
            b_row_stride = cgutils.unpack_tuple(builder, b.strides, 2)[0]
            c_row_stride = cgutils.unpack_tuple(builder, c.strides, 2)[0]

            def at(data, offset, kind):  # a pointer ``offset`` bytes past ``data``
                return builder.bitcast(builder.gep(builder.bitcast(data, byte.as_pointer()), [offset]),
                                       kind.as_pointer())

            undefined = _ir.Constant(vector, _ir.Undefined)
            lane_zero = _ir.Constant(_ir.IntType(32), 0)
            broadcast = _ir.Constant(_ir.VectorType(_ir.IntType(32), SMALL_MATMUL), [0] * SMALL_MATMUL)
            zero = _ir.Constant(vector, [0.0] * SMALL_MATMUL)

            def b_row(p):  # B[p, :] as one vector
                return builder.load(at(b.data, builder.mul(p, b_row_stride), vector), align=8)

            def add_term(total, i, p, row):  # total += A[i, p] * B[p, :], ``total`` a vector's stack slot
                a_entry = builder.load(at(a.data, builder.add(builder.mul(i, a_row_stride),
                                                              builder.mul(p, a_col_stride)), double))
                a_lanes = builder.shuffle_vector(builder.insert_element(undefined, a_entry, lane_zero),
                                                 undefined, broadcast)
                builder.store(builder.fadd(builder.load(total), builder.fmul(a_lanes, row)), total)

            def store_row(total, i):  # C[i, :] = total
                builder.store(builder.load(total), at(c.data, builder.mul(i, c_row_stride), vector), align=8)

            # one stack slot per row of C: registers once LLVM promotes them
            totals = [cgutils.alloca_once(builder, vector) for _ in range(SMALL_MATMUL)]
            with builder.if_else(builder.icmp_unsigned("==", rows, rows.type(SMALL_MATMUL))) as (eight, other):
                with eight:
                    row_indices = [rows.type(i) for i in range(SMALL_MATMUL)]
                    for total in totals:
                        builder.store(zero, total)
                    with cgutils.for_range(builder, inner) as term:
                        row = b_row(term.index)
                        for i, total in zip(row_indices, totals):
                            add_term(total, i, term.index, row)
                    for i, total in zip(row_indices, totals):
                        store_row(total, i)
                with other:
                    total = totals[0]
                    with cgutils.for_range(builder, rows) as row_index:
                        builder.store(zero, total)
                        with cgutils.for_range(builder, inner) as term:
                            add_term(total, row_index.index, term.index, b_row(term.index))
                        store_row(total, row_index.index)
            return context.get_dummy_value()

        return _types.void(A, B, C), codegen

    @njit(cache=True, inline="always")
    def _vector_rows_into(A, B, C):
        """``A @ B`` into ``C`` (returned) for ``B`` and ``C`` of ``SMALL_MATMUL`` columns,
        both C-contiguous, by ``_vector_rows``."""
        _vector_rows(A, B, C)
        return C

    def _without_owner(context, builder, kind, value):
        """``value`` with every array's owner (``meminfo``, ``parent``) set to null."""
        if isinstance(kind, _types.Array):
            array = make_array(kind)(context, builder, value)
            array.meminfo = cgutils.get_null_value(array.meminfo.type)
            array.parent = cgutils.get_null_value(array.parent.type)
            return array._getvalue()
        if isinstance(kind, _types.BaseTuple):
            items = [_without_owner(context, builder, item_kind, item)
                     for item_kind, item in zip(kind, cgutils.unpack_tuple(builder, value, len(kind)))]
            return context.make_tuple(builder, kind, items)
        return value

    @intrinsic
    def borrowed(typingctx, value):
        """``value`` (an array, or a tuple of arrays, tuples and scalars) as arrays with no
        owner: the same memory, read and written as before, whose copies, views and slices
        touch no reference count. Only for arrays that outlive every use of the result, in
        one of two ways: a function's own arguments, which its caller holds for the whole
        call; or an array the function allocates and uses again after every borrowed use,
        typically by returning a slice of it (numba frees a variable after its last use, so
        an allocated array used only to borrow it would be freed at once). Never return or
        store the borrowed copy where it outlives the call.

        Why: numba counts references to an array's memory with atomic increments (a locked
        instruction each), at every view, slice and tuple copy and at every call that takes
        arrays. One step of 8 layers of 8x8 with Scion made about 1140 of them; a run with
        numba's counts made non-atomic (a measurement only) took 13.1 against 16.5 us a
        step (one thread). Borrowing the loop's arguments left about 520 a step, those of
        the arrays each step allocates; the kernels that allocate work arrays therefore
        borrow one buffer and cut their result from it at the end (one thread, 8 of 8x8: the
        sigmoidal ``value_and_grad`` 1.67 against 2.14 us), or, where the result is a number,
        hand the buffer to an inner function that borrows its argument
        (``certified_gram_nuclear_norm``)."""
        def codegen(context, builder, signature, args):
            return _without_owner(context, builder, signature.args[0], args[0])

        return value(value), codegen
except ImportError:  # pragma: no cover - a numba without these internal names
    @njit(cache=True)
    def borrowed(value):
        """``value`` itself (this numba lacks the internals to drop the owners)."""
        return value

    @njit(cache=True)
    def matrix_view(vector, rows, cols):
        """``vector.reshape((rows, cols))``."""
        return vector.reshape((rows, cols))

    @njit(cache=True)
    def vector_view(matrix):
        """``matrix.ravel()``."""
        return matrix.ravel()

    @njit(cache=True)
    def _vector_rows_into(A, B, C):
        """``A @ B`` into ``C`` by the scalar loops (the same bits)."""
        return _in_order_into(A, B, C)


if _GESDD is not None:
    @njit(cache=True)
    def singular_values(X):
        """The singular values of ``X``, decreasing: LAPACK ``dgesdd`` with ``jobz = 'N'``, the
        routine behind ``numpy.linalg.svd(X, compute_uv=False)`` (bit for bit the reference's
        values, measured), without the singular vectors that ``np.linalg.svd`` in numba always
        computes: 2.3x faster at 512x512 and 2.2x at 16x16 (one thread)."""
        m, n = X.shape
        a = np.ascontiguousarray(X.T).T  # a Fortran-ordered copy: gesdd overwrites its input
        s = np.empty(min(m, n))
        unused = np.empty(1)
        info = _GESDD(_KIND_DOUBLE, _JOBZ_VALUES_ONLY, m, n, a.ctypes, m, s.ctypes, unused.ctypes, 1, unused.ctypes, 1)
        if info != 0:
            raise np.linalg.LinAlgError("SVD did not converge")
        return s
else:  # pragma: no cover
    @njit(cache=True)
    def singular_values(X):
        """The singular values of ``X``, decreasing (``np.linalg.svd``, vectors discarded)."""
        return np.linalg.svd(X, full_matrices=False)[1]


#: the Gram path of ``nuclear_norm`` is taken when its proven error bound is below this
#: (relative; the engine's tolerance against the reference's SVD); measured errors ~1e-15
GRAM_NUCLEAR_TOLERANCE = 1e-10
#: ... and only up to this Gram size: beyond it the bound, which grows like ``p^2.5 eps``,
#: fails for generic matrices (measured: Gaussian 128x128) and the eigensolver is wasted
GRAM_NUCLEAR_MAX_SIZE = 64


@njit(cache=True)
def _exponent(peak):
    """``e`` with ``2^(e-1) <= peak < 2^e`` (``0`` for ``peak = 0``), as ``math.frexp``."""
    return math.frexp(peak)[1]


@njit(cache=True)
def _max_abs(X):
    peak = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            peak = max(peak, abs(X[i, j]))
    return peak


@njit(cache=True)
def _power_of_two(k):
    """``2^k`` exactly, or ``0.0`` where it is not a float (``k`` outside ``[-1074, 1023]``)."""
    if k < -1074 or k > 1023:
        return 0.0
    return math.ldexp(1.0, k)


@njit(cache=True)
def _times_power_of_two(x, k, factor):
    """``ldexp(x, k)``, bit for bit, given ``factor = _power_of_two(k)``: a product with an
    exact power of two is correctly rounded as ``ldexp`` is, and costs a multiplication where
    ``math.ldexp`` costs a libm call (5 ns: most of ``_scaled``'s time, 0.4 us at 8x8)."""
    return x * factor if factor != 0.0 else math.ldexp(x, k)


@njit(cache=True)
def _scaled(X, exponent):
    """``X * 2^-exponent`` (exact, as ``np.ldexp``), a new C-contiguous array."""
    return _scaled_into(X, exponent, np.empty(X.shape))


@njit(cache=True, inline="always")
def _scaled_into(X, exponent, out):
    """``X * 2^-exponent`` written into ``out`` (returned)."""
    m, n = X.shape
    factor = _power_of_two(-exponent)
    for i in range(m):
        for j in range(n):
            out[i, j] = _times_power_of_two(X[i, j], -exponent, factor)
    return out


@njit(cache=True)
def nuclear_norm(G):
    """``||G||_* = sum_i s_i`` (the reference: ``sum`` of the SVD's singular values): from
    the Gram matrix's eigenvalues where that is proven accurate (``certified_gram_nuclear_norm``),
    else from the SVD. Cost (numba, one thread): 1.7 / 6.1 us for 8x8 / 16x16 on the Gram
    path (2.9 / 8.9 with LAPACK's eigvalsh, see ``symmetric_eigenvalues``), against 8.5 / 35
    us for the SVD."""
    value = certified_gram_nuclear_norm(G)
    if value < 0.0:
        return np.sum(singular_values(G))
    return value


@njit(cache=True)
def certified_gram_nuclear_norm(G):
    """``||G||_*`` from the eigenvalues of a Gram matrix, or ``-1.0`` where that is not
    proven to within ``GRAM_NUCLEAR_TOLERANCE`` relative.

    The singular values are the square roots of the eigenvalues ``lambda_i`` of the smaller
    Gram matrix ``A = G^T G`` (or ``G G^T``) of ``2^-e G``, where ``2^e`` is just above
    ``max |G_ij|`` (exact, so that the squares neither overflow nor underflow). Forming ``A``
    and the symmetric eigensolver perturb each ``lambda_i`` by at most about
    ``delta = 2 (k + p) eps tr(A)`` (``k`` the inner and ``p`` the Gram dimension; Weyl's
    inequality with both backward errors), so that ``|s_i - sqrt(lambda_i)| <= delta / (2
    sqrt(lambda_i - delta))``. Returns ``-1.0`` when these bounds add up to more than
    ``GRAM_NUCLEAR_TOLERANCE`` times the result (``G`` close to rank-deficient) and when
    ``min(m, n) > GRAM_NUCLEAR_MAX_SIZE``.
    """
    m, n = G.shape
    if min(m, n) > GRAM_NUCLEAR_MAX_SIZE:
        return -1.0
    size = min(m, n)
    # one buffer for 2^-e G, its transpose, the Gram matrix, the eigenvalues and the
    # eigensolver's work, in place of five arrays
    return _certified_gram_nuclear_norm_in(G, np.empty(2 * m * n + size * size + 2 * size))


@njit(cache=True)
def _certified_gram_nuclear_norm_in(G, buffer):
    """:func:`certified_gram_nuclear_norm` with its work arrays cut from ``buffer``, which
    the caller holds for the call: borrowed, their views touch no reference count (one
    thread, ``nuclear_norm`` of 8x8: 1.70 against 1.75 us, of 16x16 6.1 against 6.3 us, see
    ``borrowed``)."""
    buffer = borrowed(buffer)
    m, n = G.shape
    peak = _max_abs(G)
    if peak == 0.0:
        return 0.0
    exponent = _exponent(peak)
    scaled = _scaled_into(G, exponent, matrix_view(buffer[:m * n], m, n))
    transposed = _transpose_into(scaled, matrix_view(buffer[m * n:2 * m * n], n, m))
    size = min(m, n)
    gram = matrix_view(buffer[2 * m * n:2 * m * n + size * size], size, size)
    if m >= n:
        matmul_into(transposed, scaled, gram)
        inner = m
    else:
        matmul_into(scaled, transposed, gram)
        inner = n
    trace = 0.0
    for i in range(size):
        trace += gram[i, i]
    rest = buffer[2 * m * n + size * size:]
    eigenvalues = rest[:size]
    if not symmetric_eigenvalues(gram, eigenvalues, rest[size:]):
        return -1.0
    delta = 2.0 * (inner + size) * _EPS64 * trace
    total = 0.0
    error = 0.0
    for i in range(size):
        if eigenvalues[i] <= 2.0 * delta:
            return -1.0
        total += math.sqrt(eigenvalues[i])
        error += delta / (2.0 * math.sqrt(eigenvalues[i] - delta))
    if error > GRAM_NUCLEAR_TOLERANCE * total:
        return -1.0
    return math.ldexp(total, exponent)


#: ``matmul`` multiplies by loops when every dimension is at most this, else calls BLAS
#: (measured, numba, one thread: 8x8 products 120-135 ns by loops against 155 ns by BLAS's
#: call overhead; from 10x10 on BLAS wins, at 16x16 280 ns against 475-750 ns by loops)
SMALL_MATMUL = 8


@njit(cache=True)
def matmul(A, B):
    """``A @ B``, a new C-contiguous array: ``matmul_into`` a new array."""
    return matmul_into(A, B, np.empty((A.shape[0], B.shape[1])))


@njit(cache=True, inline="always")
def matmul_into(A, B, C):
    """``A @ B`` written into the C-contiguous ``(m, n)`` array ``C`` (returned; it must not
    overlap ``A`` or ``B``, whose entries the loops read after ``C`` is zeroed): loops for
    tiny matrices, where BLAS's call overhead is most of the time, else BLAS (``np.dot``
    into ``C``: the bits of numba's ``A @ B``, which calls the same BLAS routine). Exact
    linear algebra in both cases; the loops round differently from BLAS (a few ulps), well
    within the engine's 1e-10.

    Rows of 8 (``n = SMALL_MATMUL``) go to ``_vector_rows_into``, one 8-lane vector per
    row of ``C``: numba leaves LLVM's straight-line (SLP) vectoriser off, and the loop
    vectoriser does not take loops of 8, so the loops below run scalar (measured, one
    thread, 8x8: 40-45 ns against 95-105 ns by the best loops, 105-115 ns by BLAS; 23-26
    ns since the vector rows sum the eight rows of an 8x8 product together). Shorter
    rows stay here (4x4: 57 ns). Both sum each entry over ``p`` in order from 0, a
    multiplication then an addition (never fused): the same bits either way. Inlined into
    its callers: a call that returns an array costs about 30 ns here, most of an 8x8
    product (one thread, a loop of 8x8 products: 42 against 70 ns a call).
    """
    m, k = A.shape
    n = B.shape[1]
    if m > SMALL_MATMUL or k > SMALL_MATMUL or n > SMALL_MATMUL:
        np.dot(A, B, C)
        return C
    if n == SMALL_MATMUL:
        # B's rows are the vector loads: a strided B (gram's X^T) is copied first
        return _vector_rows_into(A, np.ascontiguousarray(B), C)
    return _in_order_into(A, B, C)


@njit(cache=True, inline="always")
def _in_order_into(A, B, C):
    """``A @ B`` into ``C`` (returned) by loops, each entry summed over ``p`` in order from
    ``+0.0`` (so a product of zeros keeps NumPy's sign)."""
    m, k = A.shape
    n = B.shape[1]
    C[:] = 0.0
    for i in range(m):
        for p in range(k):
            a = A[i, p]
            for j in range(n):
                C[i, j] += a * B[p, j]
    return C


@njit(cache=True, inline="always")
def product_into(A, B, work):
    """``A @ B`` by ``matmul_into``, written into the first ``m n`` entries of the flat array
    ``work``; returns that ``(m, n)`` view.

    For loops over layers that reuse their work arrays: a new array per product costs
    about 50 ns at 16x16 (``malloc`` beyond its per-thread cache of small blocks), and with
    it the sigmoidal objective's ``value_and_grad`` on 8 of 16x16 took 15.5-16.5 us
    against 12.1-12.6 us this way. On 8 of 8x8, ``matmul_into``'s vector rows took
    ``value_and_grad`` from 4.2-4.6 us by BLAS into the work array to 3.4-3.5 us (one thread,
    alternating runs of the two versions)."""
    m, n = A.shape[0], B.shape[1]
    return matmul_into(A, B, matrix_view(work[:m * n], m, n))


#: ``gram`` calls BLAS ``dsyrk`` (half of a product's flops) from this size of the result on
#: (measured, one thread, ``X X^T`` of square ``X``: 0.94x a GEMM's speed at 48, 1.04x at 64,
#: 1.24x at 96, 1.34x at 128, 1.56x at 256, 1.67x at 512), below it ``matmul``
SYRK_MIN_SIZE = 96


if _DSYRK is not None:
    @njit(cache=True)
    def _syrk_into(X, rows, C):
        m, n = X.shape
        # C-ordered X (m x n) is Fortran-ordered X^T (n x m, leading dimension n): X X^T is
        # op(X^T)^T op(...) with trans = 'T', X^T X with trans = 'N'
        size, inner = (m, n) if rows else (n, m)
        flags = np.array([ord("U"), ord("T") if rows else ord("N")], dtype=np.uint8)
        ints = np.array([size, inner, n, size], dtype=np.int32)  # n, k, lda, ldc
        scalars = np.array([1.0, 0.0])  # alpha, beta
        _DSYRK(flags[0:].ctypes, flags[1:].ctypes, ints[0:].ctypes, ints[1:].ctypes, scalars[0:].ctypes, X.ctypes,
               ints[2:].ctypes, scalars[1:].ctypes, C.ctypes, ints[3:].ctypes)
        for i in range(size):  # Fortran's upper triangle is the C-ordered lower one: mirror it
            for j in range(i + 1, size):
                C[i, j] = C[j, i]
        return C
else:  # pragma: no cover
    @njit(cache=True)
    def _syrk_into(X, rows, C):
        np.dot(X, X.T, C) if rows else np.dot(X.T, X, C)
        return C


@njit(cache=True)
def _small_gram_into(X, C):
    """``X X^T`` into ``C`` for ``X`` of at most ``SMALL_MATMUL`` rows and columns (``gram``
    passes ``X^T``, a transposed view, for ``X^T X``): one dot product per entry of the lower
    triangle, mirrored. Each entry sums over ``p`` in order from 0, as ``matmul(X, X.T)``
    does, and ``x y = y x`` exactly, so these are ``matmul``'s bits with ``m (m + 1) / 2`` of
    its ``m^2`` dot products and no copy of ``X^T`` (measured through ``gram``, one thread:
    4x4 61 against 91 ns). ``gram_into`` takes it except for ``X^T X`` of 8 columns, which
    ``matmul_into``'s vector rows compute from the strided ``X^T`` (8x8: 115 against 145-155
    ns here). ``X X^T`` of 8 rows stays here: the vector rows would need a copy of ``X^T``,
    and with numba's ``ascontiguousarray`` the two took 160-167 against 133-136 ns
    (``newton_schulz`` writes the copy into a work array instead)."""
    m, n = X.shape
    for i in range(m):
        for j in range(i + 1):
            total = 0.0
            for p in range(n):
                total += X[i, p] * X[j, p]
            C[i, j] = total
            C[j, i] = total
    return C


@njit(cache=True)
def gram(X, rows=True):
    """``X X^T`` (``rows``) or ``X^T X``, a new C-contiguous array: ``gram_into`` a new
    array."""
    size = X.shape[0] if rows else X.shape[1]
    return gram_into(X, rows, np.empty((size, size)))


@njit(cache=True)
def gram_into(X, rows, C):
    """``X X^T`` (``rows``) or ``X^T X`` written into the C-contiguous ``C`` (returned; not
    overlapping ``X``).

    From ``SYRK_MIN_SIZE`` on, BLAS ``dsyrk``: one triangle (mirrored, so the result is
    exactly symmetric), half the flops of a product (the routine NumPy itself calls for
    ``X @ X.T``; measured against the reference's products: within 3e-16 relative, equal at
    512x512); below it ``matmul_into``, or for ``X`` of at most ``SMALL_MATMUL`` rows and
    columns ``_small_gram_into`` (``matmul``'s bits, faster), except ``X^T X`` of
    ``SMALL_MATMUL`` columns (``matmul_into``'s vector rows). For a symmetric ``A``, ``gram(A)`` is ``A @ A`` at the
    same saving (rounded differently from a product, by a few ulps)."""
    Xc = np.ascontiguousarray(X)
    m, n = Xc.shape
    if (m if rows else n) >= SYRK_MIN_SIZE:
        return _syrk_into(Xc, rows, C)
    if m <= SMALL_MATMUL and n <= SMALL_MATMUL and (rows or n < SMALL_MATMUL):
        return _small_gram_into(Xc, C) if rows else _small_gram_into(Xc.T, C)
    # X^T X of 8 columns at most 8 long: matmul_into's vector rows, reading the strided X^T
    # in place (X X^T would need a copy of X^T, which costs as much as the product)
    if rows:
        return matmul_into(Xc, Xc.T, C)
    return matmul_into(Xc.T, Xc, C)


@njit(cache=True)
def symmetric_square(A):
    """``A @ A`` for a symmetric ``A``, a new array: ``symmetric_square_into`` a new array."""
    return symmetric_square_into(A, np.empty(A.shape))


@njit(cache=True)
def symmetric_square_into(A, C):
    """``A @ A`` for a symmetric ``A``, written into ``C`` (not overlapping ``A``): ``gram_into`` (``A A^T``,
    ``dsyrk``) from ``SYRK_MIN_SIZE`` on, else ``matmul_into``."""
    if A.shape[0] >= SYRK_MIN_SIZE:
        return gram_into(A, True, C)
    return matmul_into(A, A, C)


@njit(cache=True)
def symmetric_eigenvalues(a, d, e):
    """The eigenvalues of the symmetric ``a`` (lower triangle read, ``a`` overwritten) into
    ``d`` (unsorted; ``e`` is work of the same length); ``False`` if the iteration did not
    converge (the caller then falls back to the SVD).

    LAPACK's eigenvalues-only path (``dsyevd`` with ``jobz='N'``), written out because for
    the small Gram matrices of ``certified_gram_nuclear_norm`` LAPACK's call and level-2
    overheads are most of its time (8x8: 1.3 us here against 2.2 us; 16x16: 4.2 against
    6.7): Householder tridiagonalisation (Numerical Recipes' ``tred2`` without vectors, as
    ``dsytd2``), then the Pal-Walker-Kahan root-free QL iteration on the squared
    off-diagonal with LAPACK's deflation test (``dsterf``). Both are backward stable, as
    LAPACK's, so the error bound of the certificate holds unchanged (measured: eigenvalues
    within 6.5 eps tr(a) of LAPACK's from 2x2 to 64x64, the bound allows 2 (k + p) eps tr(a);
    tested within 8). The QL step's ``gamma^2 / c`` is taken as ``gamma^2 (r / p)``, which
    rounds differently by an ulp and took its division off the chain of dependent
    operations: 8x8 1.51 against 1.70 us, 16x16 5.2 against 6.2 us (one thread); the
    shift's root without libm's ``hypot``: 1.35 and 5.0 us.
    """
    n = a.shape[0]
    # Householder reduction to tridiagonal form: diagonal d, off-diagonal e[1:]
    for i in range(n - 1, 0, -1):
        l = i - 1
        h = 0.0
        scale = 0.0
        if l > 0:
            for k in range(i):
                scale += abs(a[i, k])
            if scale == 0.0:
                e[i] = a[i, l]
            else:
                for k in range(i):
                    a[i, k] /= scale
                    h += a[i, k] * a[i, k]
                f = a[i, l]
                g = -math.sqrt(h) if f >= 0.0 else math.sqrt(h)
                e[i] = scale * g
                h -= f * g
                a[i, l] = f - g
                f = 0.0
                for j in range(i):
                    g = 0.0
                    for k in range(j + 1):
                        g += a[j, k] * a[i, k]
                    for k in range(j + 1, i):
                        g += a[k, j] * a[i, k]
                    e[j] = g / h
                    f += e[j] * a[i, j]
                hh = f / (h + h)
                for j in range(i):
                    f = a[i, j]
                    g = e[j] - hh * f
                    e[j] = g
                    for k in range(j + 1):
                        a[j, k] -= f * e[k] + g * a[i, k]
        else:
            e[i] = a[i, l]
    for i in range(n):
        d[i] = a[i, i]
    # root-free QL on e[i] = (off-diagonal i)^2, deflating where e[m] <= eps^2 |d[m] d[m+1]|
    for i in range(n - 1):
        e[i] = e[i + 1] * e[i + 1]
    e[n - 1] = 0.0
    eps2 = (0.5 * _EPS64) ** 2
    safmin = np.finfo(np.float64).tiny
    budget = 30 * n
    l = 0
    while l < n:
        m = l
        while m < n - 1 and abs(e[m]) > eps2 * abs(d[m] * d[m + 1]) + safmin:
            m += 1
        if m == l:  # d[l] is an eigenvalue
            l += 1
            continue
        budget -= 1
        if budget < 0:
            return False
        root = math.sqrt(e[l])
        sigma = (d[l + 1] - d[l]) / (2.0 * root)
        # sqrt(sigma^2 + 1) by hand: libm's hypot (careful about overflow, at about 20 ns)
        # took a twentieth of a LANTON step; past 1e150 the root is |sigma| in float64. The
        # shift only steers convergence, the iteration stays backward stable whatever it is
        radius = math.sqrt(sigma * sigma + 1.0) if abs(sigma) < 1e150 else abs(sigma)
        sigma = d[l] - root / (sigma + math.copysign(radius, sigma))
        c, s = 1.0, 0.0
        gamma = d[m] - sigma
        p = gamma * gamma
        for i in range(m - 1, l - 1, -1):
            bb = e[i]
            r = p + bb
            if i != m - 1:
                e[i + 1] = s * r
            previous_c = c
            c = p / r
            s = bb / r
            previous_gamma = gamma
            alpha = d[i]
            gamma = c * (alpha - sigma) - s * previous_gamma
            d[i + 1] = previous_gamma + (alpha - gamma)
            # gamma^2 / c as gamma^2 (r / p): the division then runs alongside ``p / r`` instead
            # of after gamma, off the chain of dependent operations that sets the pace
            p = (gamma * gamma) * (r / p) if c != 0.0 else previous_c * bb
        e[l] = s * p
        d[l] = sigma + gamma
    return True


@njit(cache=True)
def frobenius_norm(X):
    # BLAS ddot, bit-identical to the reference (see base_norms.frobenius_primal), and the
    # reference's exact rescaling when the sum of squares overflows or underflows
    flat = np.ascontiguousarray(X).ravel()
    norm = np.sqrt(np.dot(flat, flat))
    if norm >= NORM_MIN and norm < np.inf:
        return norm
    peak = _max_abs(X)
    if peak == 0.0:
        return 0.0
    exponent = _exponent(peak)
    scaled = _scaled(np.ascontiguousarray(X), exponent).ravel()
    return math.ldexp(np.sqrt(np.dot(scaled, scaled)), exponent)


@njit(cache=True)
def _column_squares(X):
    # row-major sweep: contiguous reads, and the same summation order as np.sum(axis=0)
    m, n = X.shape
    squares = np.zeros(n)
    for i in range(m):
        for j in range(n):
            squares[j] += X[i, j] * X[i, j]
    return squares


@njit(cache=True)
def _row_squares(X):
    m, n = X.shape
    squares = np.empty(m)
    for i in range(m):
        total = 0.0
        for j in range(n):
            total += X[i, j] * X[i, j]
        squares[i] = total
    return squares


@njit(cache=True)
def _rescaled_lines(X, axis):
    """Twin of ``base_norms._rescaled_lines`` (flat exponents and squares)."""
    m, n = X.shape
    count = n if axis == 0 else m
    peaks = np.zeros(count)
    for i in range(m):
        for j in range(n):
            k = j if axis == 0 else i
            peaks[k] = max(peaks[k], abs(X[i, j]))
    exponents = np.empty(count, dtype=np.int64)
    factors = np.empty(count)
    for k in range(count):
        exponents[k] = _exponent(peaks[k])
        factors[k] = _power_of_two(-exponents[k])
    Y = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            k = j if axis == 0 else i
            Y[i, j] = _times_power_of_two(X[i, j], -exponents[k], factors[k])
    squares = _column_squares(Y) if axis == 0 else _row_squares(Y)
    return Y, exponents, squares


@njit(cache=True)
def _squares_in_range(squares):
    for k in range(squares.shape[0]):
        if not (squares[k] >= SQUARES_MIN and squares[k] < np.inf):
            return False
    return True


@njit(cache=True)
def _line_norms(X, axis):
    squares = _column_squares(X) if axis == 0 else _row_squares(X)
    if _squares_in_range(squares):
        return np.sqrt(squares)
    _, exponents, squares = _rescaled_lines(X, axis)
    norms = np.empty(squares.shape[0])
    for k in range(squares.shape[0]):
        norms[k] = math.ldexp(np.sqrt(squares[k]), exponents[k])
    return norms


@njit(cache=True)
def column_norms(X):
    """l2 norm of each column, exact at every scale."""
    return _line_norms(X, 0)


@njit(cache=True)
def row_norms(X):
    """l2 norm of each row, exact at every scale."""
    return _line_norms(X, 1)


@njit(cache=True)
def _line_value(X, axis, dual):
    # as base_norms._line_primal (max of the line norms) and _line_dual (their sum): the
    # fast path unless the result is out of range, then the rescaled line norms
    squares = _column_squares(X) if axis == 0 else _row_squares(X)
    value = np.sum(np.sqrt(squares)) if dual else np.sqrt(np.max(squares))
    if value >= NORM_MIN and value < np.inf:
        return value
    norms = _line_norms(X, axis)
    return np.sum(norms) if dual else np.max(norms)


#: NumPy sums in blocks of at most this many entries, eight running sums each, halving
#: longer runs (``pairwise_sum`` in NumPy's ``loops_utils.h.src``, ``PW_BLOCKSIZE``)
PAIRWISE_BLOCK = 128


@njit(cache=True, inline="always")
def _term(value, absolute):
    """A summand of :func:`_block_sum`: ``|value|`` or ``value``."""
    return abs(value) if absolute else value


@njit(cache=True, inline="always")
def _block_sum(values, start, count, absolute):
    """NumPy's sum of ``values[start:start + count]`` (of their absolute values if
    ``absolute``) for ``count <= PAIRWISE_BLOCK``: one at a time below 8, else eight running
    sums, combined pairwise, then the rest."""
    # indexed from 0 in the block's slice: with indices from ``start``, which the compiler
    # cannot prove non-negative, every access keeps numba's negative-index check (one
    # thread, 64 entries: 26 against 14 ns)
    block = values[start:start + count]
    if count < 8:
        total = 0.0
        for i in range(count):
            total += _term(block[i], absolute)
        return total
    r0, r1, r2, r3 = (_term(block[0], absolute), _term(block[1], absolute), _term(block[2], absolute),
                      _term(block[3], absolute))
    r4, r5, r6, r7 = (_term(block[4], absolute), _term(block[5], absolute), _term(block[6], absolute),
                      _term(block[7], absolute))
    stop = count - count % 8
    for i in range(8, stop, 8):
        r0 += _term(block[i], absolute)
        r1 += _term(block[i + 1], absolute)
        r2 += _term(block[i + 2], absolute)
        r3 += _term(block[i + 3], absolute)
        r4 += _term(block[i + 4], absolute)
        r5 += _term(block[i + 5], absolute)
        r6 += _term(block[i + 6], absolute)
        r7 += _term(block[i + 7], absolute)
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for j in range(stop, count):
        total += _term(block[j], absolute)
    return total


@njit(cache=True)
def _pairwise_half(count):
    """Where NumPy splits a run longer than ``PAIRWISE_BLOCK``: half, down to a multiple of 8."""
    half = count // 2
    return half - half % 8


@njit(cache=True)
def _pairwise_sum(values, start, count, absolute):
    """``sum values[start:start + count]`` (or of their absolute values) in NumPy's pairwise
    order: the bits of ``np.sum(v)`` (``np.sum(np.abs(v))``) for a contiguous ``v``. NumPy
    recurses (``sum(left) + sum(right)`` of the halves, down to blocks); this runs the same
    tree with an explicit stack, since numba's cache cannot reload a recursive function (a
    segmentation fault, measured with numba 0.68). numba's ``np.sum`` adds one entry at a
    time, a chain of dependent additions (and ``np.abs`` a new array): 199 against 99 ns at
    16x16 and 49 against 34 ns at 8x8, one thread (before ``_block_sum`` indexed from 0)."""
    if count <= PAIRWISE_BLOCK:
        return _block_sum(values, start, count, absolute)
    half = _pairwise_half(count)
    if count - half <= PAIRWISE_BLOCK:  # two blocks (16x16): the tree below without its stack
        return _block_sum(values, start, half, absolute) + _block_sum(values, start + half, count - half, absolute)
    # one frame per level (each halves the run: 64 levels hold any array); stage 1 waits for
    # its left half, stage 2 for its right half (the left half's sum in ``lefts``)
    starts = np.empty(64, dtype=np.int64)
    counts = np.empty(64, dtype=np.int64)
    stages = np.zeros(64, dtype=np.int64)
    lefts = np.empty(64)
    depth = 0
    starts[0], counts[0] = start, count
    while True:
        if counts[depth] > PAIRWISE_BLOCK:  # descend into the left half
            stages[depth] = 1
            starts[depth + 1], counts[depth + 1] = starts[depth], _pairwise_half(counts[depth])
            depth += 1
            continue
        value = _block_sum(values, starts[depth], counts[depth], absolute)
        while True:  # hand the value up until a frame still needs its right half
            depth -= 1
            if depth < 0:
                return value
            if stages[depth] == 1:
                lefts[depth] = value
                stages[depth] = 2
                half = _pairwise_half(counts[depth])
                starts[depth + 1], counts[depth + 1] = starts[depth] + half, counts[depth] - half
                depth += 1
                break
            value = lefts[depth] + value


@njit(cache=True, inline="always")
def _contiguous_sum(G, absolute):
    """:func:`_pairwise_sum` of all of ``G`` (copied to C order unless it is)."""
    flat = vector_view(np.ascontiguousarray(G))
    if flat.shape[0] <= PAIRWISE_BLOCK:
        # one block, in place: calls cost as much as its sum (one thread, 64 entries: 20
        # against 44 ns through ``_pairwise_sum``)
        return _block_sum(flat, 0, flat.shape[0], absolute)
    return _pairwise_sum(flat, 0, flat.shape[0], absolute)


@njit(cache=True, inline="always")
def abs_sum(G):
    """``||G||_1 = sum_ij |G_ij|``, NumPy's ``np.sum(np.abs(G))`` bit for bit for a
    C-contiguous ``G`` (``_pairwise_sum``). Other layouts are copied to C order first
    (NumPy then sums in memory order: a few ulps apart)."""
    return _contiguous_sum(G, True)


@njit(cache=True, inline="always")
def pairwise_sum(G):
    """``sum_ij G_ij``, NumPy's ``np.sum(G)`` bit for bit for a C-contiguous ``G``
    (``_pairwise_sum``; other layouts as :func:`abs_sum`): eight running sums where numba's
    ``np.sum`` runs one chain of dependent additions."""
    return _contiguous_sum(G, False)


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
        value = _line_value(X, 0, False)
    else:
        value = _line_value(X, 1, False)
    return value / radius


@njit(cache=True)
def dual_norm(code, radius, G):
    """``||G||_{r,*} = r ||G||_*`` for the base norm ``code``."""
    m, n = G.shape
    if code == SPECTRAL:
        value = nuclear_norm(G)
    elif code == FROBENIUS:
        value = frobenius_norm(G)
    elif code == MAX_ABS:
        value = abs_sum(G)
    elif code == COL_NORM:
        value = _line_value(G, 0, True)
    else:
        value = _line_value(G, 1, True)
    return radius * value


@njit(cache=True)
def _combine_in_place(Y, y_factor, x_factor, X):
    """``Y <- x_factor X + y_factor Y``, rounded as NumPy's ``x_factor * X + y_factor * Y``
    (each product, then the sum), without the new array that expression allocates.
    ``y_factor = 1`` is exact: ``1.0 * y`` is ``y``."""
    m, n = Y.shape
    for i in range(m):
        for j in range(n):
            Y[i, j] = x_factor * X[i, j] + y_factor * Y[i, j]


@njit(cache=True, inline="always")
def _transpose_into(X, T):
    """``X^T`` written into ``T`` (returned)."""
    m, n = X.shape
    for i in range(m):
        for j in range(n):
            T[j, i] = X[i, j]
    return T


@njit(cache=True)
def newton_schulz(G, coefficients, eps):
    """Approximate polar factor of ``G`` by the Newton-Schulz rows ``coefficients`` (a new
    array). The iterations write into work arrays allocated once per call, the iterate and
    its successor trading places, where a new array per product (three per iteration) had
    cost a fifth of the time on layers past ``SMALL_MATMUL`` (measured, one thread, NS5
    through ``lmo``: 16x16 5.2-5.3 against 6.6-6.7 us, 8x16 3.2-3.5 against 4.1 us). On 8x8
    all three products take ``matmul_into``'s vector rows: 1.79-1.81 against 2.74-2.90 us
    by the scalar loops. The same products in the same order: the same bits."""
    transpose = G.shape[0] > G.shape[1]
    m, n = (G.shape[1], G.shape[0]) if transpose else (G.shape[0], G.shape[1])
    size = m * n
    # X X^T for X of 8 rows as X times a copy of X^T (rows of 8: ``matmul_into``'s vector
    # product; ``_small_gram_into``'s bits), the copy written into a work array: 65 against
    # 135 ns at 8x8, where numba's ``ascontiguousarray(X.T)`` costs as much as the product
    vector_gram = m == SMALL_MATMUL and n <= SMALL_MATMUL
    # one buffer: the iterate and its successor, A, P and the copy of X^T, as views without
    # its owner (their views and slices then touch no reference count: one thread, NS5 on
    # 8x8 0.90 against 1.53 us, 8x16 1.95 against 2.49, 16x16 4.45 against 4.89, see
    # ``borrowed``); the buffer lives to the end, where the result is cut from it
    buffer = np.empty(2 * size + 2 * m * m + (size if vector_gram else 0))
    work = borrowed(buffer)
    X = matrix_view(work[:size], m, n)
    Y = matrix_view(work[size:2 * size], m, n)
    A = matrix_view(work[2 * size:2 * size + m * m], m, m)
    P = matrix_view(work[2 * size + m * m:2 * size + 2 * m * m], m, m)
    Xt = matrix_view(work[2 * size + 2 * m * m:], n if vector_gram else 0, m if vector_gram else 0)
    if transpose:
        _transpose_into(G, X)
    else:
        X[:] = G
    norm = frobenius_norm(X)
    if norm < np.inf:
        X /= norm + eps
    else:  # ||G||_F above the largest float: normalise 2^-e G instead (as the reference)
        exponent = _exponent(_max_abs(X))
        _scaled_into(X, exponent, X)  # entry by entry, so in place is safe
        X /= frobenius_norm(X) + math.ldexp(eps, -exponent)
    for k in range(coefficients.shape[0]):
        a = coefficients[k, 0]
        b = coefficients[k, 1]
        c = coefficients[k, 2]
        if vector_gram:
            matmul_into(X, _transpose_into(X, Xt), A)
        else:
            gram_into(X, True, A)  # X X^T and A^2 by dsyrk on large layers: two of three products at half cost
        symmetric_square_into(A, P)
        _combine_in_place(P, c, b, A)  # b A + c A^2, written over A^2
        matmul_into(P, X, Y)
        _combine_in_place(Y, 1.0, a, X)  # a X + (b A + c A^2) X, written over the product
        X, Y = Y, X
    # the iterate of an even number of steps is in the first half of the buffer
    start = 0 if coefficients.shape[0] % 2 == 0 else size
    result = matrix_view(buffer[start:start + size], m, n)
    if transpose:
        return np.ascontiguousarray(result.T)
    return result


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
    # zero columns/rows stay zero (the tie-break of base_norms), as base_norms._safe_normalise
    out = np.zeros_like(norms)
    for k in range(norms.shape[0]):
        if norms[k] > 0.0:
            out[k] = 1.0 / norms[k]
    return out


@njit(cache=True)
def _normalise_lines(X, squares, axis):
    m, n = X.shape
    scale = _reciprocal_or_zero(np.sqrt(squares))
    out = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            out[i, j] = -X[i, j] * scale[j if axis == 0 else i]
    return out


@njit(cache=True)
def _line_lmo(G, axis):
    """Twin of ``base_norms._line_lmo`` (radius 1)."""
    squares = _column_squares(G) if axis == 0 else _row_squares(G)
    if _squares_in_range(squares):
        return _normalise_lines(G, squares, axis)
    Y, _, squares = _rescaled_lines(G, axis)
    return _normalise_lines(Y, squares, axis)


@njit(cache=True)
def lmo(code, radius, G, coefficients, eps):
    """``lmo_r(G)`` for the base norm ``code`` (a new array)."""
    # each branch is one fused loop, r (-D) written as (-r) D (negation is exact, so the
    # two round alike): the optimizers call this for every layer at every step
    if code == SPECTRAL:
        if coefficients.shape[0] > 0:
            D = newton_schulz(G, coefficients, eps)  # a new array: scaled in place
            D *= -radius
            return D
        return (-radius) * polar_factor_svd(G)
    if code == FROBENIUS:
        norm = frobenius_norm(G)
        if norm > 0.0:
            return (-radius) * (G / norm)
        return np.zeros(G.shape)
    if code == MAX_ABS:
        return max_abs_lmo(radius, G)
    return radius * _line_lmo(G, 0 if code == COL_NORM else 1)


@njit(cache=True)
def max_abs_lmo(radius, G):
    """Twin of ``by_code.max_abs_lmo``: ``-r sign(G)``, ``G`` an array or one number."""
    return (-radius) * np.sign(G)


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
def _normalised_gram(Z, F):
    A = gram(Z, Z.shape[0] <= Z.shape[1])  # the smaller of Z Z^T and Z^T Z
    A *= 1.0 / (F * F)
    return A


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


@njit(cache=True)
def gram_products(Z):
    """Twin of ``nuclear_quadrature.gram_products`` (empty ``A`` when ``F = 0``)."""
    F = frobenius_norm(Z)
    if F == 0.0:
        return 0.0, np.zeros((0, 0)), np.zeros((0, 0))
    if F * F >= SQUARES_MIN and F * F <= GRAM_MAX:
        A = _normalised_gram(Z, F)
    else:
        # as the reference: the Gram matrix of 2^-e Z, exact scaling (F stays the true norm)
        scaled = _scaled(np.ascontiguousarray(Z), _exponent(_max_abs(Z)))
        A = _normalised_gram(scaled, frobenius_norm(scaled))
    return F, A, symmetric_square(A)


# --- Schatten-q norms (twins of ``schatten``) ------------------------------------------------
# the spectrum helpers are the reference functions compiled as they are (one source for both
# sides); the end points dispatch to the twins above, as the reference dispatches to
# ``base_norms`` (Frobenius at q = 2, the spectral LMO / polar factor at q = inf)

_schatten_spectrum_norm = njit(cache=True)(_spectrum_norm_py)
#: ``by_code.spectrum_norm``'s twin (the same function compiled)
spectrum_norm = _schatten_spectrum_norm
_schatten_lmo_from_svd = njit(cache=True)(_lmo_from_svd_py)
_schatten_sharp_from_svd = njit(cache=True)(_sharp_from_svd_py)


@njit(cache=True)
def schatten_norm(X, q):
    """Twin of ``schatten._norm``: ``||X||_{S_q}``, ``q in [1, inf]`` (``np.inf`` allowed)."""
    if q == 2.0:
        return frobenius_norm(X)
    return _schatten_spectrum_norm(singular_values(X), q)


@njit(cache=True)
def schatten_lmo(G, q):
    """Twin of ``schatten._lmo``: ``argmin_{||D||_{S_q} <= 1} <G, D>``, ``q in (1, inf]``."""
    if q == 2.0:
        norm = frobenius_norm(G)
        if norm > 0.0:
            return -(G / norm)
        return np.zeros(G.shape)
    if q == np.inf:
        return -polar_factor_svd(G)
    m, n = G.shape
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    return _schatten_lmo_from_svd(U, s, Vt, q, max(m, n) * _EPS64)


@njit(cache=True)
def schatten_sharp(G, q):
    """Twin of ``schatten._sharp``: ``U diag(s^(1/(q-1))) V^T``, ``q in [2, inf]``."""
    if q == 2.0:
        return np.ascontiguousarray(G).copy()
    if q == np.inf:
        return polar_factor_svd(G)
    m, n = G.shape
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    return _schatten_sharp_from_svd(U, s, Vt, q, max(m, n) * _EPS64)
