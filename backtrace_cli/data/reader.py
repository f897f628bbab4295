"""CSV loading for ``backtrace train``: a header row, then rows of finite numbers.

Two paths read the same format and must agree:

* the exact path (``_load_exact``) is the specification. It reads the file once, splits it
  into physical lines the way an editor counts them (``\\n``, ``\\r\\n`` or a lone ``\\r``),
  and checks every cell, so its errors name the line and the column to fix.
* the fast path (``_load_fast``) hands the body to ``numpy.loadtxt`` (C parser) and only
  *accepts* a result it can vouch for; on any doubt it returns ``None`` and the exact path
  runs. It never raises a user-facing error itself.

Why the fast path cannot accept a file the exact path rejects: ``loadtxt`` converts each
field with ``PyOS_string_to_double`` and must consume the whole field (apart from
surrounding whitespace, which the exact path strips too). On ASCII text that grammar is
our number grammar plus ``nan``/``inf``/``infinity``, and those, like an overflow to
infinity, are caught by the finiteness check. It refuses ``1_000``, hex, non-ASCII digits,
empty fields, quotes (``quotechar=None``) and whitespace-only lines, all of which send the
file to the exact path. Quoted fields are let through only after ``_quotes_are_plain``
has checked, on the bytes, that every quote pair encloses exactly one whole field.

This module never writes files.
"""

from __future__ import annotations

import math
import os
import re
import stat
import warnings
from dataclasses import dataclass

import numpy

from backtrace_cli.errors import DataError, did_you_mean

LECTURE_PATH = "<lecture>"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A finite decimal or scientific number in ASCII: -1.5, 2e-3, .5, 1.  (no nan, inf, 1_000, hex)
_NUMBER_TEXT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(_NUMBER_TEXT)
# Characters that cannot separate fields: they belong to numbers, quotes or line breaks.
_FORBIDDEN_DELIMITERS = '0123456789.+-eE"\r\n'
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LIKELY_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {"\t": "a tab", " ": "a space"}
_SHOWN_CELL_LIMIT = 40


