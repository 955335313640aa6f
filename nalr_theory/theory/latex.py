"""Export of every assumption, lemma, theorem form, special case and constant.

Problem
    Docs and notebooks show every statement of the theory as LaTeX; the command line prints
    them as plain text.

Algorithm
    Collect the statements of :mod:`nalr_theory.theory.assumptions` (A1-A3),
    :mod:`nalr_theory.theory.lemmas` (L1-L4), :mod:`nalr_theory.theory.theorem` (general
    and exact-LMO forms, special cases) and :mod:`nalr_theory.theory.adaptivity`, and
    render each with :mod:`nalr_theory.theory.formatting`; the constants (``A, B, C``,
    ``c_beta*``, ``c_eta*``, ``K*``, feasibility ``T >= 4 A B / C^2``, the schedule
    ``eta = c_eta T^(-3/4)``, ``1 - beta = c_beta T^(-1/2)``) from
    :mod:`nalr_theory.theory.schedules` as sympy equations, symbolic and, when numbers are
    given, evaluated. This module sits above every module it exports; nothing in the theory
    imports it.

Guarantee
    Pure functions returning strings; ``export_latex()`` returns every item keyed by name
    (tests parse the relation symbol and the main symbols of each item).
"""

from __future__ import annotations

import sympy as sp

from .adaptivity import honest_statements
from .assumptions import assumptions
from .formatting import constants_text, latex_expression, to_latex, to_text
from .lemmas import lemmas
from .schedules import leading_coefficient_form, leading_coefficient_symbols, optimal_constant_symbols
from .symbols import A_coef, B_coef, C_coef, c_beta, c_eta
from .theorem import special_case, theorem_exact_lmo, theorem_general


def constants_latex(coefficients=None) -> dict[str, str]:
    """The constants as LaTeX: symbolic formulas, and values when ``coefficients`` is given.

    ``coefficients``: a :class:`~nalr_theory.theory.schedules.LeadingCoefficients`.
    """
    star = optimal_constant_symbols()
    K_symbol = sp.Symbol("K^*")
    out = {
        "leading_coefficient": f"K(c_{{\\beta}}, c_{{\\eta}}) = {latex_expression(leading_coefficient_form())}",
        "c_beta_star": f"c_{{\\beta}}^* = {latex_expression(star.c_beta)}",
        "c_eta_star": f"c_{{\\eta}}^* = {latex_expression(star.c_eta)}",
        "K_star": f"{latex_expression(K_symbol)} = {latex_expression(star.K)}",
        "feasibility": f"T \\geq {latex_expression(4 * A_coef * B_coef / C_coef**2)}",
        "schedule": (f"\\eta = {latex_expression(c_eta)} T^{{-3/4}},\\quad "
                     f"1 - \\beta = {latex_expression(c_beta)} T^{{-1/2}}"),
    }
    for variant in ("every_T", "asymptotic"):
        A, B, C = leading_coefficient_symbols(variant)
        out[f"ABC_{variant}"] = (f"A = {latex_expression(A)},\\quad B = {latex_expression(B)},"
                                 f"\\quad C = {latex_expression(C)}")
    if coefficients is not None:
        best = coefficients.optimal()
        out["values"] = (
            f"A = {coefficients.A:.6g},\\ B = {coefficients.B:.6g},\\ C = {coefficients.C:.6g}"
            f"\\ (\\text{{{coefficients.label}}});\\ c_{{\\beta}}^* = {best.c_beta:.6g},"
            f"\\ c_{{\\eta}}^* = {best.c_eta:.6g},"
            f"\\ K^* = {best.K:.6g},\\ T \\geq {coefficients.feasibility_horizon:.6g}"
        )
    return out


def _statements() -> dict:
    items = dict(assumptions())
    items.update(lemmas())
    items["theorem_general"] = theorem_general("theorem")
    items["theorem_general_exact"] = theorem_general("exact")
    items["theorem"] = theorem_exact_lmo("theorem")
    for name in ("uniform", "uniform_noise", "fixed_layerwise", "weighted_on_path"):
        items[f"case_{name}"] = special_case(name, theorem_exact_lmo("theorem"))
    for name, statement in honest_statements().items():
        items[f"adaptivity_{name}"] = statement
    return items


def export_latex() -> dict[str, str]:
    """Every assumption, lemma, theorem form, special case and constant as LaTeX."""
    out = {name: to_latex(statement) for name, statement in _statements().items()}
    out.update({f"constants_{name}": value for name, value in constants_latex().items()})
    return out


def render_text() -> str:
    """Every statement in plain text, separated by blank lines."""
    return "\n\n".join(to_text(statement) for statement in _statements().values())


__all__ = ["constants_latex", "constants_text", "export_latex", "render_text", "to_latex", "to_text"]
