"""Atomic outputs: every file backtrace writes survives a failure or Ctrl-C in the middle of
writing. For each writer on the command line (``train --save``, ``train --plot``,
``grad --graph``, ``graph -o``) a failure is injected at each step of ``files.write_atomic``
(the write itself, half done; the fsync; the rename) and as a Ctrl-C in the write: the previous
file stays byte for byte, no temporary file is left, and the exit code is 2 with a message
naming the file (130 for Ctrl-C).

tests/test_graph.py covers ``write_atomic`` itself with a failed rename, and
tests/test_cli_train.py ``train --save`` with one; this file covers the rest.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest
from click.testing import CliRunner

from backtrace_cli import files
from backtrace_cli.cli.main import main
from backtrace_cli.formats import graph

PREVIOUS = b"the previous contents\n"

HAS_ENGINE = bool(graph.find_layout_engines())
needs_engine = pytest.mark.skipif(not HAS_ENGINE, reason="no Graphviz layout engine here")

WRITERS = {
    "train --save": ("params.json", ["train", "--epochs", "2", "--save", "{path}"]),
    "train --plot": ("loss.svg", ["train", "--epochs", "2", "--plot", "{path}"]),
    "grad --graph dot": ("graph.dot", ["grad", "x*w", "x=2", "w=3", "--no-check", "--graph",
                                        "{path}"]),
    "grad --graph svg": ("graph.svg", ["grad", "x*w", "x=2", "w=3", "--no-check", "--graph",
                                        "{path}"]),
    "graph -o dot": ("graph.dot", ["graph", "x*w", "x=2", "w=3", "-o", "{path}"]),
    "graph -o mermaid": ("graph.mmd", ["graph", "x*w", "x=2", "w=3", "-o", "{path}"]),
    "graph -o text": ("graph.txt", ["graph", "x*w", "x=2", "w=3", "-o", "{path}"]),
    "graph -o svg": ("graph.svg", ["graph", "x*w", "x=2", "w=3", "-o", "{path}"]),
}
NEEDS_ENGINE = {"grad --graph svg", "graph -o svg"}


def writer_params():
    return [
        pytest.param(name, marks=needs_engine) if name in NEEDS_ENGINE else name
        for name in WRITERS
    ]


class _HalfWritten:
    """A file whose write stores half of the bytes and then fails, as a full disk does."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> bool:
        self._handle.close()
        return False

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str):
        return getattr(self._handle, name)


def _fail_write(monkeypatch):
    real = os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: _HalfWritten(real(*a, **k)))


def _fail_fsync(monkeypatch):
    def failing(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files.os, "fsync", failing)


def _fail_replace(monkeypatch):
    def failing(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(files.os, "replace", failing)


def _interrupt_write(monkeypatch):
    real = os.fdopen

    class Interrupted(_HalfWritten):
        def write(self, data: bytes) -> int:
            self._handle.write(data[: len(data) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: Interrupted(real(*a, **k)))


FAILURES = {
    "write": (_fail_write, 2, "No space left on device"),
    "fsync": (_fail_fsync, 2, "Input/output error"),
    "replace": (_fail_replace, 2, "Invalid cross-device link"),
    "Ctrl-C": (_interrupt_write, 130, "Interrupted."),
}


def _run(tmp_path, writer: str):
    name, template = WRITERS[writer]
    target = tmp_path / name
    args = [part.format(path=target) for part in template]
    return target, CliRunner().invoke(main, args)


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("writer", writer_params())
def test_a_failure_mid_write_keeps_the_previous_file(writer, failure, tmp_path, monkeypatch):
    inject, code, message = FAILURES[failure]
    name, _ = WRITERS[writer]
    target = tmp_path / name
    target.write_bytes(PREVIOUS)
    inject(monkeypatch)
    _, result = _run(tmp_path, writer)
    assert result.exit_code == code, (result.stdout[-300:], result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    if code == 2:
        assert f"Error: cannot write {target}: " in result.stderr
    assert target.read_bytes() == PREVIOUS
    assert sorted(os.listdir(tmp_path)) == [name]


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("writer", writer_params())
def test_a_failure_when_there_was_no_file_leaves_none(writer, failure, tmp_path, monkeypatch):
    inject, code, _ = FAILURES[failure]
    inject(monkeypatch)
    _, result = _run(tmp_path, writer)
    assert result.exit_code == code, result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("writer", writer_params())
def test_a_successful_write_replaces_the_file_and_keeps_its_permissions(writer, tmp_path):
    name, _ = WRITERS[writer]
    target = tmp_path / name
    target.write_bytes(PREVIOUS)
    target.chmod(0o600)
    _, result = _run(tmp_path, writer)
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() != PREVIOUS and target.stat().st_size > 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == [name]


def test_a_file_name_at_the_length_limit_gets_a_temporary_file_that_fits(tmp_path):
    name = "g" * 250 + ".dot"  # 254 bytes: the temporary name must not exceed 255
    result = CliRunner().invoke(main, ["graph", "x*w", "x=2", "w=3", "-o", str(tmp_path / name)])
    assert result.exit_code == 0, result.stderr
    assert os.listdir(tmp_path) == [name]
    assert (tmp_path / name).read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.parametrize("writer", ["train --save", "graph -o dot"])
def test_a_read_only_folder_fails_cleanly_and_changes_nothing(writer, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder")
    name, _ = WRITERS[writer]
    (tmp_path / name).write_bytes(PREVIOUS)
    tmp_path.chmod(0o500)
    try:
        _, result = _run(tmp_path, writer)
    finally:
        tmp_path.chmod(0o700)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert (tmp_path / name).read_bytes() == PREVIOUS
    assert os.listdir(tmp_path) == [name]


def test_a_device_or_pipe_is_written_straight_to(tmp_path):
    """/dev/stdout or a named pipe has nothing to replace: the bytes go straight to it."""
    import threading

    import pytest

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    from backtrace_cli.files import write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_atomic(str(fifo), b"digraph {}\n")
    reader.join(5)
    assert received == [b"digraph {}\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_link_is_followed_and_kept(tmp_path):
    """Writing through a link replaces the file it names; the link itself stays a link (so
    -o /dev/stdout can never replace /dev/stdout)."""
    from backtrace_cli.files import write_atomic

    target = tmp_path / "target.dot"
    target.write_bytes(b"old\n")
    link = tmp_path / "link.dot"
    link.symlink_to(target)
    write_atomic(str(link), b"new\n")
    assert link.is_symlink()
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.dot", "target.dot"]
