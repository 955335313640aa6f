"""Family 5: token model (embedding and head in the ``sign`` geometry, hidden layers spectral).

Problem
    Next-token prediction on synthetic token sequences from a Markov chain over a vocabulary
    of ``V`` tokens (each token has a preferred successor taken with probability ``peak``,
    the others share ``1 - peak``). With embedding ``E`` (``d x V``), hidden layers ``W_k``
    (``d x d``) and head ``H`` (``V x d``): ``h_0 = E[:, x]``, ``h_k = tanh(W_k h_{k-1})``,
    ``logits = H h_K`` and ``f = mean over the N (x, y) pairs of the dataset of
    -log softmax(logits)_y``. As in the LANTON paper's transformer setting (after Scion),
    the embedding and head use the l1->linf geometry (``sign`` preset, sign LMO) and the
    hidden layers the spectral geometry.

Algorithm
    Backpropagation through the softmax: ``dlogits = (softmax - onehot(y)) / n``,
    ``grad_H = dlogits h_K^T``; ``dz_k = dh_k * (1 - h_k^2)``, ``grad_W_k = dz_k h_{k-1}^T``,
    ``dh_{k-1} = W_k^T dz_k``; ``grad_E[:, x_b] += dh_0[:, b]``. The minibatch oracle
    (default ``minibatch(32)``) draws ``B`` pair indices with replacement.
    Capability ``activations`` (for activation-aware methods such as
    ``optimizers.schatten_adaptive``), the input of each layer on the pairs:
    ``embed: onehot(x)`` (``V x n``, column ``b`` the unit vector of token ``x_b``, since
    ``h_0 = E[:, x] = E onehot(x)``), ``hidden_k: h_{k-1}`` and ``head: h_K`` (``d x n``); each
    gradient has the form ``R^l (A^l)^T`` (``grad_E = dh_0 onehot(x)^T``). Under minibatch
    noise the oracle's record carries them on the drawn pairs (the same index draw as the
    gradient, which is unchanged); under an additive noise model, on all ``N`` pairs.

Guarantee
    ``f_inf`` = the empirical conditional entropy ``H(y | x)`` of the dataset's pairs: a
    certified lower bound for any predictor that sees only the current token (this model).
    ``L`` is not certified (``certified = False``; ``certificate()`` returns probe
    estimates). The default configuration (``V = d = 16``, two hidden layers, 512 pairs)
    starts at loss ``~ log 16 = 2.77`` with ``f_inf ~ 0.5``: LANTON and D-Muon halve the
    loss within 2,000 steps (checked by the project's test suite), in seconds.

References
    Hao et al. 2025 (arXiv 2510.14009); Pethick et al. 2025 (Scion);
    ``nalr_theory.geometry.presets`` (the ``sign`` preset);
    ``nalr_theory.optimizers.schatten_adaptive`` (the consumer of ``activations``).
"""

from __future__ import annotations

import numpy as np

from .base import (DataProblem, check_norms, check_positive, check_seed, make_layers, per_layer,
                   register)
from .noise import minibatch


def token_loss_grad(E, hidden, H, inputs, targets):
    """``(loss, grad_E, [grad_W_k], grad_H)`` of the mean cross-entropy on the given pairs."""
    states = [E[:, inputs]]
    for W in hidden:
        states.append(np.tanh(W @ states[-1]))
    logits = H @ states[-1]
    shifted = logits - logits.max(axis=0)
    log_normaliser = np.log(np.exp(shifted).sum(axis=0))
    columns = np.arange(inputs.size)
    loss = np.mean(log_normaliser - shifted[targets, columns])
    dlogits = np.exp(shifted - log_normaliser)
    dlogits[targets, columns] -= 1.0
    dlogits /= inputs.size
    grad_H = dlogits @ states[-1].T
    upstream = H.T @ dlogits
    grad_hidden = [None] * len(hidden)
    for k in range(len(hidden) - 1, -1, -1):
        dz = upstream * (1 - states[k + 1] ** 2)
        grad_hidden[k] = dz @ states[k].T
        upstream = hidden[k].T @ dz
    grad_E = np.zeros_like(E)
    np.add.at(grad_E.T, inputs, upstream.T)
    return loss, grad_E, grad_hidden, grad_H


def token_inputs(E, hidden, inputs):
    """The input of each layer on the tokens ``inputs``: ``[onehot, h_0, ..., h_K]`` with
    ``onehot`` of shape ``(V, n)`` (``V`` the columns of ``E``; the embedding's input) and the
    hidden states ``h_k`` (``d x n``) computed exactly as in :func:`token_loss_grad`; layer
    ``hidden_k`` reads ``h_{k-1}`` and the head reads ``h_K`` (the last)."""
    onehot = np.zeros((E.shape[1], inputs.size))
    onehot[inputs, np.arange(inputs.size)] = 1.0
    states = [E[:, inputs]]
    for W in hidden:
        states.append(np.tanh(W @ states[-1]))
    return [onehot] + states


def markov_pairs(rng, vocab, peak, sequences, length):
    """``(inputs, targets)`` of consecutive tokens of ``sequences`` Markov sequences."""
    successor = rng.permutation(vocab)
    transition = np.full((vocab, vocab), (1 - peak) / (vocab - 1))
    transition[np.arange(vocab), successor] = peak
    cumulative = np.cumsum(transition, axis=1)
    tokens = np.empty((sequences, length), dtype=np.int64)
    tokens[:, 0] = rng.integers(0, vocab, sequences)
    for position in range(1, length):
        uniform = rng.random(sequences)
        rows = cumulative[tokens[:, position - 1]]
        tokens[:, position] = np.minimum((rows < uniform[:, None]).sum(axis=1), vocab - 1)
    return tokens[:, :-1].ravel().copy(), tokens[:, 1:].ravel().copy()


