"""A CSV file read in chunks of rows (``--stream``): memory bounded by the chunk."""

from __future__ import annotations

import warnings

import numpy

from backtrace_cli.data.cells import _parse_body, _parse_header_layout, as_layout, choose_columns
from backtrace_cli.data.text import (
    MAX_LINE_BYTES,
    _check_delimiter,
    _is_blank,
    _long_line,
    _read_bytes,
)
from backtrace_cli.errors import DataError
from backtrace_cli.i18n import _


class CsvStream:
    """A CSV file read in chunks of rows, again for every pass: memory stays bounded by the
    chunk, not the file. Each chunk is read with ``numpy.loadtxt`` when it can vouch for it,
    else line by line, with the same errors (physical line and column) as ``load_csv``.

    Creating the stream reads the whole file once to check it and count its rows, so a bad
    cell is reported before training starts.
    """

    def __init__(
        self, path: str, delimiter: str = ",", chunk_rows: int = 65_536, columns=None
    ) -> None:
        """``columns`` chooses the columns read, as in ``load_csv``; ``self.columns`` names
        them, ``self.header`` names every column of the file."""
        # 65,536 rows: train.BLOCK_ROWS, so a streamed full batch adds the same sums.
        _check_delimiter(delimiter, path)
        self.path = path
        self.delimiter = delimiter
        self.chunk_rows = chunk_rows
        self.wanted = columns
        self.columns: tuple[str, ...] = ()
        self.header: tuple[str, ...] = ()
        self.rows = 0
        for block in self.chunks():
            self.rows += len(block)
        if not self.rows:
            raise DataError(
                _("no data rows: the file has a header but no numbers below it"), path=path
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
                    raise DataError(_("the file is empty"), path=path)
                header = _parse_header_layout(line.rstrip("\n"), line_number, delimiter, path)
                layout = choose_columns(header.names, header.width, self.wanted, path)
                self.columns, self.header = layout.columns, layout.names
                while True:
                    block = list(itertools.islice(rows, size))
                    if not block:
                        return
                    values = _chunk_values(block, line_number, layout, delimiter, path)
                    line_number += len(block)
                    if len(values):
                        yield values
            except UnicodeDecodeError as error:
                raise DataError(
                    _("the file is not UTF-8 text (near line {value}: {reason})").format(
                        value=line_number + 1, reason=error.reason
                    ),
                    path=path,
                ) from None


def _chunk_values(
    block: list[str], lines_before: int, columns, delimiter: str, path: str
) -> numpy.ndarray:
    """The rows of one chunk of lines (each ending in a line break but perhaps the last)."""
    # The fast path, vouched for as in _load_fast: the right shape, one row per non-blank
    # line, every value finite; anything else goes to the exact parser.
    layout = as_layout(columns)
    usecols = None
    if not layout.everything:
        # loadtxt(usecols=...) never looks at the other fields: vouch for their number here.
        usecols = layout.used if _fields_fit(block, layout, delimiter) else ()
    values = None
    if usecols != ():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = numpy.loadtxt(
                    block, dtype=numpy.float64, delimiter=delimiter, comments=None,
                    quotechar=None, ndmin=2, usecols=usecols,
                )
            except ValueError:
                values = None
    if values is not None and values.shape[1:] == (len(layout.used),):
        rows = sum(1 for line in block if not _is_blank(line.rstrip("\n")))
        if values.shape[0] == rows and numpy.isfinite(values).all():
            return values
    lines = [line.rstrip("\n") for line in block]
    return _parse_body(lines, 0, layout, delimiter, path, line_offset=lines_before)


def _fields_fit(block: list[str], layout, delimiter: str) -> bool:
    """Whether every non-empty line of the chunk has ``layout.width`` fields, no quote, and
    (under an empty last header cell) ends in the delimiter."""
    for line in block:
        line = line.rstrip("\n")
        if not line:
            continue
        if '"' in line or line.count(delimiter) != layout.width - 1:
            return False
        if layout.trailing and not line.endswith(delimiter):
            return False
    return True
