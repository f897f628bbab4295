"""The command line: thin Click commands over the pure core.

Options are turned into core calls here, the core's results are handed to ``render.py``,
and every ``BacktraceError`` becomes a message on stderr and the contract's exit code in one
place (``BacktraceGroup.invoke``). Heavy modules (NumPy, SymPy, the training loop) are
imported inside the commands that need them, so ``backtrace --help`` starts fast.
"""

from __future__ import annotations

import re
import sys

import click

from . import __version__
from .errors import (
    EXIT_INTERRUPTED,
    BacktraceError,
    BindingError,
    visible,
)
from .options import BINDINGS_HELP, EXPRESSION_CONTEXT, expression_inputs

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class BacktraceGroup(click.Group):
    """Turns our errors into one line on stderr and the contract's exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BacktraceError as error:
            report_error(error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def report_error(error: BacktraceError) -> None:
    # Messages quote what the user typed; a control character in it must not reach the
    # terminal raw (an escape sequence from a pasted expression could rewrite the screen).
    click.echo(f"Error: {visible(error.render())}", err=True)


# ----------------------------------------------------------------------------- values
def parse_number(text: str, what: str) -> float:
    """A finite decimal or scientific number; anything else is a BindingError naming ``what``."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        value = float(stripped)
        if value in (float("inf"), float("-inf")):
            raise BindingError(
                f"{what}: {text} is too large for a float",
                "values must be at most about 1.8e308 in size",
            )
        return value
    lowered = stripped.lower().lstrip("+-")
    if lowered in ("nan", "inf", "infinity"):
        raise BindingError(f"{what}: '{text}' is not allowed; values must be finite numbers")
    raise BindingError(
        f"{what}: '{text}' is not a number",
        "write a decimal or scientific number such as -1.5 or 2e-3",
    )


def parse_value(text: str, what: str):
    """A number, or an array written as JSON-style nested lists (``[[1, 2], [3, 4]]``)."""
    if text.strip().startswith("["):
        return parse_array(text, what)
    return parse_number(text, what)


def _refuse_constant(name: str):
    raise BindingError(f"'{name}' is not allowed; values must be finite numbers")


def parse_array(text: str, what: str):
    """Nested lists of numbers -> a float64 NumPy array, checked to be rectangular, numeric,
    finite and within BACKTRACE_MAX_ARRAY_ELEMENTS. The text is read as JSON (data, never
    code), then walked level by level, so no nesting depth needs recursion of ours."""
    import json
    import math

    from .limits import MAX_ARRAY_ELEMENTS

    example = "write nested lists of numbers, e.g. '[1, 2]' or '[[0.1, 0.2], [0.3, 0.4]]'"
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except BindingError as error:
        raise BindingError(f"{what}: {error.message}") from None
    except RecursionError:
        raise BindingError(f"{what}: the array is nested too deeply") from None
    except ValueError as exc:
        message = getattr(exc, "msg", str(exc))
        position = getattr(exc, "pos", None)
        where = f" at character {position + 1}" if position is not None else ""
        raise BindingError(f"{what}: not an array of numbers ({message}{where})",
                           example) from None
    limit = MAX_ARRAY_ELEMENTS.value
    shape: list[int] = []
    level = [data]
    while isinstance(level[0], list):
        length = len(level[0])
        if length == 0:
            raise BindingError(f"{what}: an empty list has no elements", example)
        for row, item in enumerate(level):
            if not isinstance(item, list) or len(item) != length:
                found = f"{len(item)} elements" if isinstance(item, list) else "a number"
                raise BindingError(
                    f"{what}: the array is ragged: at depth {len(shape) + 1}, item {row + 1} "
                    f"has {found} where {length} elements were expected",
                    "every row of a matrix needs the same number of elements",
                )
        shape.append(length)
        size = len(level) * length
        if size > limit:
            raise BindingError(
                f"{what}: the array has more than {limit:,} elements",
                f"raise the limit with {MAX_ARRAY_ELEMENTS.env}",
            )
        level = [element for item in level for element in item]
    for item in level:
        if isinstance(item, list) or isinstance(item, bool) or not isinstance(
            item, int | float
        ):
            shown = json.dumps(item)[:40]
            raise BindingError(f"{what}: {shown} is not a number",
                               "every element must be a number" if not isinstance(item, list)
                               else "the array is ragged: every row needs the same depth")
        if not math.isfinite(item):
            raise BindingError(f"{what}: {item} is too large for a float")
    import numpy

    try:
        values = numpy.array(level, dtype=numpy.float64)
    except OverflowError:  # an integer beyond the float range
        raise BindingError(f"{what}: a number is too large for a float") from None
    if not numpy.isfinite(values).all():
        raise BindingError(f"{what}: a number is too large for a float")
    return values.reshape(shape)


