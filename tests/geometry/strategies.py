"""Hypothesis strategies for the geometry tests: shapes and matrices of every family.

Shape families: ``1 x n``, ``n x 1``, tall, wide, square. Matrix families: Gaussian,
rank-deficient (thin product), zero, ill-conditioned (singular values over 8 decades),
single-entry. Matrices are built from a drawn seed with NumPy, which is fast and shrinks
well (hypothesis shrinks the seed and the shape).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from nalr_theory.geometry import NORM_NAMES, PRESETS

MATRIX_NORMS = tuple(name for name in NORM_NAMES if name not in ("linf", "l2"))
VECTOR_NORMS = ("linf", "l2")
SPECTRAL_NORMS = ("spectral",) + tuple(n for n, p in PRESETS.items() if p.base == "spectral")


@st.composite
def shapes(draw, max_dim: int = 7):
    family = draw(st.sampled_from(["row", "column", "tall", "wide", "square"]))
    a = draw(st.integers(1, max_dim))
    b = draw(st.integers(1, max_dim))
    if family == "row":
        return (1, a)
    if family == "column":
        return (a, 1)
    if family == "square":
        return (a, a)
    small, large = min(a, b), max(a, b) + 1
    return (large, small) if family == "tall" else (small, large)


def make_matrix(kind: str, shape, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m, n = shape
    if kind == "zero":
        return np.zeros(shape)
    if kind == "single":
        Z = np.zeros(shape)
        Z[rng.integers(m), rng.integers(n)] = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2)
        return Z
    if kind == "rank_deficient":
        rank = max(1, min(m, n) - 1) if min(m, n) > 1 else 1
        return rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))
    if kind == "ill_conditioned":
        k = min(m, n)
        U, _ = np.linalg.qr(rng.standard_normal((m, k)))
        V, _ = np.linalg.qr(rng.standard_normal((n, k)))
        return (U * np.logspace(0, -8, k)) @ V.T
    return rng.standard_normal(shape) * rng.uniform(0.1, 10)


KINDS = ["gaussian", "rank_deficient", "zero", "ill_conditioned", "single"]
NONZERO_KINDS = [k for k in KINDS if k != "zero"]


@st.composite
def matrices(draw, kinds=KINDS, shape=None):
    shape = draw(shapes()) if shape is None else shape
    kind = draw(st.sampled_from(kinds))
    return make_matrix(kind, shape, draw(st.integers(0, 2**32 - 1)))


@st.composite
def norm_and_matrix(draw, norms=MATRIX_NORMS, kinds=KINDS, vectors=True):
    """A norm name (presets included) with a matching shape and a matrix of that shape."""
    use_vector = vectors and draw(st.booleans()) and draw(st.booleans())
    if use_vector:
        name = draw(st.sampled_from(VECTOR_NORMS))
        shape = (draw(st.integers(1, 7)), 1)
    else:
        name = draw(st.sampled_from(norms))
        shape = draw(shapes())
    G = draw(matrices(kinds=kinds, shape=shape))
    return name, shape, G