class TokenModel(DataProblem):
    """Token model. Parameters: ``vocab`` (``V``), ``width`` (``d``), ``hidden_layers``,
    ``sequences``, ``sequence_length``, ``peak``, ``embed_norm``/``head_norm`` (default
    ``"sign"``), ``hidden_norm`` (default ``"spectral"``), ``init_scale`` (hidden and head
    entries ``N(0, init_scale^2 / d)``; embedding ``N(0, 1)``), ``ball_radius`` (probe region
    of the estimated ``L``), ``instance_seed``, ``noise`` (default ``minibatch(32)``)."""

    name = "token_model"
    kernel_module = "._token_model_numba"
    certified = False

    def __init__(self, vocab=16, width=16, hidden_layers=2, sequences=16, sequence_length=33, peak=0.9,
                 embed_norm="sign", hidden_norm="spectral", head_norm="sign", init_scale=1.0, ball_radius=0.5,
                 instance_seed=0, noise=None):
        vocab = int(check_positive(vocab, "vocab", integer=True))
        if vocab < 2:
            raise ValueError(f"vocab: need at least 2 tokens, got {vocab}")
        width = int(check_positive(width, "width", integer=True))
        hidden_layers = int(check_positive(hidden_layers, "hidden_layers", integer=True, allow_zero=True))
        sequences = int(check_positive(sequences, "sequences", integer=True))
        sequence_length = int(check_positive(sequence_length, "sequence_length", integer=True))
        if sequence_length < 2:
            raise ValueError(f"sequence_length: need at least 2 tokens per sequence, got {sequence_length}")
        peak = check_positive(peak, "peak")
        if peak >= 1:
            raise ValueError(f"peak: must be in (0, 1), got {peak}")
        self.init_scale = check_positive(init_scale, "init_scale", allow_zero=True)
        names = ["embed"] + [f"hidden{k + 1}" for k in range(hidden_layers)] + ["head"]
        shapes = [(width, vocab)] + [(width, width)] * hidden_layers + [(vocab, width)]
        norms = (check_norms(embed_norm, 1, "embed_norm") + check_norms(hidden_norm, hidden_layers, "hidden_norm")
                 + check_norms(head_norm, 1, "head_norm"))
        self.ball_radius = per_layer(ball_radius, len(shapes), "ball_radius")
        instance_seed = check_seed(instance_seed, "instance_seed")
        noise = minibatch(32) if noise is None else noise
        self.inputs, self.targets = markov_pairs(np.random.default_rng(instance_seed), vocab, peak, sequences,
                                                 sequence_length)
        super().__init__(make_layers(names, shapes, norms), noise,
                         dict(vocab=vocab, width=width, hidden_layers=hidden_layers, sequences=sequences,
                              sequence_length=sequence_length, peak=peak, embed_norm=embed_norm,
                              hidden_norm=hidden_norm, head_norm=head_norm, init_scale=init_scale,
                              ball_radius=self.ball_radius, instance_seed=instance_seed, noise=noise))
        self.vocab = vocab

    @property
    def dataset_size(self) -> int:
        """Number ``N`` of ``(x, y)`` pairs: ``sequences * (sequence_length - 1)``."""
        return self.inputs.size

    @property
    def f_inf(self) -> float:
        """Empirical conditional entropy ``-(1/N) sum_(x,y) c(x,y) log(c(x,y) / c(x))`` in nats (``c``
        the pair counts, ``c(x)`` their row sums): a lower bound on the mean cross-entropy of any
        predictor that sees only the current token. Recomputed at each access.
        """
        counts = np.zeros((self.vocab, self.vocab))
        np.add.at(counts, (self.inputs, self.targets), 1.0)
        totals = counts.sum(axis=1, keepdims=True)
        seen = counts > 0
        return float(-np.sum(counts[seen] * np.log((counts / np.where(totals > 0, totals, 1.0))[seen])) / self.inputs.size)

    def _init(self, rng):
        params = {}
        for name, (m, n) in zip(self.names, self.layout.shapes):
            scale = 1.0 if name == "embed" else self.init_scale / np.sqrt(n)
            params[name] = scale * rng.standard_normal((m, n))
        return params

    def _split(self, params):
        return params["embed"], [params[name] for name in self.names[1:-1]], params["head"]

    def _pack(self, result):
        _, grad_E, grad_hidden, grad_H = result
        return dict(zip(self.names, [grad_E, *grad_hidden, grad_H]))

    def _f(self, params):
        return token_loss_grad(*self._split(params), self.inputs, self.targets)[0]

    def _grad(self, params):
        return self._pack(token_loss_grad(*self._split(params), self.inputs, self.targets))

    def _minibatch_grad(self, params, rng, batch_size):
        index = rng.integers(0, self.inputs.size, batch_size)
        return self._pack(token_loss_grad(*self._split(params), self.inputs[index], self.targets[index]))

    def _minibatch_sample(self, params, rng, batch_size):
        index = rng.integers(0, self.inputs.size, batch_size)  # the draw of ``_minibatch_grad``
        split = self._split(params)
        grads = self._pack(token_loss_grad(*split, self.inputs[index], self.targets[index]))
        return grads, self._layer_inputs(split, self.inputs[index])

    def _activations(self, params, batch):
        return self._layer_inputs(self._split(params), self.inputs if batch is None else self.inputs[batch])

    def _layer_inputs(self, split, tokens):
        E, hidden, _ = split
        onehot, *states = token_inputs(E, hidden, tokens)
        return dict(zip(self.names, [onehot, *states]))


register("token_model", TokenModel)
