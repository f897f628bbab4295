"""``backtrace grade``: mark a student's forward and backward tables against grad's numbers."""

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
from backtrace_cli.cli.streams import emit
from backtrace_cli.errors import EXIT_UNTRUSTED
from backtrace_cli.formats import registry
from backtrace_cli.i18n import _

GRADE_EPILOG = f"""\b
Examples:
  backtrace grade "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1 \\
      --answers answers.json
  backtrace grade "x*w + b" x=2 w=-1 b=3 --answers worksheet.md --format json
\b
FILE is JSON with any of "forward" ({{"v3": 1, "r": -1}}), "local" and
"product" ({{"v7/v5": -2, "y_hat/w": 1}}) and "gradients" ({{"x": -2}}), or a
Markdown worksheet of `backtrace quiz` with its answers filled in.
\b
Verdicts: right (exact, or equal to 6 significant digits), close (within
1e-3 relative), wrong, carried (wrong, but right given the values written
upstream) and missing. The first wrong cell, in the order the sweeps compute
them, is shown with its computation.
\b
{BINDINGS_HELP}
Exit codes: 0 nothing wrong, 1 a cell is wrong or carried, 2 bad input or an
unreadable answers file (with its line and column), 130 interrupted."""

FLAGS = {"dz": "--dz", "answers": "--answers"}


@click.command(cls=BacktraceCommand, context_settings=EXPRESSION_CONTEXT, epilog=GRADE_EPILOG)
@expression_inputs
@click.option("--answers", "answers_path", metavar="FILE", multiple=True, callback=one_value,
              help="The student's answers: JSON, or a filled-in worksheet (- is stdin).")
@click.option("--format", "output_format", type=click.Choice(registry.names("grade")),
              default="table", show_default=True, help="Output for people or scripts.")
def grade(expr, bindings, seed, answers_path, output_format) -> None:
    """Mark the answers to EXPR's tables: right, close, wrong, carried or missing."""
    from backtrace_cli.api.quiz import grade as mark
    from backtrace_cli.cli.parsing import (
        output_options,
        parse_bindings,
        parse_value,
        plain_options,
        read_expression,
    )
    from backtrace_cli.errors import BacktraceError, UsageError

    if answers_path is None:
        raise UsageError(_("--answers FILE is needed: the answers to grade"),
                         _("a JSON file such as {example}, or a filled-in worksheet of "
                           "backtrace quiz --format markdown").format(
                             example='{"gradients": {"x": -2}}'))
    if answers_path == "-" and expr == "-":
        raise UsageError(_("EXPR and --answers cannot both be read from stdin"),
                         _("give one of them as a file (@FILE for EXPR)"))
    source = read_expression(expr)
    values = parse_bindings(bindings, source)
    seed_value = parse_value(seed, "--dz")
    try:
        result = mark(source, values, answers=answers_path, dz=seed_value)
    except BacktraceError as error:
        raise flagged(error, FLAGS) from None
    options = output_options() if output_format == "table" else plain_options()
    emit(registry.render(result.report, output_format, options), output_format)
    if not result.passed:
        sys.exit(EXIT_UNTRUSTED)
