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
    UsageError,
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
        bindings[name] = parse_number(text, where)
    return bindings


def read_expression(text: str) -> str:
    """EXPR itself, or stdin for ``-``, or a file's contents for ``@FILE``.

    No more than the length limit (and one character) is read, so ``@/dev/zero`` or an endless
    pipe ends in a LimitError at once instead of filling the memory.
    """
    from .limits import MAX_LENGTH

    limit = MAX_LENGTH.value
    if text == "-":
        return _within_length(click.get_text_stream("stdin").read(limit + 1), "stdin", limit)
    if text.startswith("@") and len(text) > 1:
        path = text[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                return _within_length(handle.read(limit + 1), path, limit)
        except FileNotFoundError:
            raise UsageError(
                f"cannot read {path}: no such file",
                "an EXPR that starts with '@' names a file to read the expression from",
            ) from None
        except IsADirectoryError:
            raise UsageError(f"cannot read {path}: it is a directory") from None
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                "save the file as UTF-8",
            ) from None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return text


def _within_length(content: str, where: str, limit: int) -> str:
    if len(content) > limit:
        from .errors import LimitError, Span
        from .limits import MAX_LENGTH

        raise LimitError(
            f"the expression in {where} is too long (more than {limit:,} characters)",
            content[:200],
            Span(0, 1),
            f"raise it with {MAX_LENGTH.env}",
        )
    return content


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
    """


GRAD_EPILOG = f"""\b
Examples:
  backtrace grad "x*w" --x 2 --w 3 --dz 5
  backtrace grad "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1
  backtrace grad "tanh(x1*w1 + x2*w2 + b)" x1=2 x2=0 w1=-3 w2=1 b=6.88 --wrt w1,w2
  backtrace grad @program.txt a=-4 b=2 --format json
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
    seed_value = parse_number(seed, "--dz")
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
    from .train_command import train

    main.add_command(train)
    main.add_command(graph)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
