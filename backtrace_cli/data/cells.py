"""The exact parser of a CSV file's lines: the header, the rows, the fields of one line.

This is the specification of the format: every cell of a column that is read is checked,
so an error names the line and the column to fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy

from backtrace_cli.data.text import (
    _delimiter_name,
    _is_blank,
    _other_delimiter,
    _show,
)
from backtrace_cli.errors import DataError
from backtrace_cli.i18n import _

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A finite decimal or scientific number in ASCII: -1.5, 2e-3, .5, 1.  (no nan, inf, 1_000, hex)
_NUMBER_TEXT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(_NUMBER_TEXT)


@dataclass(frozen=True)
class Layout:
    """Which fields of a line are read: the header's names, the positions used, the width.

    ``width`` counts the fields of every line: one more than ``names`` when the header ends
    in an empty cell (``x,y,``, as spreadsheets export), whose cell in every row is empty too.
    """

    names: tuple[str, ...]
    used: tuple[int, ...]
    width: int

    @classmethod
    def every(cls, names: tuple[str, ...]) -> Layout:
        return cls(tuple(names), tuple(range(len(names))), len(names))

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of the columns read, in the file's order."""
        return tuple(self.names[index] for index in self.used)

    @property
    def trailing(self) -> bool:
        """Whether the lines end in a field under no name (the header's empty last cell)."""
        return self.width > len(self.names)

    @property
    def everything(self) -> bool:
        """Every field is read: no unused column and no trailing empty cell."""
        return not self.trailing and len(self.used) == len(self.names)


def as_layout(columns) -> Layout:
    """A Layout, or every column of a tuple of names."""
    return columns if isinstance(columns, Layout) else Layout.every(tuple(columns))


def choose_columns(names: tuple[str, ...], width: int, wanted, path: str) -> Layout:
    """The Layout that reads ``wanted`` of the header's ``names``: None for all of them, a
    sequence of names, or a function from the header's names to such a sequence."""
    if callable(wanted):
        wanted = wanted(names)
    if wanted is None:
        return Layout(names, tuple(range(len(names))), width)
    wanted = tuple(wanted)
    for name in wanted:
        if name not in names:
            from backtrace_cli.data.dataset import _column_hint

            raise DataError(
                _("no column named {name!r}; the columns are: {value}").format(
                    name=name, value=", ".join(names)
                ),
                path=path,
                hint=_column_hint(name, names),
            )
    return Layout(names, tuple(i for i, name in enumerate(names) if name in wanted), width)


def _parse_header(line: str, line_number: int, delimiter: str, path: str) -> tuple[str, ...]:
    """The column names of the header line: non-empty, unique identifiers (an empty last
    cell, as in ``x,y,``, is no column)."""
    return _parse_header_layout(line, line_number, delimiter, path).names


def _parse_header_layout(line: str, line_number: int, delimiter: str, path: str) -> Layout:
    """The header line as a Layout that reads every named column."""
    names = tuple(cell.strip() for cell in _split_fields(line, line_number, delimiter, path))
    width = len(names)
    if width > 1 and not names[-1]:
        names = names[:-1]  # a trailing delimiter: spreadsheets write one on every line
    for index, name in enumerate(names):
        column = index + 1
        if not name:
            raise DataError(
                _("a header name is empty"),
                path=path,
                line=line_number,
                column=column,
                hint=_("every column needs a name, such as x or y"),
            )
        if not _NAME.fullmatch(name):
            raise DataError(
                _("header name {value} is not a valid name").format(value=_show(name)),
                path=path,
                line=line_number,
                column=column,
                hint=_header_hint(name, line, delimiter),
            )
        if name in names[:index]:
            raise DataError(
                _("header name {name!r} is used twice (also column {value})").format(
                    name=name, value=names.index(name) + 1
                ),
                path=path,
                line=line_number,
                column=column,
                hint=_("give every column its own name"),
            )
    return Layout(names, tuple(range(len(names))), width)


