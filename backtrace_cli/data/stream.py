"""A CSV file too big for memory (``--stream``): read once, in chunks, into a column cache.

The file is parsed once, chunk by chunk (so memory is bounded by the chunk), with the same
errors (physical line and column) as ``load_csv``. Each column read is written to a NumPy
``.npy`` file in a private temporary folder; every epoch then sweeps memory maps of those
files, which costs about what an epoch in memory costs instead of parsing the text again.
The cache is removed by ``close()`` (a ``with`` block does it), and at the latest when the
stream is collected or the interpreter exits. A file that changes after it was read (size
or modification time) is refused at the next pass: a run never mixes two versions of it.
"""

from __future__ import annotations

import mmap
import os
import shutil
import stat
import tempfile
import warnings
import weakref

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

# A .npy header of fixed size, written before the rows are counted and rewritten after:
# the format allows padding the header's dict with spaces up to a multiple of 64 bytes.
_NPY_HEADER_BYTES = 128
_NPY_MAGIC = b"\x93NUMPY\x01\x00"


class CsvStream:
    """A CSV file read once in chunks into a column cache, then swept from memory maps.

    Creating the stream reads the whole file once, checks it and counts its rows, so a bad
    cell is reported before training starts. ``chunks()`` and ``column_chunks()`` then read
    the cache, never the text. Use it as a context manager, or call ``close()``, to remove
    the cache (``cache_dir``: the folder it is made in; default the system's temporary one).
    """

    def __init__(
        self, path: str, delimiter: str = ",", chunk_rows: int = 65_536, columns=None,
        cache_dir: str | None = None,
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
        self._cache: dict[tuple[str, str], numpy.ndarray] = {}
        self._maps: dict[tuple[str, str], numpy.memmap] = {}
        self.folder = _make_folder(cache_dir)
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        try:
            self._identity = _identity(path)
            self._write_cache()
        except BaseException:  # also Ctrl-C while reading: no cache is left behind
            self.close()
            raise

    # -- the cache
    def _write_cache(self) -> None:
        files: list = []
        try:
            for block in self._parsed_chunks():
                if not files:
                    files = [self._open_column(name) for name in self.columns]
                for index, handle in enumerate(files):
                    handle.write(numpy.ascontiguousarray(block[:, index]).data)
                self.rows += len(block)
            if not self.rows:
                raise DataError(
                    _("no data rows: the file has a header but no numbers below it"),
                    path=self.path,
                )
            for handle in files:
                handle.seek(0)
                handle.write(_npy_header(self.rows))
        except OSError as error:
            raise DataError(
                _("cannot write the column cache in {folder}: {reason}").format(
                    folder=self.folder, reason=error.strerror or error), path=self.path,
                hint=_("free some disk space, or choose another folder for the cache"),
            ) from None
        finally:
            for handle in files:
                handle.close()
        self._check_unchanged()
        for name in self.columns:
            self._map(name, "float64")

    def _map(self, name: str, dtype: str) -> numpy.ndarray:
        mapped = numpy.load(self._file(name, dtype), mmap_mode="r")
        self._maps[name, dtype] = mapped
        column = self._cache[name, dtype] = numpy.asarray(mapped)
        return column

    def _file(self, name: str, dtype: str) -> str:
        # Column names are identifiers, so they are safe file names; the index keeps two
        # names that differ only in case apart on a case-insensitive file system.
        return os.path.join(self.folder, f"{self.columns.index(name)}-{name}.{dtype}.npy")

    def _open_column(self, name: str):
        handle = open(self._file(name, "float64"), "wb")
        handle.write(b"\0" * _NPY_HEADER_BYTES)
        return handle

    def _column(self, name: str, dtype: str) -> numpy.ndarray:
        """The whole column ``name`` in ``dtype`` (a memory map; float32 made once)."""
        found = self._cache.get((name, dtype))
        if found is not None:
            return found
        if not self._cache:
            raise ValueError("the stream is closed")
        source = self._cache[name, "float64"]
        path = self._file(name, dtype)
        target = numpy.lib.format.open_memmap(path, mode="w+", dtype=dtype,
                                              shape=source.shape)
        for start in range(0, len(source), self.chunk_rows):
            target[start : start + self.chunk_rows] = source[start : start + self.chunk_rows]
        target.flush()
        del target
        return self._map(name, dtype)

    def _check_unchanged(self) -> None:
        if _identity(self.path) != self._identity:
            raise DataError(
                _("the file changed while it was being used (its size or modification time "
                  "is not what it was when it was read); the run stops rather than mix two "
                  "versions of the data"),
                path=self.path,
                hint=_("leave the file alone during training, or train on a copy of it"),
            )

    def close(self) -> None:
        """Remove the column cache (the stream cannot be read afterwards)."""
        self._cache, self._maps = {}, {}
        self._remove()

    def __enter__(self) -> CsvStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- passes over the data
    def column_chunks(self, chunk_rows: int | None = None, dtype: str = "float64"):
        """Yield ``(first_row, {column: 1-D read-only array})`` for consecutive chunks of
        rows (0-based ``first_row``), read from the cache in ``dtype``."""
        self._check_unchanged()
        size = chunk_rows or self.chunk_rows
        columns = {name: self._column(name, dtype) for name in self.columns}
        maps = [self._maps[name, dtype] for name in self.columns]
        for start in range(0, self.rows, size):
            yield start, {name: values[start : start + size] for name, values in
                          columns.items()}
            for mapped in maps:  # swept: its pages need not stay in this process's memory
                # (with the chunk before: reading this one mapped some of its pages again)
                _release(mapped, max(0, start - size), start + size)
        for mapped in maps:
            _release(mapped, 0, self.rows)

    def chunks(self, chunk_rows: int | None = None):
        """Yield ``(rows, columns)`` float64 arrays of consecutive data rows."""
        for _rows, columns in self.column_chunks(chunk_rows):
            yield numpy.stack([columns[name] for name in self.columns], axis=1)

    def _parsed_chunks(self):
        """The file's rows parsed chunk by chunk: ``(rows, columns)`` float64 arrays."""
        path, delimiter = self.path, self.delimiter
        try:
            handle = open(path, encoding="utf-8-sig", newline=None)
        except OSError:
            _read_bytes(path)  # raises the DataError that names the problem
            raise
        with handle:
            line_number = 0  # physical lines before the current block
            layout = None
            try:
                for block in _line_blocks(handle, path):
                    if layout is None:  # the header: the first line that is not blank
                        offset = next((i for i, line in enumerate(block) if not _is_blank(line)),
                                      None)
                        if offset is None:
                            line_number += len(block)
                            continue
                        header = _parse_header_layout(block[offset], line_number + offset + 1,
                                                      delimiter, path)
                        layout = choose_columns(header.names, header.width, self.wanted, path)
                        self.columns, self.header = layout.columns, layout.names
                        line_number += offset + 1
                        block = block[offset + 1 :]
                        if not block:
                            continue
                    values = chunk_values(block, line_number, layout, delimiter, path)
                    line_number += len(block)
                    if len(values):
                        yield values
            except UnicodeDecodeError as error:
                raise DataError(
                    _("the file is not UTF-8 text (near line {line}: {reason})").format(
                        line=_bad_line(path), reason=error.reason),
                    path=path,
                ) from None
            if layout is None:
                raise DataError(_("the file is empty"), path=path)


# Text read per block while the cache is written: 1 MiB, some 50,000 lines of numbers (the
# block's lines as Python strings take several times its size).
BLOCK_CHARACTERS = 1024 * 1024


def _line_blocks(handle, path: str):
    """The lines of a text file (without their line breaks) in blocks of whole lines; a line
    longer than MAX_LINE_BYTES is refused with its number."""
    rest = ""
    lines_before = 0
    while True:
        text = handle.read(BLOCK_CHARACTERS)
        if not text:
            if rest:
                yield [rest]
            return
        text = rest + text
        cut = text.rfind("\n") + 1
        rest = text[cut:]
        lines = text[:cut].split("\n")
        lines.pop()  # the empty text after the last line break
        if lines and max(map(len, lines)) >= MAX_LINE_BYTES:  # readline's count, less "\n"
            long = next(i for i, line in enumerate(lines) if len(line) >= MAX_LINE_BYTES)
            raise _long_line(path, lines_before + long + 1)
        if len(rest) > MAX_LINE_BYTES:
            raise _long_line(path, lines_before + len(lines) + 1)
        lines_before += len(lines)
        if lines:
            yield lines


def _bad_line(path: str) -> int:
    """The number of the line that holds the first byte that is not UTF-8."""
    with open(path, encoding="utf-8-sig", newline=None) as handle:
        number = 0
        try:
            while handle.readline(MAX_LINE_BYTES + 1):
                number += 1
        except UnicodeDecodeError:
            pass
    return number + 1


def _make_folder(cache_dir: str | None) -> str:
    try:
        return tempfile.mkdtemp(prefix="backtrace-stream-", dir=cache_dir)
    except OSError as error:
        raise DataError(
            (_("cannot make a folder for the column cache in {folder}: {reason}") if cache_dir
             else _("cannot make a folder for the column cache in the temporary folder: "
                    "{reason}")).format(folder=cache_dir, reason=error.strerror or error),
            hint=_("give an existing folder you may write to"),
        ) from None


def _identity(path: str) -> tuple[int, ...] | None:
    """Size and modification time of a regular file (None for a pipe: it cannot change)."""
    try:
        status = os.stat(path)
    except OSError:
        return (-1,)  # gone or unreadable: not the file that was read
    if not stat.S_ISREG(status.st_mode):
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _release(mapped: numpy.memmap, start: int, stop: int) -> None:
    """Drop rows ``start:stop`` of a read-only memory map from the process's resident memory
    (``madvise(MADV_DONTNEED)``): the kernel keeps them in its file cache, and a later read
    maps them again, so the values are the same, only memory stays flat whatever the file's
    size. Where the platform cannot, nothing happens."""
    handle = getattr(mapped, "_mmap", None)
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if handle is None or advice is None or not hasattr(handle, "madvise"):
        return
    base = mapped.offset % mmap.ALLOCATIONGRANULARITY  # where the array starts in the map
    page = mmap.PAGESIZE
    first = (base + start * mapped.itemsize) // page * page
    last = min(base + stop * mapped.itemsize, len(handle))
    if last > first:
        handle.madvise(advice, first, last - first)


def _npy_header(rows: int) -> bytes:
    """The header of a 1-D .npy file of ``rows`` float64 values (version 1.0)."""
    fields = (f"{{'descr': '{numpy.dtype(numpy.float64).str}', 'fortran_order': False, "
              f"'shape': ({rows},), }}")
    room = _NPY_HEADER_BYTES - len(_NPY_MAGIC) - 2
    text = fields.ljust(room - 1) + "\n"
    return _NPY_MAGIC + len(text).to_bytes(2, "little") + text.encode("latin-1")


def chunk_values(
    block: list[str], lines_before: int, columns, delimiter: str, path: str
) -> numpy.ndarray:
    """The rows of one block of lines (without their line breaks)."""
    # The fast path, vouched for as in load_fast: the right shape, one row per non-blank
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
        rows = sum(map(bool, map(str.strip, block)))  # the lines that are not blank
        if values.shape[0] == rows and numpy.isfinite(values).all():
            return values
    return _parse_body(block, 0, layout, delimiter, path, line_offset=lines_before)


def _fields_fit(block: list[str], layout, delimiter: str) -> bool:
    """Whether every non-empty line of the chunk has ``layout.width`` fields, no quote, and
    (under an empty last header cell) ends in the delimiter."""
    for line in block:
        if not line:
            continue
        if '"' in line or line.count(delimiter) != layout.width - 1:
            return False
        if layout.trailing and not line.endswith(delimiter):
            return False
    return True
