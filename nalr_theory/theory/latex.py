"""LaTeX and plain-text export of the assumptions, lemmas, theorem and constants.

Problem
    Docs and notebooks show every statement of THEORY.md as LaTeX; the command line prints
    them as plain text.

Algorithm
    ``sympy.latex`` with the LaTeX names of :data:`nalr_theory.theory.symbols.LATEX_NAMES`
    (``sympy.sstr`` for plain text) on each :class:`~nalr_theory.theory.statement.Statement`;
    the constants (``A, B, C``, ``c_beta*``, ``c_eta*``, ``K*``, feasibility) as sympy
    equations, symbolic and, when numbers are given, evaluated.

Guarantee
    Pure functions returning strings; ``export_latex()`` returns every item keyed by name
    (tests parse the relation symbol and the main symbols of each item).

References
    THEORY.md, "Schedules", item 6.
"""

from __future__ import annotations

import sympy as sp

from .symbols import LATEX_NAMES, A_coef, B_coef, C_coef, c_beta, c_eta

_LATEX_RELATION = {"<=": r"\leq", ">=": r"\geq", "=": "=", "<": "<", "in": r"\in"}


def _latex(expression) -> str:
    return sp.latex(expression, symbol_names=LATEX_NAMES)


def to_latex(item) -> str:
    """LaTeX of a statement (``lhs relation rhs``) or of any sympy expression."""
    from .statement import Statement

    if isinstance(item, Statement):
        return f"{_latex(item.lhs)} {_LATEX_RELATION[item.relation]} {_latex(item.rhs)}"
    return _latex(item)


def to_text(item) -> str:
    """Plain text of a statement: title, relation, hypotheses, proof sketch, check, references."""
    from .statement import Statement

    if not isinstance(item, Statement):
        return sp.sstr(item)
    lines = [f"[{item.key}] {item.title}", f"  {sp.sstr(item.lhs)}  {item.relation}  {sp.sstr(item.rhs)}"]
    if item.hypotheses:
        lines.append("  Hypotheses: " + "; ".join(item.hypotheses))
    if item.substitutions:
        lines.append("  Substitutions: " + "; ".join(item.substitutions))
    if item.proof_sketch:
        lines.append("  Proof sketch: " + item.proof_sketch)
    if item.check:
        lines.append("  Check: " + item.check)
    if item.references:
        lines.append("  References: " + item.references)
    return "\n".join(lines)


def constants_latex(coefficients=None) -> dict[str, str]:
    """The constants as LaTeX: symbolic formulas, and values when ``coefficients`` is given.

    ``coefficients``: a :class:`~nalr_theory.theory.schedules.LeadingCoefficients`.
    """
    from .schedules import leading_coefficient_form, leading_coefficient_symbols, optimal_constant_symbols

    c_beta_star, c_eta_star, K_star = optimal_constant_symbols()
    K_symbol = sp.Symbol("K^*")
    out = {
        "leading_coefficient": f"K(c_{{\\beta}}, c_{{\\eta}}) = {_latex(leading_coefficient_form())}",
        "c_beta_star": f"c_{{\\beta}}^* = {_latex(c_beta_star)}",
        "c_eta_star": f"c_{{\\eta}}^* = {_latex(c_eta_star)}",
        "K_star": f"{_latex(K_symbol)} = {_latex(K_star)}",
        "feasibility": f"T \\geq {_latex(4 * A_coef * B_coef / C_coef**2)}",
        "schedule": f"\\eta = {_latex(c_eta)} T^{{-3/4}},\\quad 1 - \\beta = {_latex(c_beta)} T^{{-1/2}}",
    }
    for variant in ("every_T", "asymptotic"):
        A, B, C = leading_coefficient_symbols(variant)
        out[f"ABC_{variant}"] = f"A = {_latex(A)},\\quad B = {_latex(B)},\\quad C = {_latex(C)}"
    if coefficients is not None:
        c_b, c_e, K = coefficients.optimal()
        out["values"] = (
            f"A = {coefficients.A:.6g},\\ B = {coefficients.B:.6g},\\ C = {coefficients.C:.6g}"
            f"\\ (\\text{{{coefficients.label}}});\\ c_{{\\beta}}^* = {c_b:.6g},\\ c_{{\\eta}}^* = {c_e:.6g},"
            f"\\ K^* = {K:.6g},\\ T \\geq {coefficients.feasibility_horizon:.6g}"
        )
    return out


def constants_text(coefficients) -> str:
    """Plain-text summary of ``A, B, C`` and the optimal constants for given coefficients."""
    c_b, c_e, K = coefficients.optimal()
    return (
        f"{coefficients.label}\n"
        f"  A = {coefficients.A:.6g}, B = {coefficients.B:.6g}, C = {coefficients.C:.6g}\n"
        f"  c_beta* = {c_b:.6g}, c_eta* = {c_e:.6g}, K* = {K:.6g}\n"
        f"  tuned schedule: eta = {c_e:.6g} T^(-3/4), 1 - beta = {c_b:.6g} T^(-1/2), "
        f"feasible for T >= {coefficients.feasibility_horizon:.6g}"
    )


def _statements() -> dict:
    from .adaptivity import honest_statements
    from .assumptions import assumptions
    from .lemmas import lemmas
    from .theorem import special_case, theorem_exact_lmo, theorem_general

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
