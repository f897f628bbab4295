"""The exact parser of a CSV file's lines: the header, the rows, the fields of one line.

This is the specification of the format: every cell of a column that is read is checked,
so an error names the line and the column to fix.
"""

from __future__ import annotations

import math
import re

import numpy

from backtrace_cli.data.text import (
    _delimiter_name,
    _is_blank,
    _other_delimiter,
    _show,
)
from backtrace_cli.errors import DataError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A finite decimal or scientific number in ASCII: -1.5, 2e-3, .5, 1.  (no nan, inf, 1_000, hex)
_NUMBER_TEXT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(_NUMBER_TEXT)


def _parse_header(line: str, line_number: int, delimiter: str, path: str) -> tuple[str, ...]:
    """The column names of the header line: non-empty, unique identifiers."""
    names = tuple(cell.strip() for cell in _split_fields(line, line_number, delimiter, path))
    for index, name in enumerate(names):
        column = index + 1
        if not name:
            raise DataError(
                "a header name is empty",
                path=path,
                line=line_number,
                column=column,
                hint="every column needs a name, such as x or y",
            )
        if not _NAME.fullmatch(name):
            raise DataError(
                f"header name {_show(name)} is not a valid name",
                path=path,
                line=line_number,
                column=column,
                hint=_header_hint(name, line, delimiter),
            )
        if name in names[:index]:
            raise DataError(
                f"header name {name!r} is used twice (also column {names.index(name) + 1})",
                path=path,
                line=line_number,
                column=column,
                hint="give every column its own name",
            )
    return names


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
    columns: tuple[str, ...],
    delimiter: str,
    path: str,
    line_offset: int = 0,
) -> numpy.ndarray:
    """The data rows below the header as a ``(rows, columns)`` array.

    Plain lines are recognised with one regular expression per line (the common case);
    any other line goes through ``_parse_row``, which either reads it (quoted cells) or
    raises the precise error.
    """
    width = len(columns)
    plain_row = _plain_row_pattern(width, delimiter)
    flat: list[float] = []
    line_numbers: list[int] = []
    for index in range(first_index, len(lines)):
        line = lines[index]
        if plain_row.fullmatch(line):
            flat.extend(map(float, line.split(delimiter)))
        elif _is_blank(line):
            continue
        else:
            try:
                flat.extend(_parse_row(line, index + 1 + line_offset, columns, delimiter, path))
            except DataError:
                # A plain row above may hold an overflow (1e400) not checked yet: it comes first.
                _check_finite(flat, line_numbers, lines, columns, delimiter, path, line_offset)
                raise
        line_numbers.append(index + 1 + line_offset)
    return _check_finite(flat, line_numbers, lines, columns, delimiter, path, line_offset)


def _check_finite(
    flat: list[float],
    line_numbers: list[int],
    lines: list[str],
    columns: tuple[str, ...],
    delimiter: str,
    path: str,
    line_offset: int = 0,
) -> numpy.ndarray:
    """The rows read so far as an array; raises for the first row that overflowed.

    Plain rows are read by ``float`` without a check per value, so an overflow such as
    1e400 (nan and inf fail the grammar) is found here, and ``_parse_row`` reports it.
    """
    values = numpy.array(flat, dtype=numpy.float64).reshape(len(line_numbers), len(columns))
    finite = numpy.isfinite(values).all(axis=1)
    if not finite.all():
        line_number = line_numbers[int(numpy.flatnonzero(~finite)[0])]
        _parse_row(lines[line_number - 1 - line_offset], line_number, columns, delimiter, path)
    return values


def _plain_row_pattern(width: int, delimiter: str) -> re.Pattern[str]:
    """A row of ``width`` unquoted numbers with optional spaces or tabs around each.

    Only ASCII space and tab here: ``float`` refuses some characters ``str.strip`` removes
    (such as ``\\x1c``), so cells with other whitespace go through ``_parse_row``.
    """
    escaped = re.escape(delimiter)
    space = "[" + " \t".replace(delimiter, "") + "]*"
    cell = f"{space}{_NUMBER_TEXT}{space}"
    return re.compile(cell + f"(?:{escaped}{cell})" * (width - 1))


def _parse_row(
    line: str, line_number: int, columns: tuple[str, ...], delimiter: str, path: str
) -> list[float]:
    """The values of one data line, or the DataError for its first bad field."""
    cells = _split_fields(line, line_number, delimiter, path)
    if len(cells) != len(columns):
        raise DataError(
            f"expected {len(columns)} fields, found {len(cells)} (a ragged row)",
            path=path,
            line=line_number,
            hint=_ragged_hint(line, columns, delimiter),
        )
    values = []
    for index, (cell, name) in enumerate(zip(cells, columns, strict=True)):
        text = cell.strip()
        problem = None
        if _NUMBER.fullmatch(text):
            value = float(text)
            if math.isfinite(value):
                values.append(value)
                continue
            problem = (
                f"{_show(text)} is out of range: it overflows a 64-bit float (column {name!r})",
                "values must be finite numbers, at most about 1.8e308 in size",
            )
        else:
            problem = _describe_bad_cell(text, name)
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


def _ragged_hint(line: str, columns: tuple[str, ...], delimiter: str) -> str:
    hint = f"the header has {len(columns)} columns: {', '.join(columns)}"
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
                        "a quoted field is not closed",
                        path=path,
                        line=line_number,
                        column=len(fields) + 1,
                        hint='close the quote (") on the same line',
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
                    "unexpected text after a closing quote",
                    path=path,
                    line=line_number,
                    column=len(fields) + 1,
                    hint="a quoted field must end at the next delimiter",
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

