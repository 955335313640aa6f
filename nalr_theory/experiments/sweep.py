"""Sweeps: a grid of runs from a config file, cached run by run, resumable, local or on Dask.

Problem
    A researcher's own grid (problems, noise models, optimizers, estimators, horizons,
    learning rates) outgrows one sitting: it must survive being killed at any moment,
    skip what is done when rerun, and scale out to a cluster without changing a number.

Algorithm
    A config (TOML or JSON; see :func:`load_sweep`) expands to a list of runs: every
    problem entry times every optimizer entry times every ``T``, each entry's ``grid``
    expanded as the product of its option lists. A run is the whole seed set of one
    configuration through :func:`nalr_theory.engine.simulate`; its record (final ``f``,
    time averages ``M`` per measure, divergence steps, the schedule, and the bound with
    ``holds`` per form where the optimizer is in the analysed family) is written to
    ``runs/<key>.json``, ``key`` the SHA-256 of the run's canonical JSON configuration,
    by writing a temporary file in the same folder and renaming it (atomic on POSIX), so
    a killed sweep leaves whole files or none. A rerun deletes leftover temporary files,
    skips every run whose file exists and holds the same configuration, and executes the
    rest: in this process (``jobs=1``), in ``jobs`` joblib worker processes, or on a Dask
    distributed cluster (``scheduler``). ``results.json`` is then assembled from the run
    files in the config's order.

Guarantee
    The engine is deterministic for a given seed whatever the thread count, and the
    results file is built only from the run files, so an interrupted and resumed sweep,
    a local one and a Dask one give byte-identical ``results.json``. Every configuration
    error is a ``ValueError`` naming the config entry (``optimizers[1].lr: ...``), raised
    while loading, before any run.

References
    :func:`nalr_theory.engine.simulate`; :mod:`.rate` (measures, bound terms, upper
    confidence bounds); benchopt's cached, resumable benchmark runs (the model).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile

import numpy as np

from .. import engine, optimizers, problems, theory
from .constants import coverage, theorem_constants
from .rate import bound_terms, measured, upper_confidence
from .report import json_ready

#: the largest horizon a sweep accepts (2^20 steps: hours per run on this class of machine)
MAX_T = 2 ** 20
#: the largest number of seeds per run
MAX_SEEDS = 4096
TOP_KEYS = ("name", "T", "seeds", "record_every", "level", "problems", "optimizers")
ENTRY_KEYS = {"problems": ("name", "options", "grid"), "optimizers": ("name", "lr", "options", "grid")}
PARTIAL_PREFIX = ".partial-"
RESULTS_FILE = "results.json"


def read_config(path: str) -> dict:
    """The config at ``path`` (``.toml`` with :mod:`tomllib`, ``.json`` with :mod:`json`)."""
    import tomllib

    if not os.path.isfile(path):
        raise ValueError(f"config: no such file {path!r}")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".toml", ".json"):
        raise ValueError(f"config: expected a .toml or .json file, got {path!r}")
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle) if suffix == ".toml" else json.load(handle)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"config: {os.path.basename(path)} is not valid {suffix[1:].upper()} ({error})") from None


def _expand(entry: dict, where: str) -> list[dict]:
    """The entry's ``options`` combined with every point of its ``grid``."""
    options = entry.get("options", {})
    grid = entry.get("grid", {})
    for key, value in (("options", options), ("grid", grid)):
        if not isinstance(value, dict):
            raise ValueError(f"{where}.{key}: expected a table of option = value")
    clash = sorted(set(options) & set(grid))
    if clash:
        raise ValueError(f"{where}.grid.{clash[0]}: also set in {where}.options; give it in one place")
    names = sorted(grid)
    for name in names:
        if not isinstance(grid[name], list) or not grid[name]:
            raise ValueError(f"{where}.grid.{name}: expected a non-empty list of values")
    return [{**options, **dict(zip(names, values))} for values in itertools.product(*(grid[name] for name in names))]


def _horizons(value) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError("T: expected a horizon or a non-empty list of horizons")
    for T in values:
        if isinstance(T, bool) or not isinstance(T, int) or not 1 <= T <= MAX_T:
            raise ValueError(f"T: every horizon must be an integer in [1, {MAX_T}], got {T!r}")
    return sorted(set(values))


