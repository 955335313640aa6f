"""Tests of ``nalr_theory.experiments`` and of ``nalr run``.

The numeric claims checked here could fail: the bound must hold on its own measurements
(a failure would be a finding, not a flaky test: the bound is deterministic given the
seeds), the comparison's ratios are recomputed from the per-seed numbers, the graded start
is checked against its definition, and the oracle estimator's tracking ratio is confined by
the bounded noise model's support (a deterministic interval, not a statistical one).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from nalr_theory import optimizers, problems
from nalr_theory.cli import main
from nalr_theory.experiments import (
    MainJobConfig, compare, estimator_check, graded_start, paired_ratio, rate_check,
    run_main_job, scenarios, theorem_constants, write_outputs,
)
from nalr_theory.experiments.main_job import learning_rate_grid, rate_builders
from nalr_theory.experiments.report import json_ready


@pytest.fixture(scope="module")
def problem():
    return problems.get("sigmoidal_hetero")


# ---------------------------------------------------------------- paired ratios


def test_paired_ratio_geometric_mean_and_wins():
    out = paired_ratio(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0]))
    assert out["geometric_mean"] == pytest.approx(1.0)
    assert out["wins"] == 1 and out["seeds"] == 3
    assert out["lo"] < 1.0 < out["hi"]


def test_paired_ratio_interval_is_student_t_on_logs():
    from scipy import stats

    contender, reference = np.array([1.0, 1.5, 0.8, 1.1]), np.ones(4)
    out = paired_ratio(contender, reference)
    logs = np.log(contender)
    half = stats.t.ppf(0.975, 3) * np.std(logs, ddof=1) / 2.0
    assert out["lo"] == pytest.approx(np.exp(logs.mean() - half))
    assert out["hi"] == pytest.approx(np.exp(logs.mean() + half))


# ---------------------------------------------------------------- compare


def _builders(problem):
    return {"lanton": lambda layers, lr: optimizers.lanton(layers, lr, estimator="oracle"),
            "uniform": lambda layers, lr: optimizers.lmo_momentum(layers, lr)}


@pytest.mark.parametrize("tune, evaluate, message", [
    ([0, 1], [1, 2], "eval_seeds"),
    (2, [3, 4], "tune_seeds"),
    ([0], [-1], "eval_seeds"),
])
def test_compare_rejects_bad_seeds(problem, tune, evaluate, message):
    with pytest.raises(ValueError, match=message):
        compare(problem, _builders(problem), {"lanton": [0.01], "uniform": [0.01]}, 8, tune, evaluate)


def test_compare_rejects_unknown_contender_and_missing_grid(problem):
    with pytest.raises(ValueError, match="contender"):
        compare(problem, _builders(problem), {"lanton": [0.01], "uniform": [0.01]}, 8, [0], [1], contender="x")
    with pytest.raises(ValueError, match="lr_grids"):
        compare(problem, _builders(problem), {"lanton": [0.01]}, 8, [0], [1])


def test_compare_tunes_on_tuning_seeds_and_pairs_on_fresh_ones(problem):
    grid = [0.01, 0.04]
    out = compare(problem, _builders(problem), {"lanton": grid, "uniform": grid}, 32, [10, 11], [0, 1, 2])
    for label, method in out.methods.items():
        assert set(grid) <= set(method["grid"]) and len(method["grid"]) <= len(grid) + 2
        assert method["best_lr"] == method["grid"][int(np.argmin(method["scores"]))]
        # an edge best was pushed outwards (at most twice) before being kept
        assert method["at_edge"] == (method["best_lr"] in (min(method["grid"]), max(method["grid"])))
        assert method["final_f"].shape == (3,)
    lanton, uniform = out.methods["lanton"], out.methods["uniform"]
    ratios = lanton["final_f"] / uniform["final_f"]
    assert out.paired["final_f"]["ratios"] == pytest.approx(ratios.tolist())
    assert out.paired["final_f"]["wins"] == int(np.sum(ratios < 1))
    assert set(out.against_reference) == {"lanton"}


def test_adamw_grid_is_rescaled_by_the_layer_size(problem):
    lmo = learning_rate_grid("uniform", problem, 0.1, (1.0, 2.0))
    adamw = learning_rate_grid("adamw", problem, 0.1, (1.0, 2.0))
    size = max(max(layer.shape) for layer in problem.layers)
    assert adamw == pytest.approx([value / np.sqrt(size) for value in lmo])


# ---------------------------------------------------------------- scenarios


def test_graded_start_distances_follow_one_over_sigma(problem):
    start, best = graded_start(problem), problem.minimiser()
    distances = np.array([np.linalg.norm(start[name] - best[name]) for name in problem.names])
    sigma = np.broadcast_to(np.asarray(problem.sigma, float), distances.shape)
    assert distances * sigma == pytest.approx(np.full(distances.shape, distances[0] * sigma[0]))


def test_graded_start_needs_a_known_minimiser():
    with pytest.raises(ValueError, match="problem"):
        graded_start(problems.get("deep_linear"))


def test_scenarios_are_named_and_distinct():
    names = [scenario.name for scenario in scenarios(quick=True)]
    assert len(names) == len(set(names)) == 4


# ---------------------------------------------------------------- constants and the rate check


def test_theorem_constants_are_json_ready(problem):
    constants = theorem_constants(problem, optimizers.scion(problem.layers, 0.01), None)
    json.dumps(json_ready(constants.describe()))
    assert constants.forms


@pytest.fixture(scope="module")
def small_rate_check(problem):
    builders = {key: value for key, value in rate_builders().items() if key in ("scion", "lanton_oracle")}
    return rate_check(problem, builders, (64, 128, 256), 4)


def test_every_bound_holds_on_its_measurements(small_rate_check):
    rows = [row for row in small_rate_check.rows if row["holds"] is not None]
    assert rows, "no bound applied"
    for row in rows:
        assert row["holds"], row
        assert row["M_upper"] <= row["bound"]
        assert row["tightness"] == pytest.approx(row["bound"] / row["M_mean"])


def test_rate_rows_and_slopes_carry_the_issue_fields(small_rate_check):
    for row in small_rate_check.rows:
        assert {"optimizer", "measure", "T", "M_mean", "M_upper", "bound", "holds", "tightness",
                "dominant_term"} <= set(row)
    assert small_rate_check.slopes
    for row in small_rate_check.slopes:
        assert {"optimizer", "measure", "T_min", "T_max", "slope", "lo", "hi", "bound_slope", "regime"} <= set(row)
        assert row["lo"] <= row["slope"] <= row["hi"]
        if not row["regime"].startswith("noise"):
            assert row["verdict"].startswith("not judged")


# ---------------------------------------------------------------- estimators


def test_oracle_estimator_stays_inside_the_noise_support(problem):
    check = estimator_check(problem, 64, [0, 1, 2], 0.01, estimators=("oracle",), record_every=8)
    lo, hi = np.asarray(problem.sigma_lo, float), np.asarray(problem.sigma_hi, float)
    # bounded noise: ||xi||_* = s with s in [lo, hi], so any average of s^2 lies in [lo^2, hi^2]
    ratio = check.ratio["oracle"][1:]
    assert np.all(ratio >= lo**2 / check.true_level * (1 - 1e-9))
    assert np.all(ratio <= hi**2 / check.true_level * (1 + 1e-9))


# ---------------------------------------------------------------- the main job, small


def test_main_job_writes_its_files(tmp_path):
    config = MainJobConfig(T_grid=(32, 64), rate_seeds=2, compare_T=32, tune_seeds=1, eval_seeds=2,
                           estimator_T=32, lr_factors=(1.0,), compile_in_background=False)
    result = run_main_job(config)
    paths = write_outputs(result, str(tmp_path))
    names = {path.split("/")[-1] for path in paths}
    assert {"results.json", "runs.npz", "rate_check.png", "rate_check.pdf", "comparison.png",
            "estimators.png", "weights.png"} <= names
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["config"]["T_grid"] == [32, 64]
    assert {row["T"] for row in data["rate_check"]} == {32, 64}
    assert set(data["comparisons"]) == {scenario.name for scenario in scenarios()}
    for comparison in data["comparisons"].values():
        assert set(comparison["tune_seeds"]).isdisjoint(comparison["eval_seeds"])
        assert {"normuon", "adamw", "lanton_oracle", "uniform"} <= set(comparison["methods"])


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("arguments, option", [
    (["run", "--seed", "-1"], "'--seed'"),
    (["run", "--jobs", "0"], "'--jobs'"),
    (["run", "--seed", "abc"], "'--seed'"),
    (["run", "--frobnicate"], "'--frobnicate'"),
])
def test_bad_option_values_exit_with_one_line(arguments, option):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and option in lines[0], result.output
    assert "Traceback" not in result.output


def test_unwritable_out_folder_exits_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["run", "--out", str(blocker / "sub")])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "'--out'" in lines[0]


def test_command_line_process_prints_one_line(tmp_path):
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "nalr_theory.cli", "run", "--seed", "-3"],
                               capture_output=True, text=True)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.strip().count("\n") == 0 and "'--seed'" in completed.stderr


# ---------------------------------------------------------------- slope verdicts


def test_slope_verdicts():
    from nalr_theory.experiments.rate import MEET_HORIZON, slope_verdict

    noise = ["noise"] * 3
    assert slope_verdict(["initial_gap", "noise"], 256, 4096, 0, -0.25, -0.25, -0.1, 2.0).startswith("not judged")
    assert slope_verdict(noise, 256, 4096, 1000, -0.1, -0.1, -0.25, 2.0).startswith("not judged")
    assert slope_verdict(noise, 256, 4096, 0, -0.26, -0.24, -0.25, 2.0) == "consistent with the bound's slope"
    # flatter by 0.1 with margin 3: the lines meet at 4096 * 3^10, far away: no alarm
    far = slope_verdict(noise, 256, 4096, 0, -0.15, -0.15, -0.25, 3.0)
    assert far.startswith("flatter") and f"{4096 * 3.0 ** 10:.2g}" in far
    # margin 1.05 and 0.1 flatter: they meet within 4096 * 1.05^10 < MEET_HORIZON * 4096: alarm
    assert 1.05 ** 10 < MEET_HORIZON
    assert slope_verdict(noise, 256, 4096, 0, -0.15, -0.15, -0.25, 1.05).startswith("FLATTER")
    # a bound already violated (margin < 1) is always an alarm
    assert slope_verdict(noise, 256, 4096, 0, -0.15, -0.15, -0.25, 0.9).startswith("FLATTER")


def test_compare_extends_a_grid_whose_best_is_at_an_edge(problem):
    # rates far below any useful one: the largest always wins, so the grid grows twice upwards
    grid = [1e-7, 2e-7]
    out = compare(problem, _builders(problem), {"lanton": grid, "uniform": grid}, 16, [10], [0, 1])
    for method in out.methods.values():
        assert method["grid"] == pytest.approx([1e-7, 2e-7, 4e-7, 8e-7])
        assert method["best_lr"] == pytest.approx(8e-7) and method["at_edge"]


def test_rate_check_refuses_infinite_variance_noise_with_the_reason():
    from nalr_theory import problems as families
    from nalr_theory.experiments.main_job import rate_builders

    heavy = families.get("sigmoidal", noise={"kind": "heavy_tailed", "nu": 1.5, "scale": 0.1})
    with pytest.raises(ValueError, match=r"^problem: .*A2v fails"):
        rate_check(heavy, {"scion": rate_builders()["scion"]}, [16, 32], 2)
