"""The main job (``nalr run``): the rate check and the adaptivity comparison, explained.

Problem
    Answer a reviewer's three questions about LANTON (arXiv 2510.14009) on an embedded
    default: does the bound hold, is the rate really ``T^(-1/4)`` and for which reason, and
    do noise-adaptive layerwise rates help?

Algorithm
    1. :func:`.rate.rate_check` on ``sigmoidal_hetero`` for LANTON (consecutive estimator,
       exact-LMO base), LANTON with the oracle estimator (the only one with a pathwise
       weight interval, so the plain bound applies), Scion, D-Muon and Muon in their
       analysed form (EMA momentum, no Nesterov look-ahead, no weight decay: the theorem's
       algorithm; Newton-Schulz enters through ``kappa``), each at the horizon-tuned
       schedule; then Scion and oracle LANTON again on the same problem with 10x the noise
       (labels ending in "(10x noise)", half the seeds), where the noise term dominates
       and the slope is judged against the bound's.
    2. :func:`.compare.compare` on every scenario of :mod:`.scenarios`: LANTON with each
       noise estimator, its uniform base, fixed oracle weights ``sigma_min/sigma_l``, Scion,
       D-Muon, Muon, NorMuon (as people run them: their default momentum, Nesterov and
       weight decay) and AdamW, each at its own best learning rate from a grid (factors of
       the uniform method's theory-tuned step), tuned on seeds ``1000 + 100 seed + k`` and
       evaluated on the fresh seeds ``100 seed + k``.
    3. :func:`.estimators.estimator_check`: each estimator's ``H_t^l`` against the true
       squared noise, per layer, over time, on the default problem.
    4. For separable scenarios, the bound's prediction of the winner
       (:func:`nalr_theory.theory.predict_adaptivity`) beside the measured one.

Guarantee
    The configuration, versions and seeds are written with every number; the same
    ``seed`` gives the same files (the engine is deterministic whatever the thread count).

References
    :mod:`nalr_theory.theory.theorem`, :mod:`nalr_theory.theory.separable`; Hao et al.,
    LANTON, arXiv 2510.14009 (2025).
"""

from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass, field

import numpy as np

from .. import optimizers, problems, theory
from .compare import compare
from .estimators import estimator_check
from .rate import rate_check
from .scenarios import scenarios


#: the noise-dominated rate check: ``sigmoidal_hetero`` with ``scale`` 100 (10x the noise level)
NOISY_SCALE = 100.0
NOISY_SUFFIX = " (10x noise)"
NOISY_RATE_OPTIMIZERS = ("scion", "lanton_oracle")


@dataclass(frozen=True)
class MainJobConfig:
    """What the main job runs (``quick`` shortens horizons and seed counts)."""

    seed: int = 0
    quick: bool = False
    T_grid: tuple = (256, 512, 1024, 2048, 4096)
    rate_seeds: int = 6
    compare_T: int = 512
    tune_seeds: int = 2
    eval_seeds: int = 8
    estimator_T: int = 2048
    compile_in_background: bool = True
    lr_factors: tuple = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)

    @classmethod
    def make(cls, seed: int = 0, quick: bool = False) -> "MainJobConfig":
        """The default configuration for base seed ``seed``; ``quick``: the smoke run."""
        if quick:
            return cls(seed=seed, quick=True, T_grid=(128, 256, 512, 1024), rate_seeds=4, compare_T=256,
                       tune_seeds=2, eval_seeds=4, estimator_T=512,
                       lr_factors=(0.25, 1.0, 4.0, 16.0))
        return cls(seed=seed)

    def describe(self) -> dict:
        """Every field as a JSON-ready dict (tuples as lists)."""
        return {key: (list(value) if isinstance(value, tuple) else value) for key, value in self.__dict__.items()}