def _seeds(value, base_seed: int) -> list[int]:
    if isinstance(value, bool):
        raise ValueError(f"seeds: expected a count or a list of seeds, got {value!r}")
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            raise ValueError(f"seeds: a count must lie in [1, {MAX_SEEDS}], got {value}")
        return [100 * base_seed + k for k in range(value)]
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        if any(s < 0 for s in value):
            raise ValueError(f"seeds: seeds must be non-negative, got {value}")
        if len(set(value)) != len(value) or len(value) > MAX_SEEDS:
            raise ValueError(f"seeds: expected at most {MAX_SEEDS} distinct seeds, got {value}")
        return list(value)
    raise ValueError(f"seeds: expected a count or a non-empty list of non-negative integers, got {value!r}")


def _check_entries(config: dict, kind: str) -> list:
    entries = config.get(kind)
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError(f"{kind}: expected a non-empty list of tables ([[{kind}]] in TOML)")
    for index, entry in enumerate(entries):
        unknown = sorted(set(entry) - set(ENTRY_KEYS[kind]))
        if unknown:
            raise ValueError(f"{kind}[{index}].{unknown[0]}: unknown key; accepted: {', '.join(ENTRY_KEYS[kind])}")
        if not isinstance(entry.get("name"), str):
            raise ValueError(f"{kind}[{index}].name: required (a registered name)")
    return entries


