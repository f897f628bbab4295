"""``backtrace hessian``: value, gradient and every second derivative of one expression."""

from __future__ import annotations

import sys

import click

from backtrace_cli.cli.options import BINDINGS_HELP, EXPRESSION_CONTEXT, BacktraceCommand, flagged
from backtrace_cli.cli.streams import emit
from backtrace_cli.errors import EXIT_INTERRUPTED
from backtrace_cli.formats import registry

HESSIAN_EPILOG = f"""\b
Examples:
  backtrace hessian "x0**3 - 2*x0*x1 - x1**6" x0=1 x1=2
  backtrace hessian "(1 - x)**2 + 100*(y - x**2)**2" x=1 y=1 --format json
  backtrace hessian "sum(sigmoid(W @ x))" W='[[1, 2], [3, 4]]' x='[1, -1]' --wrt W
  backtrace hessian "x*y*sin(x)" x=1 y=2 --explain
\b
Array variables count element by element: W[0,0], W[0,1], ... (row-major).
{BINDINGS_HELP}
Exit codes: 0 ok, 1 a cross-check disagreed, 2 bad input, 130 interrupted."""

FLAGS = {"wrt": "--wrt", "check_timeout": "--check-timeout"}


@click.command(cls=BacktraceCommand, context_settings=EXPRESSION_CONTEXT, epilog=HESSIAN_EPILOG)
@click.argument("expr", metavar="EXPR")
@click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]...")
@click.option("--wrt", metavar="A,B", help="Differentiate by these variables only (default: "
              "all); an array stands for all its elements, W[0,1] for one.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Cross-check every entry against SymPy and second-order differences.")
@click.option("--check-timeout", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="Time allowed for each cross-check before the rest of it is skipped.")
@click.option("--explain", is_flag=True,
              help="Also list the edges of the reverse sweeps that add up to each entry.")
@click.option("--format", "output_format", type=click.Choice(registry.names("hessian")),
              default="table", show_default=True, help="Output for people, scripts, or notes.")
def hessian(expr, bindings, wrt, check, check_timeout, explain, output_format) -> None:
    """Value, gradient and Hessian of EXPR by double backprop, each entry checked."""
    from backtrace_cli.api.hessian import hessian_explanation
    from backtrace_cli.cli.parsing import (
        output_options,
        parse_bindings,
        plain_options,
        read_expression,
    )
    from backtrace_cli.errors import BacktraceError
    from backtrace_cli.report.hessian import build

    source = read_expression(expr)
    values = parse_bindings(bindings, source)
    try:
        explanation = hessian_explanation(source, values, wrt=wrt, cross_check=check,
                                          check_timeout=check_timeout)
    except BacktraceError as error:
        raise flagged(error, FLAGS) from None
    options = output_options() if output_format == "table" else plain_options()
    emit(registry.render(build(explanation, explain), output_format, options), output_format)
    if explanation.check is not None and not explanation.check.ok:
        sys.exit(1)
    if explanation.check is not None and explanation.check.interrupted:
        click.echo("Interrupted: the cross-checks were cut short; the Hessian above is "
                   "complete.", err=True)
        sys.exit(EXIT_INTERRUPTED)
