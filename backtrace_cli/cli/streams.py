"""Standard output and standard error as every command writes them, guarded in one place.

``guarded()`` runs around a whole command line (``BacktraceGroup.main``) and puts the
process's own stdout and stderr behind streams that:

- never crash on a character the terminal's encoding lacks (``PYTHONIOENCODING=latin-1``,
  ``ascii``, a ``cp1252`` Windows console): box drawing becomes ``+ - |``, a few common
  symbols their ASCII spelling (``·`` ``*``, ``−`` ``-``, ``²`` ``^2``), anything else a
  backslash escape (``\\u03b8``), see ``fallback``; JSON, HTML and SVG stay exact
  (``emit``);
- keep going when stdout cannot be written (``> /dev/full``, a closed stdout, ``EIO``): the
  rest of stdout is dropped, the files the command writes (``-o``, ``--save``, ``--graph``)
  are still written, and the run ends with one line on stderr and exit 2 (``finish``);
- stop the run at a pipe whose reader has gone (``| head -1``, ``| true``): quietly, with
  the exit status a shell reports for ``cat`` killed by SIGPIPE, 141, also for ``--help``
  and ``--version``, which Click would end with 1.

A stream the process did not start with (CliRunner's, pytest's capture) is left alone.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import re
import sys
import unicodedata

# 128 + SIGPIPE (13): what a shell reports for `cat` killed by a closed pipe. Not 0, so
# `set -o pipefail` can tell that the output was cut short; not 1 or 2, which the contract
# gives to untrusted results and bad input.
EXIT_CLOSED_PIPE = 141
EXIT_OUTPUT_FAILED = 2

ERRORS = "backtrace-fallback"  # the codec error handler below
# Click takes an ASCII stream for a misconfigured locale and writes UTF-8 to it anyway; the
# same codec under another name keeps what the user asked for.
ASCII = "backtrace-ascii"

# Characters people meet in the tables, as ASCII (a box drawing character keeps its width,
# so a table stays aligned). Everything else that cannot be encoded is a backslash escape.
SYMBOLS = {
    "\u00b7": "*", "\u22c5": "*", "\u2219": "*", "\u00d7": "x", "\u00f7": "/",
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "--",
    "\u2015": "--", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2032": "'", "\u2033": "''", "\u2026": "...", "\u2192": "->", "\u2190": "<-",
    "\u2191": "^", "\u2193": "v", "\u21d2": "=>", "\u2194": "<->", "\u2264": "<=",
    "\u2265": ">=", "\u2260": "!=", "\u2248": "~", "\u00b1": "+-", "\u221a": "sqrt",
    "\u2202": "d", "\u2713": "v", "\u2714": "v", "\u2717": "x", "\u2718": "x",
    "\u25c0": "<", "\u25b6": ">", "\u2022": "*", "\u00a0": " ", "\u202f": " ",
    "\u2009": " ", "\u200b": "", "\ufeff": "", "\u00b0": "deg", "\u00b5": "u", "\u03bc": "u",
    "\u1d40": "^T",
}
_SUPERSCRIPTS = dict(zip("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
                         "\u207a\u207b\u207c\u207d\u207e", "0123456789+-=()"))
_SUBSCRIPTS = dict(zip("\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089"
                       "\u208a\u208b\u208c\u208d\u208e", "0123456789+-=()"))


def _box(char: str) -> str | None:
    """A box drawing or block character as the ASCII that draws the same line."""
    code = ord(char)
    if 0x2580 <= code <= 0x259F:  # block elements (bars)
        return "#"
    if not 0x2500 <= code <= 0x257F:
        return None
    name = unicodedata.name(char, "")
    if "DIAGONAL" in name:
        return {"\u2571": "/", "\u2572": "\\"}.get(char, "X")
    horizontal = "HORIZONTAL" in name or name.endswith(("LEFT", "RIGHT"))
    vertical = "VERTICAL" in name or name.endswith(("UP", "DOWN"))
    if " AND " in name or "ARC" in name or (horizontal and vertical):
        return "+"  # corners, tees and crossings
    if horizontal:
        return "=" if "DOUBLE" in name else "-"
    if vertical:
        return "|"
    return "+"


def fallback(char: str) -> str:
    """What ``char`` becomes on a stream whose encoding lacks it (always ASCII)."""
    if char in SYMBOLS:
        return SYMBOLS[char]
    if char in _SUPERSCRIPTS:
        return "^" + _SUPERSCRIPTS[char]
    if char in _SUBSCRIPTS:
        return _SUBSCRIPTS[char]
    box = _box(char)
    if box is not None:
        return box
    return escaped(char)


def escaped(char: str) -> str:
    """``\\uXXXX`` (a surrogate pair above U+FFFF): the spelling JSON, Python and most
    languages read back as the same character."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _handler(error: UnicodeError):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    out = []
    for index, char in enumerate(text):
        shown = fallback(char)
        # Superscripts in a row are one exponent: ⁻¹ is ^-1, not ^-^1.
        if char in _SUPERSCRIPTS and index and text[index - 1] in _SUPERSCRIPTS:
            shown = shown[1:]
        out.append(shown)
    return "".join(out), error.end


def _ascii_codec(name: str):
    if name.replace("_", "-") != ASCII:
        return None
    info = codecs.lookup("ascii")
    return codecs.CodecInfo(info.encode, info.decode, info.streamreader, info.streamwriter,
                            info.incrementalencoder, info.incrementaldecoder, name=ASCII)


codecs.register_error(ERRORS, _handler)
codecs.register(_ascii_codec)


