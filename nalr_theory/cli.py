"""Command line of nalr_theory (``nalr``).

``nalr run`` is the main job (:func:`nalr_theory.experiments.run_main_job`): the rate check
and the adaptivity comparison on the embedded default problems, printed as tables and
written to ``--out`` (``results.json``, ``runs.npz``, plots as PNG and PDF).

``nalr compare`` (one tuned comparison on any problem), ``nalr sweep CONFIG`` (a resumable
grid of runs from a TOML or JSON file, on joblib workers or a Dask cluster), ``nalr bound``
(the bound, its terms and optimal constants for given constants, plain or LaTeX),
``nalr dims`` (dimension constants of real shapes with a per-layer noise profile),
``nalr problems`` and ``nalr optimizers`` (what is available, with options).

Every bad input is one line ``nalr: error: ...`` naming the option, exit code 2, before
any work.
"""

from __future__ import annotations

import os
import sys
import time

import click

from nalr_theory import __version__


class _OneLineErrors(click.Group):
    """A group whose usage errors are one line ``nalr: error: ...`` on stderr, exit code 2.

    Click's default prints the usage and a hint on three more lines; a user who wrote a bad
    value needs the option and the reason, and scripts need a line they can grep.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            value = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as error:
            click.echo(f"nalr: error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.exceptions.Abort:
            click.echo("nalr: aborted", err=True)
            sys.exit(1)
        sys.exit(value if isinstance(value, int) else 0)


@click.group(cls=_OneLineErrors, invoke_without_command=True)
@click.version_option(__version__, prog_name="nalr")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Theory and simulation of noise-adaptive layerwise learning rates."""
    if ctx.invoked_subcommand is None:
        click.echo(f"nalr_theory {__version__}")
        click.echo(ctx.get_help())


@main.command()
def version() -> None:
    """Print the installed version."""
    click.echo(__version__)


def _writable_folder(out: str) -> str:
    """Create ``out`` if needed and check it is writable, before any work."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(f"cannot create {out!r}: {error.strerror}", param_hint="'--out'") from None
    if not os.path.isdir(out) or not os.access(out, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{out!r} is not a writable folder", param_hint="'--out'")
    return out


def _job_options(out_default: str, out_help: str):
    """``--out``, ``--seed``, ``--jobs`` (engine threads) and ``--quiet`` of the tuned jobs."""
    options = [
        click.option("--out", default=out_default, show_default=True, help=out_help),
        click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
                     help="Base seed: evaluation seeds 100 seed + k, tuning seeds 1000 + 100 seed + k."),
        click.option("--jobs", default=None, type=click.IntRange(min=1),
                     help="Threads for the engine (one seed per thread; default: all cores)."),
        click.option("--quiet", is_flag=True, help="Print only the tables, no progress."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@main.command()
@_job_options("nalr_results", "Folder for results.json, runs.npz and plots.")
@click.option("--quick", is_flag=True, help="Shorter horizons and fewer seeds (a smoke run).")
def run(out: str, seed: int, jobs: int | None, quiet: bool, quick: bool) -> None:
    """The main job: does the bound hold, is the rate T^(-1/4) and why, does LANTON help?"""
    _writable_folder(out)
    _numba_threads(jobs)
    from nalr_theory.experiments import MainJobConfig, report_text, run_main_job, write_outputs

    config = MainJobConfig.make(seed=seed, quick=quick)
    start = time.perf_counter()
    if not quiet:
        click.echo("Compiling the engine's numba kernels on first use (cached afterwards)...", err=True)
    bar = _progress_bar(quiet)

    def progress(stage: str, detail: str) -> None:
        if bar is not None:
            bar.set_description(f"{stage}: {detail}")
            bar.update(1)

    result = run_main_job(config, progress)
    if bar is not None:
        bar.close()
    click.echo(report_text(result))
    paths = write_outputs(result, out)
    click.echo(f"\nWrote {len(paths)} files to {os.path.abspath(out)}: " + ", ".join(os.path.basename(p) for p in paths))
    if not quiet:
        click.echo(f"Finished in {time.perf_counter() - start:.0f} s.", err=True)


def _bad(error: ValueError, hint: str) -> click.BadParameter:
    return click.BadParameter(str(error), param_hint=hint)


def _numba_threads(jobs: int | None) -> None:
    if jobs is not None:
        import numba

        numba.set_num_threads(min(jobs, numba.config.NUMBA_NUM_THREADS))


def _progress_bar(quiet: bool, total=None, unit=" runs"):
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)


def _write_json(path: str, data) -> None:
    import json

    from nalr_theory.experiments.sweep import write_atomic

    write_atomic(path, json.dumps(data, indent=2))


def _versions() -> dict:
    import platform

    import numba
    import numpy
    import scipy

    return {"nalr_theory": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "python": platform.python_version()}


def _option_value(text: str):
    """``KEY=VALUE`` with VALUE read as a TOML value (``0.5``, ``[16, 16]``, ``{kind = "bounded",
    sigma_lo = 0.1, sigma_hi = 0.2}``, ``true``), else as a bare string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _options(pairs, hint: str) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=hint)
        options[key.strip()] = _option_value(value.strip())
    return options