def parse_bindings(arguments: tuple[str, ...]) -> dict[str, float]:
    """``--x 2``, ``--x=2`` and ``x=2`` into {name: value}, refusing repeats and junk."""
    bindings: dict[str, float] = {}
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        position += 1
        if argument.startswith("--"):
            body = argument[2:]
            if "=" in body:
                name, text = body.split("=", 1)
            else:
                name = body
                if position >= len(arguments):
                    raise BindingError(f"--{name} needs a value", f"write --{name} VALUE")
                text = arguments[position]
                position += 1
            where = f"--{name}"
        elif "=" in argument:
            name, text = argument.split("=", 1)
            name = name.strip()
            where = name
        else:
            raise BindingError(
                f"unexpected argument '{argument}'",
                "give values as name=VALUE or --name VALUE, after the expression",
            )
        if not name:
            raise BindingError(
                f"the binding '{argument}' has no variable name", "write name=VALUE, e.g. x=2"
            )
        if not _NAME.fullmatch(name) or name.startswith("__"):
            raise BindingError(
                f"'{name}' is not a valid variable name",
                "a name is ASCII letters, digits and '_', not starting with a digit or '__' "
                "(e.g. x, w1, y_hat)",
            )
        if name in bindings:
            raise BindingError(
                f"the variable '{name}' is given twice", "give each variable one value"
            )
        bindings[name] = parse_value(text, where)
    return bindings


def read_expression(text: str) -> str:
    """EXPR itself, or stdin for ``-``, or a file's contents for ``@FILE``.

    No more than the length limit (and one character) is read, so ``@/dev/zero`` or an endless
    pipe ends in a LimitError at once instead of filling the memory.
    """
    from .limits import MAX_LENGTH
    from .parser import refuse_long

    limit = MAX_LENGTH.value
    if text == "-":
        content = sys.stdin.read(limit + 1)
        refuse_long(content, "stdin")
        return content
    if text.startswith("@") and len(text) > 1:
        path = text[1:]
        from .files import read_text

        content = read_text(
            path, f"cannot read {path}", limit,
            "an EXPR that starts with '@' names a file to read the expression from",
        )
        refuse_long(content, path)
        return content
    return text


def stdout_console():
    """A Rich console for stdout: colour only on a terminal, NO_COLOR honoured by Rich."""
    from rich.console import Console

    return Console(highlight=False)


def _not_nan(ctx: click.Context, param: click.Parameter, value: float) -> float:
    # FloatRange lets nan through: it is neither below the minimum nor above the maximum.
    if value != value:
        raise click.BadParameter("nan is not a number of seconds; give e.g. 5", ctx, param)
    return value


# ----------------------------------------------------------------------------- commands
@click.group(cls=BacktraceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="backtrace")
def main() -> None:
    """See reverse-mode automatic differentiation work on your own expression.

    \b
    Examples:
      backtrace grad "x*w" --x 2 --w 3 --dz 5
      backtrace grad "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1
      backtrace train
      backtrace simplify "W2 @ (W1 @ x + b1) + b2" W1='[[1, 2], [3, 4]]' ...
    """


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


@main.command(
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
              type=click.Choice(["table", "json", "markdown", "latex"]), default="table",
              show_default=True, help="Output for people, scripts, or course notes.")
@click.option("--graph", "graph_path", metavar="FILE",
              help="Also write the computation graph to FILE (.svg, .png, .dot, .gv, .mmd, .txt).")
def grad(expr, bindings, seed, wrt, check, check_timeout, output_format, graph_path) -> None:
    """Forward and backward pass of EXPR, with every chain-rule product written out."""
    from .grad import explain
    from .parser import parse
    from .tape import compile_program

    source = read_expression(expr)
    values = parse_bindings(bindings)
    seed_value = parse_value(seed, "--dz")
    wanted = [name.strip() for name in wrt.split(",") if name.strip()] if wrt else None
    tape = compile_program(parse(source))
    explanation = explain(tape, values, seed_value, wanted, check, check_timeout)
    if graph_path is not None:  # before printing, so that a bad path fails cleanly
        from .graph import write_graph_file

        write_graph_file(explanation, graph_path)

    if output_format == "json":
        from .render import grad_json

        click.echo(grad_json(explanation))
    elif output_format == "markdown":
        from .render import grad_markdown

        click.echo(grad_markdown(explanation), nl=False)
    elif output_format == "latex":
        from .latex import grad_latex

        click.echo(grad_latex(explanation), nl=False)
    else:
        from .render import print_grad

        print_grad(explanation, stdout_console())
    if explanation.check is not None and not explanation.check.ok:
        sys.exit(1)
    if explanation.check is not None and explanation.check.interrupted:
        # Ctrl-C during the cross-checks: the gradients were finished and are reported above.
        click.echo("Interrupted: the cross-checks were cut short; the gradients above are "
                   "complete.", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _register_commands() -> None:
    """Commands that live in modules of their own (each imports its core lazily)."""
    from .graph_command import graph
    from .simplify_command import simplify
    from .train_command import train

    main.add_command(train)
    main.add_command(graph)
    main.add_command(simplify)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
