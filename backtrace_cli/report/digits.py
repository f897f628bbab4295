"""``--digits N``: the numbers a person reads, shown to N significant digits.

Only the views change (tables, Markdown, LaTeX, HTML, graph labels); the JSON document keeps
every number at full precision. A number is a decimal with a point or an exponent standing
on its own (``1.3767148848558004``, ``-2.5e-08``): whole numbers (``6``, the ``2`` of ``2x2``
or of ``v12``) are left as they are, so node ids, shapes and counts never change.
"""

from __future__ import annotations

import re
from dataclasses import replace

from backtrace_cli.limits import MAX_DIGITS, MIN_DIGITS  # noqa: F401  (their old home)
from backtrace_cli.report.model import Lines, Report, Table, Text

# Reports that are pictures only (no JSON document): their data is what is drawn.
PICTURES = ("graph", "steps")

_NUMBER = re.compile(r"(?<![\w.])(-?)(\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)(?![\w.])",
                     re.ASCII)


def shorter(text: str, digits: int) -> str:
    """Every decimal number of ``text`` to ``digits`` significant digits (``%g``)."""
    def one(match: re.Match) -> str:
        value = float(match.group(2))
        return match.group(1) + f"{value:.{digits}g}"
    return _NUMBER.sub(one, text)


def _labels(data, digits: int, key: str = ""):
    """The strings of a picture's data (the graph's labels, the steps' lines), shortened;
    the program's own text (``source``) is kept."""
    if isinstance(data, str):
        return data if key == "source" else shorter(data, digits)
    if isinstance(data, dict):
        return {k: _labels(v, digits, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_labels(v, digits, key) for v in data]
    return data


def _text(value: Text, digits: int) -> Text:
    return replace(value, plain=shorter(value.plain, digits),
                   math=None if value.math is None else shorter(value.math, digits),
                   parts=tuple(_text(part, digits) for part in value.parts))


def _texts(values, digits: int) -> tuple:
    return tuple(_text(value, digits) for value in values)


def _section(section, digits: int):
    if isinstance(section, Table):
        return replace(
            section, title=_text(section.title, digits),
            rows=tuple(_texts(row, digits) for row in section.rows),
            before=_texts(section.before, digits), after=_texts(section.after, digits),
            notes=_texts(section.notes, digits))
    if isinstance(section, Lines):
        return replace(section, title=None if section.title is None else _text(section.title,
                                                                               digits),
                       lines=_texts(section.lines, digits), notes=_texts(section.notes, digits))
    return section


def rounded(report: Report, digits: int | None) -> Report:
    """``report`` with its views' numbers to ``digits`` significant digits (None: as it is);
    ``data`` (the JSON document) is kept whole, but for a picture's (the graph, the steps
    of the HTML page), which is what it draws."""
    if digits is None:
        return report
    views = {name: (lambda build=build: rounded(build(), digits))
             for name, build in report.views.items()}
    if report.command in PICTURES:
        return replace(report, data=_labels(dict(report.data), digits), views=views)
    return replace(report, title=_text(report.title, digits),
                   sections=tuple(_section(section, digits) for section in report.sections),
                   views=views)
