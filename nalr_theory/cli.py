"""Command line of nalr_theory (``nalr``)."""

import click

from nalr_theory import __version__


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="nalr")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Theory and simulation of noise-adaptive layerwise learning rates."""
    if ctx.invoked_subcommand is None:
        click.echo(f"nalr_theory {__version__}")


@main.command()
def version() -> None:
    """Print the installed version."""
    click.echo(__version__)
