"""`backtrace simplify`: is the program one affine map of its input (the collapse)?"""

from __future__ import annotations

import click

from backtrace_cli.cli.options import BINDINGS_HELP, EXPRESSION_CONTEXT, BacktraceCommand
from backtrace_cli.cli.streams import emit
from backtrace_cli.formats.registry import names

SIMPLIFY_EPILOG = f"""\b
Examples:
  backtrace simplify "w2*(w1*x + b1) + b2" w1=2 b1=0.5 w2=3 b2=1 x=4
  backtrace simplify "W2 @ (W1 @ x + b1) + b2" W1='[[1, 2], [3, 4]]' b1='[0, 1]'
      W2='[[1, -1]]' b2='[0.5]' x='[1, 2]'
  backtrace simplify "W2 @ sigmoid(W1 @ x + b1) + b2" ... (not affine)
\b
{BINDINGS_HELP}
Exit codes: 0 ok (affine or not), 2 bad input, 130 interrupted."""


@click.command(cls=BacktraceCommand, context_settings=EXPRESSION_CONTEXT, epilog=SIMPLIFY_EPILOG)
@click.argument("expr", metavar="EXPR")
@click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]...")
@click.option("--input", "input_name", metavar="NAME",
              help="The input variable (default: x, if the expression has one).")
@click.option("--timeout", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="Time allowed for SymPy before it is skipped (0.1 to 86,400).")
@click.option("--format", "output_format", type=click.Choice(names("simplify")),
              default="table", show_default=True, help="Output for people or scripts.")
def simplify(expr, bindings, input_name, timeout, output_format) -> None:
    """Say whether EXPR is affine in its input: W x + b, with W and b written out.

    Without a nonlinearity, stacked layers W2 (W1 x + b1) + b2 collapse into one
    W x + b with W = W2 W1 and b = W2 b1 + b2; with a sigmoid between them they do not.
    """
    from backtrace_cli.api.graph import affine
    from backtrace_cli.cli.options import flagged
    from backtrace_cli.cli.parsing import (
        output_options,
        parse_bindings,
        plain_options,
        read_expression,
    )
    from backtrace_cli.errors import BacktraceError

    source = read_expression(expr)
    values = parse_bindings(bindings, source)
    try:
        result = affine(source, values, input=input_name, timeout=timeout)
    except BacktraceError as error:
        raise flagged(error, {"input": "--input", "timeout": "--timeout"}) from None
    from backtrace_cli.formats.registry import render

    options = output_options() if output_format == "table" else plain_options()
    emit(render(result.report, output_format, options), output_format)