def _number_list(text: str | None, hint: str, *, positive: bool = False):
    """``"1,2.5,0.5"`` as floats (``None`` for ``None``); ``;`` separates matrix rows."""
    if text is None:
        return None
    import numpy as np

    try:
        rows = [[float(item) for item in row.split(",")] for row in text.split(";")]
        values = np.array(rows[0] if len(rows) == 1 else rows, dtype=float)
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}", param_hint=hint) from None
    if not np.all(np.isfinite(values)) or np.any(values < 0) or (positive and np.any(values <= 0)):
        raise click.BadParameter(f"expected {'positive' if positive else 'non-negative'} finite numbers, got {text!r}",
                                 param_hint=hint)
    return values


def _g(value) -> str:
    return value if isinstance(value, str) else f"{value:.4g}"


# ---------------------------------------------------------------- compare


@main.command()
@click.option("--problem", "problem_name", default="sigmoidal_hetero", show_default=True,
              help="A registered problem (nalr problems lists them).")
@click.option("--option", "problem_options", multiple=True, metavar="KEY=VALUE",
              help="A problem option, VALUE in TOML syntax (repeatable), e.g. scale=100 or "
                   "noise='{kind=\"bounded\", sigma_lo=0.1, sigma_hi=0.2}'.")
@click.option("--start", type=click.Choice(["default", "graded"]), default="default", show_default=True,
              help="graded: each layer's distance to the minimiser proportional to 1/sigma_l.")
@click.option("--methods", default=None,
              help="Comma-separated labels to run (default: all but sophia and schatten_adaptive, which run "
                   "when named; contender and reference always run).")
