"""Writing files so that nothing a user had is lost or left half-written.

Every file backtrace writes goes through ``write_atomic``: the bytes go to a temporary file in
the same folder, are flushed to disk, and the temporary file is renamed over the target in
one step (``os.replace``). A failure or Ctrl-C at any point leaves the previous file intact
and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile

from .errors import OutputError


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, or raise OutputError and change nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError(f"cannot write {path}: it is a directory")
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder
        )
    except FileNotFoundError:
        raise OutputError(f"cannot write {path}: the folder {folder} does not exist") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if os.path.exists(path):
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