def rate_builders() -> dict:
    """The optimizers of the rate check, in the theorem's analysed form."""
    return {
        "lanton": lambda layers, lr, beta: optimizers.lanton(layers, lr, beta=beta, estimator="consecutive"),
        "lanton_oracle": lambda layers, lr, beta: optimizers.lanton(layers, lr, beta=beta, estimator="oracle"),
        "scion": lambda layers, lr, beta: optimizers.scion(layers, lr, beta=beta),
        "dmuon": lambda layers, lr, beta: optimizers.dmuon(layers, lr, beta=beta, nesterov=False,
                                                           momentum_form="ema", weight_decay=0.0),
        "muon": lambda layers, lr, beta: optimizers.muon(layers, lr, beta=beta, nesterov=False),
    }


#: methods a comparison runs only when named (``methods=``, ``nalr compare --methods``): the
#: main job's comparison stays the LMO family, NorMuon and AdamW
ON_REQUEST = ("sophia", "schatten_adaptive")


def compare_builders(problem) -> dict:
    """The methods of the comparison, as people run them (learning rate tuned).

    LANTON with each noise estimator the problem supports, its uniform base, fixed oracle
    weights ``sigma_min/sigma_l`` (when the problem declares positive noise levels; for
    time-varying noise ``problem.sigma`` is each layer's largest level over time, so these
    are the worst-case weights, not the oracle's at any one step), Scion, D-Muon, Muon,
    NorMuon (their default momentum, Nesterov look-ahead and weight decay) and AdamW; Sophia
    (Sophia-G where the problem can sample labels, else Sophia-H from Hessian-vector
    products) and the adaptive Schatten-q method where the problem gives activations.
    """
    estimators = [name for name in ("consecutive", "momentum_residual", "two_sample", "oracle")
                  if name != "two_sample" or problem.second_sample_available]
    builders = {("lanton" if name == "consecutive" else f"lanton_{name}"):
                (lambda layers, lr, name=name: optimizers.lanton(layers, lr, estimator=name))
                for name in estimators}
    builders["uniform"] = lambda layers, lr: optimizers.lmo_momentum(layers, lr)
    if _known_noise_levels(problem):
        sigma = np.broadcast_to(np.asarray(problem.sigma, dtype=float), (len(problem.layers),))
        weights = optimizers.oracle_weights(dict(zip(problem.names, sigma)))
        builders["oracle_weights"] = lambda layers, lr: optimizers.fixed_layerwise(layers, lr, weights)
    builders.update({
        "scion": lambda layers, lr: optimizers.scion(layers, lr),
        "dmuon": lambda layers, lr: optimizers.dmuon(layers, lr),
        "muon": lambda layers, lr: optimizers.muon(layers, lr),
        "normuon": lambda layers, lr: optimizers.normuon(layers, lr),
        "adamw": lambda layers, lr: optimizers.adamw(layers, lr),
    })
    # the baselines that read more of the problem, where it can serve them: Sophia with the
    # first curvature estimator it supports (Sophia-G, else Sophia-H), the adaptive Schatten
    # method where the problem gives activations
    capabilities = getattr(problem, "capabilities", frozenset())
    curvature = "gnb" if "gnb" in capabilities else "hutchinson" if "hvp" in capabilities else None
    if curvature is not None:
        builders["sophia"] = lambda layers, lr, curvature=curvature: optimizers.sophia(layers, lr, curvature=curvature)
    if "activations" in capabilities:
        builders["schatten_adaptive"] = lambda layers, lr: optimizers.schatten_adaptive(layers, lr)
    return builders


def _known_noise_levels(problem) -> bool:
    # oracle weights sigma_min/sigma_l need every layer's noise level, positive and finite
    if problem.sigma is None:
        return False
    sigma = np.asarray(problem.sigma, dtype=float)
    return bool(np.all(np.isfinite(sigma)) and np.all(sigma > 0))


