"""``_kernels.matrix_view``: the engine's matrix view of a slice of a flat vector, built
without numba's general ``reshape``. It must be exactly ``vector.reshape((rows, cols))``:
the same entries, the same memory (writes go through), alive as long as the view is."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from nalr_theory.geometry import _kernels as kernels


@njit
def _view_of_slice(vector, start, rows, cols):
    return kernels.matrix_view(vector[start:start + rows * cols], rows, cols)


@njit
def _write_through(vector, start, rows, cols, value):
    view = kernels.matrix_view(vector[start:start + rows * cols], rows, cols)
    view[rows - 1, cols - 1] = value
    view[0, 0] += 1.0


@njit
def _view_of_a_temporary(vector, rows, cols):
    # the only owner of the copy is the view: the copy must live as long as it does
    return kernels.matrix_view(vector.copy(), rows, cols)


@settings(max_examples=200, deadline=None)
@given(rows=st.integers(0, 9), cols=st.integers(0, 9), start=st.integers(0, 5), seed=st.integers(0, 2**32 - 1))
def test_matrix_view_is_the_reshape_of_the_slice(rows, cols, start, seed):
    vector = np.random.default_rng(seed).standard_normal(start + rows * cols + 3)
    view = _view_of_slice(vector, start, rows, cols)
    expected = vector[start:start + rows * cols].reshape((rows, cols))
    assert view.shape == (rows, cols) and view.flags.c_contiguous
    np.testing.assert_array_equal(view, expected)
    if rows * cols:
        assert np.shares_memory(view, vector)
        before = vector.copy()
        _write_through(vector, start, rows, cols, 7.5)
        expected = before.copy()
        expected[start + rows * cols - 1] = 7.5
        expected[start] += 1.0
        np.testing.assert_array_equal(vector, expected)


@njit
def _allocate_alike(size, count):
    total = 0.0
    for _ in range(count):
        total += np.full(size, -1.0)[0]
    return total


def test_matrix_view_keeps_its_vector_alive():
    # a view that did not own a reference to the copy would point at freed memory, which
    # allocations of the same size then overwrite (checked: this fails without the incref)
    vector = np.arange(12.0)
    view = _view_of_a_temporary(vector, 3, 4)
    gc.collect()
    _allocate_alike(12, 1000)
    alike = [np.full(12, -1.0) for _ in range(1000)]
    np.testing.assert_array_equal(view, vector.reshape(3, 4))
    assert len(alike) == 1000


@pytest.mark.parametrize("rows, cols", [(3, 3), (2, 7), (-1, -8)])
def test_matrix_view_refuses_a_shape_of_another_size(rows, cols):
    with pytest.raises(ValueError, match="rows \\* cols"):
        kernels.matrix_view(np.arange(8.0), rows, cols)


@njit
def _flat_of(matrix):
    return kernels.vector_view(matrix)


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(0, 9), cols=st.integers(0, 9), seed=st.integers(0, 2**32 - 1))
def test_vector_view_is_the_ravel_and_shares_memory(rows, cols, seed):
    matrix = np.random.default_rng(seed).standard_normal((rows, cols))
    flat = _flat_of(matrix)
    assert flat.shape == (rows * cols,) and flat.flags.c_contiguous
    np.testing.assert_array_equal(flat, matrix.ravel())
    if rows * cols:
        assert np.shares_memory(flat, matrix)