@dataclass(frozen=True, eq=False)
class Dataset:
    """Named columns of finite float64 values read from a CSV file (or the lecture's data).

    ``values`` is read-only, C-contiguous, shape ``(rows, len(columns))``.
    """

    path: str
    columns: tuple[str, ...]
    values: numpy.ndarray

    def __post_init__(self) -> None:
        values = numpy.ascontiguousarray(self.values, dtype=numpy.float64)
        if values.ndim != 2 or values.shape[1] != len(self.columns):
            raise ValueError(
                f"values of shape {values.shape} do not fit {len(self.columns)} columns"
            )
        if values is self.values and values.flags.writeable:
            values = values.copy()  # never freeze an array the caller may still change
        values.flags.writeable = False
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "values", values)

    @property
    def rows(self) -> int:
        """The number of data rows."""
        return int(self.values.shape[0])

    def column(self, name: str) -> numpy.ndarray:
        """The values of one column as a read-only 1-D float64 view."""
        if name not in self.columns:
            listed = ", ".join(self.columns)
            raise DataError(
                f"no column named {name!r}; the columns are: {listed}",
                path=self.path,
                hint=_column_hint(name, self.columns),
            )
        return self.values[:, self.columns.index(name)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (
            self.path == other.path
            and self.columns == other.columns
            and numpy.array_equal(self.values, other.values)
        )

    def __repr__(self) -> str:
        return f"Dataset(path={self.path!r}, columns={self.columns!r}, rows={self.rows})"


def _column_hint(name: str, columns: tuple[str, ...]) -> str | None:
    same_but_case = [column for column in columns if column.lower() == name.lower()]
    if same_but_case:
        return f"did you mean '{same_but_case[0]}'? (names are case-sensitive)"
    return did_you_mean(name, columns)


def lecture_dataset() -> Dataset:
    """The lecture's three points: x = 1, 2, 3 and y = 2, 4, 6 (so y = 2x)."""
    values = numpy.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    return _frozen_dataset(LECTURE_PATH, ("x", "y"), values)


def _frozen_dataset(path: str, columns: tuple[str, ...], values: numpy.ndarray) -> Dataset:
    """A Dataset that adopts ``values`` (freshly made here) without copying it."""
    values = numpy.ascontiguousarray(values, dtype=numpy.float64)
    values.flags.writeable = False
    return Dataset(path, columns, values)


def load_csv(path: str, delimiter: str = ",") -> Dataset:
    """Read a CSV file of numbers with a header row of column names.

    Blank lines are skipped anywhere; a UTF-8 byte order mark, CRLF line endings, quoted
    numbers and spaces around cells are accepted. Any other problem raises ``DataError``
    with the physical line number (blank lines counted) and the 1-based field number.
    """
    _check_delimiter(delimiter, path)
    dataset = _load_fast(path, delimiter)
    if dataset is not None:
        return dataset
    return _load_exact(path, delimiter)


# --- the exact path: the specification of the format ------------------------------------


def _load_exact(path: str, delimiter: str) -> Dataset:
    """Parse line by line; return the dataset or raise the DataError for the first problem."""
    text = _decode(_read_bytes(path), path)
    if not text:
        raise DataError("the file is empty", path=path)
    lines = _LINE_BREAK.split(text)
    header_index = next((index for index, line in enumerate(lines) if not _is_blank(line)), None)
    if header_index is None:
        raise DataError(
            "the file is empty: it holds only blank lines",
            path=path,
            hint="the first non-blank line must be a header such as 'x,y'",
        )
    columns = _parse_header(lines[header_index], header_index + 1, delimiter, path)
    values = _parse_body(lines, header_index + 1, columns, delimiter, path)
    if not values.size:
        raise DataError(
            "no data rows: the file has a header but no numbers below it",
            path=path,
            line=header_index + 1,
        )
    return _frozen_dataset(path, columns, values)


# A line longer than this is refused: it is no CSV of numbers, and an endless one (/dev/zero)
# would otherwise fill the memory. Files that are not regular files (pipes, devices) are read
# whole only up to MAX_UNSIZED_BYTES; --stream reads any size.
MAX_LINE_BYTES = 1024 * 1024
MAX_UNSIZED_BYTES = 1024**3


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            if stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return file.read()
            return _read_unsized(file, path)
    except FileNotFoundError:
        folder = os.path.dirname(path) or "."
        try:
            siblings = sorted(os.listdir(folder))
        except OSError:
            siblings = []
        hint = did_you_mean(os.path.basename(path), siblings)
        raise DataError("no such file", path=path, hint=hint) from None
    except IsADirectoryError:
        raise DataError("this is a directory, not a CSV file", path=path) from None
    except PermissionError:
        raise DataError("permission denied: the file cannot be read", path=path) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(f"the file cannot be read: {reason}", path=path) from None


def _read_unsized(file, path: str) -> bytes:
    """A pipe or device, read in blocks: refused past MAX_UNSIZED_BYTES, or when its first
    line runs past MAX_LINE_BYTES (an endless stream such as /dev/zero)."""
    blocks = []
    size = 0
    while True:
        block = file.read(1024 * 1024)
        if not block:
            return b"".join(blocks)
        blocks.append(block)
        size += len(block)
        if size > MAX_LINE_BYTES and not any(b"\n" in b or b"\r" in b for b in blocks):
            raise _long_line(path, 1)
        if size > MAX_UNSIZED_BYTES:
            raise DataError(
                f"the input is larger than {MAX_UNSIZED_BYTES // 1024**2:,} MiB and is not a "
                "regular file", path=path, hint="use --stream to read it in chunks",
            )


def _long_line(path: str, line: int) -> DataError:
    return DataError(
        f"line {line} is longer than {MAX_LINE_BYTES // 1024:,} KiB: this is no CSV of numbers",
        path=path,
    )


def _decode(data: bytes, path: str) -> str:
    """UTF-8 text without a leading byte order mark; a bad byte is reported with its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        raise DataError(
            f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} cannot be decoded",
            path=path,
            line=line,
            hint="save the file as UTF-8 (spreadsheet programs call it 'CSV UTF-8')",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


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


def _check_delimiter(delimiter: str, path: str) -> None:
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(
            f"the delimiter must be a single character, got {delimiter!r}",
            path=path,
            hint="for example ',' or ';' or '\\t' for a tab",
        )
    if delimiter in _FORBIDDEN_DELIMITERS:
        raise DataError(
            f"{delimiter!r} cannot be the delimiter: it can be part of a number, "
            "a quote or a line break",
            path=path,
            hint="for example ',' or ';' or '\\t' for a tab",
        )


def _other_delimiter(line: str, delimiter: str) -> str | None:
    return next((c for c in _LIKELY_DELIMITERS if c != delimiter and c in line), None)


def _delimiter_name(delimiter: str) -> str:
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


def _show(text: str) -> str:
    if len(text) > _SHOWN_CELL_LIMIT:
        return repr(text[:_SHOWN_CELL_LIMIT]) + "..."
    return repr(text)


# --- the fast path ------------------------------------------------------------------------


def _load_fast(path: str, delimiter: str) -> Dataset | None:
    """The dataset parsed by ``numpy.loadtxt``, or None when the exact path must decide.

    Only regular files qualify: the header is read here and the body by ``loadtxt``, so the
    file is opened twice (a pipe would lose data), and it must not change in between.
    """
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            return None
        header = _read_header(path, delimiter)
        if header is None:
            return None
        columns, skip_lines = header
        values = _loadtxt(path, delimiter, skip_lines, quote=None)
        if values is None:
            values = _loadtxt_quoted(path, delimiter, skip_lines)
        if values is None or values.shape[1:] != (len(columns),) or values.shape[0] == 0:
            return None
        if not numpy.isfinite(values).all():
            return None
        after = os.stat(path)
    except (OSError, ValueError):
        return None
    if _identity(before) != _identity(after):
        return None
    return _frozen_dataset(path, columns, values)


def _identity(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _read_header(path: str, delimiter: str) -> tuple[tuple[str, ...], int] | None:
    """The header's names and the number of lines up to and including it, if valid."""
    # newline=None counts "\r\n", "\r" and "\n" as line ends, as the exact path and
    # numpy.loadtxt (which opens the file the same way) do.
    with open(path, encoding="utf-8-sig", newline=None) as file:
        for index, line in enumerate(file):
            if _is_blank(line):
                continue
            try:
                columns = _parse_header(line.rstrip("\n"), index + 1, delimiter, path)
            except DataError:
                return None
            return columns, index + 1
    return None


def _loadtxt(path: str, delimiter: str, skip_lines: int, quote: str | None) -> numpy.ndarray | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "input contained no data" is handled by the caller
        try:
            return numpy.loadtxt(
                path,
                dtype=numpy.float64,
                delimiter=delimiter,
                skiprows=skip_lines,
                comments=None,
                quotechar=quote,
                encoding="utf-8-sig",
                ndmin=2,
            )
        except ValueError:  # includes UnicodeDecodeError
            return None


def _loadtxt_quoted(path: str, delimiter: str, skip_lines: int) -> numpy.ndarray | None:
    """Retry with quotes honoured, if every quote pair in the file encloses a whole field."""
    encoded = delimiter.encode("utf-8")
    if len(encoded) != 1:
        return None
    with open(path, "rb") as file:
        data = file.read()
    data = data.removeprefix(b"\xef\xbb\xbf")  # the byte order mark; loadtxt drops it too
    if b'"' not in data or not _quotes_are_plain(data, encoded[0]):
        return None
    return _loadtxt(path, delimiter, skip_lines, quote='"')


def _quotes_are_plain(data: bytes, delimiter: int) -> bool:
    """True if quotes come in pairs and each pair is exactly one whole field.

    That is ``"..."`` right after a delimiter or line start and right before a delimiter or
    line end, with no delimiter, quote or line break inside. ``loadtxt`` reads such a
    field as the exact path does; anything else (``"1"2``, ``"1,5"``, ``"a""b"``, a space
    before the opening quote) is left to the exact path.
    """
    byte_values = numpy.frombuffer(data, dtype=numpy.uint8)
    quotes = numpy.flatnonzero(byte_values == ord('"'))
    if quotes.size % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    separator = (byte_values == delimiter) | (byte_values == 10) | (byte_values == 13)
    bounded = numpy.concatenate(([True], separator, [True]))  # index shifted by one
    if not (bounded[opens].all() and bounded[closes + 2].all()):
        return False
    separators = numpy.flatnonzero(separator)
    inside = numpy.searchsorted(separators, closes) - numpy.searchsorted(separators, opens)
    return not inside.any()


# ----------------------------------------------------------------------------- streaming
class CsvStream:
    """A CSV file read in chunks of rows, again for every pass: memory stays bounded by the
    chunk, not the file. Each chunk is read with ``numpy.loadtxt`` when it can vouch for it,
    else line by line, with the same errors (physical line and column) as ``load_csv``.

    Creating the stream reads the whole file once to check it and count its rows, so a bad
    cell is reported before training starts.
    """

    def __init__(self, path: str, delimiter: str = ",", chunk_rows: int = 65_536) -> None:
        # 65,536 rows: train.BLOCK_ROWS, so a streamed full batch adds the same sums.
        _check_delimiter(delimiter, path)
        self.path = path
        self.delimiter = delimiter
        self.chunk_rows = chunk_rows
        self.columns: tuple[str, ...] = ()
        self.rows = 0
        for block in self.chunks():
            self.rows += len(block)
        if not self.rows:
            raise DataError(
                "no data rows: the file has a header but no numbers below it", path=path
            )

    def chunks(self, chunk_rows: int | None = None):
        """Yield ``(rows, columns)`` float64 arrays of consecutive data rows."""
        import itertools

        size = chunk_rows or self.chunk_rows
        path, delimiter = self.path, self.delimiter
        try:
            handle = open(path, encoding="utf-8-sig", newline=None)
        except OSError:
            _read_bytes(path)  # raises the DataError that names the problem
            raise
        with handle:
            line_number = 0

            def lines():  # each at most MAX_LINE_BYTES long, so an endless line is refused
                count = line_number
                while True:
                    line = handle.readline(MAX_LINE_BYTES + 1)
                    if not line:
                        return
                    count += 1
                    if len(line) > MAX_LINE_BYTES:
                        raise _long_line(path, count)
                    yield line

            try:
                rows = lines()
                for line in rows:
                    line_number += 1
                    if not _is_blank(line.rstrip("\n")):
                        break
                else:
                    raise DataError("the file is empty", path=path)
                self.columns = _parse_header(line.rstrip("\n"), line_number, delimiter, path)
                while True:
                    block = list(itertools.islice(rows, size))
                    if not block:
                        return
                    values = _chunk_values(block, line_number, self.columns, delimiter, path)
                    line_number += len(block)
                    if len(values):
                        yield values
            except UnicodeDecodeError as error:
                raise DataError(
                    f"the file is not UTF-8 text (near line {line_number + 1}: {error.reason})",
                    path=path,
                ) from None


def _chunk_values(
    block: list[str], lines_before: int, columns: tuple[str, ...], delimiter: str, path: str
) -> numpy.ndarray:
    """The rows of one chunk of lines (each ending in a line break but perhaps the last)."""
    # The fast path, vouched for as in _load_fast: the right shape, one row per non-blank
    # line, every value finite; anything else goes to the exact parser.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            values = numpy.loadtxt(
                block, dtype=numpy.float64, delimiter=delimiter, comments=None,
                quotechar=None, ndmin=2,
            )
        except ValueError:
            values = None
    if values is not None and values.shape[1:] == (len(columns),):
        rows = sum(1 for line in block if not _is_blank(line.rstrip("\n")))
        if values.shape[0] == rows and numpy.isfinite(values).all():
            return values
    lines = [line.rstrip("\n") for line in block]
    return _parse_body(lines, 0, columns, delimiter, path, line_offset=lines_before)
