"""Family 6: random-feature regression, one layer on features with a controlled spectrum (certified).

Problem
    ``f(X) = 1/(2N) ||X A - Y||_F^2`` over one layer ``X`` (``"W"``, shape ``(d_out, d_in)``),
    with fixed features ``A`` (``d_in x N``) and targets ``Y = X_* A + label_noise * E``
    (teacher ``X_*`` with entries ``N(0, 1/d_in)``, ``E`` standard Gaussian). The spectrum
    of the features is set by ``spectrum``:

    - ``"power"``: ``A = sqrt(N) U_A diag(s) V_A^T`` with ``s_i = i^(-alpha)``,
      ``i = 1..k``, ``k = min(d_in, N)``;
    - ``"spiked"``: the same with ``s_i = spike`` for ``i <= spikes`` and ``s_i = 1`` after;
    - ``"relu"``: ReLU random features ``A = max(W_0 Z, 0)`` of Gaussian inputs ``Z``
      (``input_dim x N``) through a Gaussian first layer ``W_0`` (``d_in x input_dim``,
      entries ``N(0, 1/input_dim)``), whose mean direction gives one dominant singular value.

    ``U_A`` (``d_in x d_in``) is Haar orthogonal and ``V_A`` (``N x k``) a Haar frame, all
    drawn from ``instance_seed``. With the ``sqrt(N)`` scaling, ``s_i^2`` are the eigenvalues
    of the feature second moment ``S = A A^T / N``. This is the one-layer surrogate in which
    the comparison of spectral and Frobenius (Muon and SGD) steps becomes a comparison of
    the stable rank of the activations with the nuclear rank of the gradient.

Algorithm
    ``grad f = (X A - Y) A^T / N`` (``squared_loss_grad``, compiled as is by the numba twin).
    The minibatch oracle (``noise=minibatch(B)``, the default with ``B = min(8, N)``) draws
    ``B`` column indices with replacement (``rng.integers(0, N, B)``) and returns the gradient
    of ``1/(2B) ||X A_b - Y_b||_F^2`` together with the sampled activations ``A_b``
    (``OracleRecord.activations``); any additive noise model of
    ``nalr_theory.problems.noise`` works too (then the activations are all of ``A``).
    Capabilities: ``hvp`` (exact, ``Hess[D] = D S``), ``hess_diag`` (``S_jj`` in every row),
    ``activations`` and ``gnb`` (the squared loss is the negative log-likelihood of a
    unit-variance Gaussian, so ``yhat_b = X a_b + eps_b``, ``eps_b ~ N(0, I)``).

Guarantee
    The objective is quadratic with Hessian ``D -> D S`` everywhere, so every constant is
    certified on the whole space:

    - A1 in the declared norm with dual constant ``a`` (``Norm.constants()[0]``, radius
      included): ``L = a^2 ||S||_2`` (``||D S||_F <= ||D||_F ||S||_2``, then the transfer of
      ``base.frobenius_to_declared``). For a spectral-type norm of radius ``r`` the sharper
      ``L = r^2 (s_1^2 + ... + s_m^2)``, ``m = min(d_out, d_in)``, the sum of the ``m``
      largest eigenvalues of ``S`` (Ky Fan ``m``-norm): ``D S`` has rank ``<= m`` and
      ``sigma_i(D S) <= ||D||_2 sigma_i(S)``, so ``||D S||_* <= ||D||_2 sum_{i<=m} sigma_i(S)``,
      with equality for ``D`` the top ``m`` eigenvectors of ``S`` (tight).
    - Schatten smoothness (``schatten_smoothness(q)``): for ``q in [2, inf]`` and
      ``r = 2q/(q-2)``, Hölder's inequality ``||D A||_F <= ||D||_{S_q} ||A||_{S_r}`` gives
      ``||grad f(X) - grad f(Y)||_{S_q*} <= L_q ||X - Y||_{S_q}`` and
      ``f(X + D) <= f(X) + <grad f(X), D> + L_q/2 ||D||_{S_q}^2`` with
      ``L_q = ||A||_{S_r}^2 / N`` (``q = 2``: ``s_1(A)^2/N``; ``q = inf``: ``||A||_F^2/N``).
    - ``f_inf``: the least-squares optimum ``1/(2N) ||Y (I - A^+ A)||_F^2`` (attained by
      ``minimiser()``), less a rounding margin; 0 when ``label_noise = 0`` or ``N <= d_in``.
    - ``hess_diag`` is exact; ``gnb`` satisfies ``E hhat_ij = (A_b A_b^T)_jj / N_b`` (the
      Gauss-Newton matrix equals the Hessian here) and ``hhat_ij / E hhat_ij`` is chi-square
      with one degree of freedom.

References
    Davis & Drusvyatskiy, "When do spectral gradient updates help in deep learning?",
    arXiv 2512.04299 (random-feature regression; spectral against Euclidean steps);
    Liu et al., "Sophia", arXiv 2305.14342 (the Gauss-Newton-Bartlett estimator);
    Rahimi & Recht (2007) (random features); ``nalr_theory.problems.base`` (capabilities,
    ``frobenius_to_declared``); ``nalr_theory.theory.assumptions`` (A1, A3).
"""

