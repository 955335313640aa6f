"""Sanity test (not a benchmark): LANTON and D-Muon both lower the token model's loss by at
least half in 2,000 steps on the default configuration, with its minibatch oracle."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import optimizers, problems

STEPS = 2000
LR = 0.02


def train(make_optimizer, second_sample):
    problem = problems.get("token_model")
    params = problem.init(0)
    optimizer = make_optimizer(problem.layers)
    state = optimizer.init(params)
    rng = np.random.default_rng(0)
    start = problem.f(params)
    for t in range(STEPS):
        record = problem.oracle(params, rng, t)
        second = problem.oracle(params, rng, t).grads if second_sample else None
        # params=: D-Muon's decoupled weight decay reads the iterate
        updates, state = optimizer.step(state, record.grads, grads2=second, params=params)
        params = {name: params[name] + updates[name] for name in params}
    return problem, start, problem.f(params)


@pytest.mark.parametrize("name", ["lanton", "dmuon"])
def test_token_model_loss_halves_in_2000_steps(name):
    if name == "lanton":
        problem, start, final = train(
            lambda layers: optimizers.lanton(layers, lr=LR, base="dmuon", estimator="two_sample"), True)
    else:
        problem, start, final = train(lambda layers: optimizers.dmuon(layers, lr=LR), False)
    assert problem.second_sample_available
    assert start > 2.5  # about log(16) at initialisation
    assert final <= start / 2, (name, start, final, problem.f_inf)
