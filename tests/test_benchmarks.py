"""The optimizer benchmark runs end to end on a clean checkout (smoke run: tiny model,
single calls); its numbers are not checked here, only that every table and the target
line are printed."""

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
