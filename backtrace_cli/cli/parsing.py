"""Turning command-line text into core values: numbers, arrays, bindings, expressions.

Every command reads its arguments through these, so each refuses bad text with the same words.
"""

from __future__ import annotations

import os
import sys

import click

from backtrace_cli.errors import BindingError
from backtrace_cli.i18n import _, translated
from backtrace_cli.syntax.numbers import NUMBER


def parse_number(text: str, what: str) -> float:
    """A finite decimal or scientific number; anything else is a BindingError naming ``what``."""
    from backtrace_cli.syntax.numbers import TOO_LARGE, TOO_LARGE_HINT, shortened

    stripped = text.strip()
    if NUMBER.fullmatch(stripped):
        value = float(stripped)
        if value in (float("inf"), float("-inf")):
            raise BindingError(translated(TOO_LARGE).format(what=what, text=shortened(text)),
                               translated(TOO_LARGE_HINT))
        return value
    lowered = stripped.lower().lstrip("+-")
    if lowered in ("nan", "inf", "infinity"):
        raise BindingError(
            _("{what}: '{text}' is not allowed; values must be finite numbers").format(
                what=what, text=text
            )
        )
    raise BindingError(
        _("{what}: '{text}' is not a number").format(what=what, text=shortened(text)),
        _("write a decimal or scientific number such as -1.5 or 2e-3"),
    )


def parse_value(text: str, what: str):
    """A number, or an array written as JSON-style nested lists (``[[1, 2], [3, 4]]``)."""
    if text.strip().startswith("["):
        return parse_array(text, what)
    return parse_number(text, what)


def _refuse_constant(name: str):
    raise BindingError(_(
        "'{name}' is not allowed; values must be finite numbers").format(name=name))


def parse_array(text: str, what: str):
    """Nested lists of numbers -> a float64 NumPy array, checked to be rectangular, numeric,
    finite and within BACKTRACE_MAX_ARRAY_ELEMENTS. The text is read as JSON (data, never
    code); the lists are checked by ``api.values.as_value``, as the Python API checks them."""
    from backtrace_cli.api.values import EXAMPLE

    example = translated(EXAMPLE)
    from backtrace_cli.api.values import as_value
    from backtrace_cli.syntax.numbers import (
        TOO_LARGE_HINT,
        NestedTooDeeply,
        NumberTooLarge,
        loads,
    )

    try:
        data = loads(text, parse_constant=_refuse_constant)
    except BindingError as error:
        raise BindingError(
            _("{what}: {message}").format(what=what, message=error.message)
        ) from None
    except NestedTooDeeply as error:
        raise BindingError(error.message(what), example) from None
    except NumberTooLarge as error:
        raise BindingError(error.message(what), translated(TOO_LARGE_HINT)) from None
    except RecursionError:
        raise BindingError(_("{what}: the array is nested too deeply").format(what=what)) from None
    except ValueError as exc:
        message = getattr(exc, "msg", str(exc))
        position = getattr(exc, "pos", None)
        where = f" at character {position + 1}" if position is not None else ""
        raise BindingError(
            _("{what}: not an array of numbers ({message}{where})").format(
                what=what, message=message, where=where
            ),
            example,
        ) from None
    if not isinstance(data, list):
        raise BindingError(_("{what}: not an array of numbers").format(what=what), example)
    return as_value(data, what)


