"""LaTeX and plain-text export; assumptions; the exact finite sums."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from nalr_theory.theory import (
    assumptions,
    constants_latex,
    constants_text,
    export_latex,
    leading_coefficients,
    momentum_noise_sum,
    noise_model_assumptions,
    render_text,
    theorem_exact_lmo,
    theorem_general,
    to_latex,
)
from nalr_theory.theory.finite_sums import MomentumNoiseSum, momentum_noise_sum_brute_force


def test_export_latex_covers_every_item():
    exported = export_latex()
    for key in ("A1", "A2v", "A2b", "A3", "L1", "L1_inexact", "L2", "L3", "L4", "L4_finite", "theorem",
                "theorem_general", "theorem_general_exact", "case_uniform", "case_uniform_noise",
                "case_fixed_layerwise", "case_weighted_on_path", "constants_c_beta_star", "constants_K_star",
                "constants_feasibility", "constants_ABC_every_T", "constants_ABC_asymptotic"):
        assert exported[key].strip(), key
    assert r"\leq" in exported["L1"] and r"\eta" in exported["L1"]
    assert r"\kappa_{\mathrm{lo}}" in exported["theorem_general"] and r"\kappa" not in exported["theorem"]
    assert r"w^{\mathrm{hi}}" in exported["theorem"] and r"w^{\mathrm{hi}}" not in exported["case_uniform"]
    assert r"\sigma_{\max}" in exported["case_uniform_noise"]
    assert r"\in" in exported["A2b"]
    assert exported["constants_c_beta_star"] == r"c_{\beta}^* = \frac{2 \sqrt{A} \sqrt{B}}{C}"


def test_to_latex_is_sympy_latex_of_both_sides():
    statement = theorem_exact_lmo()
    latex = to_latex(statement)
    lhs, rhs = latex.split(r" \leq ", 1)
    assert rhs.startswith(r"\frac{\Delta}{T \eta}")
    assert sp.latex(sp.Symbol("T")) in lhs


def test_plain_text_rendering():
    text = render_text()
    for key in ("[A1]", "[L1]", "[L2]", "[L3]", "[L4]", "[theorem]", "Hypotheses:", "Proof sketch:"):
        assert key in text
    assert theorem_general().text().startswith("[theorem]")


def test_constants_with_values():
    coefficients = leading_coefficients(10.0, np.diag([2.0, 4.0, 8.0, 16.0]), np.sqrt(32.0), [0.1, 0.2, 0.4, 0.8])
    latex = constants_latex(coefficients)
    assert "A = 10" in latex["values"] and "K^*" in latex["values"]
    text = constants_text(coefficients)
    assert "c_beta* = 2.88675" in text and "T >= 8.33333" in text


def test_assumptions_and_noise_models():
    items = assumptions()
    assert set(items) == {"A1", "A2v", "A2b", "A3"}
    assert noise_model_assumptions("bounded") == {"A2v": True, "A2b": True}
    assert noise_model_assumptions("gaussian") == {"A2v": True, "A2b": False}
    assert noise_model_assumptions("student_t", nu=3.0)["A2v"] is True
    assert noise_model_assumptions("student_t", nu=2.0)["A2v"] is False
    with pytest.raises(ValueError, match="nu"):
        noise_model_assumptions("student_t")
    with pytest.raises(ValueError, match="model"):
        noise_model_assumptions("cauchy")


# --- the exact finite sums ----------------------------------------------------------------

@pytest.mark.parametrize("T", [1, 4096, 4097, 50_000, 1_000_000])
def test_momentum_noise_sum_matches_brute_force(T):
    for beta_value in (0.0, 0.3, 0.9, 0.999, 1 - 1e-5, 1 - 1e-7):
        for rho_value in (1.0, 1.5, 5.6, 100.0):
            expected = momentum_noise_sum_brute_force(T, beta_value, rho_value)
            assert momentum_noise_sum(T, beta_value, rho_value) == pytest.approx(expected, rel=1e-12)


def test_symbolic_noise_sum_is_the_explicit_sum():
    T_, b, r = 7, sp.Rational(9, 10), sp.Integer(3)
    explicit = MomentumNoiseSum(T_, b, r).as_sum().doit()
    assert float(explicit) == pytest.approx(momentum_noise_sum(7, 0.9, 3.0), rel=1e-13)
    assert r"\sum_{t=1}^{" in sp.latex(MomentumNoiseSum(sp.Symbol("T"), sp.Symbol("beta"), sp.Symbol("rho")))


def test_momentum_noise_sum_is_vectorised_and_validated():
    values = momentum_noise_sum(np.array([10, 10**9]), np.array([0.9, 1 - 1e-4]), 2.0)
    assert values.shape == (2,) and np.all(values > 0)
    with pytest.raises(ValueError, match="beta"):
        momentum_noise_sum(10, 1.0, 1.0)
    with pytest.raises(ValueError, match="T"):
        momentum_noise_sum(0, 0.5, 1.0)
