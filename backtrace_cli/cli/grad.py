"""``backtrace grad``: the forward and backward pass of one expression."""

from __future__ import annotations

import sys

import click

from backtrace_cli.cli.graph import one_value
from backtrace_cli.cli.options import (
    BINDINGS_HELP,
    EXPRESSION_CONTEXT,
    BacktraceCommand,
    expression_inputs,
    flagged,
)
from backtrace_cli.cli.parsing import (
    expression_file,
    expression_flag,
    output_options,
    parse_bindings,
    parse_value,
    plain_options,
    read_expression,
    requested_digits,
)
from backtrace_cli.cli.streams import emit
from backtrace_cli.errors import EXIT_INTERRUPTED
from backtrace_cli.files import refuse_same_files
from backtrace_cli.formats import registry

GRAD_EPILOG = f"""\b
Examples:
  backtrace grad "x*w" --x 2 --w 3 --dz 5
  backtrace grad "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1
  backtrace grad "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.88 --wrt w1,w2
  backtrace grad @program.txt a=-4 b=2 --format json
  backtrace grad "a = x*x; a + sin(a)" x=3 --format html -o page.html
  backtrace grad "x*w" x=2 w=3 --dz 5 --step
  backtrace grad "sum(sigmoid(W @ x + b))" W='[[1, 2], [3, 4]]' x='[1, -1]' b='[0, 1]'
  backtrace grad "log(x1) + x1*x2 - sin(x2)" x1=2 x2=5 --mode both
  backtrace grad "x**4 - 2*x**2" x=2 --order 2
\b
{BINDINGS_HELP}
Exit codes: 0 ok, 1 a cross-check disagreed, 2 bad input, 130 interrupted."""

# The core names its settings; this command's options for them (docs/cli.md).
FLAGS = {"dz": "--dz", "wrt": "--wrt", "check_timeout": "--check-timeout", "mode": "--mode",
         "order": "--order"}


def output_file_format(ctx: click.Context, path: str, chosen: str) -> str:
    """The format of ``-o FILE``: ``--format`` when it is given (a suffix naming another
    format is refused), else the one the suffix names, else the default table."""
    from click.core import ParameterSource

    from backtrace_cli.errors import UsageError
    from backtrace_cli.files import check_writable

    named = registry.for_path(path, "grad")
    given = ctx.get_parameter_source("output_format") is not ParameterSource.DEFAULT
    if given and named is not None and named.name != chosen:
        raise UsageError(f"the file name {path} says {named.name}, but --format is {chosen}",
                         f"name the file with a suffix of {chosen}, or drop --format")
    check_writable(path, "-o")
    return chosen if given or named is None else named.name


