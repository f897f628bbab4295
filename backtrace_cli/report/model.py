"""The report model: sections with a title, rows of cells, notes and lines of equations.

A command's result is turned into one ``Report`` once; each format (Rich table, Markdown,
LaTeX, JSON, ...) is a writer of that model and computes nothing. The human sections and the
machine ``data`` (the JSON document of docs/cli.md) are built side by side from the same
result, so a new view gets every format by adding its sections here and nothing else.

A cell is a ``Text``: the plain form people read, and where it is a formula its LaTeX ``math``
form, so no writer has to guess whether ``dL/dx`` is a fraction or ``W^T`` a transpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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
    LaTeX). ``tone`` is a hint for colour on a terminal (good = ✓, bad = ✗). ``parts`` splits
    a text into runs of their own form (``dz/dx`` as math, then `` = ``, then the code ``w``);
    ``plain`` is then their plain forms joined, and writers that care render the runs."""

    plain: str
    math: str | None = None
    code: bool = False
    tone: Tone | None = None
    parts: tuple[Text, ...] = ()

    def __str__(self) -> str:
        return self.plain


def text(value: str | Text, math: str | None = None, *, code: bool = False,
         tone: Tone | None = None) -> Text:
    """A ``Text`` from a string (or the Text itself): the one way builders make cells."""
    if isinstance(value, Text):
        return value
    return Text(value, math, code, tone)


def joined(*parts: str | Text, code: bool = False, tone: Tone | None = None) -> Text:
    """One Text made of runs (see ``Text.parts``); strings become plain runs."""
    runs = tuple(text(part) for part in parts)
    return Text("".join(run.plain for run in runs), None, code, tone, runs)


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
    line is a displayed equation (LaTeX sets them in an ``align*``). ``preformatted`` says the
    lines are a drawing in fixed-width characters (train's loss chart): writers keep them as
    they are, line for line, in one block (a fenced code block, ``<pre>``)."""

    title: Text | None
    lines: tuple[Text, ...]
    notes: tuple[Text, ...] = ()
    equations: bool = False
    cut: bool = True
    key: str = ""
    indent: str = "  "  # before each line in text writers ("" for a verdict read as prose)
    preformatted: bool = False


Section = Table | Lines


class Lazy(Sequence):
    """Sections built on first use: a huge result written as JSON never builds its tables."""

    def __init__(self, build: Callable[[], Sequence[Section]]):
        self._build = build
        self._items: tuple[Section, ...] | None = None

    def _get(self) -> tuple[Section, ...]:
        if self._items is None:
            self._items = tuple(self._build())
        return self._items

    def __getitem__(self, index):
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())


class LazyData(Mapping):
    """A JSON document parsed from its fast text on first use (``Report.json_text``)."""

    def __init__(self, json_text: Callable[[], str]):
        self._json_text = json_text
        self._document: dict | None = None

    def _get(self) -> dict:
        if self._document is None:
            import json

            self._document = json.loads(self._json_text())
        return self._document

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


@dataclass(frozen=True)
class Report:
    """A command's result, for every format.

    ``data`` is the JSON document (its schema is ``docs/schema/<command>.json``); ``json_text``
    may give a faster encoding of exactly that document for very large results."""

    command: str
    title: Text
    sections: Sequence[Section]  # a tuple, or ``Lazy`` for sections built on first use
    data: Mapping[str, Any] = field(default_factory=dict)
    json_text: Callable[[], str] | None = None
    compact: bool | None = None  # JSON without indentation (None: the writer decides by size)
    # Other reports of the same result, built on first use, for writers that show several
    # views at once: the HTML page draws the "graph" and steps through the "steps".
    views: Mapping[str, Callable[[], Report]] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)
