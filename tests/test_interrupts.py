"""Ctrl-C, SIGTERM and SIGHUP during ``grad``: exit 130, 143 or 129, one short line on
stderr, never a traceback, and what was finished still reported.

Real processes get real signals at a known phase of their work (backtrace_cli/phases.py: the
process waits there for the signal, so a busy machine changes nothing): while the expression
is being worked on (nothing is finished, so nothing is printed), and while the SymPy check
runs in its forked child, sent to the whole process group as a terminal does or to the
parent alone (the gradients are finished and reported, the check says it was interrupted,
and the child is gone, also when the parent was killed outright). ``train`` and
``minimize`` under the signals are tested in tests/test_cli_train.py,
tests/test_stream_cache.py and tests/test_minimize_cli.py.
"""

from __future__ import annotations

import json
import math
import signal
import sys

import pytest
from click.testing import CliRunner
from helpers import PhaseRun, process_gone, validate, wait_until

from backtrace_cli.checks import verify as check
from backtrace_cli.cli.main import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")


STOPS = [  # the signal, its exit code (128 + its number), the line said when nothing finished
    pytest.param(signal.SIGINT, 130, "Interrupted.\n", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "Terminated (SIGTERM).\n", id="SIGTERM"),
    pytest.param(signal.SIGHUP, 129, "Hung up (SIGHUP).\n", id="SIGHUP"),
]
CHECKS_CUT = "Interrupted: the cross-checks were cut short; the gradients above are complete.\n"


@pytest.mark.parametrize("number, code, said", STOPS)
def test_a_signal_while_grad_works_on_a_huge_expression(tmp_path, number, code, said):
    # Stopped between the forward pass over 20,000 terms and the backward sweep.
    (tmp_path / "big.txt").write_text(
        "+".join(f"sin(x*{i % 7 + 1})" for i in range(20_000)), encoding="utf-8")
    run = PhaseRun(tmp_path, "grad-sweeps", "grad", "@big.txt", "x=1", "--format", "json")
    run.wait_for_phase()
    run.signal(number)
    exit_code, out, err = run.finish()
    assert (exit_code, err) == (code, said)
    assert out == ""  # nothing was finished, and a half-written JSON object is worse than none


def _during_the_sympy_check(tmp_path) -> tuple[PhaseRun, int]:
    run = PhaseRun(tmp_path, "sympy-child", "grad", "sin(x)*w", "x=1", "w=2", "--format",
                   "json", new_session=True)
    return run, run.wait_for_phase()  # the SymPy child's pid: it waits there


def _finished_part(out: str) -> dict:
    document = json.loads(out)  # the finished part: forward, backward, gradients
    validate("grad", document)
    assert document["gradients"] == {"x": 2 * math.cos(1.0), "w": math.sin(1.0)}
    assert document["check"]["numeric"]["x"]["ok"] is True
    return document


@pytest.mark.parametrize("group", [True, False], ids=["to-the-group", "to-the-parent"])
@pytest.mark.parametrize("number, code, said", STOPS)
def test_a_signal_during_the_sympy_check(tmp_path, number, code, said, group):
    # A terminal sends SIGINT (Ctrl-C) or SIGHUP (closed) to the whole foreground group, and
    # the SymPy child gets it too; kill(1) sends SIGTERM to the parent alone.
    run, child = _during_the_sympy_check(tmp_path)
    run.signal(number, group=group)
    exit_code, out, err = run.finish()
    assert (exit_code, err) == (code, CHECKS_CUT)
    note = _finished_part(out)["check"]["sympy"]["x"]["note"]
    assert note == "skipped: interrupted (Ctrl-C)"
    wait_until(lambda: process_gone(child), "the SymPy child ended")  # not left behind


def test_the_sympy_child_dies_with_a_parent_killed_outright(tmp_path):
    # SIGKILL leaves the parent no time to clean up: the child must not go on alone.
    run, child = _during_the_sympy_check(tmp_path)
    run.signal(signal.SIGKILL)
    assert run.finish()[0] == -signal.SIGKILL
    wait_until(lambda: process_gone(child), "the SymPy child ended with its parent")


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