def parse_bindings(arguments: tuple[str, ...], source: str | None = None) -> dict[str, float]:
    """``--x 2``, ``--x=2`` and ``x=2`` into {name: value}, refusing repeats and junk.

    With the expression's ``source``, a ``--NAME`` that is no name of it and is close to an
    option of the running command is refused as the misspelt option it is
    (``--fromat json``: "no such option --fromat; did you mean --format?"), before its
    value is read."""
    if source is not None:
        refuse_misspelt_options(arguments, source)
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
                    raise BindingError(
                        _("--{name} needs a value").format(name=name),
                        _("write --{name} VALUE").format(name=name),
                    )
                text = arguments[position]
                position += 1
            where = f"--{name}"
        elif "=" in argument:
            name, text = argument.split("=", 1)
            name = name.strip()
            where = name
        else:
            raise BindingError(
                _("unexpected argument '{argument}'").format(argument=argument),
                _("give values as name=VALUE or --name VALUE, after the expression"),
            )
        if not name:
            raise BindingError(
                _("the binding '{argument}' has no variable name").format(argument=argument),
                _("write name=VALUE, e.g. x=2"),
            )
        name = _binding_name(name)
        if name in bindings:
            raise BindingError(
                _("the variable '{name}' is given twice").format(name=name),
                _("give each variable one value"),
            )
        bindings[name] = parse_value(text, where)
    return bindings


def refuse_misspelt_options(arguments: tuple[str, ...], source: str) -> None:
    """A ``--NAME`` argument that names nothing in ``source`` and is close to an option of
    the running command is that option misspelt: a UsageError (exit 2) that says so; one
    whose NAME cannot be a variable's (``--no-check`` where there is none) is no option."""
    from backtrace_cli.cli.options import misspelt

    typed = [argument.split("=", 1)[0] for argument in arguments
             if argument.startswith("--") and len(argument) > 2]
    context = click.get_current_context(silent=True)
    if not typed or context is None:
        return
    options = sorted({name for param in context.command.get_params(context)
                      if isinstance(param, click.Option)
                      for name in (*param.opts, *param.secondary_opts)
                      if name.startswith("--")})
    names = _names_in(source)
    for option in typed:
        name = option[2:]
        if name in names or (name.isidentifier() and _normalized(name) in names):
            continue
        error = misspelt(option, options)
        if error is None and not name.isidentifier():  # --no-chek, --check_timeout-x: no
            from backtrace_cli.errors import UsageError  # variable is called that

            error = UsageError(_("no such option {option}").format(option=option),
                               _("the options are listed by {command} --help").format(
                                   command=f"backtrace {context.info_name}"))
        if error is not None:
            raise error


def _normalized(name: str) -> str:
    from backtrace_cli.syntax.names import normalize_name

    return normalize_name(name)


def _names_in(source: str) -> set[str]:
    """The names the expression's text holds (variables, steps, functions); none when it
    does not even tokenize (its own error comes first, from the parser)."""
    from backtrace_cli.errors import BacktraceError
    from backtrace_cli.syntax.tokens import tokenize

    try:
        return {token.text for token in tokenize(source) if token.kind == "NAME"}
    except BacktraceError:
        return set()


def _binding_name(typed: str) -> str:
    """A binding's name as the parser reads names: an identifier of any script, normalised
    with NFKC (``θ``, ``权重``), not starting with '__', no look-alike of an ASCII letter."""
    from backtrace_cli.syntax.names import name_problem, normalize_name

    if not typed.isidentifier() or "\u00b7" in typed or "\u0387" in typed \
            or normalize_name(typed).startswith("__"):
        raise BindingError(
            _("'{typed}' is not a valid variable name").format(typed=typed),
            _(
                "a name is letters, digits and '_', not starting with a digit or '__' (e.g. x, "
                "w1, y_hat, θ)")
        )
    problem = name_problem(typed)
    if problem is not None:
        _kind, message, hint = problem
        raise BindingError(_(
            "the binding name '{typed}': {message}").format(typed=typed, message=message), hint)
    name = normalize_name(typed)
    return name


