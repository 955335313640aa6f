"""Family 1: rotated sigmoidal blocks (certified on the whole space, separable).

Problem
    ``f(X) = sum_l f_l(X^l)``, ``f_l(X) = c_l sum_ij phi((U_l X V_l - M_l)_ij)``,
    ``phi(x) = x^2 / (1 + x^2)``, with Haar-random orthogonal ``U_l`` (``m x m``), ``V_l``
    (``n x n``) and a Gaussian target ``M_l`` (entries ``N(0, target_scale^2)``). Non-convex
    (``phi`` is concave for ``|x| > 1/sqrt(3)``), ``0 <= f``, minimum 0 at
    ``X^l = U_l^T M_l V_l^T``.

Algorithm
    ``R = U X V - M``; ``grad_l f = c_l U^T phi'(R) V^T``, ``phi'(x) = 2x / (1 + x^2)^2``.
    Capabilities ``hvp`` (exact) and ``hess_diag``: the Hessian is block diagonal across
    layers, ``Hess_l[D] = c_l U^T (phi''(R) * (U D V)) V^T`` and its diagonal
    ``d^2 f / dX_ab^2 = c_l sum_ij U_ia^2 phi''(R_ij) V_bj^2``, i.e.
    ``c_l (U * U)^T phi''(R) (V * V)^T`` (``*`` elementwise). No activations and no
    likelihood, so no ``activations`` and no ``gnb``.

Guarantee
    ``f_inf = 0`` (attained). ``|phi''| <= 2`` (``phi''(x) = (2 - 6x^2)/(1+x^2)^3``, maximal
    at 0) and orthogonal ``U, V`` keep Frobenius norms, so ``grad f_l`` is ``2 c_l``-Lipschitz
    in Frobenius. In the declared norm (dual constant ``a_l``, i.e.
    ``||Z||_{l,*} <= a_l ||Z||_F``, ``Norm.constants()[0]``, radius included):
    ``L[l, l] = 2 c_l a_l^2`` and ``L[l, j] = 0`` for ``j != l``, on the whole space; tight at
    the minimiser (Hessian ``2 c_l I``; e.g. spectral: ``2 c_l min(m, n) r^2``, attained by an
    orthogonal step). Using ``rho_l = a_l b_l`` instead of ``a_l^2`` is wrong (too small by
    ``sqrt(min(m, n))`` for the spectral norm): see ``base.frobenius_to_declared``.

References
    ``nalr_theory.theory.assumptions`` (A1, A3); ``nalr_theory.geometry.norm``
    (``Norm.constants``: the equivalence constants ``a, b, rho = a b``).
"""

from __future__ import annotations

import numpy as np

from .base import (Certificate, Kernels, Problem, check_norms, check_positive, check_seed,
                   check_shapes, haar_orthogonal, make_layers, per_layer, register)


def phi(x):
    """``phi(x) = x^2 / (1 + x^2)``, elementwise on a scalar or an array."""
    return x * x / (1.0 + x * x)


def phi_prime(x):
    """``phi'(x) = 2 x / (1 + x^2)^2``, elementwise on a scalar or an array."""
    return 2.0 * x / (1.0 + x * x) ** 2


def phi_second(x):
    """``phi''(x) = (2 - 6 x^2) / (1 + x^2)^3``, elementwise on a scalar or an array (``|phi''| <= 2``)."""
    q = 1.0 + x * x
    return (2.0 - 6.0 * x * x) / (q * q * q)


