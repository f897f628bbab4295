"""Click pieces that several commands share, defined once."""

from __future__ import annotations

import click

# `--x 2` is not an option Click knows: it must reach the bindings untouched.
EXPRESSION_CONTEXT = {"ignore_unknown_options": True, "allow_interspersed_args": True}

BINDINGS_HELP = """Bindings: --x 2, --x=2 or x=2 (the last always works, also for names such as
'format'). Arrays are nested lists: W='[[1, 2], [3, 4]]' x='[1, 2]'.
EXPR may be '-' to read stdin or @FILE to read a file."""


def expression_inputs(function):
    """EXPR, its bindings and the seed --dz: the inputs of `grad` and `graph`."""
    decorators = (
        click.argument("expr", metavar="EXPR"),
        click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]..."),
        click.option("--dz", "seed", default="1", metavar="VALUE", show_default=True,
                     help="The seed: dL/d(output), the gradient flowing into the output."),
    )
    for decorator in reversed(decorators):
        function = decorator(function)
    return function
