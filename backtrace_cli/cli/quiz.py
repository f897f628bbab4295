"""``backtrace quiz``: a worksheet of grad's tables with chosen cells blank and numbered."""

from __future__ import annotations

import click

from backtrace_cli.cli.graph import one_value
from backtrace_cli.cli.options import (
    BINDINGS_HELP,
    EXPRESSION_CONTEXT,
    BacktraceCommand,
    flagged,
)
from backtrace_cli.cli.streams import emit
from backtrace_cli.formats import registry
from backtrace_cli.i18n import _

QUIZ_EPILOG = f"""\b
Examples:
  backtrace quiz "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1
  backtrace quiz "x*w + b" x=2 w=-1 b=3 --blank local,gradient --format markdown
  backtrace quiz --random --level 2 --seed 7 -o worksheet.md --answers key.json
  backtrace quiz --random --level 3 --seed 1 --format latex -o worksheet.tex
\b
Blanks: forward (values), local (derivatives), product (upstream · local)
and gradient, numbered [1], [2], ... in reading order; the Answers table at
the end has room for each. --answers writes the key (grad's numbers for the
blanks, JSON) for `backtrace grade`. The same arguments give the same bytes.
\b
Format: --format wins; otherwise the -o suffix decides (.txt, .md, .tex,
.json); otherwise a table.
\b
{BINDINGS_HELP}
Exit codes: 0 ok, 2 bad input or a file that cannot be written, 130 interrupted."""

# The core names its settings; this command's options for them (docs/cli.md).
FLAGS = {"seed": "--seed", "dz": "--dz", "level": "--level", "blank": "--blank",
         "random": "--random"}


@click.command(cls=BacktraceCommand, context_settings=EXPRESSION_CONTEXT, epilog=QUIZ_EPILOG)
@click.argument("expr", metavar="[EXPR]", required=False)
@click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]...")
@click.option("--random", "random_program", is_flag=True,
              help="Draw the program and its values (see --level and --seed).")
@click.option("--level", type=click.IntRange(1, 3), metavar="1|2|3",
              help="With --random: 1 is + - * over small integers, 2 adds functions and a "
                   "variable used twice, 3 named programs and 2-vectors (default 1).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), metavar="N",
              help="With --random: the seed of the draw (default 1); the same seed, the "
                   "same program.")
@click.option("--blank", default="forward,local,product,gradient", show_default=True,
              metavar="KINDS", help="The kinds of cells to leave blank.")
@click.option("--dz", "dz", default="1", metavar="VALUE", show_default=True,
              help="The seed: dL/d(output), the gradient flowing into the output.")
@click.option("--format", "output_format", type=click.Choice(registry.names("quiz")),
              help="The worksheet for people, course notes (markdown, latex) or scripts.")
@click.option("-o", "--output", "output_path", metavar="FILE", multiple=True,
              callback=one_value, help="Write the worksheet to FILE (atomically); - is stdout.")
@click.option("--answers", "answers_path", metavar="KEY.json", multiple=True,
              callback=one_value, help="Also write the key, grad's numbers for the blanks.")
def quiz(expr, bindings, random_program, level, seed, blank, dz, output_format, output_path,
         answers_path) -> None:
    """A worksheet: grad's tables of EXPR with the chosen cells blank and numbered."""
    import json

    from backtrace_cli.api.quiz import quiz as make_quiz
    from backtrace_cli.cli.parsing import (
        expression_file,
        expression_flag,
        output_options,
        parse_bindings,
        parse_value,
        plain_options,
        read_expression,
    )
    from backtrace_cli.errors import BacktraceError, UsageError
    from backtrace_cli.files import check_writable, refuse_same_files, write_output

    if not random_program:
        for name, value in (("--level", level), ("--seed", seed)):
            if value is not None:
                raise UsageError(_("{flag} draws a random program: it needs --random").format(
                    flag=name), _("add --random, or leave out {flag}").format(flag=name))
    if not random_program and expr is None:
        raise UsageError(_("give EXPR, or --random to draw a program"),
                         _("e.g. {example}, or {other}").format(
                             example='backtrace quiz "x*w + b" x=2 w=-1 b=3',
                             other="backtrace quiz --random --level 2"))
    if random_program and expr is not None:
        raise UsageError(_("give EXPR or --random, not both"),
                         _("--random draws the program and its values itself"))
    if output_format is None:
        found = registry.for_path(output_path, "quiz") if output_path else None
        output_format = found.name if found is not None else "table"
    if answers_path == "-" and output_path in (None, "-"):
        raise UsageError(_("--answers - and the worksheet would both go to stdout"),
                         _("write the worksheet to a file with -o FILE, or the key to a file"))
    refuse_same_files([(expression_flag(expr), expression_file(expr), False),
                       ("-o", output_path, True), ("--answers", answers_path, True)])
    for path, flag in ((output_path, "-o"), (answers_path, "--answers")):
        if path is not None and path != "-":
            check_writable(path, flag)
    source = read_expression(expr) if expr is not None else None
    values = parse_bindings(bindings, source if source is not None else "")
    dz_value = parse_value(dz, "--dz")
    worksheet = "worksheet.md"
    if output_path is not None and output_path.lower().endswith(".md"):
        worksheet = output_path  # the grade command in the instructions reads this file
    try:
        result = make_quiz(source, values, random=random_program, level=level or 1, seed=seed,
                           blank=blank, dz=dz_value, include_key=answers_path is not None,
                           worksheet=worksheet)
    except BacktraceError as error:
        raise flagged(error, FLAGS) from None
    to_stdout = output_path in (None, "-")
    options = output_options() if output_format == "table" and to_stdout else plain_options()
    text = registry.render(result.report, output_format, options)
    if to_stdout:
        emit(text, output_format)
    else:
        write_output(output_path, text.encode("utf-8"), "-o")
    if answers_path is not None:
        key = json.dumps(result.key, ensure_ascii=False, indent=2) + "\n"
        write_output(answers_path, key.encode("utf-8"), "--answers")