@click.option("--T", "T", default=512, show_default=True, type=click.IntRange(2, 2 ** 20), help="Horizon.")
@click.option("--tune-seeds", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Seeds the learning rate is tuned on.")
@click.option("--eval-seeds", default=8, show_default=True, type=click.IntRange(2, 256),
              help="Fresh seeds the tuned methods are judged on.")
@click.option("--contender", default="lanton", show_default=True, help="The method paired first.")
@click.option("--reference", default="uniform", show_default=True, help="The method every other is paired against.")
@_job_options("nalr_compare", "Folder for results.json.")
def compare(problem_name, problem_options, start, methods, T, tune_seeds, eval_seeds, contender, reference, out,
            seed, jobs, quiet) -> None:
    """Methods on one problem at a fixed budget, each at its own tuned learning rate."""
    from nalr_theory import problems

    if problem_name not in problems.list():
        raise click.BadParameter(f"unknown problem {problem_name!r}; known: {', '.join(problems.list())}",
                                 param_hint="'--problem'")
    options = _options(problem_options, "'--option'")
    try:
        problem = problems.get(problem_name, **options)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="'--option'") from None
    from nalr_theory.experiments import graded_start, run_comparison
    from nalr_theory.experiments.main_job import compare_builders

    available = list(compare_builders(problem))
    for hint, label in (("'--contender'", contender), ("'--reference'", reference)):
        if label not in available:
            raise click.BadParameter(f"{label!r} is not a method here; available: {', '.join(available)}",
                                     param_hint=hint)
    labels = None
    if methods is not None:
        labels = [label.strip() for label in methods.split(",") if label.strip()]
        unknown = [label for label in labels if label not in available]
        if unknown or not labels:
            raise click.BadParameter(f"unknown method {unknown[0] if unknown else methods!r}; available: "
                                     f"{', '.join(available)}", param_hint="'--methods'")
    if contender == reference:
        raise click.BadParameter("the contender must differ from the reference", param_hint="'--contender'")
    try:
        start_point = graded_start(problem) if start == "graded" else None
    except ValueError as error:
        raise _bad(error, "'--start'") from None
    _writable_folder(out)
    _numba_threads(jobs)
    tune = [1000 + 100 * seed + k for k in range(tune_seeds)]
    evaluate = [100 * seed + k for k in range(eval_seeds)]
    bar = _progress_bar(quiet, total=len(labels or available) if labels is None else len({contender, reference, *labels}),
                        unit=" methods")
    began = time.perf_counter()

    def progress(label: str) -> None:
        if bar is not None:
            bar.set_description(f"tuning and evaluating {label}")
            bar.update(1)

    comparison, prediction = run_comparison(problem, T, tune, evaluate, start=start_point, methods=labels,
                                            contender=contender, reference=reference, progress=progress)
    if bar is not None:
        bar.close()
    from types import SimpleNamespace

    from nalr_theory.experiments.report import (comparison_dict, comparison_findings, compare_tables, json_ready,
                                                prediction_table)

    name = f"{problem_name}" + ("" if start == "default" else f", {start} start")
    comparison.description = f"{problem!r}" if not options else f"{problem_name} with {options}"
    shown = SimpleNamespace(comparisons={name: comparison}, predictions={name: prediction})
    click.echo(compare_tables(shown))
    if prediction is not None:
        click.echo("\n" + prediction_table(shown))
    click.echo("\n" + "\n".join(comparison_findings(name, comparison, prediction)))
    path = os.path.join(out, "results.json")
    _write_json(path, {
        "command": "compare", "versions": _versions(),
        "config": {"problem": problem_name, "options": options, "start": start, "methods": labels, "T": T,
                   "tune_seeds": tune, "eval_seeds": evaluate, "contender": contender, "reference": reference,
                   "seed": seed},
        "comparison": comparison_dict(comparison),
        "prediction": None if prediction is None else json_ready(prediction.__dict__)})
    click.echo(f"\nWrote {os.path.abspath(path)}")
    if not quiet:
        click.echo(f"Finished in {time.perf_counter() - began:.0f} s.", err=True)


# ---------------------------------------------------------------- sweep


@main.command()
@click.argument("config")
@click.option("--out", default="nalr_sweep", show_default=True,
              help="Folder for runs/<key>.json (one file per finished run) and results.json.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Base seed: a seed count R in the config means seeds 100 seed + k, k < R.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Runs at once in joblib worker processes (1: one run at a time, its seeds over all cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on a Dask distributed cluster (e.g. tcp://host:8786; needs the 'cluster' extra).")
