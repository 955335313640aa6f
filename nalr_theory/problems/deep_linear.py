"""Family 3: deep linear network (layered coupling; constants on a ball, plus the local estimate).

Problem
    ``f(W_1..W_p) = 1/(2N) ||W_p ... W_1 A - Y||_F^2`` with inputs ``A`` (``d_0 x N``, standard
    Gaussian), targets ``Y = T A + label_noise * E`` from a Gaussian teacher ``T``
    (``d_p x d_0``, entries ``N(0, 1/d_0)``); ``W_i`` has shape ``(d_i, d_{i-1})``.

Algorithm
    With ``P_i = W_i ... W_1`` (``P_0 = I``), ``Q_i = W_p ... W_{i+1}`` (``Q_p = I``),
    ``S = A A^T / N``, ``C = Y A^T / N`` and ``W = P_p``:
    ``grad_i f = Q_i^T (W S - C) P_{i-1}^T``.
    Capability ``activations`` (for activation-aware methods such as
    ``optimizers.schatten_adaptive``): layer ``i`` is used as ``W_i A^i`` with
    ``A^i = P_{i-1} A = W_{i-1} ... W_1 A`` (``d_{i-1} x N``, the data itself for ``W_1``),
    its input on the data; ``grad_i f = (Q_i^T (P_p A - Y) / N) (A^i)^T`` has that form. The
    oracle's records carry ``A^i`` on all ``N`` samples (the noise models are additive);
    ``activations(params, batch)`` selects columns.
    Capability ``gnb`` (Sophia-G's Gauss-Newton-Bartlett estimate): the squared loss is the
    negative log-likelihood of a unit-variance Gaussian, so on ``N_b`` columns ``A_b`` (all,
    or ``batch_size`` indices drawn with replacement as ``rng.integers(0, N, N_b)``) the labels
    are resampled as ``Yhat = P_p A_b + Z`` (``Z`` standard Gaussian, ``d_p x N_b``), ``ghat``
    is the gradient of ``1/(2 N_b) ||P_p A_b - Yhat||_F^2`` and ``hhat = N_b ghat * ghat``.

Guarantee
    ``f_inf`` = the least-squares residual ``min_W 1/(2N) ||W A - Y||_F^2`` (a certified lower
    bound: the product ranges over a subset of all ``W``; attained when the network is wide
    enough and ``label_noise = 0``, where it is 0). On the ball ``||W_i - C_i||_i <= R_i``,
    ``||W_i||_2 <= rho_i`` (``base.ball_spectral_bounds``), ``pi = prod_i rho_i``; changing one
    layer at a time (every hybrid point stays in the ball) and ``||A B C||_F <=
    ||A||_2 ||B||_F ||C||_2`` give, in Frobenius norms,
    ``LF[i, i] = ||S||_2 pi^2 / rho_i^2`` and
    ``LF[i, j] = (2 ||S||_2 pi + ||C||_2) pi / (rho_i rho_j)`` for ``j != i`` (``W_j`` appears
    twice in ``Q_i^T W S P_{i-1}^T`` and once in ``Q_i^T C P_{i-1}^T``); in the declared norms
    ``L = a LF a`` (``base.frobenius_to_declared``). Loose by design (worst case over the
    ball); ``local_smoothness`` shows by how much.
    ``gnb`` is unbiased for the Gauss-Newton diagonal ``diag(J^T J) / N_b`` (``J`` the
    Jacobian of the ``N_b`` outputs): ``ghat = -J^T z / N_b`` is Gaussian, so
    ``hhat_ij / E hhat_ij`` is chi-square with one degree of freedom; for layer ``i``,
    ``E hhat_i[j, k] = ||Q_i[:, j]||^2 sum_b A^i[k, b]^2 / N_b`` (``A^i`` on the ``N_b`` columns).

References
    Saxe et al. (2014); Arora et al. (2019); ``nalr_theory.theory.assumptions`` (A1, A3);
    Liu et al., "Sophia", arXiv 2305.14342 (the Gauss-Newton-Bartlett estimator);
    ``nalr_theory.optimizers.schatten_adaptive`` (the consumer of ``activations``).
"""

from __future__ import annotations

import numpy as np

from .base import (Certificate, Kernels, Problem, ball_spectral_bounds, check_norms, check_positive,
                   check_seed, frobenius_to_declared, make_layers, per_layer, register)