def run_comparison(problem, T: int, tune_seeds, eval_seeds, *, start=None, methods=None,
                   lr_factors=MainJobConfig.lr_factors, contender: str = "lanton", reference: str = "uniform",
                   progress=None):
    """One tuned comparison as in the main job; returns ``(Comparison, prediction or None)``.

    ``methods``: labels of :func:`compare_builders` to run (default: all but ``ON_REQUEST``,
    the baselines that read more of the problem and run a Python loop per step); the
    contender and the reference are always run. Every grid is ``lr_factors`` times the uniform method's
    theory-tuned step at ``T`` (:func:`learning_rate_grid`). ``ValueError`` names ``methods``,
    ``contender`` or ``reference`` for a label the problem does not offer.
    """
    builders = compare_builders(problem)
    for name, label in (("contender", contender), ("reference", reference)):
        if label not in builders:
            raise ValueError(f"{name}: {label!r} is not a method on {problem.name}; available: {', '.join(builders)}")
    if methods is not None:
        unknown = [label for label in methods if label not in builders]
        if unknown:
            raise ValueError(f"methods: {unknown[0]!r} is not a method on {problem.name}; "
                             f"available: {', '.join(builders)}")
        keep = {contender, reference, *methods}
    else:
        keep = {contender, reference, *(label for label in builders if label not in ON_REQUEST)}
    builders = {label: build for label, build in builders.items() if label in keep}
    centre = centre_learning_rate(problem, start, T)
    grids = {label: learning_rate_grid(label, problem, centre, lr_factors) for label in builders}
    comparison = compare(problem, builders, grids, T, tune_seeds, eval_seeds, start=start, contender=contender,
                         reference=reference, progress=progress)
    return comparison, separable_prediction(problem, start, T)


def learning_rate_grid(label: str, problem, centre: float, factors) -> list:
    """One method's grid: ``centre * factors``; AdamW's and Sophia's (per-entry steps of size at
    most the rate) are rescaled by ``1/sqrt(max(m, n))``.

    An LMO step of radius ``r`` on an ``m x n`` spectral-norm layer has Frobenius length
    about ``r sqrt(min(m, n))``; an AdamW step of rate ``a`` (per-entry size about ``a``) has
    ``a sqrt(m n)``. The rescaling makes the two grids move the weights by comparable
    distances, so the same factors bracket both methods' best rates.
    """
    scale = 1.0
    if label in ("adamw", "sophia"):
        scale = 1.0 / np.sqrt(max(max(layer.shape) for layer in problem.layers))
    return [float(centre * scale * factor) for factor in factors]


def centre_learning_rate(problem, start, T: int) -> float:
    """The grid's centre: the theory-tuned step of the uniform method at horizon ``T``
    (``sqrt(A / (B T))``, the deterministic optimum, for a problem without noise; a
    Monte-Carlo noise level at the start where the noise model declares none)."""
    from .constants import theorem_constants

    probe = optimizers.lmo_momentum(problem.layers, 1e-3)
    constants = theorem_constants(problem, probe, start, lr_sum=_travel_guess(problem, T))
    if not np.all(np.isfinite(constants.sigma)):
        # minibatch noise declares no level: a Monte-Carlo estimate at the start centres the
        # grid (a tuning guess only; no bound is claimed from it)
        at = problem.init(0) if start is None else start
        estimate, _ = problems.noise_level(problem, at, np.random.default_rng(0), draws=64)
        constants = dataclasses.replace(constants, sigma=np.asarray(estimate, dtype=float))
    coefficients = constants.leading()
    if not coefficients.C > 0:
        # no declared noise: the bound is A/(eta T) + B eta with beta = 0, least at this eta
        return float(np.sqrt(coefficients.A / (coefficients.B * T)))
    return float(theory.tuned_schedule(float(T), coefficients.A, coefficients.B, coefficients.C).eta)


def _travel_guess(problem, T):
    # families certified on a ball need the run's travel; the certificate's own ball radius
    # is used as the travel budget when there is one (its L is valid there)
    radius = problem.certificate().radius
    return None if radius is None else float(np.min(radius))


