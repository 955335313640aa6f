"""The ``activations`` capability of families 2-6: each layer's input matrix ``A^l``
(``d_in x batch``) such that the layer's output on the batch is ``X^l A^l``.

Checked per family and per layer: the shape; the defining property on the SAME batch as the
oracle's gradient (the gradient's rows lie in the column space of ``A^l``, i.e.
``G^l = R^l (A^l)^T``, and a perturbation ``dX`` with ``dX A^l = 0`` leaves the batch loss
unchanged while a generic one changes it; the instances are chosen with ``rank A^l < d_in``
so that such perturbations exist); that ``OracleRecord.activations`` are those of the drawn
batch (reconstructed from the seed); that the oracle's gradients and random draws are those
of the gradient-only code path (bit for bit) and of the numba twin; and that the adaptive
Schatten method runs on every family, the engine equal to the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import engine, optimizers, problems
from nalr_theory.problems import noise
from nalr_theory.problems.random_features import squared_loss_grad
from nalr_theory.problems.teacher_student import mlp_loss_grad
from nalr_theory.problems.token_model import token_loss_grad

from ._cases import small

FAMILIES = ("low_rank", "deep_linear", "teacher_student", "token_model", "random_features")
MINIBATCH = ("teacher_student", "token_model", "random_features")


def thin(name):
    """Instances where every layer's input has rank below ``d_in`` on the oracle's sample
    (batch or data smaller than the layer's fan-in), so ``{dX : dX A = 0}`` is not trivial."""
    if name == "low_rank":
        return problems.get("low_rank", pairs=[(2, 2, 3), (3, 2, 4)], noise=noise.gaussian(0.1))
    if name == "deep_linear":
        return problems.get("deep_linear", widths=(6, 5, 4, 3), samples=3, noise=noise.gaussian(0.1))
    if name == "teacher_student":
        return problems.get("teacher_student", input_dim=6, hidden=7, output_dim=2, teacher_hidden=3, samples=32,
                            noise=noise.minibatch(4))
    if name == "token_model":
        return problems.get("token_model", vocab=8, width=6, hidden_layers=2, sequences=4, sequence_length=9,
                            noise=noise.minibatch(3))
    if name == "random_features":
        return problems.get("random_features", d_out=3, d_in=6, samples=16, noise=noise.minibatch(4))
    raise KeyError(name)


def drawn_batch(problem, seed):
    """The indices the minibatch oracle draws first from ``default_rng(seed)`` (``None``:
    an additive noise model, the whole data set)."""
    if problem.noise.kind != "minibatch":
        return None
    return np.random.default_rng(seed).integers(0, problem.dataset_size, problem.noise.batch_size)


def batch_loss(problem, params, index):
    """The loss on the samples ``index`` (``None``: the objective ``f``), computed here from
    the data (for families 3-6) independently of the ``activations`` code."""
    if index is None:
        return problem.f(params)
    if problem.name == "deep_linear":
        out = problem.inputs[:, index]
        for name in problem.names:
            out = params[name] @ out
        return 0.5 * np.sum((out - problem.targets[:, index]) ** 2) / index.size
    if problem.name == "teacher_student":
        return mlp_loss_grad(params["W1"], params["W2"], params["W3"], problem.inputs[:, index],
                             problem.targets[:, index])[0]
    if problem.name == "token_model":
        hidden = [params[name] for name in problem.names[1:-1]]
        return token_loss_grad(params["embed"], hidden, params["head"], problem.inputs[index],
                               problem.targets[index])[0]
    if problem.name == "random_features":
        return squared_loss_grad(params["W"], problem.inputs[:, index], problem.targets[:, index])[0]
    raise KeyError(problem.name)


def batch_grads(problem, params, index):
    """The exact gradient of :func:`batch_loss` with the family's module function (the
    computation the oracle made before activations were added)."""
    if index is None:
        return problem.grad(params)
    if problem.name == "teacher_student":
        return dict(zip(problem.names, mlp_loss_grad(params["W1"], params["W2"], params["W3"],
                                                     problem.inputs[:, index], problem.targets[:, index])[1]))
    if problem.name == "token_model":
        hidden = [params[name] for name in problem.names[1:-1]]
        _, grad_E, grad_hidden, grad_H = token_loss_grad(params["embed"], hidden, params["head"],
                                                         problem.inputs[index], problem.targets[index])
        return dict(zip(problem.names, [grad_E, *grad_hidden, grad_H]))
    if problem.name == "random_features":
        return {"W": squared_loss_grad(params["W"], problem.inputs[:, index], problem.targets[:, index])[1]}
    raise KeyError(problem.name)


def null_projector(A):
    """``I - A A^+``: the orthogonal projector onto the complement of the column space of ``A``."""
    return np.eye(A.shape[0]) - A @ np.linalg.pinv(A)


def point(problem, seed=1):
    """A generic point (not the init: away from any symmetry of the start)."""
    rng = np.random.default_rng(100 + seed)
    start = problem.init(seed)
    return {name: start[name] + 0.3 * rng.standard_normal(start[name].shape) for name in problem.names}


# ------------------------------------------------------------------ declaration and shapes

@pytest.mark.parametrize("family", FAMILIES)
def test_declared_and_shapes(family):
    for problem in (small(family), thin(family)):
        assert "activations" in problem.capabilities
        assert "activations" in problem.describe()["capabilities"]
        X = point(problem)
        record = problem.oracle(X, np.random.default_rng(0))
        batch = record.activations[problem.names[0]].shape[1]
        expected = problem.noise.batch_size if problem.noise.kind == "minibatch" else None
        for name, (m, n) in zip(problem.names, problem.layout.shapes):
            A = record.activations[name]
            assert isinstance(A, np.ndarray) and A.dtype == np.float64 and A.shape[0] == n, (name, A.shape)
            assert np.all(np.isfinite(A))
            if family == "low_rank":  # U_k: V_k^T (r x n_k); V_k: U_k^T (r x m_k)
                other = name.replace("U", "v").replace("V", "U").replace("v", "V")
                assert A.shape == (n, X[other].shape[0])
            else:  # one batch for every layer
                assert A.shape[1] == batch
                if expected is not None:
                    assert batch == expected
                else:
                    assert batch == problem.dataset_size
        assert set(problem.activations(X)) == set(problem.names)


def test_low_rank_activations_are_the_other_factor_transposed():
    problem = small("low_rank")
    X = point(problem)
    A = problem.activations(X)
    for k in range(len(problem.pairs)):
        u, v = f"U{k + 1}", f"V{k + 1}"
        np.testing.assert_array_equal(A[u], X[v].T)
        np.testing.assert_array_equal(A[v], X[u].T)
        # the layer's output is X A: U V^T for U, (U V^T)^T for V
        np.testing.assert_array_equal(X[u] @ A[u], X[u] @ X[v].T)
        np.testing.assert_allclose(X[v] @ A[v], (X[u] @ X[v].T).T, rtol=1e-14, atol=1e-14)
    with pytest.raises(ValueError, match="^batch"):
        problem.activations(X, batch=[0])


def test_deep_linear_activations_are_the_partial_products():
    problem = problems.get("deep_linear", widths=(3, 4, 5, 2), samples=7)
    X = point(problem)
    A = problem.activations(X)
    W1, W2 = X["W1"], X["W2"]
    np.testing.assert_array_equal(A["W1"], problem.inputs)
    assert A["W1"] is not problem.inputs  # a copy
    np.testing.assert_allclose(A["W2"], W1 @ problem.inputs, rtol=1e-14)
    np.testing.assert_allclose(A["W3"], W2 @ W1 @ problem.inputs, rtol=1e-13)
    columns = [6, 0, 0, 3]
    selected = problem.activations(X, batch=columns)
    for name in problem.names:
        np.testing.assert_allclose(selected[name], A[name][:, columns], rtol=1e-14, atol=1e-15)
    assert problem.dataset_size == 7
    with pytest.raises(ValueError, match="^batch"):
        problem.activations(X, batch=[7])


def test_teacher_student_and_token_model_activations_by_hand():
    problem = small("teacher_student")
    X = point(problem)
    columns = np.array([5, 1, 5])
    A = problem.activations(X, batch=columns)
    data = problem.inputs[:, columns]
    np.testing.assert_array_equal(A["W1"], data)
    np.testing.assert_array_equal(A["W2"], np.tanh(X["W1"] @ data))
    np.testing.assert_array_equal(A["W3"], np.tanh(X["W2"] @ np.tanh(X["W1"] @ data)))

    problem = small("token_model")
    X = point(problem)
    columns = np.array([2, 7, 2, 0])
    A = problem.activations(X, batch=columns)
    tokens = problem.inputs[columns]
    onehot = np.eye(problem.vocab)[:, tokens]
    np.testing.assert_array_equal(A["embed"], onehot)
    h0 = X["embed"] @ onehot  # E[:, x] = E onehot(x)
    np.testing.assert_allclose(A["hidden1"], h0, rtol=1e-15)
    np.testing.assert_allclose(A["head"], np.tanh(X["hidden1"] @ h0), rtol=1e-14)
    full = problem.activations(X)
    assert full["embed"].shape == (problem.vocab, problem.dataset_size)


# ------------------------------------------------------------------ the defining property

@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_is_residual_times_activations_on_the_same_batch(family):
    """For the oracle's batch: ``G^l (I - A A^+) = 0`` (``G^l = R^l (A^l)^T``); a perturbation
    with ``dX A^l = 0`` leaves that batch's loss unchanged (to 1e-10, a step of Frobenius size
    1), a generic one of the same size changes it. Also for the exact gradient on the data."""
    problem = thin(family)
    for seed in range(3):
        X = point(problem, seed)
        record = problem.oracle(X, np.random.default_rng(seed))
        index = drawn_batch(problem, seed)
        exact_on_batch = batch_grads(problem, X, index)
        base = batch_loss(problem, X, index)
        rng = np.random.default_rng(50 + seed)
        for name in problem.names:
            A = record.activations[name]
            P = null_projector(A)
            assert np.linalg.matrix_rank(A) < A.shape[0], (family, name)  # dX A = 0 has solutions
            assert np.linalg.norm(P) > 0.5
            G = exact_on_batch[name]  # the batch's gradient (the oracle's, checked below, minus any noise)
            assert np.abs(G @ P).max() <= 1e-12 * max(np.abs(G).max(), 1e-300), (family, name)
            direction = rng.standard_normal(X[name].shape)
            null = direction @ P
            null /= np.linalg.norm(null)
            assert np.abs(null @ A).max() <= 1e-12 * max(1.0, np.abs(A).max())
            moved = dict(X, **{name: X[name] + null})
            assert abs(batch_loss(problem, moved, index) - base) <= 1e-10 * max(1.0, abs(base)), (family, name)
            generic = dict(X, **{name: X[name] + direction / np.linalg.norm(direction)})
            assert abs(batch_loss(problem, generic, index) - base) > 1e-4 * max(1.0, abs(base)), (family, name)
        if index is not None:  # the gradient the oracle returned is that batch's gradient
            for name in problem.names:
                np.testing.assert_array_equal(record.grads[name], exact_on_batch[name])


@pytest.mark.parametrize("family", ["deep_linear", "teacher_student", "token_model", "random_features"])
def test_activations_of_a_batch_carry_the_property(family):
    """``activations(params, batch)`` for given columns: same property for that batch's loss."""
    problem = thin(family)
    X = point(problem)
    index = np.array([0, 2, 2]) if family == "deep_linear" else np.array([3, 0, 3])
    A = problem.activations(X, batch=index)
    base = batch_loss(problem, X, index)
    rng = np.random.default_rng(7)
    for name in problem.names:
        assert A[name].shape == (problem.layout.shapes[problem.names.index(name)][1], index.size)
        null = rng.standard_normal(X[name].shape) @ null_projector(A[name])
        moved = dict(X, **{name: X[name] + null / np.linalg.norm(null)})
        assert abs(batch_loss(problem, moved, index) - base) <= 1e-10 * max(1.0, abs(base))


# ------------------------------------------------------------------ the oracle's record

@pytest.mark.parametrize("family", MINIBATCH)
def test_oracle_activations_are_those_of_the_drawn_batch(family):
    problem = small(family)
    assert problem.noise.kind == "minibatch"
    X = point(problem)
    rng = np.random.default_rng(11)
    replay = np.random.default_rng(11)
    for t in range(4):
        record = problem.oracle(X, rng, t)
        index = replay.integers(0, problem.dataset_size, problem.noise.batch_size)
        expected = problem.activations(X, batch=index)
        assert set(record.activations) == set(expected)
        for name in problem.names:
            np.testing.assert_array_equal(record.activations[name], expected[name])
    assert rng.random() == replay.random()  # the oracle drew the indices and nothing else


@pytest.mark.parametrize("family", FAMILIES)
def test_oracle_activations_under_additive_noise_are_the_whole_data(family):
    problem = small(family, noise.gaussian(0.2))
    X = point(problem)
    record = problem.oracle(X, np.random.default_rng(3))
    expected = problem.activations(X)
    for name in problem.names:
        np.testing.assert_array_equal(record.activations[name], expected[name])


# ------------------------------------------------------------------ gradients unchanged

@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("model", ["default", "gaussian"])
def test_oracle_gradients_unchanged_and_equal_to_the_numba_twin(family, model):
    """The oracle's gradients are bit for bit those of the gradient-only path
    (``_minibatch_grad``, the code the oracle ran before activations existed) or of
    ``grad + noise``, with the same generator consumption, and equal the numba twin's oracle
    (same seed) to rounding, which consumes the generator identically."""
    problem = small(family) if model == "default" else small(family, noise.gaussian(0.2))
    kernels = problem.kernels
    X = point(problem)
    x = problem.flatten(X)
    reference, twin, replay = (np.random.default_rng(21) for _ in range(3))
    for t in range(3):
        record = problem.oracle(X, reference, t)
        if problem.noise.kind == "minibatch":
            expected = problem._minibatch_grad(X, replay, problem.noise.batch_size)
        else:
            exact = problem.grad(X)
            drawn = problem.noise.draw(t, replay)
            expected = {name: exact[name] + drawn[name] for name in problem.names}
        for name in problem.names:
            np.testing.assert_array_equal(record.grads[name], expected[name])
        grads, xi = kernels.oracle(x, kernels.data, t, twin)
        np.testing.assert_allclose(grads, problem.flatten(record.grads), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(xi, problem.flatten(record.noise), rtol=1e-9, atol=1e-13)
    assert reference.random() == twin.random() == replay.random()


# ------------------------------------------------------------------ the consumer

@pytest.mark.parametrize("family", FAMILIES)
def test_schatten_adaptive_runs_and_the_engine_equals_the_reference(family):
    problem = small(family)
    opt = optimizers.schatten_adaptive(problem.layers, 0.01)
    fast = engine.simulate(problem, opt, 30, 2)
    slow = engine.reference_simulate(problem, opt, 30, 2)
    assert not np.any(fast.diverged)
    assert np.max(np.abs(fast.f - slow.f)) <= 1e-10 * np.max(np.abs(slow.f))
    for name in problem.names:
        scale = max(np.max(np.abs(slow.final[name])), 1e-300)
        assert np.max(np.abs(fast.final[name] - slow.final[name])) <= 1e-10 * scale
    q = fast.extra["q"]
    assert q.shape == (2, 30, len(problem.names))
    np.testing.assert_array_equal(q, slow.extra["q"])
    for l, (m, n) in enumerate(problem.layout.shapes):
        if m > 1 and n > 1:  # matrix layers: a q in [2, inf] at every step
            assert not np.any(np.isnan(q[:, :, l])) and np.all(q[:, :, l] >= 2.0), problem.names[l]
            assert np.all(np.isfinite(fast.extra["J"][:, :, l])), problem.names[l]
        else:  # vectors are left to the l2 step
            assert np.all(np.isnan(q[:, :, l]))
    assert np.all(np.isfinite(fast.f))
