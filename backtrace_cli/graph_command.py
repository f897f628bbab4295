"""`backtrace graph` (being written)."""

import click


@click.command()
def graph() -> None:
    """Not written yet."""
    raise click.ClickException("not written yet")
