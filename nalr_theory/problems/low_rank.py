"""Family 2: low-rank factorisation (certified on a ball, coupled ``L``).

Problem
    ``f(U_1, V_1, ..., U_K, V_K) = sum_k 1/4 ||U_k V_k^T - M_k||_F^2`` with ``U_k`` of shape
    ``(m_k, r_k)``, ``V_k`` of shape ``(n_k, r_k)`` and a rank-``r_k`` target
    ``M_k = A_k B_k^T`` (Gaussian factors, entries of ``M_k`` of variance ``target_scale^2``).
    Layers are ordered ``U1, V1, U2, V2, ...``.

Algorithm
    ``R = U V^T - M``; ``grad_U f = R V / 2``, ``grad_V f = R^T U / 2``.
    Capability ``activations`` (the input matrix of each layer, for activation-aware methods
    such as ``optimizers.schatten_adaptive``): ``U`` is used as ``U A`` with ``A = V^T``
    (``r x n``: the pair's output ``U V^T`` has the ``n`` columns of ``M`` as its samples)
    and ``V``, through ``(U V^T)^T = V U^T``, as ``V A`` with ``A = U^T`` (``r x m``), so
    ``activations = {U_k: V_k^T, V_k: U_k^T}``; the gradients have the form ``R^l (A^l)^T``
    (``grad_U = (R/2) (V^T)^T``, ``grad_V = (R^T/2) (U^T)^T``). There is no data set to sample
    (``batch`` must be ``None``), and the oracle's records carry these matrices at the
    point, whatever the (additive) noise model.

Guarantee
    ``f_inf = 0`` (attained: ``rank M_k = r_k``). On the ball ``||X^l - C^l||_l <= R_l``
    every factor has ``||X^l||_2 <= rho_l = ||C^l||_2 + s_l R_l`` (``base.ball_spectral_bounds``).
    From ``dgrad_U = (R_X dV + dU V_X^T V_Y + U_Y dV^T V_Y) / 2`` and
    ``||R_X||_2 <= rho_U rho_V + ||M||_2``, in Frobenius norms
    ``LF[U,U] = rho_V^2 / 2``, ``LF[V,V] = rho_U^2 / 2``,
    ``LF[U,V] = LF[V,U] = (2 rho_U rho_V + ||M||_2) / 2``, zero across pairs; in the
    declared norms ``L = a LF a`` (``base.frobenius_to_declared``). The off-diagonal
    entries exercise the coupled form of A1.

References
    Burer & Monteiro (2003); ``nalr_theory.theory.assumptions`` (A1);
    ``nalr_theory.optimizers.schatten_adaptive`` (the consumer of ``activations``).
"""

from __future__ import annotations

import numpy as np

from .base import (Certificate, Kernels, Problem, ball_spectral_bounds, check_norms, check_positive,
                   check_seed, frobenius_to_declared, make_layers, per_layer, register)


class LowRank(Problem):
    """Low-rank factorisation. Parameters: ``pairs`` (``(m, n, rank)`` per factor pair),
    ``norms`` (one name or one per layer), ``target_scale``, ``init_scale`` (initial
    entries ``N(0, init_scale^2)``), ``ball_radius`` (default certified ball around the
    origin, per layer in declared norms), ``instance_seed``, ``noise``."""

    name = "low_rank"
    certified = True

    def __init__(self, pairs=((12, 10, 3), (10, 8, 2)), norms="spectral", target_scale=1.0, init_scale=0.3,
                 ball_radius=3.0, instance_seed=0, noise=None):
        try:
            pairs = tuple(tuple(int(v) for v in pair) for pair in pairs)
        except (TypeError, ValueError):
            raise ValueError(f"pairs: expected a sequence of (m, n, rank) triples, got {pairs!r}") from None
        if not pairs or any(len(pair) != 3 or min(pair) < 1 for pair in pairs):
            raise ValueError(f"pairs: each pair must be three positive integers (m, n, rank), got {pairs!r}")
        shapes, names = [], []
        for index, (m, n, rank) in enumerate(pairs):
            shapes += [(m, rank), (n, rank)]
            names += [f"U{index + 1}", f"V{index + 1}"]
        norms = check_norms(norms, len(shapes))
        self.target_scale = check_positive(target_scale, "target_scale")
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        self.ball_radius = per_layer(ball_radius, len(shapes), "ball_radius")
        instance_seed = check_seed(instance_seed, "instance_seed")
        super().__init__(make_layers(names, shapes, norms), noise,
                         dict(pairs=pairs, norms=norms, target_scale=target_scale, init_scale=init_scale,
                              ball_radius=self.ball_radius, instance_seed=instance_seed, noise=noise))
        self.pairs = pairs
        rng = np.random.default_rng(instance_seed)
        factor = self.target_scale / np.sqrt(np.sqrt([rank for _, _, rank in pairs]))
        self.target = [f * rng.standard_normal((m, r)) @ (f * rng.standard_normal((n, r))).T
                       for f, (m, n, r) in zip(factor, pairs)]

    def _init(self, rng):
        return {name: self.init_scale * rng.standard_normal(shape)
                for name, shape in zip(self.names, self.layout.shapes)}

    def _factors(self, params):
        for k, M in enumerate(self.target):
            yield f"U{k + 1}", f"V{k + 1}", M

    def _f(self, params):
        return sum(0.25 * np.sum((params[u] @ params[v].T - M) ** 2) for u, v, M in self._factors(params))

    def _grad(self, params):
        grads = {}
        for u, v, M in self._factors(params):
            R = params[u] @ params[v].T - M
            grads[u] = 0.5 * R @ params[v]
            grads[v] = 0.5 * R.T @ params[u]
        return grads

    def activations(self, params, batch=None) -> dict:
        """Input matrix of each factor, ``{U_k: V_k^T, V_k: U_k^T}`` (see the module docstring);
        ``batch`` must be ``None`` (``ValueError`` naming ``batch`` otherwise): the
        factorisation has no samples to select."""
        if batch is not None and "activations" in self.capabilities:
            raise ValueError(f"batch: problem {self.name!r} has no data set to select samples from; "
                             "pass batch=None")
        return super().activations(params, batch)

    def _activations(self, params, batch):
        activations = {}
        for u, v, _ in self._factors(params):
            activations[u] = params[v].T.copy()
            activations[v] = params[u].T.copy()
        return activations

    def _certificate(self, centre, radius):
        radius = self.ball_radius if radius is None else radius
        rho = ball_spectral_bounds(self.layout, centre, radius)
        L_frobenius = np.zeros((len(rho), len(rho)))
        for k, M in enumerate(self.target):
            u, v = 2 * k, 2 * k + 1
            L_frobenius[u, u] = rho[v] ** 2 / 2
            L_frobenius[v, v] = rho[u] ** 2 / 2
            L_frobenius[u, v] = L_frobenius[v, u] = (2 * rho[u] * rho[v] + np.linalg.norm(M, 2)) / 2
        centre = centre if centre is None else {k: v.copy() for k, v in centre.items()}
        return Certificate(frobenius_to_declared(L_frobenius, self.layout.norms), "ball", True, self.layout.norms,
                           centre=centre, radius=radius.copy(),
                           notes="ball ||X^l - centre^l||_l <= radius[l] (centre None = origin)")

    def _kernels(self):
        from . import _low_rank_numba as kernels

        layout = self.layout
        sizes = np.array([M.size for M in self.target])
        objective = (layout.offsets, layout.rows, layout.cols,
                     np.concatenate([M.ravel() for M in self.target]),
                     np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
        return Kernels.of(kernels, (objective, self.noise.kernel_data()))


register("low_rank", LowRank)
