"""Reading a CSV file's bytes and text, and the words its errors use (delimiters, cells)."""

from __future__ import annotations

import os
import re
import stat

from backtrace_cli.errors import DataError, did_you_mean
from backtrace_cli.i18n import _

# Characters that cannot separate fields: they belong to numbers, quotes or line breaks.
_FORBIDDEN_DELIMITERS = '0123456789.+-eE"\r\n'
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LIKELY_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {"\t": "a tab", " ": "a space"}
_SHOWN_CELL_LIMIT = 40


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
        raise DataError(_("no such file"), path=path, hint=hint) from None
    except IsADirectoryError:
        raise DataError(_("this is a directory, not a CSV file"), path=path) from None
    except PermissionError:
        raise DataError(_("permission denied: the file cannot be read"), path=path) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(_(
            "the file cannot be read: {reason}").format(reason=reason), path=path) from None


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
                _("the input is larger than {value:,} MiB and is not a regular file").format(
                    value=MAX_UNSIZED_BYTES // 1024**2
                ),
                path=path,
                hint=_("use --stream to read it in chunks"),
            )


def _long_line(path: str, line: int) -> DataError:
    return DataError(
        _("line {line} is longer than {value:,} KiB: this is no CSV of numbers").format(
            line=line, value=MAX_LINE_BYTES // 1024
        ),
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
            _("the file is not UTF-8 text: byte 0x{data:02x} cannot be decoded").format(
                data=data[error.start]
            ),
            path=path,
            line=line,
            hint=_("save the file as UTF-8 (spreadsheet programs call it 'CSV UTF-8')"),
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


def _check_delimiter(delimiter: str, path: str) -> None:
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(
            _("the delimiter must be a single character, got {delimiter!r}").format(
                delimiter=delimiter
            ),
            path=path,
            hint=_("for example ',' or ';' or '\\t' for a tab"),
        )
    if delimiter in _FORBIDDEN_DELIMITERS:
        raise DataError(
            _(
                "{delimiter!r} cannot be the delimiter: it can be part of a number, a quote or a "
                "line break").format(delimiter=delimiter),
            path=path,
            hint=_("for example ',' or ';' or '\\t' for a tab"),
        )


def _other_delimiter(line: str, delimiter: str) -> str | None:
    return next((c for c in _LIKELY_DELIMITERS if c != delimiter and c in line), None)


def _delimiter_name(delimiter: str) -> str:
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


def _show(text: str) -> str:
    if len(text) > _SHOWN_CELL_LIMIT:
        return repr(text[:_SHOWN_CELL_LIMIT]) + "..."
    return repr(text)

