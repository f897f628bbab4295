"""The fast path of ``load_csv``: ``numpy.loadtxt`` (a C parser), accepted only when it can
vouch for the result; on any doubt it returns None and the exact path decides."""

from __future__ import annotations

import os
import stat
import warnings

import numpy

from backtrace_cli.data.cells import Layout, _parse_header_layout, choose_columns
from backtrace_cli.data.dataset import Dataset, _frozen_dataset
from backtrace_cli.data.text import _is_blank
from backtrace_cli.errors import DataError


def load_fast(path: str, delimiter: str, wanted=None) -> Dataset | None:
    """The dataset parsed by ``numpy.loadtxt``, or None when the exact path must decide.

    Only regular files qualify: the header is read here and the body by ``loadtxt``, so the
    file is opened twice (a pipe would lose data), and it must not change in between.
    ``wanted`` chooses the columns read, as ``load_csv``'s ``columns``.
    """
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            return None
        header = _read_header(path, delimiter)
        if header is None:
            return None
        names, width, skip_lines = header
        try:
            layout = choose_columns(names, width, wanted, path)
        except DataError:
            return None  # the exact path says what is wrong, in its order
        columns = layout.columns
        if layout.everything:
            values = _loadtxt(path, delimiter, skip_lines, quote=None)
            if values is None:
                values = _loadtxt_quoted(path, delimiter, skip_lines)
        else:
            values = _loadtxt_columns(path, delimiter, skip_lines, layout)
        if values is None or values.shape[1:] != (len(columns),) or values.shape[0] == 0:
            return None
        if not numpy.isfinite(values).all():
            return None
        after = os.stat(path)
    except (OSError, ValueError):
        return None
    if _identity(before) != _identity(after):
        return None
    return _frozen_dataset(path, columns, values, names)


def _identity(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _read_header(path: str, delimiter: str) -> tuple[tuple[str, ...], int, int] | None:
    """The header's names, its number of fields and the number of lines up to and including
    it, if valid."""
    # newline=None counts "\r\n", "\r" and "\n" as line ends, as the exact path and
    # numpy.loadtxt (which opens the file the same way) do.
    with open(path, encoding="utf-8-sig", newline=None) as file:
        for index, line in enumerate(file):
            if _is_blank(line):
                continue
            try:
                header = _parse_header_layout(line.rstrip("\n"), index + 1, delimiter, path)
            except DataError:
                return None
            return header.names, header.width, index + 1
    return None


def _loadtxt(
    path: str, delimiter: str, skip_lines: int, quote: str | None, usecols=None
) -> numpy.ndarray | None:
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
                usecols=usecols,
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



def _loadtxt_columns(
    path: str, delimiter: str, skip_lines: int, layout: Layout
) -> numpy.ndarray | None:
    """Only the columns read, by ``loadtxt(usecols=...)``, which does not look at the other
    fields at all: accepted only for a file without quotes whose every non-empty line has
    the header's number of fields (and, under an empty last header cell, ends in the
    delimiter), as the exact path requires."""
    encoded = delimiter.encode("utf-8")
    if len(encoded) != 1:
        return None
    with open(path, "rb") as file:
        data = file.read()
    if b'"' in data or not _fields_fit(data, skip_lines, layout, encoded[0]):
        return None
    return _loadtxt(path, delimiter, skip_lines, quote=None, usecols=layout.used)


def _fields_fit(data: bytes, skip_lines: int, layout: Layout, delimiter: int) -> bool:
    """Whether every non-empty line below the header has ``layout.width`` fields."""
    data = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    byte_values = numpy.frombuffer(data, dtype=numpy.uint8)
    ends = numpy.flatnonzero(byte_values == 10)
    starts = numpy.concatenate(([0], ends + 1))[skip_lines:]
    stops = numpy.concatenate((ends, [len(byte_values)]))[skip_lines:]
    delimiters = numpy.flatnonzero(byte_values == delimiter)
    counts = numpy.searchsorted(delimiters, stops) - numpy.searchsorted(delimiters, starts)
    filled = stops > starts
    if not (counts[filled] == layout.width - 1).all():
        return False
    return not layout.trailing or bool((byte_values[stops[filled] - 1] == delimiter).all())
