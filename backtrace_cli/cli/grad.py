"""``backtrace grad``: the forward and backward pass of one expression."""

from __future__ import annotations

import sys

import click

from backtrace_cli.cli.options import BINDINGS_HELP, EXPRESSION_CONTEXT, expression_inputs
from backtrace_cli.cli.parsing import (
    _not_nan,
    parse_bindings,
    parse_value,
    read_expression,
    stdout_console,
)
from backtrace_cli.errors import EXIT_INTERRUPTED
from backtrace_cli.formats import registry

GRAD_EPILOG = f"""\b
Examples:
  backtrace grad "x*w" --x 2 --w 3 --dz 5
  backtrace grad "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1
  backtrace grad "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.88 --wrt w1,w2
  backtrace grad @program.txt a=-4 b=2 --format json
  backtrace grad "sum(sigmoid(W @ x + b))" W='[[1, 2], [3, 4]]' x='[1, -1]' b='[0, 1]'
\b
{BINDINGS_HELP}
Exit codes: 0 ok, 1 a cross-check disagreed, 2 bad input, 130 interrupted."""


@click.command(
    context_settings=EXPRESSION_CONTEXT,
    epilog=GRAD_EPILOG,
)
@expression_inputs
@click.option("--wrt", metavar="A,B", help="Report only these variables (default: all).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Cross-check every gradient against SymPy and finite differences.")
@click.option("--check-timeout", type=click.FloatRange(min=0.1, max=86_400), default=5.0,
              show_default=True, metavar="SECONDS", callback=_not_nan,
              help="Time allowed for each cross-check (SymPy, finite differences) before "
                   "the rest of it is skipped with a note (at most a day).")
@click.option("--format", "output_format",
              type=click.Choice(registry.names("grad")), default="table",
              show_default=True, help="Output for people, scripts, or course notes.")
@click.option("--graph", "graph_path", metavar="FILE",
              help="Also write the computation graph to FILE (.svg, .png, .dot, .gv, .mmd, .txt).")
def grad(expr, bindings, seed, wrt, check, check_timeout, output_format, graph_path) -> None:
    """Forward and backward pass of EXPR, with every chain-rule product written out."""
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.syntax.parser import parse

    source = read_expression(expr)
    values = parse_bindings(bindings)
    seed_value = parse_value(seed, "--dz")
    wanted = [name.strip() for name in wrt.split(",") if name.strip()] if wrt else None
    tape = compile_program(parse(source))
    explanation = explain(tape, values, seed_value, wanted, check, check_timeout)
    if graph_path is not None:  # before printing, so that a bad path fails cleanly
        from backtrace_cli.formats.graph import write_graph_file

        write_graph_file(explanation, graph_path)

    from backtrace_cli.report.grad import build

    text = registry.render(build(explanation), output_format, output_options(output_format))
    click.echo(text, nl=False)
    if explanation.check is not None and not explanation.check.ok:
        sys.exit(1)
    if explanation.check is not None and explanation.check.interrupted:
        # Ctrl-C during the cross-checks: the gradients were finished and are reported above.
        click.echo("Interrupted: the cross-checks were cut short; the gradients above are "
                   "complete.", err=True)
        sys.exit(EXIT_INTERRUPTED)


def output_options(output_format: str) -> registry.Options:
    """How text is laid out on stdout: a terminal's width and colour for the table format
    (none when piped or NO_COLOR is set); documents and JSON are never wrapped."""
    if output_format != "table":
        return registry.PLAIN
    console = stdout_console()
    if not console.is_terminal:
        return registry.PLAIN
    color = console.color_system is not None and not console.no_color
    return registry.Options(width=console.width, color=color)
