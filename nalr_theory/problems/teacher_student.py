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

Guarantee
    ``f_inf = 0`` (a sum of squares). The coupling matrix is **estimated, not certified**:
    ``certificate()`` returns ``certified=False`` and finite-difference probe estimates of
    ``L[l, j]`` around the centre; A1 is not guaranteed. The minibatch noise is unbiased
    (``E xi = 0`` over the index draw); its size is estimated by ``noise_level`` (no
    ``sigma_lo``/``sigma_hi``).

References
    Saad & Solla (1995) (soft committee / teacher-student setting);
    ``nalr_theory.problems.smoothness`` (``estimated_certificate``, ``noise_level``).
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


register("teacher_student", TeacherStudent)
