"""``backtrace run`` on students' scripts gives what real PyTorch 2.13.0 printed for them.

The scripts are in ``tests/data/run/``, PyTorch's stdout, stderr and exit code beside them in
``captured/`` (see ``data/run/README.md`` for what is compared and why some numbers are
compared to 1e-6 relative). Each script runs as a child process, ``python -m backtrace_cli
run --quiet NAME.py ARG...`` from the data folder, as a student would run it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import capture_run
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = capture_run.DATA
CAPTURED = capture_run.CAPTURED
SCRIPTS = capture_run.scripts()

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# `FILE:LINE: CategoryWarning: text` (Python's warning line) and a traceback's frame line.
WARNING = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<category>\w+): (?P<text>.*)$")
FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+')
TRIGGERED = re.compile(r" \(Triggered internally at [^)]*\.\)$")
NOTICE = "backtrace: `import torch` here is backtrace's own torch-compatible module"


def backtrace_run(name: str, *options: str) -> tuple[bytes, bytes, int]:
    """``backtrace run [OPTIONS] NAME ARG...`` from the data folder, as a child process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    case = capture_run.CASES.get(name, {})
    done = subprocess.run([sys.executable, "-m", "backtrace_cli", "run", *options, name,
                           *case.get("args", [])], cwd=DATA, env=env, capture_output=True,
                          input=case.get("stdin", "").encode())
    return done.stdout, done.stderr, done.returncode


def captured(name: str) -> tuple[bytes, bytes, int]:
    stem = CAPTURED / Path(name).stem
    return (Path(f"{stem}.stdout").read_bytes(), Path(f"{stem}.stderr").read_bytes(),
            int(Path(f"{stem}.exit").read_text()))


def is_script(file: str) -> bool:
    """Whether a file named in a traceback or warning is one of the data scripts."""
    return file.endswith(".py") and os.sep not in file and not file.startswith("<")


def warnings_in(stderr: str) -> list[tuple[str, str, str | None]]:
    """(category, text, where) of each warning, in order; ``where`` is 'NAME.py:LINE' when the
    warning is reported at a line of the script, else None (a library's own line)."""
    found = []
    for line in stderr.splitlines():
        match = WARNING.match(line)
        if match and match["category"].endswith("Warning"):
            where = f"{match['file']}:{match['line']}" if is_script(match["file"]) else None
            found.append((match["category"], TRIGGERED.sub("", match["text"]), where))
    return found


def comparable(stderr: str) -> str:
    """stderr as the tests compare it besides the warnings (``warnings_in``, compared on their
    own): the warnings and their source lines dropped, PyTorch's build path after its C++
    messages dropped, and traceback frames of code that is not the script's (PyTorch's
    ``<torch>/...`` frames) dropped with their source and caret lines."""
    kept: list[str] = []
    skipping = None  # the indentation of the lines that belong to a dropped line
    for line in stderr.splitlines():
        if skipping and line.startswith(skipping) and not FRAME.match(line):
            continue
        skipping = None
        warning, frame = WARNING.match(line), FRAME.match(line)
        if warning and warning["category"].endswith("Warning"):
            skipping = "  "  # the warning's source line
            continue
        if frame and not is_script(frame["file"]):
            skipping = "    "  # the frame's source and caret lines
            continue
        if line.startswith(NOTICE):
            continue
        kept.append(TRIGGERED.sub("", line))
    return "\n".join(kept)


def same_warnings(ours: list, theirs: list) -> bool:
    """The same warnings (category and text) in the same order; one PyTorch reports at a line
    of the script is reported at that line (one it reports in its own code may be reported
    anywhere: at the script's line, where backtrace's torch reports it, is the useful place)."""
    return [warning[:2] for warning in ours] == [warning[:2] for warning in theirs] and all(
        other[2] is None or mine[2] == other[2] for mine, other in zip(ours, theirs))


