"""Bad input (PROBLEMS.md list and the interface's own arguments) raises ValueError whose
message starts with the offending parameter's name, before any work."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from nalr_theory import problems
from nalr_theory.problems import noise

from ._cases import small


def raises_naming(parameter, call, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        call(*args, **kwargs)
    assert str(info.value).startswith(parameter), str(info.value)


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf, "x"])
def test_non_positive_or_non_finite_sigma(value):
    raises_naming("sigma", noise.gaussian, value)
    raises_naming("sigma_lo", noise.bounded, value, 1.0)
    raises_naming("sigma_hi", noise.bounded, 0.1, value)
    raises_naming("sigma", noise.heavy_tailed, 3.0, sigma=value)
    raises_naming("scale", noise.heavy_tailed, 1.0, scale=value)
    raises_naming("sigma", noise.gaussian, [0.1, value, 0.2])


def test_sigma_lo_above_sigma_hi():
    raises_naming("sigma_lo", small, "sigmoidal", noise.bounded(0.5, 0.2))
    raises_naming("sigma_lo", small, "sigmoidal", noise.bounded([0.1, 0.5, 0.1], [0.2, 0.4, 0.2]))


def test_per_layer_values_must_match_layers():
    raises_naming("sigma", small, "sigmoidal", noise.gaussian([0.1, 0.2]))
    raises_naming("sigma_hi", small, "sigmoidal", noise.bounded(0.1, {"X1": 0.2}))
    raises_naming("sigma", problems.get, "sigmoidal", shapes=[(2, 2)], noise=noise.gaussian({"nope": 1.0}))


def test_heavy_tailed_parameters():
    raises_naming("nu", noise.heavy_tailed, 0.0, scale=1.0)
    raises_naming("sigma", noise.heavy_tailed, 3.0, scale=1.0)
    raises_naming("scale", noise.heavy_tailed, 2.0, sigma=1.0)


def test_time_varying_and_minibatch_parameters():
    base = noise.gaussian(0.1)
    raises_naming("profile", noise.time_varying, base, "wobble")
    raises_naming("tau", noise.time_varying, base, "decay", tau=-1.0)
    raises_naming("height", noise.time_varying, base, "spike", height=np.nan)
    raises_naming("when", noise.time_varying, base, "swap", when=3)
    raises_naming("base", noise.time_varying, noise.minibatch(4), "decay")
    raises_naming("permutation", small, "sigmoidal", noise.time_varying(base, "swap", permutation=[0, 0, 1]))
    raises_naming("batch_size", noise.minibatch, 0)
    raises_naming("batch_size", noise.minibatch, 2.5)
    raises_naming("noise", small, "sigmoidal", noise.minibatch(4))
    raises_naming("batch_size", problems.get, "teacher_student", samples=8, noise=noise.minibatch(9))
    raises_naming("noise", problems.get, "sigmoidal", noise="bounded")
    raises_naming("noise", problems.get, "sigmoidal", noise={"kind": "pink"})
    raises_naming("noise", problems.get, "sigmoidal", noise={"kind": "gaussian", "sigmaa": 1.0})


def test_unknown_norm_names():
    raises_naming("norms", problems.get, "sigmoidal", norms="spectrall")
    raises_naming("norms", problems.get, "low_rank", norms=["spectral", "bogus", "spectral", "spectral"])
    raises_naming("hidden_norm", problems.get, "token_model", hidden_norm="nuclear")
    raises_naming("norms", problems.get, "sigmoidal", shapes=[(3, 2)], norms="linf")  # vector norm on a matrix


@pytest.mark.parametrize("family", ["sigmoidal", "low_rank", "deep_linear", "teacher_student", "token_model"])
def test_params_that_do_not_match_the_declared_layers(family):
    problem = small(family)
    point = problem.init(0)
    first = problem.names[0]
    wrong_shape = dict(point, **{first: np.zeros((7, 9))})
    missing = {k: v for k, v in point.items() if k != first}
    extra = dict(point, bogus=np.zeros((2, 2)))
    non_finite = dict(point, **{first: np.full(point[first].shape, np.nan)})
    for bad in (wrong_shape, non_finite):
        raises_naming(f"params[{first!r}]", problem.f, bad)
        raises_naming(f"params[{first!r}]", problem.grad, bad)
        raises_naming(f"params[{first!r}]", problem.oracle, bad, np.random.default_rng(0))
    for bad in (missing, extra, [1, 2]):
        raises_naming("params", problem.grad, bad)
    before = {k: v.copy() for k, v in point.items()}
    problem.oracle(point, np.random.default_rng(0))
    assert all(np.array_equal(before[k], point[k]) for k in point)  # caller's arrays untouched


def test_interface_arguments():
    problem = small("sigmoidal", noise.gaussian(0.1))
    point = problem.init(0)
    raises_naming("rng", problem.oracle, point, 42)
    raises_naming("t", problem.oracle, point, np.random.default_rng(0), -1)
    raises_naming("seed", problem.init, -3)
    raises_naming("seed", problem.init, 1.5)
    raises_naming("radius", problems.get("low_rank").certificate, radius=[1.0, -1.0, 1.0, 1.0])
    raises_naming("centre", problems.get("low_rank").certificate, centre={"U1": np.zeros((2, 2))})
    raises_naming("trajectory", problem.local_smoothness, [point])
    raises_naming("name", problems.get, "no_such_problem")


def test_family_parameters():
    raises_naming("shapes", problems.get, "sigmoidal", shapes=[(3, 0)])
    raises_naming("shapes", problems.get, "sigmoidal", shapes=[])
    raises_naming("curvature", problems.get, "sigmoidal", curvature=[1.0, -1.0, 1.0, 1.0])
    raises_naming("curvature", problems.get, "sigmoidal", curvature=[1.0, 1.0])
    raises_naming("target_scale", problems.get, "sigmoidal", target_scale=0)
    raises_naming("instance_seed", problems.get, "sigmoidal", instance_seed=-1)
    raises_naming("pairs", problems.get, "low_rank", pairs=[(3, 3)])
    raises_naming("ball_radius", problems.get, "low_rank", ball_radius=np.inf)
    raises_naming("widths", problems.get, "deep_linear", widths=(3,))
    raises_naming("samples", problems.get, "deep_linear", samples=0)
    raises_naming("label_noise", problems.get, "deep_linear", label_noise=-0.1)
    raises_naming("hidden", problems.get, "teacher_student", hidden=0)
    raises_naming("vocab", problems.get, "token_model", vocab=1)
    raises_naming("peak", problems.get, "token_model", peak=1.0)
    raises_naming("sequence_length", problems.get, "token_model", sequence_length=1)
    raises_naming("scale", problems.get, "sigmoidal_hetero", scale=-1.0)
    raises_naming("sigma_ratio", problems.get, "sigmoidal_hetero", sigma_ratio=2.0)


# --- unknown keyword options of problems.get -----------------------------------------------

def _work_counter(monkeypatch):
    """Count every factory call (any work problems.get would do)."""
    calls = []
    registry = problems.base._REGISTRY
    for key, factory in list(registry.items()):
        def counted(*args, _factory=factory, **kwargs):
            calls.append(args)
            return _factory(*args, **kwargs)
        counted.__signature__ = inspect.signature(factory)
        monkeypatch.setitem(registry, key, counted)
    return calls


@pytest.mark.parametrize("name", problems.list())
def test_get_rejects_unknown_option_before_any_work(name, monkeypatch):
    calls = _work_counter(monkeypatch)
    with pytest.raises(ValueError) as info:
        problems.get(name, unknown=1)
    message = str(info.value)
    assert message.startswith("unknown: "), message
    accepted = problems.base._options(name)
    assert accepted and all(option in message for option in accepted), message
    assert calls == []


def test_get_unknown_option_message_lists_the_accepted_options():
    with pytest.raises(ValueError) as info:
        problems.get("sigmoidal", shapes=[(2, 2)], curvatur=1.0, bogus=2)
    message = str(info.value)
    assert message.startswith("curvatur: "), message
    assert "bogus" in message and "'sigmoidal'" in message
    for option in ("shapes", "norms", "curvature", "target_scale", "init_scale", "instance_seed", "noise"):
        assert option in message


def test_get_passes_through_factories_with_var_keywords():
    seen = {}

    def factory(**params):
        seen.update(params)
        return problems.get("sigmoidal", shapes=[(2, 2)])

    problems.register("_test_var_keywords", factory)
    try:
        problems.get("_test_var_keywords", anything=1)
    finally:
        problems.base._REGISTRY.pop("_test_var_keywords")
    assert seen == {"anything": 1}