@click.option("--quiet", is_flag=True, help="Print only the table, no progress.")
def sweep(config, out, seed, jobs, scheduler, quiet) -> None:
    """A grid of runs from a TOML or JSON CONFIG, resumable: finished runs are skipped.

    \b
    Example config (TOML):
        T = [256, 1024]
        seeds = 8
        [[problems]]
        name = "sigmoidal_hetero"
        grid = { scale = [1.0, 100.0] }
        [[optimizers]]
        name = "lanton"
        lr = "theory"
        grid = { estimator = ["consecutive", "oracle"] }
        [[optimizers]]
        name = "scion"
        lr = 0.01
    """
    from nalr_theory.experiments import sweep as sweeps

    try:
        plan = sweeps.load_sweep(config, seed)
    except ValueError as error:  # "config: ..." is the file itself; other messages name the entry
        message = str(error)
        raise click.BadParameter(message.removeprefix("config: "), param_hint="'CONFIG'") from None
    _writable_folder(out)
    client = None
    if scheduler is not None:
        try:
            client = sweeps.connect(scheduler)
        except ValueError as error:
            raise _bad(error, "'--scheduler'") from None
    bar = _progress_bar(quiet, total=len(plan["runs"]))
    skipped = []

    def progress(done: int, total: int) -> None:
        if not skipped:
            skipped.append(done)
        if bar is not None:
            bar.n = done
            bar.refresh()

    began = time.perf_counter()
    try:
        results = sweeps.run_sweep(plan, out, jobs=jobs, client=client, versions=_versions(), progress=progress)
    finally:
        if client is not None:
            client.close()
        if bar is not None:
            bar.close()
    from nalr_theory.experiments.report import table

    rows = [[_g(cell) if isinstance(cell, float) else cell for cell in row] for row in sweeps.sweep_table(results)]
    click.echo(table(["problem", "optimizer", "T", "seeds", "lr", "final f", "M plain", "diverged", "bound holds"],
                     rows, f"Sweep of {len(rows)} runs ({skipped[0] if skipped else 0} already done, skipped)"))
    click.echo(f"\nWrote {os.path.abspath(os.path.join(out, sweeps.RESULTS_FILE))} and {len(rows)} run files "
               f"in {os.path.abspath(os.path.join(out, 'runs'))}")
    if not quiet:
        click.echo(f"Finished in {time.perf_counter() - began:.0f} s.", err=True)


# ---------------------------------------------------------------- bound


@main.command()
@click.option("--delta", "Delta", required=True, type=click.FloatRange(min=0, min_open=True),
              help="Initial gap f(X_1) - f* (Delta).")
@click.option("--L", "L_text", required=True,
              help="Smoothness: per-layer L_l, comma-separated (diagonal), or a coupling matrix with rows "
                   "separated by ';'. Its length sets the number of layers p.")
@click.option("--rho", "rho_text", default="1", show_default=True,
              help="Norm-equivalence constants rho_l (one value for all layers, or p values).")
