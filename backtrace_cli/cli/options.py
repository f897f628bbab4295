"""Click pieces that several commands share, defined once."""

from __future__ import annotations

import math

import click

from backtrace_cli.cli.language import Translated, lang_option
from backtrace_cli.limits import MAX_DIGITS, MIN_DIGITS

# `--x 2` is not an option Click knows: it must reach the bindings untouched.
EXPRESSION_CONTEXT = {"ignore_unknown_options": True, "allow_interspersed_args": True}

BINDINGS_HELP = """Bindings: --x 2, --x=2 or x=2 (the last always works, also for names such as
'format'). Arrays are nested lists: W='[[1, 2], [3, 4]]' x='[1, 2]'.
EXPR may be '-' to read stdin or @FILE to read a file."""

# Where the --width of the running command is kept (read by cli.parsing.output_options).
WIDTH_KEY = "backtrace.width"


def _keep_width(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    ctx.meta[WIDTH_KEY] = value


# And its --digits (read by cli.parsing.output_options and plain_options).
DIGITS_KEY = "backtrace.digits"


def _keep_digits(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    ctx.meta[DIGITS_KEY] = value


class BacktraceCommand(Translated, click.Command):
    """A command whose expressions and values may begin with ``-``.

    Click reads ``-tanh(x)`` as the short options ``-t -a -n -h`` (``-h`` prints the help)
    and, in ``graph``, the ``o`` of ``-log(x)`` as ``-o FILE``. Before Click parses, every
    argument that begins with a single ``-`` and is not exactly one of this command's own
    options is put out of its reach (swapped for a sentinel, swapped back in the parsed
    values), so no letter of an expression or a value is ever read as a flag. So is the value
    after a binding written ``--name VALUE`` (``--w -h`` is the number '-h', not the help).
    ``--`` is accepted and dropped: the argument after it is always data, and the options
    after it keep their meaning. Every command also gets ``--width N``, ``--digits N`` and
    ``--lang zh|en``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(
            ["--width"], type=click.IntRange(min=20, max=10_000), metavar="N",
            expose_value=False, callback=_keep_width, is_eager=True,
            help="Lay tables out N columns wide (default: the terminal's width, or COLUMNS; "
                 "unwrapped when stdout is a pipe or a file)."))
        self.params.append(click.Option(
            ["--digits"], type=click.IntRange(min=MIN_DIGITS, max=MAX_DIGITS), metavar="N",
            expose_value=False, callback=_keep_digits, is_eager=True,
            help="Show numbers to N significant digits in tables, Markdown, LaTeX, HTML and "
                 "graphs (default: every digit; --format json keeps every digit)."))
        self.params.append(lang_option())

    def _own_options(self, ctx: click.Context) -> tuple[set[str], set[str]]:
        """(every option string of this command, those among them that take a value)."""
        names: set[str] = set()
        valued: set[str] = set()
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):
                continue
            strings = [*param.opts, *param.secondary_opts]
            names.update(strings)
            if not param.is_flag and not param.count:
                valued.update(param.opts)
        return names, valued

    def _refuse_huge_numbers(self, ctx: click.Context, args: list[str]) -> None:
        """A number option's value past what it can hold, in the words every number a user
        writes gets: an integer of more than 4,300 digits (Python will not read it; Click
        would say "not a valid integer"), a decimal past the float range (Click would make
        it inf)."""
        from backtrace_cli.errors import BindingError, UsageError
        from backtrace_cli.i18n import _, translated
        from backtrace_cli.syntax.numbers import NUMBER, TOO_LARGE, TOO_LARGE_HINT, shortened

        kinds = (click.types.IntParamType, click.types.FloatParamType)
        numeric = {option: param for param in self.get_params(ctx)
                   if isinstance(param, click.Option) and isinstance(param.type, kinds)
                   for option in param.opts}
        for index, argument in enumerate(args):
            option, equals, value = argument.partition("=")
            if option not in numeric:
                continue
            if not equals:
                value = args[index + 1] if index + 1 < len(args) else ""
            if isinstance(numeric[option].type, click.types.IntParamType):
                if _huge_integer(value):
                    raise UsageError(_("{option}: {value} has too many digits").format(
                        option=option, value=shortened(value.strip())))
            elif NUMBER.fullmatch(value.strip()) and math.isinf(float(value)):
                raise BindingError(translated(TOO_LARGE).format(
                    what=option, text=shortened(value.strip())), translated(TOO_LARGE_HINT))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names, valued = self._own_options(ctx)
        protected: dict[str, str] = {}

        def protect(argument: str) -> str:
            sentinel = f"\x00backtrace-argument-{len(protected)}\x00"
            protected[sentinel] = argument
            return sentinel

        rewritten: list[str] = []
        seen_dashes = False
        seen_data = False  # EXPR (or another argument) came: a --NAME after it may bind
        data_next = False  # the argument right after `--` is data, whatever it looks like
        value_next = False  # the previous argument was an option or a binding taking a value
        for argument in args:
            looks_like_option = argument.startswith("-") and argument != "-"
            if data_next or value_next:
                # A known option's value is taken verbatim by Click; a binding's value and
                # the argument after `--` must be kept from Click's short-option splitting.
                binding_value = value_next and rewritten[-1] not in valued
                if looks_like_option and (data_next or binding_value):
                    argument = protect(argument)
                data_next = value_next = False
                rewritten.append(argument)
            elif argument == "--" and not seen_dashes:
                seen_dashes = data_next = True  # dropped, so options after it keep meaning
            elif argument.startswith("--"):
                if not seen_data and argument.split("=", 1)[0] not in names \
                        and ctx.ignore_unknown_options and argument != "--":
                    _refuse_misspelt(argument.split("=", 1)[0], names)
                # `--dz VALUE`, or a binding `--x VALUE` (an option Click does not know)
                value_next = argument in valued or ("=" not in argument and argument not in names)
                rewritten.append(argument)
            elif looks_like_option and argument not in names:
                seen_data = True  # -x*w: an expression (or a value) that begins with '-'
                rewritten.append(protect(argument))
            else:
                value_next = argument in valued
                seen_data = seen_data or not looks_like_option
                rewritten.append(argument)
        self._refuse_huge_numbers(ctx, rewritten)
        try:
            remaining = super().parse_args(ctx, rewritten)
        except click.ClickException as error:
            from backtrace_cli.syntax.numbers import shortened

            error.message = shortened(_restore_text(error.message, protected))
            raise
        if not protected:
            return remaining
        for key, value in ctx.params.items():
            ctx.params[key] = _restore(value, protected)
        ctx.args = [_restore(argument, protected) for argument in ctx.args]
        return [_restore(argument, protected) for argument in remaining]


def _huge_integer(text: str) -> bool:
    """Whether ``text`` is an integer longer than Python turns into an int (4,300 digits)."""
    digits = text.strip().lstrip("+-")
    return len(digits) > 4_300 and digits.isascii() and digits.isdigit()


def _refuse_misspelt(option: str, names: set[str]) -> None:
    """``--NAME`` before EXPR cannot be a binding (bindings follow the expression): when it
    is close to an option of the command, it is that option misspelt."""
    error = misspelt(option, [name for name in names if name.startswith("--")])
    if error is not None:
        raise error


def misspelt(option: str, options):
    """The error for ``option`` (``--fromat``) when it is one slip away from one of
    ``options`` (``--format``), else None. A slip: one letter wrong, missing, extra or two
    swapped (two of them in a name of five letters or more); a name of one or two letters
    (``--w``, ``--dx``) is too short to be taken for a misspelling."""
    from backtrace_cli.errors import UsageError
    from backtrace_cli.i18n import _

    name = option[2:]
    if len(name) < 3:
        return None
    best = None
    for candidate in sorted(options):
        wanted = candidate[2:]
        distance = _slips(name, wanted)
        if distance <= (1 if len(wanted) <= 4 else 2) and (best is None or distance < best[0]):
            best = (distance, candidate)
    if best is None:
        return None
    return UsageError(_("no such option {option}; did you mean {close}?").format(
        option=option, close=best[1]),
        _("a variable given as --NAME must be a name of the expression; NAME=VALUE always "
          "binds one"))


def _slips(first: str, second: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from one word to the other."""
    rows = [list(range(len(second) + 1))]
    for i, a in enumerate(first, 1):
        row = [i]
        for j, b in enumerate(second, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def _restore(value, protected: dict[str, str]):
    if isinstance(value, str):
        return protected.get(value, value)
    if isinstance(value, tuple):
        return tuple(_restore(item, protected) for item in value)
    if isinstance(value, list):
        return [_restore(item, protected) for item in value]
    return value


def _restore_text(text: str, protected: dict[str, str]) -> str:
    for sentinel, argument in protected.items():
        text = text.replace(sentinel, argument)
    return text


def expression_inputs(function):
    """EXPR, its bindings and the seed --dz: the inputs of `grad` and `graph`."""
    decorators = (
        click.argument("expr", metavar="EXPR"),
        click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]..."),
        click.option("--dz", "seed", default="1", metavar="VALUE", show_default=True,
                     help="The seed: dL/d(output), the gradient flowing into the output."),
    )
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def flagged(error, flags: dict[str, str]):
    """The core's error with its field's name (``lr``) written as this command's option
    (``--lr``): the core names fields, the command line names flags (docs/cli.md)."""
    import re

    field = getattr(error, "field", None)
    flag = flags.get(field or "")
    if flag is not None and error.message.startswith(field):
        error.message = flag + error.message[len(field):]
    if flag is not None and error.hint:
        error.hint = re.sub(rf"(?<![\w-]){re.escape(field)}\b", flag, error.hint)
    return error