class RotatedSigmoidal(Problem):
    """Rotated sigmoidal blocks. Parameters: ``shapes`` (per layer ``(d_out, d_in)``),
    ``norms`` (one name or one per layer), ``curvature`` (``c_l``), ``target_scale``,
    ``init_scale`` (initial entries ``N(0, init_scale^2)``), ``instance_seed`` (draws
    ``U_l, V_l, M_l``), ``noise`` (a noise model, see ``noise.py``)."""

    name = "sigmoidal"
    certified = True
    separable = True

    def __init__(self, shapes=((16, 16),) * 4, norms="spectral", curvature=1.0, target_scale=1.0,
                 init_scale=0.5, instance_seed=0, noise=None):
        shapes = check_shapes(shapes)
        count = len(shapes)
        norms = check_norms(norms, count)
        self.curvature = per_layer(curvature, count, "curvature")
        self.target_scale = check_positive(target_scale, "target_scale")
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        instance_seed = check_seed(instance_seed, "instance_seed")
        layers = make_layers([f"X{i + 1}" for i in range(count)], shapes, norms)
        super().__init__(layers, noise, dict(shapes=shapes, norms=norms, curvature=self.curvature,
                                             target_scale=target_scale, init_scale=init_scale,
                                             instance_seed=instance_seed, noise=noise))
        rng = np.random.default_rng(instance_seed)
        self.left, self.right, self.target = [], [], []
        for m, n in shapes:
            self.left.append(haar_orthogonal(rng, m))
            self.right.append(haar_orthogonal(rng, n))
            self.target.append(self.target_scale * rng.standard_normal((m, n)))

    def _init(self, rng):
        return {name: self.init_scale * rng.standard_normal(shape)
                for name, shape in zip(self.names, self.layout.shapes)}

    def minimiser(self) -> dict:
        """The global minimiser ``X^l = U_l^T M_l V_l^T`` (``f = 0``)."""
        return {name: U.T @ M @ V.T for name, U, V, M in zip(self.names, self.left, self.right, self.target)}

    def layer_gaps(self, params) -> np.ndarray:
        """Per-layer gaps ``Delta_l = f_l(X^l) - inf f_l = f_l(X^l)`` (the problem is separable)."""
        params = self.layout.check_tree(params, "params")
        return np.array([c * np.sum(phi(U @ params[name] @ V - M))
                         for name, c, U, V, M in zip(self.names, self.curvature, self.left, self.right, self.target)])

    def _f(self, params):
        return sum(c * np.sum(phi(U @ params[name] @ V - M))
                   for name, c, U, V, M in zip(self.names, self.curvature, self.left, self.right, self.target))

    def _grad(self, params):
        return {name: c * (U.T @ phi_prime(U @ params[name] @ V - M) @ V.T)
                for name, c, U, V, M in zip(self.names, self.curvature, self.left, self.right, self.target)}

    def _hvp(self, params, V):
        return {name: c * (U.T @ (phi_second(U @ params[name] @ Vr - M) * (U @ V[name] @ Vr)) @ Vr.T)
                for name, c, U, Vr, M in zip(self.names, self.curvature, self.left, self.right, self.target)}

    def _hess_diag(self, params):
        return {name: c * ((U * U).T @ phi_second(U @ params[name] @ Vr - M) @ (Vr * Vr).T)
                for name, c, U, Vr, M in zip(self.names, self.curvature, self.left, self.right, self.target)}

    def _certificate(self, centre, radius):
        a = np.array([norm.constants()[0] for norm in self.layout.norms])
        return Certificate(np.diag(2.0 * self.curvature * a**2), "whole_space", True, self.layout.norms,
                           notes="L[l,l] = 2 c_l a_l^2 (|phi''| <= 2, orthogonal rotations, dual constant a_l twice)")

    def _kernels(self):
        from . import _sigmoidal_numba as kernels

        layout = self.layout
        objective = (layout.offsets, layout.rows, layout.cols,
                     np.concatenate([U.ravel() for U in self.left]),
                     np.concatenate([[0], np.cumsum(layout.rows**2)]).astype(np.int64),
                     np.concatenate([V.ravel() for V in self.right]),
                     np.concatenate([[0], np.cumsum(layout.cols**2)]).astype(np.int64),
                     np.concatenate([M.ravel() for M in self.target]),
                     self.curvature.copy(),
                     np.concatenate([U.T.ravel() for U in self.left]),
                     np.concatenate([V.T.ravel() for V in self.right]))
        return Kernels.of(kernels, (objective, self.noise.kernel_data()))


def sigmoidal_hetero(scale=10.0, sigma_ratio=0.5, shapes=((16, 16),) * 4, norms="spectral",
                     curvature=(2.0, 1.0, 0.5, 0.25), levels=(0.05, 0.1, 0.2, 0.4), instance_seed=0,
                     init_scale=0.5):
    """The default heterogeneous-noise problem of the main job (rate check of LANTON against
    Scion, D-Muon and Muon): four 16x16 spectral sigmoidal blocks with curvatures
    ``c = (2, 1, 0.5, 0.25)`` and bounded noise ``sigma_hi = scale * (0.05, 0.1, 0.2, 0.4)``,
    ``sigma_lo = sigma_ratio * sigma_hi`` (dual-norm units: nuclear norm). The noisiest
    layer is 8x noisier than the quietest and also the flattest (the gradient's nuclear norm
    at the default init is about ``25 c_l``), so the noise-to-signal ratio spans a factor 64
    across layers: the setting where layerwise rates should help, and where uniform-noise
    accounting (``sigma_max``) is most pessimistic."""
    scale = check_positive(scale, "scale")
    sigma_ratio = check_positive(sigma_ratio, "sigma_ratio")
    if sigma_ratio > 1:
        raise ValueError(f"sigma_ratio: must be <= 1 (sigma_lo <= sigma_hi), got {sigma_ratio}")
    from .noise import bounded

    shapes = check_shapes(shapes)
    hi = scale * per_layer(levels, len(shapes), "levels")
    problem = RotatedSigmoidal(shapes=shapes, norms=norms, curvature=curvature, instance_seed=instance_seed,
                               init_scale=init_scale, noise=bounded(sigma_ratio * hi, hi))
    problem.name = "sigmoidal_hetero"
    return problem


register("sigmoidal", RotatedSigmoidal)
register("sigmoidal_hetero", sigmoidal_hetero)
