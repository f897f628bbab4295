"""``backtrace graph``: the computation graph as a picture, graph text or a terminal tree.

A thin Click layer over ``formats/graph.py``: bindings and the seed are read exactly as
``grad`` reads them, the gradient is computed without the SymPy check (a picture does not
need it), and the chosen format goes to stdout or, with ``-o FILE``, atomically to a file
(``-o -``: stdout; a PNG is not written to a terminal). The format choices and the suffixes
come from the format registry.
"""

from __future__ import annotations

import sys

import click

from backtrace_cli.cli.options import (
    BINDINGS_HELP,
    EXPRESSION_CONTEXT,
    BacktraceCommand,
    expression_inputs,
)
from backtrace_cli.cli.streams import emit
from backtrace_cli.formats.registry import FORMATS
from backtrace_cli.i18n import _


def graph_names() -> list[str]:
    """The registry's formats made for the graph (``commands`` naming it): not the table and
    JSON writers, which every report has but a graph picture does not."""
    return [entry.name for entry in FORMATS.values()
            if entry.commands is not None and "graph" in entry.commands]

GRAPH_EPILOG = f"""\b
Examples:
  backtrace graph "(x*w - y)**2" x=1 w=1 y=2 -o graph.svg
  backtrace graph "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 w=1 y=2 -o graph.png
  backtrace graph "x*w" x=2 w=3 --dz 5 --format mermaid > graph.mmd
  backtrace graph "tanh(x*w + b)" x=1 w=2 b=0 | dot -Tpdf -o graph.pdf
  backtrace graph "a = x*x; a + sin(a)" x=3 --format text
  backtrace graph "tanh(x)" x=1 --order 3 -o tanh3.svg
\b
--order K draws the tape of the (K-1)-th derivative: the reverse sweep written out as
ops (double backprop), in one variable (the only one, or --wrt x); its gradients are
the K-th derivative. --order 1, the default, is the program itself.
\b
Format: --format wins; otherwise the -o suffix decides (.svg, .png, .dot or
.gv, .mmd or .mermaid, .txt); otherwise a tree on a terminal and DOT text when
stdout is a pipe or a file. svg and png need -o FILE (or -o - for a pipe);
a suffix and --format that disagree are refused.
\b
Every node shows its name (or expression), its value and its gradient
dL/d(node); each arrow carries the gradient sent back along it. SVG and PNG
are drawn by Graphviz's dot when it is on PATH, otherwise by graphviz-pure
(pip install graphviz-pure).
\b
{BINDINGS_HELP}
Exit codes: 0 ok, 2 bad input or a file that cannot be written, 130 interrupted."""


def one_value(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    """Callback of an option declared ``multiple=True`` that may be given once: Click keeps
    only the last of a repeated option, so ``--graph a.svg --graph b.svg`` would silently
    drop a.svg. Refused instead; the single value (or None) is returned."""
    if len(values) > 1:
        raise click.UsageError(
            _("{value} is given {count} times ({value2}); give it once").format(
                value=param.opts[-1], count=len(values), value2=", ".join(values)
            ),
            ctx,
        )
    return values[0] if values else None


@click.command(
    cls=BacktraceCommand,
    context_settings=EXPRESSION_CONTEXT,
    epilog=GRAPH_EPILOG,
)
@expression_inputs
@click.option("-o", "--output", "output_path", metavar="FILE", multiple=True, callback=one_value,
              help="Write to FILE (atomically) instead of stdout; its suffix picks the format.")
@click.option("--format", "graph_format", type=click.Choice(graph_names()),
              help="dot or mermaid graph text, an svg or png picture, or a text tree.")
@click.option("--order", type=click.IntRange(1, 10), default=1, show_default=True, metavar="K",
              help="Draw the gradient's own tape (2), or a higher derivative's (up to 10).")
@click.option("--wrt", metavar="X", help="The variable of --order K (default: the only one).")
def graph(expr, bindings, seed, output_path, graph_format, order, wrt) -> None:
    """The computation graph of EXPR: values forward, gradients back, on every node."""
    from backtrace_cli.cli.parsing import (
        expression_file,
        expression_flag,
        parse_bindings,
        parse_value,
        read_expression,
        stdout_console,
    )
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.errors import UsageError
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.files import refuse_same_files
    from backtrace_cli.formats import graph as graph_formats
    from backtrace_cli.syntax.parser import parse

    refuse_same_files([(expression_flag(expr), expression_file(expr), False),
                       ("-o", output_path, True)])
    if output_path == "-":
        output_path = None if graph_format not in graph_formats.IMAGE_FORMATS else "-"
    if output_path is not None and output_path != "-":
        from backtrace_cli.errors import OutputError

        try:
            graph_format = graph_formats.check_format(output_path, graph_format, "-o")
        except OutputError as error:  # the options do not fit together: a usage error
            raise UsageError(error.message, error.hint) from None
    if graph_format is None:
        is_terminal = sys.stdout.isatty()
        graph_format = "text" if is_terminal else "dot"
    if graph_format in graph_formats.IMAGE_FORMATS and output_path is None:
        raise UsageError(
            _("--format {graph_format} writes a picture to a file").format(
                graph_format=graph_format
            ),
            _(
                "add -o graph.{graph_format}, or -o - to send it to a pipe (or use --format dot "
                "or mermaid to print graph text)"
            ).format(graph_format=graph_format),
        )

    source = read_expression(expr)
    values = parse_bindings(bindings, source)
    seed_value = parse_value(seed, "--dz")
    tape = compile_program(parse(source))
    if order > 1:
        from backtrace_cli.api.hessian import wanted
        from backtrace_cli.cli.options import flagged
        from backtrace_cli.errors import BacktraceError
        from backtrace_cli.explain.hessian import order_tape

        try:
            tape, values, variable = order_tape(tape, values, order, wanted(wrt))
        except BacktraceError as error:
            raise flagged(error, {"wrt": "--wrt"}) from None
        report = graph_formats.build(explain(tape, values, seed_value, [variable],
                                             check=False))
    else:
        report = graph_formats.build(explain(tape, values, seed_value, wrt and [wrt],
                                             check=False))

    from backtrace_cli.cli.parsing import requested_digits
    from backtrace_cli.report.digits import rounded

    report = rounded(report, requested_digits())  # --digits: the labels' numbers
    if output_path is not None:
        graph_formats.write_graph_file(report, output_path, graph_format, "-o")
    elif graph_format == "text":
        stdout_console().print(graph_formats.to_tree(report))
    else:
        emit(graph_formats.render_graph(report, graph_format).decode("utf-8"), graph_format)