def _header_hint(name: str, line: str, delimiter: str) -> str:
    if _NUMBER.fullmatch(name):
        return "the first non-blank line must be a header of names, such as 'x,y'"
    other = _other_delimiter(line, delimiter)
    if other is not None:
        return (
            f"the header looks separated by {_delimiter_name(other)}, "
            f"not {_delimiter_name(delimiter)}"
        )
    return "use letters, digits and '_', not starting with a digit (e.g. x, y, x_2)"


def _parse_body(
    lines: list[str],
    first_index: int,
    columns,
    delimiter: str,
    path: str,
    line_offset: int = 0,
) -> numpy.ndarray:
    """The data rows below the header as a ``(rows, columns read)`` array.

    ``columns`` is a Layout (or a tuple of names, all read). Plain lines are recognised with
    one regular expression per line (the common case); any other line goes through
    ``_parse_row``, which either reads it (quoted cells) or raises the precise error.
    """
    layout = as_layout(columns)
    plain_row = _plain_row_pattern(layout, delimiter)
    used = layout.used
    everything = layout.everything
    flat: list[float] = []
    line_numbers: list[int] = []
    for index in range(first_index, len(lines)):
        line = lines[index]
        if plain_row.fullmatch(line):
            if everything:
                flat.extend(map(float, line.split(delimiter)))
            else:
                fields = line.split(delimiter)
                flat.extend(float(fields[position]) for position in used)
        elif _is_blank(line):
            continue
        else:
            try:
                flat.extend(_parse_row(line, index + 1 + line_offset, layout, delimiter, path))
            except DataError:
                # A plain row above may hold an overflow (1e400) not checked yet: it comes first.
                _check_finite(flat, line_numbers, lines, layout, delimiter, path, line_offset)
                raise
        line_numbers.append(index + 1 + line_offset)
    return _check_finite(flat, line_numbers, lines, layout, delimiter, path, line_offset)


def _check_finite(
    flat: list[float],
    line_numbers: list[int],
    lines: list[str],
    columns,
    delimiter: str,
    path: str,
    line_offset: int = 0,
) -> numpy.ndarray:
    """The rows read so far as an array; raises for the first row that overflowed.

    Plain rows are read by ``float`` without a check per value, so an overflow such as
    1e400 (nan and inf fail the grammar) is found here, and ``_parse_row`` reports it.
    """
    layout = as_layout(columns)
    values = numpy.array(flat, dtype=numpy.float64).reshape(len(line_numbers), len(layout.used))
    finite = numpy.isfinite(values).all(axis=1)
    if not finite.all():
        line_number = line_numbers[int(numpy.flatnonzero(~finite)[0])]
        _parse_row(lines[line_number - 1 - line_offset], line_number, layout, delimiter, path)
    return values


def _plain_row_pattern(columns, delimiter: str) -> re.Pattern[str]:
    """A row of unquoted numbers with optional spaces or tabs around each: in the columns
    read; an unused column's cell may hold any text without a quote or the delimiter, and
    the trailing field under no name only spaces. (``columns``: a Layout or a width.)

    Only ASCII space and tab here: ``float`` refuses some characters ``str.strip`` removes
    (such as ``\\x1c``), so cells with other whitespace go through ``_parse_row``.
    """
    layout = Layout.every(("",) * columns) if isinstance(columns, int) else as_layout(columns)
    escaped = re.escape(delimiter)
    space = "[" + " \t".replace(delimiter, "") + "]*"
    number = f"{space}{_NUMBER_TEXT}{space}"
    anything = f'[^"{escaped}\\r\\n]*'
    used = set(layout.used)
    cells = [number if position in used else anything for position in range(len(layout.names))]
    if layout.trailing:
        cells.append(space)
    return re.compile(escaped.join(cells))