def _build_problem(name: str, options: dict, where: str):
    try:
        return problems.get(name, **options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


def _build_optimizer(problem, name: str, lr, options: dict, where: str):
    if name not in optimizers.METHODS:
        raise ValueError(f"{where}.name: unknown optimizer {name!r}; known: {', '.join(optimizers.METHODS)}")
    if "lr" in options:
        raise ValueError(f"{where}.options.lr: give the learning rate as {where}.lr (a number or \"theory\")")
    step = 1e-3 if lr == "theory" else lr
    try:
        optimizer = optimizers.get(name, problem.layers, lr=step, **options)
        check_problem = getattr(optimizer, "check_problem", None)
        if check_problem is not None:  # Sophia's curvature, the Schatten method's activations
            check_problem(problem)
        return optimizer
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


def load_sweep(config, base_seed: int = 0) -> dict:
    """Validate a sweep config and expand it into runs; ``ValueError`` naming the entry.

    ``config``: a path (``.toml``/``.json``) or a dict with keys

    - ``T``: a horizon or a list (integers in ``[1, 2^20]``);
    - ``seeds``: a count ``R`` (seeds ``100 base_seed + k``, ``k < R``) or a list of seeds;
    - ``record_every`` (optional): recording stride of the curves (default ``T // 64``);
    - ``level`` (optional): confidence of the one-sided upper bound on ``M`` (0.99);
    - ``problems``: tables ``name``, ``options`` (passed to :func:`nalr_theory.problems.get`,
      a ``noise`` table like ``{kind = "bounded", sigma_lo = ..., sigma_hi = ...}``
      included), ``grid`` (option = list of values: every combination);
    - ``optimizers``: tables ``name`` (a key of :data:`nalr_theory.optimizers.METHODS`),
      ``lr`` (a number, or ``"theory"``: the horizon-tuned step and momentum of the bound,
      for optimizers in the analysed family), ``options``, ``grid`` (may include ``lr``).

    Returns ``{"config": the normalised config, "runs": [run configs]}``, every problem
    and optimizer built once to check its options.
    """
    if isinstance(base_seed, bool) or not isinstance(base_seed, int) or base_seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {base_seed!r}")
    if isinstance(config, (str, os.PathLike)):
        config = read_config(os.fspath(config))
    if not isinstance(config, dict):
        raise ValueError("config: expected a table of sweep settings")
    unknown = sorted(set(config) - set(TOP_KEYS))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown key of the sweep config; accepted: {', '.join(TOP_KEYS)}")
    if "T" not in config or "seeds" not in config:
        raise ValueError(f"{'T' if 'T' not in config else 'seeds'}: required in the sweep config")
    horizons = _horizons(config["T"])
    seeds = _seeds(config["seeds"], base_seed)
    record_every = config.get("record_every")
    if record_every is not None and (isinstance(record_every, bool) or not isinstance(record_every, int)
                                     or record_every < 1):
        raise ValueError(f"record_every: expected a positive integer, got {record_every!r}")
    level = config.get("level", 0.99)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.5 < level < 1:
        raise ValueError(f"level: expected a confidence level in (0.5, 1), got {level!r}")
    problem_points = []
    for index, entry in enumerate(_check_entries(config, "problems")):
        where = f"problems[{index}]"
        for options in _expand(entry, where):
            problem_points.append((entry["name"], options, _build_problem(entry["name"], options, where)))
    optimizer_points = []
    for index, entry in enumerate(_check_entries(config, "optimizers")):
        where = f"optimizers[{index}]"
        for options in _expand(entry, where):
            options = dict(options)
            lr = options.pop("lr", entry.get("lr"))
            if lr is None:
                raise ValueError(f"{where}.lr: required (a number, or \"theory\" for the horizon-tuned schedule)")
            if lr != "theory" and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0):
                raise ValueError(f"{where}.lr: expected a positive number or \"theory\", got {lr!r}")
            if lr == "theory" and "beta" in options:
                raise ValueError(f"{where}.options.beta: lr = \"theory\" sets the momentum too; drop beta")
            optimizer_points.append((entry["name"], lr, options, where))
    runs = []
    for problem_name, problem_options, problem in problem_points:
        for name, lr, options, where in optimizer_points:
            optimizer = _build_optimizer(problem, name, lr, options, where)
            if lr == "theory":
                covered, reason = coverage(optimizer)
                if not covered:
                    raise ValueError(f"{where}.lr: \"theory\" needs an optimizer the bound covers; {reason}")
            for T in horizons:
                runs.append({
                    "problem": {"name": problem_name, "options": problem_options},
                    "optimizer": {"name": name, "lr": float(lr) if lr != "theory" else lr, "options": options},
                    "T": T, "seeds": seeds,
                    "record_every": record_every if record_every is not None else max(1, T // 64),
                    "level": float(level),
                })
    normalised = {key: config[key] for key in TOP_KEYS if key in config}
    normalised.update({"T": horizons, "seeds": seeds, "level": float(level)})
    return {"config": json_ready(normalised), "runs": [json_ready(run) for run in runs]}


def run_key(run: dict) -> str:
    """The run's file name stem: SHA-256 of its canonical JSON (first 24 hex digits)."""
    text = json.dumps(run, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def execute_run(run: dict, threads: int | None = None) -> dict:
    """One run of a sweep: its record (a JSON-ready dict; see the module docstring).

    Pure: the record depends only on ``run``. ``threads``: the engine's thread count in
    this process (``None``: unchanged).
    """
    if threads is not None:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    problem = problems.get(run["problem"]["name"], **run["problem"]["options"])
    spec = run["optimizer"]
    T = int(run["T"])
    options = dict(spec["options"])
    schedule = None
    constants = None
    probe = optimizers.get(spec["name"], problem.layers, lr=1e-3, **options)
    if coverage(probe)[0]:
        constants = theorem_constants(problem, probe)
    if spec["lr"] == "theory":
        coefficients = constants.leading()
        tuned = theory.tuned_schedule(float(T), coefficients.A, coefficients.B, coefficients.C)
        schedule = {"lr": float(tuned.eta), "beta": float(tuned.beta), "feasible": bool(tuned.feasible)}
        options["beta"] = schedule["beta"]
        lr = schedule["lr"]
    else:
        lr = float(spec["lr"])
    optimizer = optimizers.get(spec["name"], problem.layers, lr=lr, **options)
    measures = ("plain", "weighted") + (("noise_normalised",) if _has_noise_levels(problem) else ())
    result = engine.simulate(problem, optimizer, T, run["seeds"], record_every=int(run["record_every"]),
                             measures=measures)
    final_f = result.f[:, -1].copy()
    final_f[result.diverged] = np.nan
    record = {
        "key": run_key(run), "config": run, "schedule": schedule,
        "diverged_at": result.diverged_at, "final_f": final_f, "M": dict(result.average),
        "mean": {"final_f": _finite_mean(final_f),
                 **{f"M_{name}": _finite_mean(values) for name, values in result.average.items()}},
        "curve": {"steps": result.steps, "f": np.nanmean(result.f, axis=0) if np.any(~result.diverged)
                  else np.full(result.steps.shape, np.nan)},
        "bound": None,
    }
    if constants is not None and constants.forms:
        _, beta, _ = optimizer.schedule_values(1)
        record["bound"] = {}
        for form in constants.forms:
            values = measured(form, result, constants)
            mean, upper = upper_confidence(values, float(run["level"]))
            terms = bound_terms(T, lr, beta, constants, form)
            record["bound"][form] = {"M_mean": mean, "M_upper": upper, "bound": terms["total"],
                                     "holds": bool(upper <= terms["total"]), "tightness": terms["total"] / mean}
    return json_ready(record)


def _has_noise_levels(problem) -> bool:
    sigma = problem.sigma
    return sigma is not None and bool(np.all(np.asarray(sigma, dtype=float) > 0))


def _finite_mean(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.mean(values)) if values.size else float("nan")


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename:
    a reader (or a rerun after a kill) sees the old file, the new one, or none."""
    folder = os.path.dirname(path) or "."
    handle = tempfile.NamedTemporaryFile("w", dir=folder, prefix=PARTIAL_PREFIX, suffix=".json", delete=False)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def _finished(path: str, run: dict) -> bool:
    # a file that does not parse or holds another configuration is not a finished run
    try:
        with open(path) as handle:
            return json.load(handle).get("config") == run
    except (OSError, ValueError):
        return False


def _execute_local(pending: list, jobs: int):
    if jobs == 1:
        for run in pending:
            yield run, execute_run(run)
        return
    from joblib import Parallel, delayed

    threads = max(1, (os.cpu_count() or 1) // jobs)
    tasks = (delayed(_keyed)(run, threads) for run in pending)
    by_key = {run_key(run): run for run in pending}
    for key, record in Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks):
        yield by_key[key], record


def _keyed(run: dict, threads: int):
    return run_key(run), execute_run(run, threads)


def connect(scheduler: str, timeout: float = 10.0):
    """A Dask distributed client on ``scheduler``, given up after ``timeout`` seconds
    (``ValueError`` naming ``scheduler``)."""
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("scheduler: Dask distributed is not installed; pip install 'nalr_theory[cluster]'") from None
    try:
        return Client(scheduler, timeout=f"{float(timeout)}s")
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(f"scheduler: cannot connect to {scheduler!r} ({error})") from None


def _execute_dask(pending: list, client):
    from distributed import as_completed

    futures = {client.submit(execute_run, run, pure=False): run for run in pending}
    for future in as_completed(futures):
        yield futures[future], future.result()


def run_sweep(sweep: dict, out_dir: str, *, jobs: int = 1, client=None, versions=None, progress=None) -> dict:
    """Execute the runs of ``sweep`` (from :func:`load_sweep`) not yet in ``out_dir``.

    ``jobs``: runs at once in joblib worker processes (1: in this process, the engine's
    threads spread over seeds); ``client``: a Dask distributed client (from
    :func:`connect`), which overrides ``jobs``; ``progress(done, total)`` after each run.
    Returns the assembled results (also written to ``out_dir/results.json``).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a positive integer, got {jobs!r}")
    runs_dir = os.path.join(out_dir, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    for name in os.listdir(runs_dir):
        if name.startswith(PARTIAL_PREFIX):  # left by a kill between write and rename
            os.unlink(os.path.join(runs_dir, name))
    paths = {run_key(run): os.path.join(runs_dir, run_key(run) + ".json") for run in sweep["runs"]}
    pending = [run for run in sweep["runs"] if not _finished(paths[run_key(run)], run)]
    done = len(sweep["runs"]) - len(pending)
    if progress is not None:
        progress(done, len(sweep["runs"]))
    executed = _execute_dask(pending, client) if client is not None else _execute_local(pending, jobs)
    for run, record in executed:
        write_atomic(paths[run_key(run)], json.dumps(record, indent=1, sort_keys=True))
        done += 1
        if progress is not None:
            progress(done, len(sweep["runs"]))
    records = []
    for run in sweep["runs"]:
        with open(paths[run_key(run)]) as handle:
            records.append(json.load(handle))
    results = {"sweep": sweep["config"], "versions": versions or {}, "runs": records}
    write_atomic(os.path.join(out_dir, RESULTS_FILE), json.dumps(results, indent=1, sort_keys=True))
    return results


def sweep_table(results: dict) -> list[list]:
    """One row per run: problem, optimizer, T, seeds, learning rate, means, bound verdicts."""
    rows = []
    for record in results["runs"]:
        config = record["config"]
        problem = config["problem"]["name"] + _options_text(config["problem"]["options"])
        optimizer = config["optimizer"]["name"] + _options_text(config["optimizer"]["options"])
        lr = record["schedule"]["lr"] if record["schedule"] else config["optimizer"]["lr"]
        bound = record["bound"] or {}
        holds = ", ".join(f"{form}: {'yes' if entry['holds'] else 'NO'} ({entry['tightness']:.3g}x)"
                          for form, entry in bound.items()) or "no bound applies"
        diverged = sum(1 for step in record["diverged_at"] if step)
        rows.append([problem, optimizer, config["T"], len(config["seeds"]), lr, record["mean"]["final_f"],
                     record["mean"]["M_plain"], diverged, holds])
    return rows


def _options_text(options: dict) -> str:
    return "" if not options else "(" + ", ".join(f"{key}={value}" for key, value in sorted(options.items())) + ")"

