"""The optimizer benchmark runs end to end on a clean checkout (smoke run: tiny model,
single calls); its numbers are not checked here, only that every table and the target
line are printed."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
bench_optimizers = pytest.importorskip("bench_optimizers")


def test_bench_optimizers_smoke_run_prints_every_table(monkeypatch, capsys):
    monkeypatch.setattr(bench_optimizers, "MODELS", {"tiny (2 x 6x4)": ((6, 4), 2), "unused": ((8, 8), 1)})
    bench_optimizers.main(["--quick", "--rounds", "1", "--seconds", "0"])
    out = capsys.readouterr().out
    assert "### LANTON per-step cost over its base" in out
    assert "### numba over reference, per-step speed" in out
    assert "on the engine path (numba kernel):" in out
    rows = [line for line in out.splitlines() if line.startswith("| consecutive | quadrature |")]
    assert len(rows) == 1


def test_target_verdict_reads_the_consecutive_quadrature_cells():
    models = ["a", "b"]
    rows = [["consecutive", "exact", 1.7, 4.4, 1.8, 2.6], ["consecutive", "quadrature", 1.21, 1.15, 1.14, 1.13]]
    verdict = bench_optimizers.target_verdict(models, rows)
    assert "numba kernel): met (a 1.15, b 1.13)" in verdict
    assert "for context: a 1.21, b 1.14" in verdict
    rows[1][3] = 1.25
    assert "NOT met" in bench_optimizers.target_verdict(models, rows)


def test_bench_engine_smoke_run_and_the_numpy_peer_follows_the_engine(monkeypatch, capsys, tmp_path):
    bench_engine = pytest.importorskip("bench_engine")
    monkeypatch.setattr(bench_engine, "WORKLOADS", [("2 of 4x4, Scion sign", 4, 2, "scion", 8, 2),
                                                    ("2 of 4x4, LANTON", 4, 2, "lanton", 8, 2)])
    # the shape table and the main job's projection are tested below
    monkeypatch.setattr(bench_engine, "cost_against_shape", lambda R: {
        "sizes": [4, 8], "layers": [1, 2], "us_by_size": [1.0, 8.0], "us_by_layers": [1.0, 2.0], "slope_size": 3.0,
        "slope_layers": 1.0})
    monkeypatch.setattr(bench_engine, "main_job_projection", lambda: {
        "seconds": {}, "trajectory_steps": {}, "total_seconds": 0.0})
    result = bench_engine.main(["--seeds", "2", "--json", str(tmp_path / "bench.json")])
    out = capsys.readouterr().out
    assert "engine / batched NumPy" in out and "2 of 4x4, LANTON" in out
    scion = result["workloads"][0]
    # same workload, same iterates: the peer's final iterate is the engine's
    assert scion["peer_iterates"]["numpy_batched"] <= 1e-12
    for name in ("jax", "torch"):
        assert name in scion
        if name in scion["peer_iterates"]:
            assert scion["peer_iterates"][name] <= 1e-12


def test_bench_engine_prints_flops_shape_costs_and_the_projection(monkeypatch, capsys, tmp_path):
    bench_engine = pytest.importorskip("bench_engine")
    monkeypatch.setattr(bench_engine, "WORKLOADS", [("2 of 4x4, LANTON", 4, 2, "lanton", 8, 2)])
    monkeypatch.setattr(bench_engine, "SHAPE_SIZES", [4, 8])
    monkeypatch.setattr(bench_engine, "SHAPE_LAYERS", [1, 2])
    projection = {"seconds": {"rate check": 1.0}, "trajectory_steps": {"rate check": 10}, "total_seconds": 60.0}
    monkeypatch.setattr(bench_engine, "main_job_projection", lambda: projection)
    result = bench_engine.main(["--seeds", "2", "--json", str(tmp_path / "bench.json")])
    out = capsys.readouterr().out
    assert "Achieved GFLOP/s" in out and "Engine cost against layer size" in out
    assert "rate check 1 s (10 trajectory-steps); total 1.0 min" in out
    entry = result["workloads"][0]
    # per layer: the objective's 4 products (8 n^3), the measure's SVD (8/3 n^3), NS5 (5 x 6 n^3),
    # the quadrature's 2 products (4 n^3)
    assert entry["flops_per_step"] == pytest.approx(2 * (8 + 8 / 3 + 30 + 4) * 4**3)
    assert entry["engine_gflops"] == pytest.approx(entry["flops_per_step"] * entry["engine_2_threads"] / 1e9)
    assert result["cost_against_shape"]["sizes"] == [4, 8] and len(result["cost_against_shape"]["us_by_layers"]) == 2


def test_main_job_projection_counts_the_main_jobs_runs():
    bench_engine = pytest.importorskip("bench_engine")
    from nalr_theory.experiments import main_job

    config = main_job.MainJobConfig(quick=True, T_grid=(4, 8), rate_seeds=2, compare_T=4, tune_seeds=1, eval_seeds=1,
                                    estimator_T=4, lr_factors=(1.0,))
    projection = bench_engine.main_job_projection(config, R=2, T=4)
    steps = projection["trajectory_steps"]
    # 5 rate-check optimizers x 2 seeds x (4 + 8) steps; 2 of them again with max(2, 2 // 2) seeds
    assert steps["rate check"] == 5 * 2 * 12 and steps["rate check, 10x noise"] == 2 * 2 * 12
    assert steps["estimator check"] == 4 * 2 * 4
    methods = sum(len([label for label in main_job.compare_builders(scenario.problem)
                       if label not in main_job.ON_REQUEST]) for scenario in main_job.scenarios(True))
    assert steps["comparison"] == methods * (1 * 1 + 1) * 4
    assert projection["total_seconds"] == pytest.approx(sum(projection["seconds"].values()))
    assert all(value > 0 for value in projection["seconds"].values())


def test_profile_engine_prints_the_parts_the_floor_and_the_budgets(monkeypatch, capsys, tmp_path):
    profile_engine = pytest.importorskip("profile_engine")
    monkeypatch.setattr(profile_engine, "WORKLOADS", [("2 of 4x4, Scion sign", 4, 2, "scion", 4, 2),
                                                      ("2 of 4x4, LANTON", 4, 2, "lanton", 4, 2)])
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"cpus": 2, "workloads": [
        {"workload": "2 of 4x4, Scion sign", "jax": 1e6, "numpy_batched": 5e5},
        {"workload": "2 of 4x4, LANTON", "jax": "not installed", "numpy_batched": 4e4}]}))
    result = profile_engine.main(["--json", str(tmp_path / "profile.json"), "--bench", str(bench)])
    out = capsys.readouterr().out
    assert "### Floor, one thread" in out
    # 2 cores / (1.5 x 1e6 per second) = 1.333 us; JAX absent: no budget
    assert "| 2 of 4x4, Scion sign | " in out and "| 1.333 | 2.667 |" in out
    lanton = next(line for line in out.splitlines() if line.startswith("| 2 of 4x4, LANTON |") and "| - |" in line)
    assert lanton.endswith("| - | 33.33 |")
    floor = result["2 of 4x4, LANTON"]["floor"]
    assert set(floor) == set(profile_engine.FLOOR_PARTS) and all(value > 0 for value in floor.values())
    assert set(result["2 of 4x4, Scion sign"]["floor"]) == {"random draws", "objective products"}
