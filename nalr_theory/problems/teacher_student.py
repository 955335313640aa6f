"""Family 4: teacher-student tanh MLP with minibatch noise (constants estimated, NOT certified).

Problem
    Student ``s(x) = W_3 tanh(W_2 tanh(W_1 x))`` (no biases), inputs ``x ~ N(0, I_d)``
    (a fixed dataset of ``N`` samples), targets from a random teacher of the same form
    (hidden width ``teacher_hidden``, entries ``N(0, 1/fan_in)``):
    ``f(W) = 1/(2N) sum_i ||s(x_i) - y_i||^2``.

Algorithm
    Backpropagation: ``z_1 = W_1 X``, ``a_1 = tanh z_1``, ``z_2 = W_2 a_1``, ``a_2 = tanh z_2``,
    ``E = (W_3 a_2 - Y) / N``; ``grad_3 = E a_2^T``, ``d_2 = (W_3^T E) * (1 - a_2^2)``,
    ``grad_2 = d_2 a_1^T``, ``d_1 = (W_2^T d_2) * (1 - a_1^2)``, ``grad_1 = d_1 X^T``.
    The minibatch oracle (``noise=minibatch(B)``, default ``B = 16``) uses ``B`` indices
    drawn with replacement (``rng.integers(0, N, B)``) and reports ``xi = G_B - grad f``.
    Capability ``activations`` (for activation-aware methods such as
    ``optimizers.schatten_adaptive``): the input of each layer on the samples, ``W1: X``
    (the data, ``input_dim x n``), ``W2: a_1`` and ``W3: a_2`` (``hidden x n``), so that each
    gradient has the form ``grad_l = d_l (A^l)^T`` (``d_3 = E``). Under minibatch noise the
    oracle's record carries them on the drawn batch (the same index draw as the gradient,
    which is unchanged); under an additive noise model, on all ``N`` samples.
    Capability ``gnb`` (Sophia-G's Gauss-Newton-Bartlett estimate): the squared loss is the
    negative log-likelihood of a unit-variance Gaussian, so on ``N_b`` samples (all, or
    ``batch_size`` indices drawn with replacement as ``rng.integers(0, N, N_b)``) the labels
    are resampled as ``Yhat = s(X_b) + Z`` (``Z`` standard Gaussian), ``ghat`` is the gradient
    of ``1/(2 N_b) ||s(X_b) - Yhat||_F^2`` and ``hhat = N_b ghat * ghat``.

Guarantee
    ``f_inf = 0`` (a sum of squares). The coupling matrix is **estimated, not certified**:
    ``certificate()`` returns ``certified=False`` and finite-difference probe estimates of
    ``L[l, j]`` around the centre; A1 is not guaranteed. The minibatch noise is unbiased
    (``E xi = 0`` over the index draw); its size is estimated by ``noise_level`` (no
    ``sigma_lo``/``sigma_hi``).
    ``gnb`` is unbiased for the Gauss-Newton diagonal ``diag(J^T J) / N_b`` (``J`` the
    Jacobian of the ``N_b`` outputs in the weights): ``ghat = -J^T z / N_b`` is Gaussian, so
    ``hhat_ij / E hhat_ij`` is chi-square with one degree of freedom.

References
    Saad & Solla (1995) (soft committee / teacher-student setting);
    ``nalr_theory.problems.smoothness`` (``estimated_certificate``, ``noise_level``);
    Liu et al., "Sophia", arXiv 2305.14342 (the Gauss-Newton-Bartlett estimator);
    ``nalr_theory.optimizers.schatten_adaptive`` (the consumer of ``activations``).
"""

from __future__ import annotations

import numpy as np

from .base import (DataProblem, check_norms, check_positive, check_seed, make_layers, per_layer,
                   register)
from .noise import minibatch


def mlp_loss_grad(W1, W2, W3, X, Y):
    """``(loss, (grad_1, grad_2, grad_3))`` of ``1/(2n) ||W_3 tanh(W_2 tanh(W_1 X)) - Y||_F^2``
    on the ``n`` columns of ``X``."""
    a1 = np.tanh(W1 @ X)
    a2 = np.tanh(W2 @ a1)
    residual = W3 @ a2 - Y
    E = residual / X.shape[1]
    d2 = (W3.T @ E) * (1 - a2**2)
    d1 = (W2.T @ d2) * (1 - a1**2)
    return 0.5 * np.sum(residual * E), (d1 @ X.T, d2 @ a1.T, E @ a2.T)


def mlp_inputs(W1, W2, X):
    """The input of each layer of ``W_3 tanh(W_2 tanh(W_1 X))`` on the columns of ``X``:
    ``(X, a_1, a_2)`` with ``a_1 = tanh(W_1 X)``, ``a_2 = tanh(W_2 a_1)`` (computed exactly as
    in :func:`mlp_loss_grad`, so bit for bit the matrices its gradients are built from)."""
    a1 = np.tanh(W1 @ X)
    return X, a1, np.tanh(W2 @ a1)


