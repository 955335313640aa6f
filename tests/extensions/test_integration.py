"""The new methods from the command line and in sweeps, with bad input handled as elsewhere."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from nalr_theory import geometry, optimizers, problems
from nalr_theory.cli import main
from nalr_theory.experiments import constants, main_job
from nalr_theory.experiments import sweep as sweeps


def test_compare_runs_sophia_and_schatten_on_random_features(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--problem", "random_features", "--methods",
                                       "sophia,schatten_adaptive", "--T", "32", "--eval-seeds", "2",
                                       "--tune-seeds", "1", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert {"sophia", "schatten_adaptive"} <= set(data["comparison"]["methods"])


def test_compare_runs_the_extra_baselines_only_when_named(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--problem", "random_features", "--T", "16", "--eval-seeds", "2",
                                       "--tune-seeds", "1", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    methods = set(json.loads((tmp_path / "results.json").read_text())["comparison"]["methods"])
    assert "muon" in methods and not methods & set(main_job.ON_REQUEST)  # the main job's set is unchanged


def test_compare_builders_offer_what_the_problem_can_serve():
    assert {"sophia", "schatten_adaptive"} <= set(main_job.compare_builders(problems.get("random_features")))
    sigmoidal = main_job.compare_builders(problems.get("sigmoidal_hetero"))
    assert "sophia" in sigmoidal and "schatten_adaptive" not in sigmoidal  # Hutchinson, no activations


def test_sweep_runs_the_new_methods(tmp_path):
    config = {"T": [16], "seeds": 2, "problems": [{"name": "random_features"}],
              "optimizers": [{"name": "sophia", "lr": 0.01, "grid": {"curvature": ["gnb", "exact"]}},
                             {"name": "schatten_adaptive", "lr": 0.02}]}
    results = sweeps.run_sweep(sweeps.load_sweep(config), str(tmp_path))
    names = sorted((run["config"]["optimizer"]["name"], json.dumps(run["config"]["optimizer"]["options"]))
                   for run in results["runs"])
    assert [name for name, _ in names] == ["schatten_adaptive", "sophia", "sophia"]
    for run in results["runs"]:
        assert run["bound"] is None  # no bound is claimed for either method
        assert all(np.isfinite(run["final_f"])) and run["mean"]["final_f"] < run["curve"]["f"][0]


def test_sweep_refuses_a_method_the_problem_cannot_serve():
    config = {"T": [16], "seeds": 1, "problems": [{"name": "sigmoidal_hetero"}],
              "optimizers": [{"name": "schatten_adaptive", "lr": 0.02}]}
    with pytest.raises(ValueError, match=r"^optimizers\[0\]: activations:"):
        sweeps.load_sweep(config)
    config["optimizers"] = [{"name": "sophia", "lr": 0.01, "options": {"curvature": "gnb"}}]
    with pytest.raises(ValueError, match=r"^optimizers\[0\]: curvature:"):
        sweeps.load_sweep(config)


def test_the_theorem_does_not_cover_the_new_methods_and_says_why():
    problem = problems.get("random_features")
    covered, reason = constants.coverage(optimizers.sophia(problem.layers, 0.01))
    assert not covered and "kappa_lo" in reason
    covered, reason = constants.coverage(optimizers.schatten_adaptive(problem.layers, 0.01))
    assert not covered and "freeze_after" in reason


@pytest.mark.parametrize("method", ["you_quintic", "polar_express"])
def test_new_orthogonalisers_are_covered_with_their_band(method):
    problem = problems.get("sigmoidal_hetero")
    optimizer = optimizers.lmo_momentum([geometry.Layer(layer.name, layer.shape, "spectral", lmo_method=method)
                                         for layer in problem.layers], 0.01)
    assert constants.coverage(optimizer)[0]
    found = constants.theorem_constants(problem, optimizer)
    assert (found.kappa_lo, found.kappa_hi) == pytest.approx(geometry.ns_band(method))
    assert np.isfinite(found.kappa_lo) and found.kappa_lo > 0