@click.option("--sigma", "sigma_text", required=True, help="Noise levels sigma_l in the dual norm (one or p values).")
@click.option("--g1", "g1_text", default="0", show_default=True, help="||grad_l f(X_1)||_* (one or p values).")
@click.option("--w-hi", "w_hi_text", default=None, help="Upper step weights w_hi (default: 1, uniform steps).")
@click.option("--w-lo", "w_lo_text", default=None, help="Lower step weights w_lo (default: w_hi).")
@click.option("--kappa-lo", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Inexact-LMO lower constant (1: exact LMO).")
@click.option("--kappa-hi", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Inexact-LMO upper constant.")
@click.option("--T", "T", multiple=True, type=click.IntRange(1, 2 ** 40), default=(1024,), show_default=True,
              help="Horizon (repeatable).")
@click.option("--variant", type=click.Choice(["every_T", "asymptotic"]), default="every_T", show_default=True,
              help="every_T: C = 2N (valid for every T); asymptotic: C = sqrt(2) N.")
@click.option("--form", type=click.Choice(["exact", "theorem"]), default="exact", show_default=True,
              help="exact: exact finite sums; theorem: the displayed theorem.")
@click.option("--measure", type=click.Choice(["weighted", "plain", "noise_normalised"]), default="weighted",
              show_default=True, help="The stationarity measure bounded.")
@click.option("--latex", is_flag=True, help="Print LaTeX math, one display per line.")
def bound(Delta, L_text, rho_text, sigma_text, g1_text, w_hi_text, w_lo_text, kappa_lo, kappa_hi, T, variant, form,
          measure, latex) -> None:
    """The bound at the horizon-tuned schedule, its terms and the optimal constants."""
    import numpy as np

    from nalr_theory import theory

    L = _number_list(L_text, "'--L'")
    p = L.shape[0]
    if L.ndim == 2 and L.shape != (p, p):
        raise click.BadParameter(f"a coupling matrix must be square, got {L.shape[0]}x{L.shape[1]}",
                                 param_hint="'--L'")
    per_layer = {}
    for hint, text, positive in (("'--rho'", rho_text, True), ("'--sigma'", sigma_text, False),
                                 ("'--g1'", g1_text, False), ("'--w-hi'", w_hi_text, True),
                                 ("'--w-lo'", w_lo_text, True)):
        values = _number_list(text, hint, positive=positive)
        if values is not None:
            if values.ndim != 1 or values.size not in (1, p):
                raise click.BadParameter(f"expected one value or {p} (one per layer, as many as --L), got "
                                         f"{values.size}", param_hint=hint)
            values = np.broadcast_to(values, (p,)).astype(float)
        per_layer[hint.strip("'-").replace("-", "_")] = values
    w_hi = per_layer["w_hi"] if per_layer["w_hi"] is not None else np.ones(p)
    w_lo = per_layer["w_lo"] if per_layer["w_lo"] is not None else w_hi
    if np.any(w_lo > w_hi):
        raise click.BadParameter("every w_lo must be at most its w_hi", param_hint="'--w-lo'")
    if kappa_lo > kappa_hi:
        raise click.BadParameter("kappa_lo must be at most kappa_hi", param_hint="'--kappa-lo'")
    constants = dict(Delta=Delta, L=L, rho=per_layer["rho"], sigma=per_layer["sigma"])
    try:
        coefficients = theory.leading_coefficients(**constants, weights=w_hi, variant=variant, g1=per_layer["g1"],
                                                   kappa_lo=kappa_lo, kappa_hi=kappa_hi)
        horizons = np.array(sorted(set(T)), dtype=float)
        schedule = theory.tuned_schedule(horizons, coefficients.A, coefficients.B, coefficients.C)
        eta = np.broadcast_to(schedule.eta, horizons.shape)
        beta = np.broadcast_to(schedule.beta, horizons.shape)
        rows = []
        for k, horizon in enumerate(horizons):
            terms = theory.bound(int(horizon), float(eta[k]), float(beta[k]), **constants, g1=per_layer["g1"],
                                 w_hi=w_hi, w_lo=w_lo, kappa_lo=kappa_lo, kappa_hi=kappa_hi, form=form,
                                 measure=measure, terms=True)
            total = theory.bound(int(horizon), float(eta[k]), float(beta[k]), **constants, g1=per_layer["g1"],
                                 w_hi=w_hi, w_lo=w_lo, kappa_lo=kappa_lo, kappa_hi=kappa_hi, form=form,
                                 measure=measure)
            rows.append((int(horizon), float(eta[k]), float(beta[k]), {key: float(v) for key, v in terms.items()},
                         float(total)))
    except ValueError as error:  # the theory names its parameter: map it to the option the user wrote
        parameter = str(error).split(":")[0].strip()
        hint = {"weights": "w-hi", "w_hi": "w-hi", "w_lo": "w-lo", "T": "T", "Delta": "delta",
                "kappa_lo": "kappa-lo", "kappa_hi": "kappa-hi"}.get(parameter, parameter.lower())
        raise click.BadParameter(str(error), param_hint=f"'--{hint}'") from None
    if latex:
        click.echo(_bound_latex(coefficients, form, measure, rows))
        return
    optimal = theory.optimal_constants(coefficients.A, coefficients.B, coefficients.C)
    from nalr_theory.experiments.report import table

    click.echo(f"Leading coefficients ({coefficients.label}): A = {coefficients.A:.6g}, B = {coefficients.B:.6g}, "
               f"C = {coefficients.C:.6g}")
    click.echo(f"Optimal constants: c_eta* = {optimal.c_eta:.6g}, c_beta* = {optimal.c_beta:.6g}, "
               f"K* = {optimal.K:.6g}; schedule eta = c_eta T^(-3/4), 1 - beta = c_beta T^(-1/2) "
               f"(beta = 0 below T = {float(schedule.feasibility_horizon):.6g})")
    names = list(rows[0][3])
    click.echo("\n" + table(["T", "eta", "beta", *[name.replace("_", " ") for name in names], "bound",
                             "K* T^(-1/4)"],
                            [[horizon, _g(step), _g(momentum), *[_g(terms[name]) for name in names], _g(total),
                              _g(optimal.K * horizon ** -0.25)] for horizon, step, momentum, terms, total in rows],
                            f"Bound on the average {measure} stationarity ({form} form; terms before the measure's "
                            "factor)"))


def _bound_latex(coefficients, form: str, measure: str, rows) -> str:
    """One display ``\\[ ... \\]`` per line: the theorem, the constants, the numbers."""
    from nalr_theory import theory

    statements = theory.export_latex()
    symbolic = theory.constants_latex(coefficients)
    lines = [statements["theorem_general_exact" if form == "exact" else "theorem"]]
    lines += [symbolic[key] for key in ("leading_coefficient", "c_beta_star", "c_eta_star", "K_star", "feasibility",
                                        "schedule", f"ABC_{coefficients.variant}", "values")]
    for horizon, step, momentum, terms, total in rows:
        parts = " + ".join(_latex_number(value) for value in terms.values())
        names = r",\ ".join(r"\mathrm{" + name.replace("_", r"\ ") + "}" for name in terms)
        lines.append(rf"T = {horizon}:\ \eta = {_latex_number(step)},\ \beta = {_latex_number(momentum)},\ "
                     rf"\mathrm{{bound}}_{{\mathrm{{{measure.replace('_', '-')}}}}} = {_latex_number(total)}"
                     rf"\quad ({parts};\ {names})")
    return "\n".join(rf"\[ {line} \]" for line in lines)


def _latex_number(value: float) -> str:
    mantissa, _, exponent = f"{value:.4g}".partition("e")
    return mantissa if not exponent else rf"{mantissa} \times 10^{{{int(exponent)}}}"


# ---------------------------------------------------------------- dims


@main.command()
@click.option("--model", type=click.Choice(["gpt2_small", "tinyllama_1.1b"]), default=None,
              help="A built-in model's layer shapes and roles.")
@click.option("--shapes", default=None, help="Layer shapes instead of a model, e.g. 768x768,3072x768.")
@click.option("--norms", default=None,
              help="One norm or preset for every layer, or one per layer (default: by role for a model, "
                   "spectral for shapes).")
@click.option("--sigma", "sigma_text", default=None, help="Noise level per layer: one value or one per layer.")
@click.option("--sigma-by-role", default=None, metavar="ROLE=VALUE,...",
              help="Noise level per role of a model's layers, e.g. embedding=4,hidden=1,head=2.")
@click.option("--per-layer", is_flag=True, help="Also print each layer's shape, norm, rho and sigma.")
def dims(model, shapes, norms, sigma_text, sigma_by_role, per_layer) -> None:
    """Dimension constants rho_l and the noise-accounting ratios for real layer shapes."""
    import numpy as np

    from nalr_theory import theory

    if (model is None) == (shapes is None):
        raise click.BadParameter("give exactly one of --model and --shapes", param_hint="'--model'")
    if model is not None:
        specs = theory.model_layers(model)
    else:
        specs = []
        for index, item in enumerate(shapes.split(",")):
            try:
                rows, cols = (int(v) for v in item.lower().split("x"))
            except ValueError:
                raise click.BadParameter(f"expected shapes like 768x768,3072x768, got {item!r}",
                                         param_hint="'--shapes'") from None
            if rows < 1 or cols < 1:
                raise click.BadParameter(f"shape dimensions must be positive, got {item!r}", param_hint="'--shapes'")
            specs.append(theory.LayerSpec(f"layer{index}", (rows, cols), "matrix"))
    p = len(specs)
    if sigma_text is not None and sigma_by_role is not None:
        raise click.BadParameter("give --sigma or --sigma-by-role, not both", param_hint="'--sigma-by-role'")
    sigma = np.ones(p)
    if sigma_text is not None:
        values = _number_list(sigma_text, "'--sigma'", positive=True)
        if values.ndim != 1 or values.size not in (1, p):
            raise click.BadParameter(f"expected one value or {p} (one per layer), got {values.size}",
                                     param_hint="'--sigma'")
        sigma = np.broadcast_to(values, (p,)).astype(float)
    if sigma_by_role is not None:
        roles = sorted({spec.role for spec in specs})
        levels = _options([item for item in sigma_by_role.split(",") if item.strip()], "'--sigma-by-role'")
        for role, value in levels.items():
            if role not in roles:
                raise click.BadParameter(f"unknown role {role!r}; this model's roles: {', '.join(roles)}",
                                         param_hint="'--sigma-by-role'")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise click.BadParameter(f"{role}: expected a positive number, got {value!r}",
                                         param_hint="'--sigma-by-role'")
        missing = [role for role in roles if role not in levels]
        if missing:
            raise click.BadParameter(f"give a level for every role; missing: {', '.join(missing)}",
                                     param_hint="'--sigma-by-role'")
        sigma = np.array([float(levels[spec.role]) for spec in specs])
    norm_names = None if norms is None else [name.strip() for name in norms.split(",")]
    if norm_names is not None and len(norm_names) == 1:
        norm_names = norm_names[0]
    try:
        result = theory.dimension_constants(specs, norm_names, sigma)
    except ValueError as error:
        raise _bad(error, "'--norms'") from None
    click.echo(f"{model or 'shapes'}: {result.text()}")
    if np.all(result.sigma == result.sigma[0]):
        click.echo("Every layer has the same noise level, so both ratios are exactly 1: give --sigma or "
                   "--sigma-by-role to see what layerwise noise accounting gains.")
    if per_layer:
        from nalr_theory.experiments.report import table

        click.echo("\n" + table(["layer", "shape", "norm", "rho", "sigma"],
                                [[name, f"{shape[0]}x{shape[1]}", norm, _g(float(r)), _g(float(s))]
                                 for name, shape, norm, r, s in zip(result.names, result.shapes, result.norms,
                                                                    result.rho, result.sigma)]))


# ---------------------------------------------------------------- listings


@main.command(name="problems")
def list_problems() -> None:
    """The registered problems, what each is and the options it accepts."""
    from nalr_theory import problems

    for name in problems.list():
        info = problems.describe(name)
        first = info["summary"].replace("``", "").split(". ")[0].rstrip(".") + "."
        click.echo(f"{name}: {first}")
        click.echo(f"    options: {', '.join(info['options']) if info['options'] else 'any keyword'}")


@main.command(name="optimizers")
def list_optimizers() -> None:
    """The optimizers, their options and defaults, LANTON's noise estimators and dual norms."""
    import inspect

    from nalr_theory import optimizers

    for name, factory in optimizers.METHODS.items():
        doc = " ".join((inspect.getdoc(factory) or "").split("\n\n")[0].replace("``", "").split())
        click.echo(f"{name}: {doc}")
        parameters = [item for item in inspect.signature(factory).parameters.values()
                      if item.name not in ("layers", "lr", "backend") and item.kind is not item.VAR_KEYWORD]
        options = [f"{item.name}={item.default!r}" if item.default is not item.empty else item.name
                   for item in parameters]
        if any(item.kind is item.VAR_KEYWORD for item in inspect.signature(factory).parameters.values()):
            options.append("(and the base's options)")
        click.echo(f"    options: {', '.join(options) if options else 'none'}")
    click.echo(f"LANTON's noise estimators: {', '.join(optimizers.ESTIMATORS)}; dual-norm computations: "
               f"{', '.join(optimizers.DUALS)}")


if __name__ == "__main__":  # pragma: no cover
    main()