class TeacherStudent(DataProblem):
    """Teacher-student MLP. Parameters: ``input_dim``, ``hidden``, ``output_dim``,
    ``teacher_hidden``, ``samples`` (``N``), ``norms``, ``init_scale`` (entries
    ``N(0, init_scale^2 / fan_in)``), ``ball_radius`` (probe region of the estimate),
    ``instance_seed``, ``noise`` (default ``minibatch(16)``; any additive model also works,
    on top of the full-batch gradient)."""

    name = "teacher_student"
    kernel_module = "._teacher_student_numba"
    certified = False

    def __init__(self, input_dim=8, hidden=16, output_dim=2, teacher_hidden=8, samples=256, norms="spectral",
                 init_scale=1.0, ball_radius=0.5, instance_seed=0, noise=None):
        dims = {}
        for key, value in dict(input_dim=input_dim, hidden=hidden, output_dim=output_dim,
                               teacher_hidden=teacher_hidden, samples=samples).items():
            dims[key] = int(check_positive(value, key, integer=True))
        shapes = [(dims["hidden"], dims["input_dim"]), (dims["hidden"], dims["hidden"]),
                  (dims["output_dim"], dims["hidden"])]
        norms = check_norms(norms, 3)
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        self.ball_radius = per_layer(ball_radius, 3, "ball_radius")
        instance_seed = check_seed(instance_seed, "instance_seed")
        self.samples = dims["samples"]
        noise = minibatch(16) if noise is None else noise
        super().__init__(make_layers(["W1", "W2", "W3"], shapes, norms), noise,
                         dict(dims, norms=norms, init_scale=init_scale, ball_radius=self.ball_radius,
                              instance_seed=instance_seed, noise=noise))
        rng = np.random.default_rng(instance_seed)
        d, k, ht = dims["input_dim"], dims["output_dim"], dims["teacher_hidden"]
        self.inputs = rng.standard_normal((d, self.samples))
        teacher = [rng.standard_normal(shape) / np.sqrt(shape[1]) for shape in ((ht, d), (ht, ht), (k, ht))]
        self.targets = teacher[2] @ np.tanh(teacher[1] @ np.tanh(teacher[0] @ self.inputs))

    @property
    def dataset_size(self) -> int:
        """Number ``N`` (``samples``) of ``(x, y)`` pairs in the fixed dataset."""
        return self.samples

    def _init(self, rng):
        return {name: self.init_scale / np.sqrt(shape[1]) * rng.standard_normal(shape)
                for name, shape in zip(self.names, self.layout.shapes)}

    def _f(self, params):
        return mlp_loss_grad(params["W1"], params["W2"], params["W3"], self.inputs, self.targets)[0]

    def _grad(self, params):
        grads = mlp_loss_grad(params["W1"], params["W2"], params["W3"], self.inputs, self.targets)[1]
        return dict(zip(self.names, grads))

    def _minibatch_grad(self, params, rng, batch_size):
        index = rng.integers(0, self.samples, batch_size)
        grads = mlp_loss_grad(params["W1"], params["W2"], params["W3"], self.inputs[:, index], self.targets[:, index])[1]
        return dict(zip(self.names, grads))

    def _minibatch_sample(self, params, rng, batch_size):
        index = rng.integers(0, self.samples, batch_size)  # the draw of ``_minibatch_grad``
        inputs = self.inputs[:, index]
        grads = mlp_loss_grad(params["W1"], params["W2"], params["W3"], inputs, self.targets[:, index])[1]
        return dict(zip(self.names, grads)), dict(zip(self.names, mlp_inputs(params["W1"], params["W2"], inputs)))

    def _activations(self, params, batch):
        inputs = self.inputs.copy() if batch is None else self.inputs[:, batch]
        return dict(zip(self.names, mlp_inputs(params["W1"], params["W2"], inputs)))

    def _gnb(self, params, rng, batch_size):
        W1, W2, W3 = params["W1"], params["W2"], params["W3"]
        inputs = self.inputs if batch_size is None else self.inputs[:, rng.integers(0, self.samples, batch_size)]
        outputs = W3 @ mlp_inputs(W1, W2, inputs)[2]
        labels = outputs + rng.standard_normal(outputs.shape)  # Yhat ~ N(s(X_b), I): the model's likelihood
        sampled = mlp_loss_grad(W1, W2, W3, inputs, labels)[1]
        return {name: inputs.shape[1] * g * g for name, g in zip(self.names, sampled)}


register("teacher_student", TeacherStudent)
