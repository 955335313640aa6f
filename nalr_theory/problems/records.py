"""The records a problem returns: oracle calls, A1 certificates, numba kernels.

Plain data (frozen dataclasses and a named tuple) with no dependency on the rest of the
package, so that :mod:`nalr_theory.problems.base` (the interface) and
:mod:`nalr_theory.problems.smoothness` (the estimates) both build them without importing
each other. All three are re-exported by :mod:`nalr_theory.problems` and
:mod:`nalr_theory.problems.base`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

@dataclass(frozen=True)
class OracleRecord:
    """One oracle call: ``grads = grad f(X) + noise`` per layer, the added ``noise``, its
    dual norm per layer ``noise_dual`` (the oracle value of the ``oracle`` estimator is
    ``noise_dual[l] ** 2``) and the step ``t`` it was drawn for.

    ``activations`` (optional, default ``None``) is ``{layer: A^l}``, the input of each matrix
    layer on the *same* sample as ``grads`` (the sampled columns under minibatch noise, the
    whole data set under an additive noise model). Only problems with the ``"activations"``
    capability fill it (``Problem.capabilities``); the others leave ``None``."""

    grads: dict
    noise: dict
    noise_dual: dict
    t: int = 0
    activations: dict | None = None


@dataclass(frozen=True)
class Certificate:
    """Constants of A1: ``||grad_l f(X) - grad_l f(Y)||_{l,*} <= sum_j L[l, j] ||X^j - Y^j||_j``
    for all ``X, Y`` in ``region``: ``"whole_space"`` or ``"ball"`` (each layer
    ``||X^l - centre[l]||_l <= radius[l]``). ``certified`` is false for estimated constants
    (then ``notes`` says how they were estimated and that A1 is not guaranteed)."""

    L: np.ndarray
    region: str
    certified: bool
    norms: tuple
    centre: dict | None = None
    radius: np.ndarray | None = None
    notes: str = ""


class Kernels(NamedTuple):
    """numba twins of a problem on the flat layout (``Layout``):
    ``f(x, data) -> float``, ``grad(x, data) -> g`` and ``oracle(x, data, t, rng) -> (g, xi)``
    (``g`` the noisy gradient, ``xi`` the noise in it, ``rng`` a ``numpy.random.Generator``
    drawn exactly as the NumPy reference draws it). ``data`` is an opaque tuple of arrays to
    pass through unchanged. For the engine, which needs ``f``, the exact gradient and a
    sample at every step: ``value_and_grad(x, data) -> (f, grad)`` (shared work computed
    once) and ``oracle_at(x, grad, data, t, rng) -> (g, xi, xi_dual)``, the oracle given the
    exact gradient at ``x`` (``oracle`` is ``oracle_at`` after ``grad``, less ``xi_dual``),
    with ``xi_dual[l] = ||xi^l||_{l,*}`` where the draw knows it (bounded noise: the dual
    norm it was scaled to; zero noise: 0) and ``nan`` where it does not."""

    f: Callable
    grad: Callable
    oracle: Callable
    data: tuple
    value_and_grad: Callable | None = None
    oracle_at: Callable | None = None

    @classmethod
    def of(cls, module, data: tuple) -> "Kernels":
        """The kernels of a family's numba module (``f``, ``grad``, ``oracle``,
        ``value_and_grad``, ``oracle_at``) with ``data``."""
        return cls(module.f, module.grad, module.oracle, data, module.value_and_grad, module.oracle_at)


__all__ = ["Certificate", "Kernels", "OracleRecord"]
