"""A layer's norm: a base norm (the table in ``nalr_theory.geometry.base_norms``) with a
radius and an LMO method.

Problem
    Give each layer ``X`` of shape ``(m, n)`` a norm ``||X||_r = ||X|| / r``, its dual
    ``||G||_{r,*} = r ||G||_*`` and its linear minimisation oracle
    ``lmo_r(G) = argmin_{||D||_r <= 1} <G, D> = r lmo(G)``.

Algorithm
    ``get_norm(name, shape, radius, lmo_method)``: ``name`` is a base norm (``spectral``,
    ``frobenius``, ``max_abs``, ``col_norm``, ``row_norm``), a vector alias (``linf``,
    ``l2``, for shape ``(n, 1)``) or a named preset (``rms_to_rms``, ``muon``, ``dmuon``,
    ``sign``, ``colnorm``, ``rownorm``) whose radius is a function of the shape. The spectral
    LMO is exact (``"svd"``) or Newton-Schulz (``"ns5"``, ``"ns_cubic"``, coefficients).
    ``get_norm("schatten", shape, radius, q=q)`` builds the Schatten-q norm of
    ``nalr_theory.geometry.schatten`` (a ``SchattenNorm`` with the same methods, exact SVD).

Guarantee
    ``<G, lmo(G)> = -||G||_*`` and ``||lmo(G)|| = 1`` for ``G != 0`` (exact LMO);
    ``||Z||_* <= a ||Z||_F`` and ``||Z||_F <= b ||Z||_*`` with ``constants() = (a, b, rho)``,
    both attained (``attaining()``), ``rho = a b`` independent of the radius;
    ``dual_bounds(G)`` brackets the dual norm without an SVD (``nuclear_quadrature``).

References
    The table of ``nalr_theory.geometry.base_norms``; Pethick et al., "Training deep
    learning models with norm-constrained LMOs" (2025); Bernstein & Newhouse, "Old
    optimizer, new norm" (2024).

Decisions (choices of this package): ``constants`` include the radius (``a_r = r a``,
``b_r = b / r``), since lemma L3 (``nalr_theory.theory.lemmas``) is applied to the layer's
own dual norm; an explicit ``radius`` overrides a preset's; a norm built with a shape checks every input's shape; 1-D arrays are accepted only
by the vector aliases ``linf`` and ``l2`` (the other norms are matrix norms and raise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_matrix, as_positive, as_shape, check_own_shape, shape_or_own
from .base_norms import BASE_NORMS, SPECTRAL
from .newton_schulz import NS_EPS, _iterate, ns_coefficients
from .nuclear_quadrature import gauss_upper, gram_products, radau_lower
from .presets import PRESETS
from .schatten import SchattenNorm, as_schatten_exponent

VECTOR_ALIASES = {"linf": "max_abs", "l2": "frobenius"}
#: the name of the Schatten-q family in ``get_norm`` (not a layer norm: not in ``NORM_NAMES``)
SCHATTEN = "schatten"
NORM_NAMES = tuple(BASE_NORMS) + tuple(VECTOR_ALIASES) + tuple(PRESETS)
#: ``ns_coefficients``' parameter names -> ``get_norm``'s
_NS_PARAMETERS = {"method": "lmo_method", "steps": "ns_steps"}


@dataclass(frozen=True)
class Norm:
    """A layer norm; build it with :func:`get_norm`.

    Attributes: ``name`` (as requested), ``base`` (base norm name), ``code`` (the base
    norm's integer code for the numba kernels), ``radius``, ``shape`` (or ``None``),
    ``lmo_method`` and ``ns_coefficients`` (``(k, 3)``; empty for the exact LMO).
    """

    name: str
    base: str
    radius: float
    shape: tuple[int, int] | None
    lmo_method: object = "svd"
    ns_coefficients: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)), repr=False)
    ns_eps: float = NS_EPS

    @property
    def code(self) -> int:
        """Integer code of the base norm for the numba kernels (``base_norms.SPECTRAL`` ...)."""
        return BASE_NORMS[self.base].code

    @property
    def is_vector_norm(self) -> bool:
        """Whether ``name`` is a vector alias (``linf``, ``l2``): takes 1-D input, needs shape ``(n, 1)``."""
        return self.name in VECTOR_ALIASES

    def _check(self, value, argument: str) -> np.ndarray:
        matrix = as_matrix(value, argument, allow_vector=self.is_vector_norm)
        if self.is_vector_norm and matrix.shape[1] != 1:
            raise ValueError(
                f"{argument}: norm {self.name!r} is a vector norm, got shape {matrix.shape}"
            )
        return check_own_shape(matrix, argument, self.shape)

    def norm(self, X) -> float:
        """Primal value ``||X||_r = ||X|| / r``."""
        return BASE_NORMS[self.base].primal(self._check(X, "X")) / self.radius

    def dual(self, G) -> float:
        """Dual value ``||G||_{r,*} = r ||G||_*`` (exact; nuclear norm by SVD for spectral)."""
        return self.radius * BASE_NORMS[self.base].dual(self._check(G, "G"))

    def lmo(self, G) -> np.ndarray:
        """``lmo_r(G) = r * argmin_{||D|| <= 1} <G, D>`` (a new array; ``G`` is untouched)."""
        G = self._check(G, "G")
        if self.ns_coefficients.shape[0] > 0:
            direction = -_iterate(G, self.ns_coefficients, self.ns_eps)
        else:
            direction = BASE_NORMS[self.base].lmo(G)
        return self.radius * direction

    def dual_estimate(self, G) -> float:
        """Cheap dual norm ``-<G, lmo_r(G)>``: exact for an exact LMO (``<G, lmo(G)> =
        -||G||_*`` by definition of the LMO), and ``kappa_lo ||G||_{r,*}`` for Newton-Schulz,
        with ``kappa_lo`` the descent ratio of ``nalr_theory.geometry.lmo_quality``."""
        G = self._check(G, "G")
        return -float(np.sum(G * self.lmo(G)))

    def dual_bounds(self, G) -> tuple[float, float]:
        """``(lower, upper)`` around ``||G||_{r,*}`` without an SVD: for spectral norms the
        quadrature bounds of :func:`~nalr_theory.geometry.nuclear_norm_bounds` (two GEMMs),
        for the others the exact dual twice (already cheap)."""
        G = self._check(G, "G")
        if self.code != SPECTRAL:
            value = self.dual(G)
            return value, value
        products = gram_products(G)
        return self.radius * radau_lower(*products), self.radius * gauss_upper(*products)

    def constants(self, shape=None) -> tuple[float, float, float]:
        """``(a, b, rho)`` with ``||Z||_{r,*} <= a ||Z||_F`` and ``||Z||_F <= b ||Z||_{r,*}``."""
        a, b = BASE_NORMS[self.base].equivalence(shape_or_own(shape, self.shape))
        return self.radius * a, b / self.radius, a * b

    def attaining(self, shape=None) -> dict[str, np.ndarray]:
        """Matrices attaining each inequality: ``{"a": Z_a, "b": Z_b}``."""
        dims = shape_or_own(shape, self.shape)
        base = BASE_NORMS[self.base]
        return {"a": base.attain_a(dims), "b": base.attain_b(dims)}


def get_norm(
    name: str, shape=None, radius=None, lmo_method="svd", ns_steps=None, q=None
) -> Norm | SchattenNorm:
    """Build the :class:`Norm` called ``name`` (base norm, vector alias or preset), or the
    :class:`~nalr_theory.geometry.schatten.SchattenNorm` for ``name="schatten"``.

    ``shape`` (``(d_out, d_in)``) is required by presets, whose radius depends on it, unless
    ``radius`` is given. ``lmo_method`` (spectral norms only): ``"svd"`` (exact, default),
    ``"ns5"``, ``"ns_cubic"``, a coefficient triple or a ``(k, 3)`` schedule. ``q`` (the
    Schatten exponent, a real in ``[1, inf]`` or ``"inf"``) is required by ``"schatten"``
    and refused by every other name. ``"schatten"`` is not in ``NORM_NAMES``: layers
    (``Layer``) keep the base norms and presets.
    """
    if isinstance(name, str) and name == SCHATTEN:
        return _schatten_norm(shape, radius, lmo_method, ns_steps, q)
    if not isinstance(name, str) or name not in NORM_NAMES:
        known = ", ".join(NORM_NAMES + (SCHATTEN + " (with q)",))
        raise ValueError(f"name: unknown norm {name!r}; known: {known}")
    if q is not None:
        raise ValueError(f"q: only the {SCHATTEN!r} norm takes an exponent, not {name!r}")
    dims = None if shape is None else as_shape(shape)
    if name in VECTOR_ALIASES and dims is not None and dims[1] != 1:
        raise ValueError(f"shape: norm {name!r} is a vector norm, needs (n, 1), got {dims}")
    base = PRESETS[name].base if name in PRESETS else VECTOR_ALIASES.get(name, name)
    if radius is not None:
        radius = as_positive(radius, "radius")
    elif name in PRESETS:
        if dims is None:
            raise ValueError(f"shape: preset {name!r} needs the layer shape to set its radius")
        radius = PRESETS[name].radius(*dims)
    else:
        radius = 1.0
    try:
        coefficients = ns_coefficients(lmo_method, ns_steps)
    except ValueError as error:  # name the parameters of get_norm, not of ns_coefficients
        parameter, _, message = str(error).partition(": ")
        raise ValueError(f"{_NS_PARAMETERS.get(parameter, parameter)}: {message}") from None
    if coefficients.shape[0] > 0 and base != "spectral":
        raise ValueError(f"lmo_method: Newton-Schulz applies to spectral norms only, not {base!r}")
    return Norm(name, base, radius, dims, lmo_method, coefficients)


def _schatten_norm(shape, radius, lmo_method, ns_steps, q) -> SchattenNorm:
    # the Schatten norms use an exact SVD: Newton-Schulz options are refused, not ignored
    if not (isinstance(lmo_method, str) and lmo_method == "svd"):
        raise ValueError(
            f"lmo_method: Newton-Schulz applies to spectral norms only, not {SCHATTEN!r}"
        )
    if ns_steps is not None:
        raise ValueError(
            f"ns_steps: Newton-Schulz applies to spectral norms only, not {SCHATTEN!r}"
        )
    if q is None:
        raise ValueError(f"q: norm {SCHATTEN!r} needs the exponent q, a real in [1, inf] or 'inf'")
    dims = None if shape is None else as_shape(shape)
    radius = 1.0 if radius is None else as_positive(radius, "radius")
    return SchattenNorm(as_schatten_exponent(q), radius, dims)
