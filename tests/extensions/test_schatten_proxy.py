"""The Schatten criterion against the exact best decrease (the proxy check)."""

from __future__ import annotations

import numpy as np
import pytest

from nalr_theory import geometry, problems
from nalr_theory.experiments import schatten_proxy
from nalr_theory.experiments.schatten_proxy import proxy_check


def test_the_line_search_finds_the_closed_form_decrease_on_one_layer():
    problem = problems.get("random_features", spectrum="spiked")
    x = problem.init(1)
    G, A = problem.grad(x)["W"], problem.activations(x)["W"]
    N = A.shape[1]
    for q in (2.0, 3.0, np.inf):
        d = geometry.schatten_lmo(G, q)
        exact = np.sum(G * d) ** 2 * N / (2 * np.sum((d @ A) ** 2))
        found = schatten_proxy._best_decrease(problem, x, "W", d, problem.f(x))
        assert found == pytest.approx(exact, rel=1e-7)


@pytest.mark.parametrize("spectrum", ["power", "spiked", "relu"])
def test_report_is_consistent(spectrum):
    check = proxy_check(problems.get("random_features", spectrum=spectrum), points=6)
    assert set(check.agreement) == {"W"} and 0.0 <= check.agreement["W"] <= 1.0
    assert check.regret["W"] >= 1.0 - 1e-9  # the best q is never beaten by the chosen one
    assert len(check.chosen["W"]) == len(check.best["W"]) == 6
    assert "agreement" in check.table()


def test_bad_input():
    with pytest.raises(ValueError, match="^problem:"):
        proxy_check(problems.get("sigmoidal", shapes=[(3, 3)], norms=["spectral"]))
    with pytest.raises(ValueError, match="^points:"):
        proxy_check(problems.get("random_features"), points=0)