def separable_prediction(problem, start, T: int, beta: float = 0.9):
    """The bound's prediction for a separable problem, or ``None`` (coupled problems, or no
    declared positive noise levels)."""
    if not getattr(problem, "separable", False) or not _known_noise_levels(problem):
        return None
    start = problem.init(0) if start is None else start
    layout = problem.layout
    grad = problem.grad(start)
    g1 = np.array([norm.dual(grad[name]) for name, norm in zip(layout.names, layout.norms)])
    rho = np.array([norm.constants()[2] for norm in layout.norms])
    L = np.diag(problem.certificate().L)
    sigma = np.broadcast_to(np.asarray(problem.sigma, dtype=float), (len(layout),))
    return theory.predict_adaptivity(problem.layer_gaps(start), L, sigma, rho, g1, T, beta)


def _installed_version(distribution: str) -> str:
    # from the installed metadata: experiments may not import the top-level package (layering)
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


@dataclass
class MainJobResult:
    """What :func:`run_main_job` returns: its config, the :class:`.rate.RateCheck`, the
    comparisons and separable predictions by scenario name, the estimator check and the
    versions of the packages that produced it."""

    config: MainJobConfig
    rate: object
    comparisons: dict = field(default_factory=dict)
    predictions: dict = field(default_factory=dict)
    estimators: object = None
    versions: dict = field(default_factory=dict)


def _warm_up_other_families() -> None:
    # runs in a child process: compiles (and caches on disk) the engine for the problem
    # families other than the rate check's, while the parent compiles its own
    from .. import engine

    for scenario in scenarios(quick=True):
        if scenario.problem.name != "sigmoidal_hetero":
            engine.simulate(scenario.problem, optimizers.scion(scenario.problem.layers, 1e-3), 2, [0])


def _compile_in_background():
    """Start numba's compilation of the other families' engine in a second process.

    Compilation is single-threaded and the engine is specialised per problem family, so on
    a machine with two cores the coupled problem compiles for free while the parent
    compiles (and then runs) the rate check; numba's on-disk cache hands the result over.
    Returns ``(executor, future)``, or ``None`` with a single core.
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    if (os.cpu_count() or 1) < 2:
        return None
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    return executor, executor.submit(_warm_up_other_families)


def run_main_job(config: MainJobConfig, progress=None) -> MainJobResult:
    """Run the main job; ``progress(stage, detail)`` is called before each run."""
    import numba
    import scipy

    notify = progress or (lambda stage, detail: None)
    warming = _compile_in_background() if config.compile_in_background else None
    problem = problems.get("sigmoidal_hetero")
    rate = rate_check(problem, rate_builders(), config.T_grid, config.rate_seeds,
                      progress=lambda label, T: notify("rate check", f"{label}, T = {T}"))
    # the same check with 10x the noise, where the noise term dominates and slopes are judged
    noisy = problems.get("sigmoidal_hetero", scale=NOISY_SCALE)
    builders = rate_builders()
    rate = rate.merge(rate_check(
        noisy, {f"{label}{NOISY_SUFFIX}": builders[label] for label in NOISY_RATE_OPTIMIZERS}, config.T_grid,
        max(2, config.rate_seeds // 2), progress=lambda label, T: notify("rate check", f"{label}, T = {T}")))
    out = MainJobResult(config, rate, versions={
        "nalr_theory": _installed_version("nalr_theory"), "numpy": np.__version__, "scipy": scipy.__version__,
        "numba": numba.__version__, "python": platform.python_version()})
    notify("estimator check", f"T = {config.estimator_T}")
    out.estimators = estimator_check(problem, config.estimator_T, list(range(config.rate_seeds)),
                                     centre_learning_rate(problem, None, config.estimator_T))
    if warming is not None:
        executor, future = warming
        future.result()
        executor.shutdown()
    tune = [1000 + config.seed * 100 + k for k in range(config.tune_seeds)]
    evaluate = [config.seed * 100 + k for k in range(config.eval_seeds)]
    for scenario in scenarios(config.quick):
        comparison, prediction = run_comparison(
            scenario.problem, config.compare_T, tune, evaluate, start=scenario.start, lr_factors=config.lr_factors,
            progress=lambda label, name=scenario.name: notify("comparison", f"{name}: {label}"))
        comparison.description = scenario.description
        out.comparisons[scenario.name] = comparison
        out.predictions[scenario.name] = prediction
    return out
