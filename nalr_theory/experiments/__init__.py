"""Experiments on the engine: the rate check, the adaptivity comparison and the main job.

Public API::

    theorem_constants(problem, optimizer, start=None, lr_sum=None) -> TheoremConstants
    rate_check(problem, builders, T_grid, seeds, start=None, level=0.99) -> RateCheck
    compare(problem, builders, lr_grids, T, tune_seeds, eval_seeds, start=None) -> Comparison
    scenarios(quick=False) -> [Scenario]; graded_start(problem)
    estimator_check(problem, T, seeds, estimators=...) -> EstimatorCheck
    curvature_check(problem, params=None, draws=2000) -> CurvatureCheck (Sophia's estimators)
    proxy_check(problem, points=20) -> ProxyCheck (the Schatten criterion against exact decreases)
    run_main_job(MainJobConfig.make(seed, quick)) -> MainJobResult; write_outputs(result, out_dir)
    run_comparison(problem, T, tune_seeds, eval_seeds, start=None, methods=None) -> (Comparison, prediction)
    load_sweep(config, base_seed=0) -> sweep; run_sweep(sweep, out_dir, jobs=1, client=None) -> results
    execute_run(run) -> record; connect(scheduler) -> Dask client

``nalr run`` (:mod:`nalr_theory.cli`) is :func:`run_main_job` with its report.

Documentation: :doc:`/math/protocol` (the mathematics) and :doc:`/guide/experiments` (the user guide) in the package's documentation.
"""

from .compare import Comparison, compare, paired_ratio
from .constants import FORMS, TheoremConstants, coverage, theorem_constants
from .curvature import CurvatureCheck, curvature_check
from .estimators import EstimatorCheck, estimator_check
from .main_job import MainJobConfig, MainJobResult, run_comparison, run_main_job
from .rate import RateCheck, rate_check
from .schatten_proxy import ProxyCheck, proxy_check
from .report import report_text, results_dict, write_outputs
from .scenarios import Scenario, graded_start, scenarios
from .sweep import connect, execute_run, load_sweep, run_sweep, sweep_table

__all__ = [
    "Comparison", "CurvatureCheck", "EstimatorCheck", "FORMS", "MainJobConfig", "MainJobResult", "ProxyCheck",
    "RateCheck", "Scenario", "TheoremConstants", "compare", "coverage", "curvature_check", "estimator_check",
    "graded_start", "paired_ratio", "proxy_check", "rate_check", "report_text", "results_dict", "run_comparison",
    "run_main_job", "scenarios", "theorem_constants", "write_outputs", "connect", "execute_run", "load_sweep",
    "run_sweep", "sweep_table",
]