def is_unicode(encoding: str | None) -> bool:
    """Whether ``encoding`` can write every character (UTF-8, -16, -32)."""
    try:
        return codecs.lookup(encoding or "ascii").name.startswith("utf")
    except LookupError:
        return False


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def emit(text: str, output_format: str | None = None, err: bool = False) -> None:
    """Write a command's report (the text of ``--format output_format``) to stdout, or to
    stderr with ``err``. On a stream whose encoding is not Unicode, a document whose format
    fixes its own encoding stays exact: JSON is written in ASCII (every other character a
    ``\\uXXXX`` escape: the same document in UTF-8 and in any ASCII-based encoding), an
    HTML page or SVG picture (they declare UTF-8) as UTF-8 bytes, as ``-o FILE`` writes
    them. Other text is left to the stream's fallback."""
    import click

    stream = sys.stderr if err else sys.stdout
    if output_format in ("json", "html", "svg") and stream is not None \
            and not is_unicode(getattr(stream, "encoding", None)):
        if output_format == "json":
            text = _NON_ASCII.sub(lambda match: escaped(match.group()), text)
        else:
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                stream.flush()
                buffer.write(text.encode("utf-8"))
                buffer.flush()
                return
    click.echo(text, nl=False, err=err)


class Guard:
    """What happened to stdout during one command line."""

    def __init__(self) -> None:
        self.failure: OSError | None = None  # the first failed write to stdout
        self.closed_pipe = False  # stdout's reader went away
        self.stdout_closed = False  # the process started without a stdout

    def failed(self) -> bool:
        return self.failure is not None or self.closed_pipe


class _GuardedFile(io.FileIO):
    """fd 1 or 2 for writing: a closed pipe ends the run (BrokenPipeError), any other failure
    is kept in the guard and the rest of the output dropped, so the command goes on."""

    def __init__(self, fd: int, guard: Guard, is_stdout: bool) -> None:
        super().__init__(fd, "wb", closefd=False)
        self._guard = guard
        self._is_stdout = is_stdout

    def write(self, data) -> int:
        size = len(memoryview(data))
        if not size:
            return 0
        guard = self._guard
        if self._is_stdout and guard.stdout_closed:
            if guard.failure is None:
                guard.failure = OSError(errno.EBADF, "standard output is closed")
            return size
        if self._is_stdout and guard.failed():
            return size  # already reported once; nothing more reaches a failed stdout
        try:
            return super().write(data)
        except BrokenPipeError:
            if not self._is_stdout:
                return size  # stderr's reader is gone: nothing to tell anyone
            guard.closed_pipe = True
            raise
        except OSError as exc:
            if self._is_stdout and guard.failure is None:
                guard.failure = exc
            return size


def _reserve_standard_descriptors(guard: Guard) -> None:
    """Open the null device on a standard descriptor the process started without, so no
    file we open (an ``-o`` file, the SymPy child's pipes) takes its number and receives
    what is meant for the terminal."""
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, flags)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if fd == 1:
            guard.stdout_closed = True


def _wrapped(stream, fd: int, guard: Guard, is_stdout: bool):
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        if codecs.lookup(encoding).name == "ascii":
            encoding = ASCII
    except LookupError:
        encoding = "utf-8"
    buffer = io.BufferedWriter(_GuardedFile(fd, guard, is_stdout))
    return io.TextIOWrapper(buffer, encoding=encoding, errors=ERRORS,
                            line_buffering=bool(getattr(stream, "line_buffering", False)))


def _own(stream, original) -> bool:
    """Whether ``stream`` is the process's own (not a test runner's replacement)."""
    return stream is original


@contextlib.contextmanager
def guarded():
    """stdout and stderr guarded for one command line (see the module's text); yields the
    Guard that ``finish`` reads."""
    guard = Guard()
    own_out = _own(sys.stdout, sys.__stdout__)
    own_err = _own(sys.stderr, sys.__stderr__)
    if not (own_out or own_err):
        yield guard
        return
    saved = sys.stdin, sys.stdout, sys.stderr
    _reserve_standard_descriptors(guard)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    if own_out:
        sys.stdout = _wrapped(sys.stdout, 1, guard, True)
    if own_err:
        sys.stderr = _wrapped(sys.stderr, 2, guard, False)
    if saved[0] is None and sys.__stdin__ is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 (the null device)
    try:
        yield guard
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved
        if guard.closed_pipe:
            _silence_stdout()


def finish(guard: Guard, code) -> int | str | None:
    """The exit code once the command has run: 141 after a closed pipe, quietly; after a
    failed write to stdout, one line on stderr and exit 2 (an error already reported keeps
    its own code)."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    if guard.closed_pipe:
        return EXIT_CLOSED_PIPE
    if guard.failure is None:
        return code
    from backtrace_cli.i18n import _

    exc = guard.failure
    reason = _("it is closed") if guard.stdout_closed else (exc.strerror or str(exc))
    with contextlib.suppress(Exception):
        sys.stderr.write(_("Error: {message}").format(message=_(
            "cannot write to standard output: {reason}").format(reason=reason)) + "\n")
        sys.stderr.flush()
    numeric = code if isinstance(code, int) else (0 if code is None else 1)
    return EXIT_OUTPUT_FAILED if numeric in (0, 1) else numeric


def _silence_stdout() -> None:
    """Point fd 1 at the null device, so the flush at exit does not meet the closed pipe
    again (Python would print "Exception ignored ... BrokenPipeError" and exit 120)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass
