"""CSV loading for ``backtrace train``: a header row, then rows of finite numbers.

Two paths read the same format and must agree:

* the exact path (``load_exact``) is the specification. It reads the file once, splits it
  into physical lines the way an editor counts them (``\\n``, ``\\r\\n`` or a lone ``\\r``),
  and checks every cell, so its errors name the line and the column to fix.
* the fast path (``load_fast``) hands the body to ``numpy.loadtxt`` (C parser) and only
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

from backtrace_cli.data.cells import (  # noqa: F401  (re-exported: the names before the split)
    _NAME,
    _NUMBER,
    _NUMBER_TEXT,
    Layout,
    _check_finite,
    _describe_bad_cell,
    _header_hint,
    _parse_body,
    _parse_header,
    _parse_header_layout,
    _parse_row,
    _plain_row_pattern,
    _ragged_hint,
    _split_fields,
    choose_columns,
)
from backtrace_cli.data.dataset import (  # noqa: F401
    LECTURE_PATH,
    Dataset,
    _column_hint,
    _frozen_dataset,
    lecture_dataset,
)
from backtrace_cli.data.fast import (  # noqa: F401
    _identity,
    _loadtxt,
    _loadtxt_quoted,
    _quotes_are_plain,
    _read_header,
    load_fast,
)
from backtrace_cli.data.stream import CsvStream  # noqa: F401
from backtrace_cli.data.text import (  # noqa: F401
    _LINE_BREAK,
    MAX_LINE_BYTES,
    MAX_UNSIZED_BYTES,
    _check_delimiter,
    _decode,
    _delimiter_name,
    _is_blank,
    _long_line,
    _other_delimiter,
    _read_bytes,
    _read_unsized,
    _show,
)
from backtrace_cli.errors import DataError
from backtrace_cli.i18n import _


def load_csv(path: str, delimiter: str = ",", columns=None) -> Dataset:
    """Read a CSV file of numbers with a header row of column names.

    Blank lines are skipped anywhere; a UTF-8 byte order mark, CRLF line endings, quoted
    numbers, spaces around cells and an empty last header cell (``x,y,``, with the rows'
    matching empty last cell) are accepted. Any other problem raises ``DataError`` with the
    physical line number (blank lines counted) and the 1-based field number.

    ``columns`` says which columns are read: None for all; a sequence of names; or a function
    from the header's names to such a sequence (it may be called twice). Only those columns
    are parsed and checked (a column not read may hold any text) and only they are in the
    Dataset's ``columns``, in the file's order; ``header`` has every name. A name that is
    not in the header is a DataError.
    """
    _check_delimiter(delimiter, path)
    dataset = load_fast(path, delimiter, columns)
    if dataset is not None:
        return dataset
    return load_exact(path, delimiter, columns)


# --- the exact path: the specification of the format ------------------------------------


def load_exact(path: str, delimiter: str, columns=None) -> Dataset:
    """Parse line by line; return the dataset or raise the DataError for the first problem."""
    text = _decode(_read_bytes(path), path)
    if not text:
        raise DataError(_("the file is empty"), path=path)
    lines = _LINE_BREAK.split(text)
    header_index = next((index for index, line in enumerate(lines) if not _is_blank(line)), None)
    if header_index is None:
        raise DataError(
            _("the file is empty: it holds only blank lines"),
            path=path,
            hint=_("the first non-blank line must be a header such as 'x,y'"),
        )
    header = _parse_header_layout(lines[header_index], header_index + 1, delimiter, path)
    layout = choose_columns(header.names, header.width, columns, path)
    values = _parse_body(lines, header_index + 1, layout, delimiter, path)
    if not values.size:
        raise DataError(
            _("no data rows: the file has a header but no numbers below it"),
            path=path,
            line=header_index + 1,
        )
    return _frozen_dataset(path, layout.columns, values, layout.names)
