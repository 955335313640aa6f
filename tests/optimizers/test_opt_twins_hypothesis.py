"""Reference and numba twins on hypothesis-drawn layer shapes, norms and methods.

The parametrised equality tests (``test_opt_numba_equality``) fix three small shapes; here
hypothesis draws the shapes (1 to 7 rows and columns, vectors included), the norms, the
Newton-Schulz or exact LMO and the method, and the twins must agree to 1e-10 relative over
60 steps, as they do over 200 on the fixed shapes.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nalr_theory import optimizers
from nalr_theory.geometry import Layer

from .test_opt_numba_equality import assert_twins_agree

MATRIX_NORMS = ("spectral", "frobenius", "max_abs", "col_norm", "row_norm", "rms_to_rms", "sign", "colnorm",
                "rownorm", "muon", "dmuon")
METHODS = {
    "lmo_momentum": lambda layers: optimizers.lmo_momentum(layers, 0.05, nesterov=True),
    "scion_constrained": lambda layers: optimizers.scion(layers, 0.05, constrained=True),
    "lanton[consecutive,quadrature]": lambda layers: optimizers.lanton(layers, 0.05, dual="quadrature"),
    "lanton[two_sample,gram,lag]": lambda layers: optimizers.lanton(layers, 0.05, estimator="two_sample",
                                                                    dual="gram", lag=1),
    "lanton[momentum_residual,ns,dmuon]": lambda layers: optimizers.lanton(
        layers, 0.01, base="dmuon", estimator="momentum_residual", dual="ns"),
    "muon": lambda layers: optimizers.muon(layers),
    "normuon": lambda layers: optimizers.normuon(layers, weight_decay=0.1),
    "adamw": lambda layers: optimizers.adamw(layers),
}


@st.composite
def layer_lists(draw):
    count = draw(st.integers(1, 3))
    layers = []
    for index in range(count):
        m, n = draw(st.integers(1, 7)), draw(st.integers(1, 7))
        norm = draw(st.sampled_from(MATRIX_NORMS + (("l2", "linf") if n == 1 else ())))
        lmo_method = draw(st.sampled_from(("svd", "ns5"))) if norm in ("spectral", "rms_to_rms") else "svd"
        layers.append(Layer(f"w{index}", (m, n), norm, lmo_method=lmo_method))
    return layers


@settings(max_examples=30)
@given(layers=layer_lists(), method=st.sampled_from(sorted(METHODS)), seed=st.integers(0, 2**16))
def test_twins_agree_on_drawn_shapes(layers, method, seed):
    assert_twins_agree(METHODS[method](layers), layers, steps=60, seed=seed)