def read_expression(text: str) -> str:
    """EXPR itself, or stdin for ``-``, or a file's contents for ``@FILE``.

    No more than the length limit (and one character) is read, so ``@/dev/zero`` or an endless
    pipe ends in a LimitError at once instead of filling the memory.
    """
    from backtrace_cli.files import read_text
    from backtrace_cli.limits import MAX_LENGTH
    from backtrace_cli.syntax.parser import refuse_long

    limit = MAX_LENGTH.value
    if text == "-":
        # UTF-8 whatever the locale says, as @FILE is read: PYTHONIOENCODING=ascii changes
        # what the terminal shows, not what an expression may hold.
        content = read_text("-", "cannot read stdin", limit)
        refuse_long(content, "stdin")
        return content
    if text.startswith("@") and len(text) > 1:
        path = text[1:]
        content = read_text(
            path, f"cannot read {path}", limit,
            "an EXPR that starts with '@' names a file to read the expression from",
        )
        refuse_long(content, path)
        return content
    return text


def expression_file(text: str | None) -> str | None:
    """The file EXPR is read from: FILE of ``@FILE``, ``-`` (stdin), else None."""
    if text == "-":
        return "-"
    if text is not None and text.startswith("@") and len(text) > 1:
        return text[1:]
    return None


def expression_flag(text: str | None) -> str:
    """How a message names EXPR read from a file (``EXPR @prog.txt``) or stdin."""
    return f"EXPR {text}" if text and text != "-" else "EXPR"


def requested_width() -> int | None:
    """The width the user asked for: ``--width N`` of the running command, else ``COLUMNS``
    (a whole number of at least 20; anything else is ignored, as Rich ignores it)."""
    from backtrace_cli.cli.options import WIDTH_KEY

    context = click.get_current_context(silent=True)
    while context is not None:
        if context.meta.get(WIDTH_KEY) is not None:
            return context.meta[WIDTH_KEY]
        context = context.parent
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isascii() and columns.isdigit() and 20 <= int(columns) <= 10_000:
        return int(columns)
    return None


def output_options(width: int | None = None):
    """How stdout wants text laid out, decided in this one place for every command.

    ``width``: the given width, else ``--width``/``COLUMNS``, else the terminal's width on a
    terminal, else None: a pipe or a file gets whole lines, never wrapped. ``color``: only on a
    terminal, and not when ``NO_COLOR`` is set to anything but the empty string.
    """
    from backtrace_cli.formats.registry import Options

    terminal = _stdout_is_terminal()
    if width is None:
        width = requested_width()
    if width is None and terminal:
        import shutil

        width = shutil.get_terminal_size().columns
    color = terminal and not os.environ.get("NO_COLOR")
    return Options(width=width, color=color, digits=requested_digits())


def requested_digits() -> int | None:
    """``--digits N`` of the running command (None: every digit)."""
    from backtrace_cli.cli.options import DIGITS_KEY

    context = click.get_current_context(silent=True)
    while context is not None:
        if context.meta.get(DIGITS_KEY) is not None:
            return context.meta[DIGITS_KEY]
        context = context.parent
    return None


def with_digits(text: str) -> str:
    """A line printed as it happens (a --trace line) with ``--digits`` applied."""
    digits = requested_digits()
    if digits is None:
        return text
    from backtrace_cli.report.digits import shorter

    return shorter(text, digits)


def plain_options():
    """For a file or another format than table: no wrapping, no colour, and ``--digits``."""
    from backtrace_cli.formats.registry import Options

    return Options(digits=requested_digits())


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (ValueError, AttributeError):  # closed or replaced stdout
        return False


def stdout_console(width: int | None = None):
    """A Rich console for stdout laid out as ``output_options(width)`` says: no colour off a
    terminal, and no wrapping at all when the width is None (a pipe or a file)."""
    options = output_options(width)
    return _console_class()(
        width=options.width or UNWRAPPED_WIDTH,
        soft_wrap=options.width is None,
        color_system="auto" if options.color else None,
        highlight=False, emoji=False, legacy_windows=False,
    )


# Rich needs a width even when nothing is wrapped; tables are never padded to it.
UNWRAPPED_WIDTH = 10_000


def _console_class():
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich exits 1 here; the CLI ends a closed pipe quietly with its own code.
            raise BrokenPipeError

    return StdoutConsole
