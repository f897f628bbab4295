"""The report model: sections with a title, rows of cells, notes and lines of equations.

A command's result is turned into one ``Report`` once; each format (Rich table, Markdown,
LaTeX, JSON, ...) is a writer of that model and computes nothing. The human sections and the
machine ``data`` (the JSON document of docs/cli.md) are built side by side from the same
result, so a new view gets every format by adding its sections here and nothing else.

A cell is a ``Text``: the plain form people read, and where it is a formula its LaTeX ``math``
form, so no writer has to guess whether ``dL/dx`` is a fraction or ``W^T`` a transpose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Align = Literal["left", "right", "center"]
Tone = Literal["good", "bad", "dim", "strong"]


@dataclass(frozen=True)
class Text:
    """One piece of text in a report.

    ``plain`` is what a person reads in a terminal or Markdown. ``math`` is the same thing as
    LaTeX math (without dollars) when it is a formula; writers that typeset math use it, the
    others ignore it. ``code`` marks program text (backticks in Markdown, ``\\texttt`` in
    LaTeX). ``tone`` is a hint for colour on a terminal (good = ✓, bad = ✗)."""

    plain: str
    math: str | None = None
    code: bool = False
    tone: Tone | None = None

    def __str__(self) -> str:
        return self.plain


def text(value: str | Text, math: str | None = None, *, code: bool = False,
         tone: Tone | None = None) -> Text:
    """A ``Text`` from a string (or the Text itself): the one way builders make cells."""
    if isinstance(value, Text):
        return value
    return Text(value, math, code, tone)


@dataclass(frozen=True)
class Column:
    header: Text
    align: Align = "left"


@dataclass(frozen=True)
class Table:
    """A titled table. ``before`` and ``after`` are lines printed just above and below it
    (``output z = 6``); ``notes`` follow as a list; ``empty`` stands in for a table with no
    rows ("the expression has no variables"). ``cut`` lets writers for people show only the
    first and last rows of a huge table (documents for files show every row)."""

    title: Text
    columns: tuple[Column, ...]
    rows: tuple[tuple[Text, ...], ...]
    before: tuple[Text, ...] = ()
    after: tuple[Text, ...] = ()
    notes: tuple[Text, ...] = ()
    empty: Text | None = None
    cut: bool = True
    key: str = ""  # a stable name of the section ("forward", "backward", ...) for writers/tests


@dataclass(frozen=True)
class Lines:
    """A titled block of lines: the chain rule, a verdict, a summary. ``equations`` says each
    line is a displayed equation (LaTeX sets them in an ``align*``)."""

    title: Text | None
    lines: tuple[Text, ...]
    notes: tuple[Text, ...] = ()
    equations: bool = False
    cut: bool = True
    key: str = ""


Section = Table | Lines


@dataclass(frozen=True)
class Report:
    """A command's result, for every format.

    ``data`` is the JSON document (its schema is ``docs/schema/<command>.json``); ``json_text``
    may give a faster encoding of exactly that document for very large results."""

    command: str
    title: Text
    sections: tuple[Section, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    json_text: Callable[[], str] | None = None

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)
