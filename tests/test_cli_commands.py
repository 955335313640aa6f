"""The command line beyond ``nalr run``: compare, sweep, bound, dims, problems, optimizers."""

import json
import re

import matplotlib
import pytest
from click.testing import CliRunner

from nalr_theory import engine
from nalr_theory.cli import main

matplotlib.use("Agg")

GOOD_CONFIG = ('T = [16]\nseeds = 2\n[[problems]]\nname = "sigmoidal_hetero"\n'
               '[[optimizers]]\nname = "scion"\nlr = "theory"\n')


@pytest.fixture
def no_work(monkeypatch):
    """Any simulation fails the test: bad input must be rejected before any work."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the input was checked")

    monkeypatch.setattr(engine, "simulate", refuse)
    monkeypatch.setattr(engine, "reference_simulate", refuse)


def one_error_line(result, option: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("nalr: error:") and option in lines[0], lines[0]
    return lines[0]


def config_file(tmp_path, text: str, name: str = "sweep.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------- bad input, per command


@pytest.mark.parametrize("arguments, option", [
    (["compare", "--problem", "no_such_problem"], "'--problem'"),
    (["compare", "--option", "frobnicate=1"], "'--option'"),
    (["compare", "--option", "scale"], "'--option'"),
    (["compare", "--methods", "lanton,psychic"], "'--methods'"),
    (["compare", "--contender", "psychic"], "'--contender'"),
    (["compare", "--problem", "deep_linear", "--start", "graded"], "'--start'"),
    (["compare", "--T", "0"], "'--T'"),
    (["compare", "--seed", "-1"], "'--seed'"),
    (["compare", "--eval-seeds", "1"], "'--eval-seeds'"),
    (["bound", "--delta", "-1", "--L", "1", "--sigma", "1"], "'--delta'"),
    (["bound", "--delta", "1", "--L", "1,2,3", "--sigma", "1,2"], "'--sigma'"),
    (["bound", "--delta", "1", "--L", "1,x", "--sigma", "1"], "'--L'"),
    (["bound", "--delta", "1", "--L", "1,2", "--sigma", "1", "--w-hi", "0.5", "--w-lo", "1"], "'--w-lo'"),
    (["bound", "--delta", "1", "--L", "1", "--sigma", "1", "--T", "0"], "'--T'"),
    (["bound", "--delta", "1", "--L", "1", "--sigma", "1", "--kappa-lo", "2"], "'--kappa-lo'"),
    (["dims"], "'--model'"),
    (["dims", "--model", "gpt5"], "'--model'"),
    (["dims", "--shapes", "16x"], "'--shapes'"),
    (["dims", "--model", "gpt2_small", "--sigma-by-role", "embedding=2"], "'--sigma-by-role'"),
    (["dims", "--model", "gpt2_small", "--sigma-by-role", "embedding=2,hidden=1,head=3"], "'--sigma-by-role'"),
    (["dims", "--shapes", "16x16,8x8", "--sigma", "1,2,3"], "'--sigma'"),
    (["dims", "--shapes", "16x16", "--norms", "psychic"], "'--norms'"),
    (["sweep", "missing.toml"], "'CONFIG'"),
    (["sweep", "--jobs", "0", "x.toml"], "'--jobs'"),
])
def test_bad_input_is_one_line_naming_the_option(arguments, option, no_work):
    one_error_line(CliRunner().invoke(main, arguments), option)


@pytest.mark.parametrize("text, message", [
    (GOOD_CONFIG.replace('"sigmoidal_hetero"', '"no_such_problem"'), "problems[0]"),
    (GOOD_CONFIG.replace('"scion"', '"psychic"'), "optimizers[0].name"),
    (GOOD_CONFIG.replace("T = [16]", "T = [16"), "not valid TOML"),
    (GOOD_CONFIG.replace("T = [16]", "T = [0, 16]"), "T: every horizon"),
    (GOOD_CONFIG.replace("T = [16]", f"T = [{2 ** 21}]"), "T: every horizon"),
    (GOOD_CONFIG.replace("seeds = 2", "seeds = [1, -2]"), "seeds:"),
])
def test_bad_sweep_configs_are_one_line_naming_the_entry(tmp_path, text, message, no_work):
    line = one_error_line(CliRunner().invoke(main, ["sweep", config_file(tmp_path, text), "--out",
                                                    str(tmp_path / "out")]), "'CONFIG'")
    assert message in line
    assert not (tmp_path / "out").exists()  # nothing written: rejected before any work


@pytest.mark.parametrize("command", [["compare"], ["sweep", "CONFIG"]])
def test_unwritable_out_folder_exits_before_any_work(tmp_path, command, no_work):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    command = [config_file(tmp_path, GOOD_CONFIG) if item == "CONFIG" else item for item in command]
    one_error_line(CliRunner().invoke(main, [*command, "--out", str(blocker / "sub")]), "'--out'")


def test_unreachable_scheduler_is_one_line(tmp_path, no_work):
    pytest.importorskip("distributed")
    result = CliRunner().invoke(main, ["sweep", config_file(tmp_path, GOOD_CONFIG), "--out", str(tmp_path / "o"),
                                       "--scheduler", "tcp://127.0.0.1:9"])
    one_error_line(result, "'--scheduler'")


# ---------------------------------------------------------------- what the commands print


def test_sweep_prints_a_table_and_skips_finished_runs_on_rerun(tmp_path):
    config = config_file(tmp_path, GOOD_CONFIG)
    first = CliRunner().invoke(main, ["sweep", config, "--out", str(tmp_path / "o"), "--quiet"])
    assert first.exit_code == 0, first.output
    assert "Sweep of 1 runs (0 already done, skipped)" in first.output
    assert "plain: yes" in first.output
    again = CliRunner().invoke(main, ["sweep", config, "--out", str(tmp_path / "o"), "--quiet"])
    assert "Sweep of 1 runs (1 already done, skipped)" in again.output
    data = json.loads((tmp_path / "o" / "results.json").read_text())
    assert data["versions"]["nalr_theory"] and len(data["runs"]) == 1


def test_compare_prints_tables_and_writes_results(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--methods", "scion", "--T", "16", "--eval-seeds", "2",
                                       "--tune-seeds", "1", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Comparison 'sigmoidal_hetero'" in result.output
    assert "Separable-case prediction" in result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert set(data["comparison"]["methods"]) == {"lanton", "uniform", "scion"}
    assert set(data["config"]["tune_seeds"]).isdisjoint(data["config"]["eval_seeds"])
    assert data["prediction"]["lanton_predicted_to_win"] in (True, False)


def test_bound_prints_terms_that_add_up():
    result = CliRunner().invoke(main, ["bound", "--delta", "1", "--L", "1,2", "--sigma", "0.1,0.2", "--T", "256",
                                       "--T", "4096"])
    assert result.exit_code == 0, result.output
    assert "K* = 3.42893" in result.output  # 2^(3/2) (A B)^(1/4) C^(1/2) with A = 1, B = 6, C = 0.6
    rows = [line.split() for line in result.output.splitlines() if re.match(r"^\s*(256|4096)\s", line)]
    assert len(rows) == 2
    for row in rows:
        terms, total = [float(value) for value in row[3:8]], float(row[8])
        assert sum(terms) == pytest.approx(total, rel=1e-3)


def test_bound_latex_compiles_as_math_and_matches_the_snapshot():
    from matplotlib.mathtext import MathTextParser

    result = CliRunner().invoke(main, ["bound", "--delta", "1", "--L", "1,2", "--sigma", "0.1,0.2", "--T", "1024",
                                       "--latex"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 10
    parser = MathTextParser("path")
    for line in lines:
        assert line.startswith(r"\[ ") and line.endswith(r" \]")
        body = line[3:-3]
        assert body.count("{") == body.count("}")
        parser.parse(f"${body}$")  # TeX math as matplotlib's mathtext reads it; raises on a syntax error
    assert lines[-1] == (r"\[ T = 1024:\ \eta = 0.006444,\ \beta = 0.7448,\ \mathrm{bound}_{\mathrm{weighted}} = "
                         r"0.5029\quad (0.1515 + 0 + 0.1124 + 0.009666 + 0.2293;\ \mathrm{initial\ gap},\ "
                         r"\mathrm{initial\ gradient},\ \mathrm{drift},\ \mathrm{quadratic},\ \mathrm{noise}) \]")
    assert lines[4] == r"\[ K^{*} = 2 \sqrt{2} \sqrt[4]{A} \sqrt[4]{B} \sqrt{C} \]"


def _ratios(output: str) -> tuple[float, float]:
    weighted = float(re.search(r"sigma_max sum_l rho_l\): ([0-9.e+-]+)", output).group(1))
    unweighted = float(re.search(r"\(p sigma_max\): ([0-9.e+-]+)", output).group(1))
    return weighted, unweighted


def test_dims_with_a_noise_profile_prints_both_ratios():
    equal = CliRunner().invoke(main, ["dims", "--model", "gpt2_small"])
    assert equal.exit_code == 0 and _ratios(equal.output) == (1.0, 1.0)
    assert "same noise level" in equal.output
    profile = CliRunner().invoke(main, ["dims", "--model", "gpt2_small", "--sigma-by-role", "embedding=4,hidden=1"])
    assert profile.exit_code == 0, profile.output
    weighted, unweighted = _ratios(profile.output)
    # 2 embeddings at sigma 4, 48 hidden at 1: sum sigma / (p sigma_max) = 56 / 200
    assert unweighted == pytest.approx(56 / 200, rel=1e-5)
    assert 0 < weighted < 1
    per_layer = CliRunner().invoke(main, ["dims", "--shapes", "16x16,32x8", "--sigma", "0.5,2", "--per-layer"])
    assert per_layer.exit_code == 0 and "layer1   32x8" in per_layer.output


def test_listings_name_every_problem_and_optimizer():
    from nalr_theory import optimizers, problems

    listed = CliRunner().invoke(main, ["problems"])
    assert listed.exit_code == 0
    assert all(f"{name}:" in listed.output for name in problems.list())
    listed = CliRunner().invoke(main, ["optimizers"])
    assert listed.exit_code == 0
    assert all(f"{name}:" in listed.output for name in optimizers.METHODS)
    assert "estimator='consecutive'" in listed.output and "momentum_residual" in listed.output