class DeepLinear(Problem):
    """Deep linear network. Parameters: ``widths`` (``d_0, ..., d_p``), ``samples`` (``N``),
    ``norms``, ``label_noise``, ``init_scale`` (``W_i`` entries ``N(0, init_scale^2 / d_{i-1})``),
    ``ball_radius`` (default certified ball around the origin), ``instance_seed``, ``noise``."""

    name = "deep_linear"
    certified = True

    def __init__(self, widths=(8, 8, 8, 8), samples=64, norms="spectral", label_noise=0.0, init_scale=1.0,
                 ball_radius=1.5, instance_seed=0, noise=None):
        try:
            widths = tuple(int(w) for w in widths)
        except (TypeError, ValueError):
            raise ValueError(f"widths: expected a sequence of positive integers, got {widths!r}") from None
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths: need at least two positive widths (d_0, d_1, ...), got {widths!r}")
        samples = int(check_positive(samples, "samples", integer=True))
        shapes = [(widths[i + 1], widths[i]) for i in range(len(widths) - 1)]
        norms = check_norms(norms, len(shapes))
        self.label_noise = check_positive(label_noise, "label_noise", allow_zero=True)
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        self.ball_radius = per_layer(ball_radius, len(shapes), "ball_radius")
        instance_seed = check_seed(instance_seed, "instance_seed")
        super().__init__(make_layers([f"W{i + 1}" for i in range(len(shapes))], shapes, norms), noise,
                         dict(widths=widths, samples=samples, norms=norms, label_noise=label_noise,
                              init_scale=init_scale, ball_radius=self.ball_radius, instance_seed=instance_seed,
                              noise=noise))
        rng = np.random.default_rng(instance_seed)
        self.inputs = rng.standard_normal((widths[0], samples))
        teacher = rng.standard_normal((widths[-1], widths[0])) / np.sqrt(widths[0])
        self.targets = teacher @ self.inputs + self.label_noise * rng.standard_normal((widths[-1], samples))
        self.input_moment = self.inputs @ self.inputs.T / samples
        self.cross_moment = self.targets @ self.inputs.T / samples

    @property
    def dataset_size(self) -> int:
        """Number ``N`` (``samples``) of input columns (the columns ``activations`` selects from)."""
        return self.inputs.shape[1]

    @property
    def f_inf(self) -> float:
        """Least-squares residual ``min_W 1/(2N) ||W A - Y||_F^2`` (``numpy.linalg.lstsq``) minus ``1e-12``,
        floored at 0: a lower bound on ``f``, since ``W_p ... W_1`` ranges over a subset of all ``W``.
        Recomputed at each access.
        """
        solution = np.linalg.lstsq(self.inputs.T, self.targets.T, rcond=None)[0].T
        residual = solution @ self.inputs - self.targets
        return float(max(0.0, 0.5 * np.sum(residual**2) / self.inputs.shape[1] - 1e-12))

    def _init(self, rng):
        return {name: self.init_scale / np.sqrt(shape[1]) * rng.standard_normal(shape)
                for name, shape in zip(self.names, self.layout.shapes)}

    def _f(self, params):
        product = self.inputs
        for name in self.names:
            product = params[name] @ product
        return 0.5 * np.sum((product - self.targets) ** 2) / self.inputs.shape[1]

    def _grad(self, params):
        weights = [params[name] for name in self.names]
        prefix = [np.eye(self.inputs.shape[0])]  # prefix[i] = W_i ... W_1
        for W in weights:
            prefix.append(W @ prefix[-1])
        suffix = [np.eye(weights[-1].shape[0])]  # built backwards: Q_p = I, Q_{i-1} = Q_i W_i
        for W in reversed(weights[1:]):
            suffix.insert(0, suffix[0] @ W)
        error = prefix[-1] @ self.input_moment - self.cross_moment
        return {name: suffix[i].T @ error @ prefix[i].T for i, name in enumerate(self.names)}

    def _activations(self, params, batch):
        current = self.inputs if batch is None else self.inputs[:, batch]
        activations = {}
        for name in self.names:
            activations[name] = current.copy() if current is self.inputs else current
            current = params[name] @ current
        return activations

    def _gnb(self, params, rng, batch_size):
        features = self.inputs
        if batch_size is not None:  # drawn as a minibatch oracle draws its indices
            features = self.inputs[:, rng.integers(0, self.inputs.shape[1], batch_size)]
        inputs = [features]
        for name in self.names:
            inputs.append(params[name] @ inputs[-1])
        outputs = inputs.pop()
        labels = outputs + rng.standard_normal(outputs.shape)  # Yhat ~ N(outputs, I): the model's likelihood
        count = features.shape[1]
        upstream = (outputs - labels) / count
        estimate = {}
        for index in range(len(self.names) - 1, -1, -1):
            name = self.names[index]
            sampled = upstream @ inputs[index].T
            estimate[name] = count * sampled * sampled
            upstream = params[name].T @ upstream
        return {name: estimate[name] for name in self.names}

    def _certificate(self, centre, radius):
        radius = self.ball_radius if radius is None else radius
        rho = ball_spectral_bounds(self.layout, centre, radius)
        total = np.prod(rho)
        S = np.linalg.norm(self.input_moment, 2)
        C = np.linalg.norm(self.cross_moment, 2)
        L_frobenius = (2 * S * total + C) * total / np.outer(rho, rho)
        np.fill_diagonal(L_frobenius, S * total**2 / rho**2)
        centre = centre if centre is None else {k: v.copy() for k, v in centre.items()}
        return Certificate(frobenius_to_declared(L_frobenius, self.layout.norms), "ball", True, self.layout.norms,
                           centre=centre, radius=radius.copy(),
                           notes="ball ||W_i - centre_i||_i <= radius[i] (centre None = origin)")

    def _kernels(self):
        from . import _deep_linear_numba as kernels

        layout = self.layout
        objective = (layout.offsets, layout.rows, layout.cols, self.inputs.copy(), self.targets.copy(),
                     self.input_moment.copy(), self.cross_moment.copy())
        return Kernels.of(kernels, (objective, self.noise.kernel_data()))


register("deep_linear", DeepLinear)
