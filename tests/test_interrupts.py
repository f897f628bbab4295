"""Ctrl-C during ``grad``: exit 130, one short line on stderr, never a traceback, and what was
finished still reported.

Real processes get a real SIGINT: once while the expression is being worked on (nothing is
finished, so nothing is printed), and once to the whole process group, as a terminal sends it,
while the SymPy check runs in its forked child (the gradients are finished and reported, the
check says it was interrupted, and the child is gone). ``train`` under Ctrl-C is tested in
tests/test_cli_train.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from helpers import validate

from backtrace_cli.checks import verify as check
from backtrace_cli.cli.main import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux), or None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _start(tmp_path, *args: str, new_session: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "backtrace_cli", *args], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=new_session,
    )


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, out, err


def test_ctrl_c_while_grad_works_on_a_huge_expression(tmp_path):
    # About five seconds of work (parsing 60,000 terms, the tape, the sweeps, the checks).
    terms = 60_000
    (tmp_path / "big.txt").write_text(
        "+".join(f"sin(x*{i % 7 + 1})" for i in range(terms)), encoding="utf-8")
    process = _start(tmp_path, "grad", "@big.txt", "x=1", "--format", "json")
    if _cpu_seconds(process.pid) is None:  # no /proc: give the start-up time instead
        time.sleep(1.5)
    else:  # past the imports (about 0.2 s of CPU) and well inside the work
        assert _wait_for(lambda: (_cpu_seconds(process.pid) or 0.0) > 1.0)
    assert process.poll() is None, "the work ended before the interrupt"
    process.send_signal(signal.SIGINT)
    code, out, err = _finish(process)
    assert code == 130, err
    assert "Traceback" not in err
    assert err == "Interrupted.\n"
    assert out == ""  # nothing was finished, and a half-written JSON object is worse than none


def test_ctrl_c_at_a_terminal_during_the_sympy_check(tmp_path):
    # A terminal sends SIGINT to the whole foreground group: the SymPy child gets it too.
    process = _start(tmp_path, "grad", "x**" * 150 + "x", "x=0.5", "--format", "json",
                     "--check-timeout", "120", new_session=True)
    children: list[int] = []
    assert _wait_for(lambda: children.extend(_children(process.pid)) or bool(children))
    time.sleep(0.2)  # let the child get into SymPy's work
    os.killpg(process.pid, signal.SIGINT)
    code, out, err = _finish(process)
    assert code == 130, err
    assert "Traceback" not in err
    assert err == (
        "Interrupted: the cross-checks were cut short; the gradients above are complete.\n")
    document = json.loads(out)  # the finished part: forward, backward, gradients
    validate("grad", document)
    assert document["gradients"]["x"] == pytest.approx(0.5692452044263483)
    assert document["check"]["sympy"]["x"]["note"] == "skipped: interrupted (Ctrl-C)"
    assert document["check"]["numeric"]["x"]["ok"] is True
    for child in children:  # the SymPy child was killed and reaped, not left behind
        assert _wait_for(lambda child=child: not os.path.exists(f"/proc/{child}"), 10.0)


def test_ctrl_c_during_the_finite_differences_keeps_what_they_finished(monkeypatch):
    real = check.finite_difference
    calls = []

    def interrupted_on_the_second_variable(tape, bindings, name, seed, scale=1.0):
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(tape, bindings, name, seed, scale)

    monkeypatch.setattr(check, "finite_difference", interrupted_on_the_second_variable)
    result = CliRunner().invoke(main, ["grad", "x*w*y", "x=1", "w=2", "y=3", "--format", "json"])
    assert result.exit_code == 130, result.stderr
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    numeric = document["check"]["numeric"]
    assert numeric["x"]["ok"] is True
    assert numeric["w"] == {"value": None, "ok": None, "status": "skipped",
                            "note": "skipped: interrupted (Ctrl-C)"}
    assert numeric["y"]["note"] == "skipped: interrupted (Ctrl-C)"
    # After Ctrl-C no SymPy child is started.
    assert all(entry["note"] == "skipped: interrupted (Ctrl-C)"
               for entry in document["check"]["sympy"].values())
    assert document["gradients"] == {"x": 6.0, "w": 3.0, "y": 2.0}


def test_a_check_that_disagrees_still_exits_1_when_also_interrupted(monkeypatch):
    real = check.finite_difference

    def wrong_then_interrupted(tape, bindings, name, seed, scale=1.0):
        if name == "w":
            raise KeyboardInterrupt
        value, rounding, note = real(tape, bindings, name, seed, scale)
        return value + 1.0, rounding, note

    monkeypatch.setattr(check, "finite_difference", wrong_then_interrupted)
    result = CliRunner().invoke(main, ["grad", "x*w", "x=1", "w=2", "--format", "json"])
    assert result.exit_code == 1  # a disagreement is the more important news
    assert json.loads(result.stdout)["check"]["numeric"]["x"]["ok"] is False