def last_line(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    return lines[-1] if lines else ""


def numbers_agree(ours: str, theirs: str, relative: float = 1e-6) -> bool:
    """The same text between the numbers, and each number within ``relative`` of PyTorch's."""
    if NUMBER.split(ours) != NUMBER.split(theirs):
        return False
    mine, other = NUMBER.findall(ours), NUMBER.findall(theirs)
    return len(mine) == len(other) and all(
        a == b or abs(float(a) - float(b)) <= relative * max(abs(float(a)), abs(float(b)))
        for a, b in zip(mine, other))


def normalised(data: bytes) -> str:
    return capture_run.normalise(data.decode(), None)


def test_there_are_enough_scripts_and_each_has_its_capture():
    assert len(SCRIPTS) >= 15
    for name in SCRIPTS:
        stem = CAPTURED / Path(name).stem
        for suffix in ("stdout", "stderr", "exit"):
            assert Path(f"{stem}.{suffix}").exists(), f"{name} has no captured .{suffix}"


def test_the_captures_hold_no_machine_path():
    for path in sorted(CAPTURED.iterdir()):
        text = path.read_text()
        assert str(DATA) not in text and "site-packages" not in text, path.name


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_script_prints_what_pytorch_printed(name):
    stdout, stderr, code = backtrace_run(name, "--quiet")
    expected_stdout, expected_stderr, expected_code = captured(name)
    ours, theirs = normalised(stderr), expected_stderr.decode()
    assert code == expected_code, ours[-2000:]
    if name in capture_run.TRANSCENDENTAL:
        our_lines = stdout.decode().splitlines(keepends=True)
        their_lines = expected_stdout.decode().splitlines(keepends=True)
        assert len(our_lines) == len(their_lines)
        for index, (mine, other) in enumerate(zip(our_lines, their_lines), start=1):
            assert numbers_agree(mine, other), f"line {index}:\n{mine}{other}"
    else:
        assert stdout.decode() == expected_stdout.decode()  # (shows a diff when it fails)
        assert stdout == expected_stdout
    assert same_warnings(warnings_in(ours), warnings_in(theirs)), (
        warnings_in(ours), warnings_in(theirs))
    if expected_code != 0:
        assert last_line(ours) == last_line(theirs)  # the error (empty for sys.exit(3))
    assert comparable(ours) == comparable(theirs)


def test_the_comparison_of_stderr_sees_a_different_error_and_warning():
    """The helpers above can fail: a changed error line, a lost warning, a moved line."""
    theirs = (CAPTURED / "non_leaf_update.stderr").read_text()
    assert comparable(theirs.replace("'data'", "'grad'")) != comparable(theirs)
    assert comparable(theirs.replace("line 18", "line 17")) != comparable(theirs)
    assert comparable(theirs).startswith("Traceback (most recent call last):\n")
    warned = warnings_in(theirs)
    assert warned[0][2] == "non_leaf_update.py:18"
    assert not same_warnings(warnings_in(theirs.replace("py:18:", "py:17:")), warned)
    assert not same_warnings(warnings_in("\n".join(theirs.splitlines()[2:])), warned)
    assert not same_warnings(warnings_in(theirs.replace("leaf Tensor", "leaf")), warned)
    library = (CAPTURED / "lecture05_set_weights.stderr").read_text()
    assert warnings_in(library)[0][2] is None  # PyTorch warns in its own loss.py
    moved = library.replace("<torch>/nn/modules/loss.py:48", "lecture05_set_weights.py:23")
    assert same_warnings(warnings_in(moved), warnings_in(library))
    assert comparable(moved) == comparable(library) == ""
    assert not numbers_agree("loss 0.6931472", "loss 0.6931480")
    assert numbers_agree("loss 0.69314718", "loss 0.69314719")
    assert not numbers_agree("loss: 0.5", "loss 0.5")


def test_the_notice_is_on_stderr_only_when_torch_is_imported():
    stdout, stderr, code = backtrace_run("lecture04.py")
    assert code == 0
    assert stderr.decode().startswith(NOTICE)
    assert stderr.decode().count("\n") == 1
    assert stdout == captured("lecture04.py")[0]
    _, stderr, code = backtrace_run("lecture03.py")
    assert (code, stderr) == (0, b"")  # lecture 03 does not use torch


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_the_captures_are_current(tmp_path):
    """Re-capture every script with PyTorch: the stored files are what it prints today."""
    import torch

    if torch.__version__.split("+")[0] != capture_run.EXPECTED_TORCH:
        pytest.skip(f"PyTorch {torch.__version__} is not {capture_run.EXPECTED_TORCH}")
    capture_run.capture_forked(sys.executable, SCRIPTS, tmp_path)
    stale = [path.name for path in sorted(CAPTURED.iterdir())
             if path.read_bytes() != (tmp_path / path.name).read_bytes()]
    assert stale == [], "re-capture with: python tests/capture_run.py"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_compare_finds_the_lecture_program_identical():
    stdout, stderr, code = backtrace_run("lecture04.py", "--compare")
    assert code == 0, stderr
    assert stdout == captured("lecture04.py")[0]
    assert stderr.decode().startswith("compare: identical output with PyTorch 2.13.0")


def test_the_readme_sample_is_the_captured_lecture_program():
    """samples/lecture04.py (the README runs it) is the lecture-04 script PyTorch's output was
    captured for, but for its opening comment: the sample is held to PyTorch's bytes."""

    def code(path: Path) -> list[str]:
        return [line for line in path.read_text(encoding="utf-8").splitlines()
                if not line.startswith("#")]

    assert code(ROOT / "samples" / "lecture04.py") == code(DATA / "lecture04.py")
