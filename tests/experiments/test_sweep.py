"""Sweeps: config validation, cached and resumable runs, joblib and Dask give the same file."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nalr_theory.experiments import sweep as sweeps

SMALL = {
    "T": [16, 32],
    "seeds": 2,
    "problems": [{"name": "sigmoidal_hetero", "grid": {"scale": [1.0, 4.0]}}],
    "optimizers": [
        {"name": "lanton", "lr": "theory", "grid": {"estimator": ["consecutive", "oracle"]}},
        {"name": "scion", "lr": 0.05},
    ],
}


def results_bytes(folder) -> bytes:
    return (folder / sweeps.RESULTS_FILE).read_bytes()


# ---------------------------------------------------------------- config


def test_config_expands_to_the_product_of_entries_grids_and_horizons():
    plan = sweeps.load_sweep(SMALL, base_seed=3)
    assert len(plan["runs"]) == 2 * 3 * 2
    assert all(run["seeds"] == [300, 301] for run in plan["runs"])
    keys = {sweeps.run_key(run) for run in plan["runs"]}
    assert len(keys) == len(plan["runs"])  # one file per configuration


def test_toml_and_json_configs_load_the_same(tmp_path):
    toml = tmp_path / "sweep.toml"
    toml.write_text('T = [16, 32]\nseeds = 2\n[[problems]]\nname = "sigmoidal_hetero"\n'
                    'grid = { scale = [1.0, 4.0] }\n[[optimizers]]\nname = "lanton"\nlr = "theory"\n'
                    'grid = { estimator = ["consecutive", "oracle"] }\n[[optimizers]]\nname = "scion"\nlr = 0.05\n')
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(SMALL))
    assert sweeps.load_sweep(str(toml)) == sweeps.load_sweep(str(path)) == sweeps.load_sweep(SMALL)


@pytest.mark.parametrize("change, message", [
    ({"problems": [{"name": "no_such_problem"}]}, "problems[0]"),
    ({"problems": [{"name": "sigmoidal_hetero", "options": {"frobnicate": 1}}]}, "problems[0]"),
    ({"optimizers": [{"name": "no_such_optimizer", "lr": 0.1}]}, "optimizers[0].name"),
    ({"optimizers": [{"name": "scion"}]}, "optimizers[0].lr"),
    ({"optimizers": [{"name": "muon", "lr": "theory"}]}, "optimizers[0].lr"),
    ({"optimizers": [{"name": "scion", "lr": -1.0}]}, "optimizers[0].lr"),
    ({"optimizers": [{"name": "lanton", "lr": 0.1, "options": {"estimator": "psychic"}}]}, "optimizers[0]"),
    ({"T": [0, 16]}, "T:"),
    ({"T": 2 ** 21}, "T:"),
    ({"T": 16.5}, "T:"),
    ({"seeds": [0, -1]}, "seeds:"),
    ({"seeds": -2}, "seeds:"),
    ({"seeds": 0}, "seeds:"),
    ({"level": 1.5}, "level:"),
    ({"colour": "blue"}, "colour:"),
    ({"problems": []}, "problems:"),
])
def test_bad_configs_name_the_entry(change, message):
    with pytest.raises(ValueError) as error:
        sweeps.load_sweep({**SMALL, **change})
    assert str(error.value).startswith(message), str(error.value)


def test_malformed_files_are_reported_as_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("T = [16, \nseeds = ")
    with pytest.raises(ValueError, match=r"^config: bad.toml is not valid TOML"):
        sweeps.load_sweep(str(bad))
    with pytest.raises(ValueError, match=r"^config: no such file"):
        sweeps.load_sweep(str(tmp_path / "missing.toml"))
    other = tmp_path / "sweep.yaml"
    other.write_text("T: 1")
    with pytest.raises(ValueError, match=r"^config: expected a .toml or .json"):
        sweeps.load_sweep(str(other))


# ---------------------------------------------------------------- runs and resume


def test_run_records_hold_the_bound_where_it_applies(tmp_path):
    results = sweeps.run_sweep(sweeps.load_sweep(SMALL), str(tmp_path))
    assert len(results["runs"]) == 12
    for record in results["runs"]:
        assert record["key"] == sweeps.run_key(record["config"])
        if record["config"]["optimizer"]["lr"] == "theory":
            assert record["schedule"]["lr"] > 0 and record["bound"]
            for entry in record["bound"].values():
                assert entry["holds"] == (entry["M_upper"] <= entry["bound"])
    files = sorted(os.listdir(tmp_path / "runs"))
    assert len(files) == 12 and all(name.endswith(".json") for name in files)


def test_rerun_skips_finished_runs_and_gives_the_same_file(tmp_path, monkeypatch):
    plan = sweeps.load_sweep(SMALL)
    sweeps.run_sweep(plan, str(tmp_path))
    first = results_bytes(tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("a finished run was executed again")

    monkeypatch.setattr(sweeps, "execute_run", fail)
    sweeps.run_sweep(plan, str(tmp_path))
    assert results_bytes(tmp_path) == first


def test_interrupted_sweep_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    plan = sweeps.load_sweep(SMALL)
    sweeps.run_sweep(plan, str(tmp_path / "whole"))
    real = sweeps.execute_run
    calls = []

    def dies_after_five(run, threads=None):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(run)
        return real(run, threads)

    monkeypatch.setattr(sweeps, "execute_run", dies_after_five)
    with pytest.raises(KeyboardInterrupt):
        sweeps.run_sweep(plan, str(tmp_path / "cut"))
    assert len(os.listdir(tmp_path / "cut" / "runs")) == 5
    # a file cut short by a crash of an older version, and a leftover temporary file
    runs = tmp_path / "cut" / "runs"
    victim = sorted(runs.iterdir())[0]
    victim.write_text(victim.read_text()[:40])
    (runs / (sweeps.PARTIAL_PREFIX + "abc.json")).write_text("{")
    monkeypatch.setattr(sweeps, "execute_run", real)
    sweeps.run_sweep(plan, str(tmp_path / "cut"))
    assert results_bytes(tmp_path / "cut") == results_bytes(tmp_path / "whole")
    assert not [name for name in os.listdir(runs) if name.startswith(sweeps.PARTIAL_PREFIX)]


def test_joblib_workers_give_the_same_file(tmp_path):
    plan = sweeps.load_sweep(SMALL)
    sweeps.run_sweep(plan, str(tmp_path / "one"))
    sweeps.run_sweep(plan, str(tmp_path / "two"), jobs=2)
    assert results_bytes(tmp_path / "two") == results_bytes(tmp_path / "one")


def test_dask_local_cluster_gives_the_same_file(tmp_path):
    distributed = pytest.importorskip("distributed")
    plan = sweeps.load_sweep(SMALL)
    sweeps.run_sweep(plan, str(tmp_path / "local"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        client = sweeps.connect(cluster.scheduler_address)
        try:
            sweeps.run_sweep(plan, str(tmp_path / "dask"), client=client)
        finally:
            client.close()
    assert results_bytes(tmp_path / "dask") == results_bytes(tmp_path / "local")


def test_unreachable_scheduler_is_a_value_error_naming_the_option():
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match=r"^scheduler: cannot connect"):
        sweeps.connect("tcp://127.0.0.1:9", timeout=1)


# ---------------------------------------------------------------- SIGKILL


KILL_CONFIG = """
T = [2048, 4096]
seeds = 4
[[problems]]
name = "sigmoidal_hetero"
grid = { scale = [1.0, 100.0] }
[[optimizers]]
name = "scion"
lr = "theory"
[[optimizers]]
name = "lanton"
lr = "theory"
"""


def _sweep_process(config, out):
    return subprocess.Popen([sys.executable, "-m", "nalr_theory.cli", "sweep", str(config), "--out", str(out),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sweep_killed_with_sigkill_loses_nothing(tmp_path):
    config = tmp_path / "kill.toml"
    config.write_text(KILL_CONFIG)
    runs = tmp_path / "killed" / "runs"
    process = _sweep_process(config, tmp_path / "killed")
    deadline = time.monotonic() + 600
    finished = []
    while time.monotonic() < deadline and process.poll() is None:
        finished = [name for name in os.listdir(runs)] if runs.exists() else []
        finished = [name for name in finished if not name.startswith(sweeps.PARTIAL_PREFIX)]
        if len(finished) >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the sweep ended before it could be killed; make its runs longer"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    total = len(sweeps.load_sweep(str(config))["runs"])
    done = [name for name in os.listdir(runs) if not name.startswith(sweeps.PARTIAL_PREFIX)]
    assert 2 <= len(done) < total
    for name in done:  # every finished-run file is whole
        json.loads((runs / name).read_text())
    assert not (tmp_path / "killed" / sweeps.RESULTS_FILE).exists()
    for out in ("killed", "whole"):
        completed = subprocess.run([sys.executable, "-m", "nalr_theory.cli", "sweep", str(config), "--out",
                                    str(tmp_path / out), "--quiet"], capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr
    assert results_bytes(tmp_path / "killed") == results_bytes(tmp_path / "whole")
    assert not [name for name in os.listdir(runs) if name.startswith(sweeps.PARTIAL_PREFIX)]
