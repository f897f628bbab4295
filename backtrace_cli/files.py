"""Writing files so that nothing a user had is lost or left half-written.

Every file backtrace writes (``--save``, ``--plot``, ``--graph``, ``graph -o``) goes through
``write_atomic``: the bytes go to a new temporary file in the same folder, are flushed to
disk, and the temporary file is renamed over the target in one step (``os.replace``). A
failure or Ctrl-C at any point leaves the previous file intact and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import stat

from backtrace_cli.errors import OutputError
from backtrace_cli.i18n import _


def _reason(exc: OSError, path: str) -> str:
    if isinstance(exc, FileNotFoundError):
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            return f"the folder {folder} does not exist"
        # The folder is there but refuses new files (/proc, /sys): say so, with the reason.
        return f"it cannot be written there ({exc.strerror or 'no such file or directory'})"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is not a folder"
    return exc.strerror or str(exc)


def check_writable(path: str, what: str) -> None:
    """Fail before a long computation when ``path`` clearly cannot be written.

    ``write_atomic`` still checks everything when it writes; this only catches the common
    mistakes (a missing folder, a directory given as the file) before the work is done.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(_(
            "{what} {path}: cannot write it, it is a directory").format(what=what, path=path))
    if not os.path.isdir(folder):
        raise OutputError(
            _("{what} {path}: cannot write it, the folder {folder} does not exist").format(
                what=what, path=path, folder=folder
            )
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            _("{what} {path}: cannot write in the folder {folder}").format(
                what=what, path=path, folder=folder
            )
        )


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: temp file in the same folder, rename.

    A file that cannot be written is an ``OutputError`` (exit 2) and leaves nothing behind.
    """
    if os.path.isdir(path):
        raise OutputError(_("cannot write {path}: it is a directory").format(path=path))
    # A link is followed: the file it names is replaced, never the link itself (replacing
    # /dev/stdout would break the machine's /dev/stdout for everyone).
    real = os.path.realpath(path)
    try:
        special = not stat.S_ISREG(os.stat(real).st_mode)
    except OSError:
        special = False
    if special or real.startswith(("/dev/", "/proc/")):
        # A terminal, a pipe, a device: nothing to replace, so the bytes go straight to it.
        try:
            with open(path, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise OutputError(
                _("cannot write {path}: {value}").format(path=path, value=_reason(exc, path))
            ) from None
        return
    folder = os.path.dirname(real)  # messages keep the path as the user wrote it
    # The name is cut so that the temporary name stays within NAME_MAX (255 bytes) whenever
    # the target's own name does: a 250-character file name must not fail for its temp file.
    stem = os.path.basename(real).encode("utf-8", "surrogateescape")[:200].decode(
        "utf-8", "ignore"
    )
    temp = os.path.join(folder, f".{stem}.{os.urandom(4).hex()}.tmp")
    try:
        # 0o666 and the umask: the file gets the permissions a plain open() would give it.
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OutputError(_(
            "cannot write {path}: {value}").format(path=path, value=_reason(exc, path))) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):  # an existing file keeps its permissions
            os.chmod(temp, os.stat(real).st_mode & 0o7777)
        os.replace(temp, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputError(
                _("cannot write {path}: {value}").format(path=path, value=_reason(exc, path))
            ) from None
        raise


def read_text(path: str, label: str, limit: int, hint: str | None = None) -> str:
    """A user's UTF-8 text file, read up to ``limit`` + 1 characters (the caller decides what
    past ``limit`` means). Any problem is a UsageError that starts with ``label``, e.g.
    "cannot read expr.txt: no such file"; ``hint`` says what the file should hold."""
    import sys

    from backtrace_cli.errors import UsageError

    try:
        if path == "-":  # standard input
            import io

            wrapper = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
            data = wrapper.read(limit + 1)
            wrapper.detach()
        else:
            with open(path, encoding="utf-8") as handle:
                data = handle.read(limit + 1)
    except FileNotFoundError:
        raise UsageError(_("{label}: no such file").format(label=label), hint) from None
    except IsADirectoryError:
        raise UsageError(_("{label}: it is a directory").format(label=label), hint) from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            _("{label}: not UTF-8 text ({reason} at byte {start})").format(
                label=label, reason=exc.reason, start=exc.start
            ),
            _("save it as UTF-8"),
        ) from None
    except OSError as exc:
        raise UsageError(
            _("{label}: {value}").format(label=label, value=_reason(exc, path)), hint
        ) from None
    # A byte order mark (Windows editors write one) is not part of the text.
    return data[1:] if data.startswith("\ufeff") else data


def write_output(path: str, data: bytes, what: str, binary: bool = False) -> None:
    """Write an output file atomically, or to standard output when ``path`` is ``-``.
    ``what`` (``--save``) starts the message of a failure to write stdout. Binary data
    (``binary``) is not written to a terminal."""
    import sys

    if path == "-":
        stream = sys.stdout
        if binary and stream.isatty():
            raise OutputError(_(
                "{what} -: binary data (a picture) is not written to a terminal; redirect stdout "
                "to a file, or give a file name").format(what=what))
        try:
            stream.flush()
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                buffer.write(data)
                buffer.flush()
            else:
                stream.write(data.decode("utf-8", "replace"))
                stream.flush()
        except BrokenPipeError:
            raise  # the reader has gone: the run ends quietly (cli/streams.py)
        except OSError as exc:
            raise OutputError(
                _("{what} -: cannot write to standard output: {value}").format(
                    what=what, value=exc.strerror or exc
                )
            ) from None
        return
    write_atomic(path, data)  # its errors name the path and the system's reason


def same_file(first: str, second: str) -> bool:
    """Whether two paths name one file: the same inode when both exist (hard links, ``./x``
    and ``x``, a symlink and its target; a device such as /dev/null never collides), else
    the same resolved path (a file yet to be written, through symlinked folders)."""
    if "-" in (first, second):
        return first == second
    found = []
    for path in (first, second):
        try:
            found.append(os.stat(path))
        except (OSError, ValueError):
            found.append(None)
    if found[0] is not None and found[1] is not None:
        return stat.S_ISREG(found[0].st_mode) and (
            (found[0].st_dev, found[0].st_ino) == (found[1].st_dev, found[1].st_ino))
    return os.path.normcase(os.path.realpath(first)) == os.path.normcase(
        os.path.realpath(second))


def refuse_same_files(files: list[tuple[str, str | None, bool]]) -> None:
    """Refuse, before anything is read or written, a command line whose outputs would
    overwrite each other or one of its inputs. ``files``: (the option, its path or None,
    whether it is written). ``-`` is stdout for an output and stdin for an input: two
    outputs on stdout, or two inputs from stdin, collide too."""
    from backtrace_cli.errors import UsageError

    for index, (flag, path, written) in enumerate(files):
        for other_flag, other, other_written in files[index + 1:]:
            if path is None or other is None or not (written or other_written):
                continue
            if path == "-" or other == "-":
                if path == other and written == other_written:
                    raise UsageError(_(
                        "{first} - and {second} - would both use standard {stream}").format(
                        first=flag, second=other_flag,
                        stream=_("output") if written else _("input")),
                        _("give one of them a file name"))
                continue
            if same_file(path, other):
                raise UsageError(
                    _("{first} and {second} name the same file, {path}: one would "
                      "overwrite the other").format(
                        first=flag, second=other_flag,
                        path=path if path == other else f"{path} = {other}"),
                    _("give each output a file of its own"))