def _parse_row(line: str, line_number: int, columns, delimiter: str, path: str) -> list[float]:
    """The values of one data line in the columns read (``columns``: a Layout or a tuple of
    names, all read), or the DataError for its first bad field."""
    layout = as_layout(columns)
    cells = _split_fields(line, line_number, delimiter, path)
    if len(cells) != layout.width:
        raise DataError(
            _("expected {width} fields, found {count} (a ragged row)").format(
                width=layout.width, count=len(cells)
            ),
            path=path,
            line=line_number,
            hint=_ragged_hint(line, layout, delimiter),
        )
    values = []
    used = set(layout.used)
    for index, cell in enumerate(cells):
        text = cell.strip()
        if index >= len(layout.names):  # the field under the header's empty last cell
            if not text:
                continue
            problem = (
                f"{_show(text)} is in the last field, which has no header name",
                "the header ends in an empty cell; name the column, or leave the cell empty",
            )
        elif index not in used:
            continue  # a column the model does not read may hold anything
        elif _NUMBER.fullmatch(text):
            value = float(text)
            if math.isfinite(value):
                values.append(value)
                continue
            problem = (
                f"{_show(text)} is out of range: it overflows a 64-bit float "
                f"(column {layout.names[index]!r})",
                "values must be finite numbers, at most about 1.8e308 in size",
            )
        else:
            problem = _describe_bad_cell(text, layout.names[index])
        message, hint = problem
        raise DataError(message, path=path, line=line_number, column=index + 1, hint=hint)
    return values


def _describe_bad_cell(text: str, name: str) -> tuple[str, str | None]:
    """The message and hint for a cell that is not a finite decimal number."""
    where = f"(column {name!r})"
    if not text:
        return f"empty cell {where}", "every row needs a number in every column"
    try:
        python_value: float | None = float(text)  # accepts more than we do: nan, 1_000, ...
    except ValueError:
        python_value = None
    if python_value is not None and not math.isfinite(python_value):
        return (
            f"{_show(text)} is not allowed: values must be finite numbers {where}",
            "remove the row or fill in a number",
        )
    not_a_number = f"{_show(text)} is not a number {where}"
    if python_value is not None and "_" in text:
        return not_a_number, "write numbers without '_' separators, e.g. 1000"
    if python_value is not None:
        return not_a_number, "write numbers with the ASCII digits 0-9"
    if text.lower().lstrip("+-").startswith("0x"):
        return not_a_number, "hexadecimal numbers are not supported"
    if re.fullmatch(r"[+-]?[0-9]*,[0-9]+", text):
        return not_a_number, "use '.' as the decimal point"
    return not_a_number, None


def _ragged_hint(line: str, columns, delimiter: str) -> str:
    layout = as_layout(columns)
    hint = f"the header has {len(layout.names)} columns: {', '.join(layout.names)}"
    if layout.trailing:
        hint += f" (and an empty last cell, so {layout.width} fields a line)"
    other = _other_delimiter(line, delimiter)
    if other is not None and delimiter not in line:
        hint += f"; this row looks separated by {_delimiter_name(other)}"
    return hint


def _split_fields(line: str, line_number: int, delimiter: str, path: str) -> list[str]:
    """Split one line into fields; a field may be quoted ("1.5", with "" for a quote)."""
    if '"' not in line:
        return line.split(delimiter)
    fields: list[str] = []
    position = 0
    end = len(line)
    while True:
        start = position
        while start < end and line[start].isspace() and line[start] != delimiter:
            start += 1
        if start < end and line[start] == '"':
            parts = []
            cursor = start + 1
            while True:
                close = line.find('"', cursor)
                if close == -1:
                    raise DataError(
                        _("a quoted field is not closed"),
                        path=path,
                        line=line_number,
                        column=len(fields) + 1,
                        hint=_('close the quote (") on the same line'),
                    )
                parts.append(line[cursor:close])
                if line.startswith('"', close + 1):  # "" stands for one quote
                    parts.append('"')
                    cursor = close + 2
                    continue
                break
            after = close + 1
            while after < end and line[after].isspace() and line[after] != delimiter:
                after += 1
            if after < end and line[after] != delimiter:
                raise DataError(
                    _("unexpected text after a closing quote"),
                    path=path,
                    line=line_number,
                    column=len(fields) + 1,
                    hint=_("a quoted field must end at the next delimiter"),
                )
            fields.append("".join(parts))
            if after >= end:
                return fields
            position = after + 1
        else:
            stop = line.find(delimiter, position)
            if stop == -1:
                fields.append(line[position:])
                return fields
            fields.append(line[position:stop])
            position = stop + 1

