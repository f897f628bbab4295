"""``backtrace run --compare``: the same script under real PyTorch, and the first difference.

Both runs are child processes started the same way, from the same folder, with the same
arguments, environment and stdin bytes: ``python -m backtrace_cli run --quiet SCRIPT ARG...``
(backtrace's torch) and ``PYTHON SCRIPT ARG...`` (PyTorch, when that interpreter can import
it). Their stdout is compared line by line, then their exit codes, then, when both failed, the
last line of their stderr (the error). It is backtrace's cross-check, as SymPy is for ``grad``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from backtrace_cli.errors import TorchUnavailable
from backtrace_cli.i18n import _, language

PROBE = "import torch, sys; sys.stdout.write(torch.__version__)"


@dataclass(frozen=True)
class Capture:
    """What one run printed and how it ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int

    def lines(self) -> list[str]:
        return self.stdout.decode("utf-8", "replace").splitlines()

    def last_error_line(self) -> str:
        lines = self.stderr.decode("utf-8", "replace").rstrip("\n").splitlines()
        return lines[-1] if lines else ""


@dataclass(frozen=True)
class Difference:
    """Where the two runs first differ: ``what`` is 'stdout' (with a 1-based ``line``),
    'exit code' or 'error'; ``ours`` and ``theirs`` are the two sides (None: no such line)."""

    what: str
    ours: str | None
    theirs: str | None
    line: int | None = None


@dataclass(frozen=True)
class Comparison:
    ours: Capture
    theirs: Capture
    torch_version: str
    python: str
    difference: Difference | None

    @property
    def identical(self) -> bool:
        return self.difference is None


def first_difference(ours: Capture, theirs: Capture) -> Difference | None:
    """The first stdout line that differs, else a differing exit code, else (both failed) a
    differing last line of stderr; None when the runs agree."""
    our_lines, their_lines = ours.lines(), theirs.lines()
    for index in range(max(len(our_lines), len(their_lines))):
        mine = our_lines[index] if index < len(our_lines) else None
        other = their_lines[index] if index < len(their_lines) else None
        if mine != other:
            return Difference("stdout", mine, other, index + 1)
    if ours.stdout != theirs.stdout:  # only the line endings differ
        return Difference("stdout", repr(ours.stdout[-20:]), repr(theirs.stdout[-20:]),
                          len(our_lines))
    if ours.exit_code != theirs.exit_code:
        return Difference("exit code", str(ours.exit_code), str(theirs.exit_code))
    if ours.exit_code != 0 and ours.last_error_line() != theirs.last_error_line():
        return Difference("error", ours.last_error_line(), theirs.last_error_line())
    return None


def pytorch_version(python: str) -> str:
    """The version of PyTorch that ``python`` imports, or TorchUnavailable saying why not."""
    try:
        probe = subprocess.run([python, "-c", PROBE], capture_output=True, stdin=subprocess.DEVNULL)
    except OSError as error:
        raise TorchUnavailable(_("the Python interpreter {python} cannot be started: {reason}")
                               .format(python=python, reason=error.strerror or error)) from None
    if probe.returncode != 0:
        reason = Capture(b"", probe.stderr, probe.returncode).last_error_line()
        raise TorchUnavailable(_("{python} cannot import PyTorch ({reason})")
                               .format(python=python, reason=reason or probe.returncode))
    return probe.stdout.decode("utf-8", "replace").strip()


def _capture(command: Sequence[str], stdin: bytes, env: dict[str, str]) -> Capture:
    done = subprocess.run(list(command), input=stdin, capture_output=True, env=env)
    return Capture(done.stdout, done.stderr, done.returncode)


def compare(path: str, args: Sequence[str], python: str, stdin: bytes = b"") -> Comparison:
    """Run the script with backtrace's torch and with PyTorch under ``python``; compare."""
    version = pytorch_version(python)
    env = dict(os.environ)
    # The child must import this same backtrace, wherever it was imported from.
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])])
    env["BACKTRACE_LANG"] = language()  # its own messages (a bad script) in the reader's
    ours = _capture([sys.executable, "-m", "backtrace_cli", "run", "--quiet", path, *args],
                    stdin, env)
    theirs = _capture([python, path, *args], stdin, dict(os.environ))
    return Comparison(ours, theirs, version, python, first_difference(ours, theirs))