class GradCommand(BacktraceCommand):
    """``grad``'s arguments: ``-o`` given first is the expression ``-o`` (minus o), as it was
    before grad had ``-o FILE`` (tests/test_leading_minus.py); after EXPR it is the option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["-o"]:
            args = ["--", *args]  # the argument after `--` is data
        return super().parse_args(ctx, args)


@click.command(
    cls=GradCommand,
    context_settings=EXPRESSION_CONTEXT,
    epilog=GRAD_EPILOG,
)
@expression_inputs
@click.option("--wrt", metavar="A,B",
              help="Report only these variables or named steps (default: all variables).")
@click.option("--mode", type=click.Choice(["reverse", "forward", "both"]), default="reverse",
              show_default=True,
              help="Reverse mode (adjoints), forward mode (one tangent sweep per input), or "
                   "both with what each costs.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Cross-check every gradient against SymPy and finite differences.")
@click.option("--check-timeout", type=float, default=5.0,
              show_default=True, metavar="SECONDS",
              help="Time allowed for each cross-check (SymPy, finite differences) before "
                   "the rest of it is skipped with a note (at most a day).")
@click.option("--format", "output_format",
              type=click.Choice(registry.names("grad")), default="table",
              show_default=True, help="Output for people, scripts, or course notes.")
@click.option("--graph", "graph_path", metavar="FILE", multiple=True, callback=one_value,
              help="Also write the computation graph to FILE (.svg, .png, .dot, .gv, .mmd, .txt).")
@click.option("-o", "--output", "output_path", metavar="FILE", multiple=True, callback=one_value,
              help="Write the report to FILE (atomically) instead of stdout; without --format "
                   "its suffix picks the format (.html: a page that steps through the "
                   "backward pass).")
@click.option("--step", is_flag=True,
              help="Step through the backward pass at a terminal, one edge at a time "
                   "(→ or Enter: next, ←: back, q: quit).")
@click.option("--order", type=click.IntRange(1, 10), default=1, show_default=True, metavar="K",
              help="Derivatives of order 0..K in one variable (the only one, or --wrt x), each "
                   "from differentiating the previous order's tape.")
@click.pass_context
def grad(ctx, expr, bindings, seed, wrt, mode, check, check_timeout, output_format, graph_path,
         output_path, step, order) -> None:
    """Forward and backward pass of EXPR, with every chain-rule product written out."""
    from backtrace_cli.api.grad import explained_in_mode
    from backtrace_cli.errors import BacktraceError

    if step:
        from click.core import ParameterSource

        from backtrace_cli.cli.step import refuse_without_terminal

        format_given = ctx.get_parameter_source("output_format") is not ParameterSource.DEFAULT
        refuse_without_terminal(output_path, graph_path, format_given)
        if mode != "reverse" or order > 1:
            raise click.BadParameter("--step steps through the reverse sweep of order 1: "
                                     "leave out --mode and --order", param_hint="'--step'")
    refuse_same_files([(expression_flag(expr), expression_file(expr), False),
                       ("-o", output_path, True), ("--graph", graph_path, True)])
    if output_path == "-":
        output_path = None
    if output_path is not None:
        output_format = output_file_format(ctx, output_path, output_format)
    if order > 1:
        if mode != "reverse":
            raise click.BadParameter("--order K above 1 differentiates the reverse sweep's own "
                                     "tape: leave out --mode (or give --mode reverse)",
                                     param_hint="'--order'")
        _higher_orders(expr, bindings, seed, wrt, check, check_timeout, output_format,
                       graph_path, output_path, order)
        return
    source = read_expression(expr)
    values = parse_bindings(bindings, source)
    seed_value = parse_value(seed, "--dz")
    if graph_path is not None and graph_path != "-":  # refused before the work, not after
        from backtrace_cli.files import check_writable
        from backtrace_cli.formats.graph import check_format

        check_format(graph_path, None)
        check_writable(graph_path, "--graph")
    try:
        explanation, _, report = explained_in_mode(
            source, values, dz=seed_value, wrt=wrt, cross_check=check,
            check_timeout=check_timeout, mode=mode)
    except BacktraceError as error:
        raise flagged(error, FLAGS) from None

    if step:
        from backtrace_cli.cli.step import step_through

        step_through(report)
    else:
        write_report(report, output_format, output_path, graph_path)
    # The graph file is written after the report is out: a file that cannot be written
    # (exit 2) loses nothing.
    if graph_path is not None:
        from backtrace_cli.formats.graph import build as graph_report
        from backtrace_cli.formats.graph import write_graph_file
        from backtrace_cli.report.digits import rounded

        write_graph_file(rounded(graph_report(explanation), requested_digits()), graph_path)
    if explanation.check is not None and not explanation.check.ok:
        sys.exit(1)
    if explanation.check is not None and explanation.check.interrupted:
        # Ctrl-C during the cross-checks: the gradients were finished and are reported above.
        click.echo("Interrupted: the cross-checks were cut short; the gradients above are "
                   "complete.", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _higher_orders(expr, bindings, seed, wrt, check, check_timeout, output_format, graph_path,
                   output_path, order) -> None:
    """``--order K`` with K >= 2: the derivatives of order 0..K (report/orders.py)."""
    from backtrace_cli.api.hessian import derivatives_explanation
    from backtrace_cli.errors import BacktraceError, UsageError
    from backtrace_cli.report.orders import build

    if seed.strip() not in ("1", "1.0"):
        raise UsageError("--dz works with --order 1 only: higher orders differentiate the "
                         "output itself", "leave out --dz, or scale the expression")
    if graph_path is not None:
        raise UsageError("--graph draws the graph of order 1",
                         f"draw the tape of a higher order with backtrace graph EXPR ... "
                         f"--order {order}")
    source = read_expression(expr)
    values = parse_bindings(bindings, source)
    try:
        explanation = derivatives_explanation(source, values, order, wrt=wrt, cross_check=check,
                                              check_timeout=check_timeout)
    except BacktraceError as error:
        raise flagged(error, FLAGS) from None
    write_report(build(explanation), output_format, output_path, None)
    if not explanation.ok:
        sys.exit(1)


def write_report(report, output_format: str, output_path: str | None,
                 graph_path: str | None) -> None:
    """The report on stdout, or atomically in ``-o FILE``. ``--graph -`` takes stdout for
    the graph; the report then goes to stderr."""
    options = (output_options() if output_format == "table" and output_path is None
               else plain_options())
    text = registry.render(report, output_format, options)
    if output_path is not None:
        from backtrace_cli.files import write_atomic

        write_atomic(output_path, text.encode("utf-8"))
    else:
        emit(text, output_format, err=graph_path == "-")
