"""LaTeX and plain text of one statement, one expression, or one set of constants.

Problem
    Every statement of the theory (:mod:`nalr_theory.theory.assumptions`,
    :mod:`nalr_theory.theory.lemmas`, :mod:`nalr_theory.theory.theorem`) must print as
    LaTeX (docs, notebooks) and as plain text (command line), and
    :meth:`~nalr_theory.theory.statement.Statement.latex` needs that without depending on
    the modules that build the statements.

Algorithm
    ``sympy.latex`` with the LaTeX names of :data:`nalr_theory.theory.symbols.LATEX_NAMES`
    (``sympy.sstr`` for plain text). A statement is recognised by its shape (``lhs``,
    ``rhs`` and a ``relation`` string, as :class:`~nalr_theory.theory.statement.Statement`
    has), so this module imports nothing of the theory but the symbols: the dependency runs
    ``statement -> formatting``, and the export of every item lives one level up, in
    :mod:`nalr_theory.theory.latex`.

Guarantee
    Pure functions returning strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from .symbols import LATEX_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from .schedules import LeadingCoefficients
    from .statement import Statement

_LATEX_RELATION = {"<=": r"\leq", ">=": r"\geq", "=": "=", "<": "<", "in": r"\in"}


def latex_expression(expression) -> str:
    """``sympy.latex`` of an expression with the package's LaTeX symbol names."""
    return sp.latex(expression, symbol_names=LATEX_NAMES)


def is_statement(item) -> bool:
    """Whether ``item`` has the shape of a :class:`~nalr_theory.theory.statement.Statement`
    (``lhs``, ``rhs`` and a ``relation`` string; sympy relations have no ``relation``)."""
    return isinstance(getattr(item, "relation", None), str) and hasattr(item, "lhs") and hasattr(item, "rhs")


def to_latex(item: "Statement | sp.Basic") -> str:
    """LaTeX of a statement (``lhs relation rhs``) or of any sympy expression."""
    if is_statement(item):
        relation = _LATEX_RELATION[item.relation]
        return f"{latex_expression(item.lhs)} {relation} {latex_expression(item.rhs)}"
    return latex_expression(item)


def to_text(item: "Statement | sp.Basic") -> str:
    """Plain text of a statement: title, relation, hypotheses, proof sketch, check, references."""
    if not is_statement(item):
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


def constants_text(coefficients: "LeadingCoefficients") -> str:
    """Plain-text summary of ``A, B, C`` and the optimal constants for given coefficients
    (a :class:`~nalr_theory.theory.schedules.LeadingCoefficients`)."""
    best = coefficients.optimal()
    return (
        f"{coefficients.label}\n"
        f"  A = {coefficients.A:.6g}, B = {coefficients.B:.6g}, C = {coefficients.C:.6g}\n"
        f"  c_beta* = {best.c_beta:.6g}, c_eta* = {best.c_eta:.6g}, K* = {best.K:.6g}\n"
        f"  tuned schedule: eta = {best.c_eta:.6g} T^(-3/4), 1 - beta = {best.c_beta:.6g} T^(-1/2), "
        f"feasible for T >= {coefficients.feasibility_horizon:.6g}"
    )


__all__ = ["constants_text", "is_statement", "latex_expression", "to_latex", "to_text"]
