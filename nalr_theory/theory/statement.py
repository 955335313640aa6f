"""A mathematical statement as data: a sympy relation plus its prose.

Problem
    Assumptions, lemmas and the theorem (:mod:`nalr_theory.theory.assumptions`,
    :mod:`nalr_theory.theory.lemmas`, :mod:`nalr_theory.theory.theorem`) must be sympy
    objects that can be substituted into (special cases), evaluated numerically (tests,
    experiments) and exported as LaTeX or plain text (:mod:`nalr_theory.theory.formatting`).

Algorithm
    :class:`Statement` holds ``lhs <relation> rhs`` as sympy expressions with the prose
    (hypotheses, proof sketch, check, references). :func:`replace_indexed` substitutes a
    per-layer ``IndexedBase`` by an expression of its indices (``w_hi[l] -> 1``), and
    :func:`layer_function` turns an expression with symbolic ``p`` into a numpy function
    for a concrete number of layers.

Guarantee
    Statements are immutable; substitution returns a new statement whose key records the
    substitution. ``layer_function`` expands the layer sums for the given ``p`` (``doit``)
    and lambdifies once per ``(expression, p)`` (cached).

References
    :mod:`nalr_theory.theory.lemmas` (each lemma one sympy expression plus a test).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from .finite_sums import MomentumNoiseSum, momentum_noise_sum
from .formatting import to_latex, to_text
from .symbols import p

_RELATIONS = {
    "<=": lambda a, b, evaluate=False: sp.Le(a, b, evaluate=evaluate),
    ">=": lambda a, b, evaluate=False: sp.Ge(a, b, evaluate=evaluate),
    "<": lambda a, b, evaluate=False: sp.Lt(a, b, evaluate=evaluate),
    "=": lambda a, b, evaluate=False: sp.Eq(a, b, evaluate=evaluate),
    "in": lambda a, b, evaluate=False: sp.Contains(a, b, evaluate=evaluate),
}

#: Expectation operator used in displayed statements (not evaluated).
Expectation = sp.Function("E")
Expectation.__doc__ = """``E(X)``: the expectation of ``X`` in displayed statements, the undefined sympy
function ``sympy.Function("E")``, kept unevaluated."""


@dataclass(frozen=True)
class Statement:
    """``lhs <relation> rhs`` with its prose; see the module docstring."""

    key: str
    title: str
    lhs: sp.Expr
    rhs: sp.Expr
    relation: str = "<="
    hypotheses: tuple[str, ...] = ()
    proof_sketch: str = ""
    check: str = ""
    references: str = ""
    substitutions: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.relation not in _RELATIONS:
            raise ValueError(f"relation: expected one of {sorted(_RELATIONS)}, got {self.relation!r}")

    @property
    def relational(self) -> sp.Basic:
        """The statement as an unevaluated sympy relation."""
        return _RELATIONS[self.relation](self.lhs, self.rhs, evaluate=False)

    def subs(self, mapping: Mapping, label: str) -> "Statement":
        """Substitute symbols on both sides (``label`` documents the substitution)."""
        return replace(
            self,
            lhs=sp.sympify(self.lhs).subs(mapping),
            rhs=sp.sympify(self.rhs).subs(mapping),
            substitutions=self.substitutions + (label,),
        )

    def replace_indexed(self, base: sp.IndexedBase, new: Callable, label: str) -> "Statement":
        """Replace every ``base[i, ...]`` by ``new(i, ...)`` on both sides."""
        return replace(
            self,
            lhs=replace_indexed(self.lhs, base, new),
            rhs=replace_indexed(self.rhs, base, new),
            substitutions=self.substitutions + (label,),
        )

    def latex(self) -> str:
        """LaTeX ``lhs relation rhs`` (:func:`nalr_theory.theory.formatting.to_latex`)."""
        return to_latex(self)

    def text(self) -> str:
        """Plain text with the prose (:func:`nalr_theory.theory.formatting.to_text`)."""
        return to_text(self)


def replace_indexed(expression, base: sp.IndexedBase, new: Callable):
    """Replace every ``base[indices]`` in ``expression`` by ``new(*indices)``."""
    expression = sp.sympify(expression)
    return expression.replace(
        lambda node: isinstance(node, sp.Indexed) and node.base == base,
        lambda node: sp.sympify(new(*node.indices)),
    )


def _expand_layers(expression, layers: int):
    return sp.sympify(expression).subs(p, layers).doit()


@lru_cache(maxsize=256)
def _compiled(expression, layers: int):
    concrete = _expand_layers(expression, layers)
    bases = sorted({node.base for node in concrete.atoms(sp.Indexed)}, key=lambda b: str(b))
    labels = {base.label for base in bases}
    scalars = sorted(
        (symbol for symbol in concrete.free_symbols
         if isinstance(symbol, sp.Symbol) and symbol not in labels),
        key=str,
    )
    ranks = {}
    arguments = []
    for base in bases:
        rank = max(len(node.indices) for node in concrete.atoms(sp.Indexed) if node.base == base)
        ranks[str(base)] = rank
        if rank == 1:
            arguments.append([base[i] for i in range(1, layers + 1)])
        else:
            arguments.append([[base[i, m] for m in range(1, layers + 1)] for i in range(1, layers + 1)])
    function = sp.lambdify(
        scalars + arguments,
        concrete,
        modules=[{"MomentumNoiseSum": momentum_noise_sum}, "numpy"],
    )
    return function, tuple(str(symbol) for symbol in scalars), tuple(str(b) for b in bases), ranks


def layer_function(expression, layers: int) -> Callable[..., np.ndarray]:
    """Numpy function of an expression with layer sums, for ``p = layers``.

    The returned function takes keyword arguments named after the free symbols (scalars,
    broadcast with numpy) and the ``IndexedBase`` names (length-``p`` vectors or ``p x p``
    matrices, optionally with trailing batch axes that broadcast with the scalars), e.g.
    ``f(T=..., eta=..., beta=..., w_hi=[...], L=[[...]])``.
    """
    if int(layers) != layers or layers < 1:
        raise ValueError(f"layers: expected a positive integer, got {layers!r}")
    function, scalar_names, base_names, ranks = _compiled(sp.sympify(expression), int(layers))

    def evaluate(**values):
        missing = [name for name in scalar_names + base_names if name not in values]
        if missing:
            raise ValueError(f"missing values for {', '.join(missing)}")
        arguments = [np.asarray(values[name], dtype=np.float64) for name in scalar_names]
        for name in base_names:
            array = np.asarray(values[name], dtype=np.float64)
            expected = (layers,) * ranks[name]
            if array.shape[: ranks[name]] != expected:
                raise ValueError(f"{name}: expected leading shape {expected}, got {array.shape}")
            if ranks[name] == 1:
                arguments.append([array[i] for i in range(layers)])
            else:
                arguments.append([[array[i, m] for m in range(layers)] for i in range(layers)])
        return function(*arguments)

    evaluate.scalar_names = scalar_names
    evaluate.base_names = base_names
    return evaluate


__all__ = ["Expectation", "Statement", "layer_function", "replace_indexed", "MomentumNoiseSum"]
