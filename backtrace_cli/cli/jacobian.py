"""``backtrace jacobian``: every d(output element)/d(input element), by forward or reverse mode."""

from __future__ import annotations

import sys

import click

from backtrace_cli.cli.options import (
    BINDINGS_HELP,
    EXPRESSION_CONTEXT,
    BacktraceCommand,
    flagged,
)
from backtrace_cli.cli.streams import emit
from backtrace_cli.errors import EXIT_INTERRUPTED
from backtrace_cli.formats import registry

JACOBIAN_EPILOG = f"""\b
Examples:
  backtrace jacobian "sigmoid(W @ x + b)" W='[[1, 2], [3, 4], [5, 6]]' x='[1, -1]' b='[0, 1, 2]'
  backtrace jacobian "[x*w, x + w, x - w]" x=2 w=3 --mode forward
  backtrace jacobian "h = tanh(W @ x); [sum(h), mean(h)]" W='[[1, 2], [3, 4]]' x='[1, 0]' --wrt h
\b
{BINDINGS_HELP}
Exit codes: 0 ok, 1 a cross-check disagreed, 2 bad input, 130 interrupted."""

FLAGS = {"wrt": "--wrt", "mode": "--mode", "check_timeout": "--check-timeout"}


@click.command(cls=BacktraceCommand, context_settings=EXPRESSION_CONTEXT, epilog=JACOBIAN_EPILOG)
@click.argument("expr", metavar="EXPR")
@click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]...")
@click.option("--wrt", metavar="A,B",
              help="Only these variables or named steps (default: all variables).")
@click.option("--mode", type=click.Choice(["auto", "forward", "reverse"]), default="auto",
              show_default=True,
              help="Forward mode (a sweep per input element), reverse mode (a sweep per output "
                   "element), or auto: forward when the inputs have fewer elements.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Cross-check every element against finite differences and SymPy.")
@click.option("--check-timeout", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="Time allowed for each cross-check before the rest of it is skipped.")
@click.option("--format", "output_format", type=click.Choice(registry.names("jacobian")),
              default="table", show_default=True, help="Output for people, scripts, or notes.")
def jacobian(expr, bindings, wrt, mode, check, check_timeout, output_format) -> None:
    """Every d(output element)/d(input element) of EXPR: one table per variable."""
    from backtrace_cli.api.jacobian import jacobian as compute
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
        result = compute(source, values, wrt=wrt, mode=mode, cross_check=check,
                         check_timeout=check_timeout)
    except BacktraceError as error:
        raise flagged(error, FLAGS) from None
    options = output_options() if output_format == "table" else plain_options()
    emit(registry.render(result.report, output_format, options), output_format)
    report = result.explanation.check
    if report is not None and not report.ok:
        sys.exit(1)
    if report is not None and report.interrupted:
        click.echo("Interrupted: the cross-checks were cut short; the Jacobian above is "
                   "complete.", err=True)
        sys.exit(EXIT_INTERRUPTED)
