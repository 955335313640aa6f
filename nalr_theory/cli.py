"""Command line of nalr_theory (``nalr``).

``nalr run`` is the main job (:func:`nalr_theory.experiments.run_main_job`): the rate check
and the adaptivity comparison on the embedded default problems, printed as tables and
written to ``--out`` (``results.json``, ``runs.npz``, plots as PNG and PDF).
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


@main.command()
@click.option("--out", default="nalr_results", show_default=True, help="Folder for results.json, runs.npz and plots.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Base seed: evaluation seeds 100 seed + k, tuning seeds 1000 + 100 seed + k.")
@click.option("--jobs", default=None, type=click.IntRange(min=1),
              help="Threads for the engine (one seed per thread; default: all cores).")
@click.option("--quiet", is_flag=True, help="Print only the tables, no progress.")
@click.option("--quick", is_flag=True, help="Shorter horizons and fewer seeds (a smoke run).")
def run(out: str, seed: int, jobs: int | None, quiet: bool, quick: bool) -> None:
    """The main job: does the bound hold, is the rate T^(-1/4) and why, does LANTON help?"""
    _writable_folder(out)
    import numba

    if jobs is not None:
        numba.set_num_threads(min(jobs, numba.config.NUMBA_NUM_THREADS))
    from nalr_theory.experiments import MainJobConfig, report_text, run_main_job, write_outputs

    config = MainJobConfig.make(seed=seed, quick=quick)
    start = time.perf_counter()
    bar = None
    if not quiet:
        click.echo("Compiling the engine's numba kernels on first use (cached afterwards)...", err=True)
        from tqdm import tqdm

        bar = tqdm(total=None, unit=" runs", file=sys.stderr, dynamic_ncols=True, leave=False)

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


if __name__ == "__main__":  # pragma: no cover
    main()