from __future__ import annotations

import math

import numpy as np

from ..geometry.base_norms import SPECTRAL
from ..geometry.by_code import spectrum_norm
from .base import (Certificate, DataProblem, check_norms, check_positive, check_seed, haar_frame, haar_orthogonal,
                   make_layers, register)
from .noise import minibatch

SPECTRA = ("power", "spiked", "relu")


def squared_loss_grad(X, A, Y):
    """``(loss, gradient)`` of ``1/(2n) ||X A - Y||_F^2`` over the ``n`` columns of ``A``:
    the gradient is ``(X A - Y) A^T / n``. Plain NumPy that numba compiles unchanged (the
    twin ``_random_features_numba.loss_grad`` is this very function)."""
    residual = X @ A - Y
    scaled = residual / A.shape[1]
    return 0.5 * np.sum(residual * scaled), scaled @ np.ascontiguousarray(A.T)


class RandomFeatures(DataProblem):
    """Random-feature regression (see the module docstring). Parameters: ``d_out``, ``d_in``,
    ``samples`` (``N``), ``spectrum`` (``"power"``, ``"spiked"`` or ``"relu"``), ``alpha``
    (power-law exponent, ``>= 0``), ``spike`` and ``spikes`` (size and count of the spikes),
    ``input_dim`` (input dimension of the ReLU features), ``label_noise`` (``>= 0``),
    ``norm`` (the layer's declared norm, default ``"spectral"``), ``init_scale`` (initial
    entries ``N(0, init_scale^2 / d_in)``), ``instance_seed`` (draws features, teacher and
    label noise), ``noise`` (default ``minibatch(min(8, N))``; any additive model works)."""

    name = "random_features"
    kernel_module = "._random_features_numba"
    certified = True

    def __init__(self, d_out=4, d_in=6, samples=32, spectrum="power", alpha=1.0, spike=5.0, spikes=1, input_dim=4,
                 label_noise=0.1, norm="spectral", init_scale=1.0, instance_seed=0, noise=None):
        dims = {key: int(check_positive(value, key, integer=True))
                for key, value in dict(d_out=d_out, d_in=d_in, samples=samples, spikes=spikes,
                                       input_dim=input_dim).items()}
        if not isinstance(spectrum, str) or spectrum not in SPECTRA:
            raise ValueError(f"spectrum: expected one of {', '.join(SPECTRA)}, got {spectrum!r}")
        self.alpha = check_positive(alpha, "alpha", allow_zero=True)
        self.spike = check_positive(spike, "spike")
        self.label_noise = check_positive(label_noise, "label_noise", allow_zero=True)
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        instance_seed = check_seed(instance_seed, "instance_seed")
        if isinstance(norm, str):
            norms = check_norms(norm, 1, "norm")
        else:
            raise ValueError(f"norm: expected one norm name, got {norm!r}")
        rank = min(dims["d_in"], dims["samples"])
        if dims["spikes"] > rank:
            raise ValueError(f"spikes: at most min(d_in, samples) = {rank} spikes, got {dims['spikes']}")
        self.samples = dims["samples"]
        self.spectrum = spectrum
        noise = minibatch(min(8, self.samples)) if noise is None else noise
        shape = (dims["d_out"], dims["d_in"])
        try:
            layers = make_layers(["W"], [shape], norms)
        except ValueError as error:
            raise ValueError(f"norm: {str(error).partition(': ')[2]}") from None
        super().__init__(layers, noise,
                         dict(dims, spectrum=spectrum, alpha=self.alpha, spike=self.spike,
                              label_noise=self.label_noise, norm=norms[0], init_scale=self.init_scale,
                              instance_seed=instance_seed, noise=noise))
        rng = np.random.default_rng(instance_seed)
        d, N = dims["d_in"], self.samples
        if spectrum == "relu":
            first = rng.standard_normal((d, dims["input_dim"])) / math.sqrt(dims["input_dim"])
            self.inputs = np.maximum(first @ rng.standard_normal((dims["input_dim"], N)), 0.0)
        else:
            index = np.arange(1, rank + 1, dtype=np.float64)
            if spectrum == "power":
                values = index ** (-self.alpha)
            else:
                values = np.where(index <= dims["spikes"], self.spike, 1.0)
            left = haar_orthogonal(rng, d)[:, :rank]
            right = haar_frame(rng, N, rank)
            self.inputs = math.sqrt(N) * (left * values) @ right.T
        self.teacher = rng.standard_normal(shape) / math.sqrt(d)
        self.targets = self.teacher @ self.inputs + self.label_noise * rng.standard_normal((shape[0], N))
        self.input_moment = self.inputs @ self.inputs.T / N
        self.feature_singular_values = np.linalg.svd(self.inputs, compute_uv=False)
        self._minimiser = np.linalg.lstsq(self.inputs.T, self.targets.T, rcond=None)[0].T
        optimum = float(squared_loss_grad(self._minimiser, self.inputs, self.targets)[0])
        self._f_inf = max(0.0, optimum - 1e-12 * (1.0 + optimum))

    # ---- declarations
    @property
    def dataset_size(self) -> int:
        """Number ``N`` (``samples``) of feature columns the minibatch oracle samples from."""
        return self.samples

    @property
    def f_inf(self) -> float:
        """The least-squares optimum ``min_X f(X)`` less a rounding margin ``1e-12 (1 + f*)``,
        floored at 0: a certified lower bound, attained (up to the margin) by :meth:`minimiser`."""
        return self._f_inf

    def minimiser(self) -> dict:
        """The minimum-norm least-squares solution ``{"W": Y A^+}`` (a global minimiser)."""
        return {"W": self._minimiser.copy()}

    def schatten_smoothness(self, q) -> float:
        """``L_q = ||A||_{S_r}^2 / N`` with ``r = 2q/(q-2)``, for ``q`` in ``[2, inf]``: the
        smoothness constant of ``f`` in the Schatten-``q`` norm (gradient Lipschitz from
        ``S_q`` to its dual ``S_{q/(q-1)}``, and the quadratic upper bound). ``q = 2`` gives
        ``s_1(A)^2 / N`` (Frobenius), ``q = inf`` gives ``||A||_F^2 / N`` (spectral)."""
        if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)) or math.isnan(q) or q < 2:
            raise ValueError(f"q: expected a number in [2, inf], got {q!r}")
        q = float(q)
        r = math.inf if q == 2.0 else (2.0 if math.isinf(q) else 2.0 * q / (q - 2.0))
        return spectrum_norm(self.feature_singular_values, r) ** 2 / self.samples

    # ---- objective
    def _init(self, rng):
        shape = self.layout.shapes[0]
        return {"W": self.init_scale / math.sqrt(shape[1]) * rng.standard_normal(shape)}

    def _f(self, params):
        return squared_loss_grad(params["W"], self.inputs, self.targets)[0]

    def _grad(self, params):
        return {"W": squared_loss_grad(params["W"], self.inputs, self.targets)[1]}

    def _minibatch_sample(self, params, rng, batch_size):
        index = rng.integers(0, self.samples, batch_size)
        features = self.inputs[:, index]
        grads = {"W": squared_loss_grad(params["W"], features, self.targets[:, index])[1]}
        return grads, {"W": features}

    def _minibatch_grad(self, params, rng, batch_size):
        return self._minibatch_sample(params, rng, batch_size)[0]

    def _certificate(self, centre, radius):
        norm = self.layout.norms[0]
        eigenvalues = self.feature_singular_values**2 / self.samples
        a = norm.constants()[0]
        L = a**2 * float(eigenvalues[0])
        notes = "whole space; L = a^2 ||A A^T/N||_2 (Frobenius constant moved to the declared norm)"
        if norm.code == SPECTRAL:
            m = min(norm.shape)
            ky_fan = norm.radius**2 * float(np.sum(eigenvalues[:m]))
            if ky_fan <= L:
                L = ky_fan
                notes = (f"whole space; L = r^2 (sum of the {m} largest eigenvalues of A A^T/N): "
                         "||D S||_* <= ||D||_2 ||S||_(m), tight")
        return Certificate(np.array([[L]]), "whole_space", True, self.layout.norms, notes=notes)

    # ---- capabilities
    def _hvp(self, params, V):
        return {"W": V["W"] @ self.input_moment}

    def _hess_diag(self, params):
        rows = self.layout.shapes[0][0]
        return {"W": np.tile(np.diag(self.input_moment), (rows, 1))}

    def _activations(self, params, batch):
        return {"W": self.inputs.copy() if batch is None else self.inputs[:, batch]}

    def _gnb(self, params, rng, batch_size):
        X = params["W"]
        features = self.inputs if batch_size is None else self.inputs[:, rng.integers(0, self.samples, batch_size)]
        outputs = X @ features
        labels = outputs + rng.standard_normal(outputs.shape)  # yhat_b ~ N(o_b, I): the model's own likelihood
        sampled = squared_loss_grad(X, features, labels)[1]
        return {"W": features.shape[1] * sampled * sampled}


register("random_features", RandomFeatures)
