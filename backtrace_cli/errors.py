"""The errors backtrace raises, each carrying what a user needs to fix the input.

The core raises these; only the CLI turns them into text on stderr and an exit code
(see ``cli.py``). Every error has an ``exit_code`` as the contract fixes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from backtrace_cli.i18n import _, from_template

EXIT_OK = 0
EXIT_UNTRUSTED = 1  # computed, but a check disagreed or training diverged
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class BacktraceError(Exception):
    """Base class: a message for a person, and the exit code the contract gives it."""

    exit_code = EXIT_BAD_INPUT

    # A message the core writes in English from N_ templates (it also reaches JSON, as a
    # divergence's reason) names them here; it is shown in the reader's language.
    templates: tuple[str, ...] = ()
    nested: Mapping[str, tuple[str, ...]] = {}

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def readable_message(self) -> str:
        """The message in the reader's language."""
        if not self.templates:
            return self.message
        return from_template(self.message, self.templates, self.nested)

    def render(self) -> str:
        """The full text shown on stderr (without the leading 'Error: ')."""
        text = self.readable_message()
        if self.hint:
            text += "\n  " + _("hint: {hint}").format(hint=self.hint)
        return text


class Span(NamedTuple):
    """A half-open range ``[start, end)`` of character offsets in the source text."""

    start: int
    end: int


def caret_lines(source: str, span: Span) -> str:
    """Draw the source line holding ``span`` with carets under it, as lark does at display time.

    Only the line that holds the span is shown (programs may have many lines), and a very long
    line is cut to a window around the span so the caret stays readable.
    """
    start = max(0, min(span.start, len(source)))
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    if line_end == -1:
        line_end = len(source)
    line = source[line_start:line_end]
    column = start - line_start
    width = max(1, min(span.end, line_end) - start)
    window = 70
    offset = 0
    if len(line) > window:
        offset = max(0, min(column - window // 2, len(line) - window))
        line = line[offset : offset + window]
        prefix = "..." if offset > 0 else ""
        suffix = "..." if offset + window < line_end - line_start else ""
        line = prefix + line + suffix
        column = column - offset + len(prefix)
    width = min(width, max(1, len(line) - column))
    line = line.replace("\t", " ")
    return f"  {line}\n  {' ' * column}{'^' * width}"


class ExpressionError(BacktraceError):
    """A problem at a place in an expression: drawn with a caret under the column."""

    def __init__(
        self, message: str, source: str, span: Span, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.source = source
        self.span = span

    @property
    def line(self) -> int:
        return self.source.count("\n", 0, self.span.start) + 1

    @property
    def column(self) -> int:
        return self.span.start - (self.source.rfind("\n", 0, self.span.start) + 1) + 1

    def render(self) -> str:
        where = _("line {line}, column {column}").format(line=self.line, column=self.column) if (
            "\n" in self.source.strip()) else _("column {column}").format(column=self.column)
        text = _("{message} (at {where})").format(message=self.readable_message(), where=where)
        text += f"\n{caret_lines(self.source, self.span)}"
        if self.hint:
            text += "\n  " + _("hint: {hint}").format(hint=self.hint)
        return text


class ParseError(ExpressionError):
    """The text is not a valid expression or program."""


class LimitError(ExpressionError):
    """The input is larger or deeper than a configured limit allows."""


class BindingError(BacktraceError):
    """A variable's value is missing, unused, or not a finite number."""


class EvaluationError(ExpressionError):
    """A math domain error (log(-1), 1/0, overflow) at a node for the given values."""


class ShapeError(ExpressionError):
    """Array shapes an op cannot combine, found before anything is evaluated."""


class DataError(BacktraceError):
    """A CSV file that cannot be used; names the file, line and column where it can."""

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.path = path
        self.line = line
        self.column = column

    def render(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(_("line {line}").format(line=self.line))
        if self.column is not None:
            where.append(_("column {column}").format(column=self.column))
        text = f"{': '.join([', '.join(where)] if where else [])}{': ' if where else ''}"
        text += self.message
        if self.hint:
            text += "\n  " + _("hint: {hint}").format(hint=self.hint)
        return text


class UsageError(BacktraceError):
    """An option out of range or options that do not fit together. ``field`` names the
    setting (``lr``) when the message starts with it, so the CLI can name its option."""

    field: str | None = None


def setting_error(field: str, message: str, hint: str | None = None) -> UsageError:
    """A UsageError about one setting, ``field``, whose message starts with its name."""
    error = UsageError(message, hint)
    error.field = field
    return error


class OutputError(BacktraceError):
    """A file that cannot be written."""


class ScriptError(BacktraceError):
    """``backtrace run``: the script named cannot be read (missing, a directory, unreadable)."""


class TorchUnavailable(BacktraceError):
    """``backtrace run --compare``: the interpreter named cannot start or import PyTorch."""


class DivergedError(BacktraceError):
    """Training produced a non-finite loss; carries what was finished."""

    exit_code = EXIT_UNTRUSTED


# Characters that act on a terminal instead of showing: control characters (ESC, NUL, a lone
# carriage return), format characters (bidirectional overrides, zero-width spaces: "Trojan
# Source", CVE-2021-42574), line and paragraph separators, and lone surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def is_unsafe_character(char: str) -> bool:
    """Whether printing ``char`` could move the cursor, reorder text or drive the terminal."""
    import unicodedata

    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def visible(text: str) -> str:
    """``text`` safe to print on a terminal: every unsafe character (see
    ``is_unsafe_character``) becomes U+FFFD, one column wide, so pasted input can neither
    drive the terminal nor shift a caret. Line breaks and tabs stay."""
    if text.isprintable():
        return text
    return "".join(
        "\ufffd" if char not in "\n\t" and is_unsafe_character(char) else char for char in text
    )


def did_you_mean(name: str, candidates) -> str | None:
    """A 'did you mean ...?' hint when a close candidate exists, else None."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return _("did you mean '{name}'?").format(name=matches[0]) if matches else None
