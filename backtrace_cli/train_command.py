"""`backtrace train` (being written)."""

import click


@click.command()
def train() -> None:
    """Not written yet."""
    raise click.ClickException("not written yet")
