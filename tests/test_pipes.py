"""A reader that closes the pipe early (``backtrace ... | head -2``) ends the run quietly.

As ``cat`` does: no traceback, no "Error" line, and exit status 141 (128 + SIGPIPE, what a
shell reports for ``cat`` in the same place), chosen in ``cli/main.py`` (EXIT_CLOSED_PIPE).
These tests use real operating-system pipes, not CliRunner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backtrace_cli.cli.main import EXIT_CLOSED_PIPE

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("COLUMNS", None)

# More than a pipe buffer holds (64 KiB on Linux), so the writer must meet the closed pipe.
LONG_TRACE = ["train", "--trace", "--trace-limit", "100000", "--epochs", "3000"]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backtrace_cli", *args], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)


def test_the_exit_code_is_cats():
    assert EXIT_CLOSED_PIPE == 141 == 128 + 13  # SIGPIPE is 13


def test_train_trace_read_two_lines_then_closed():
    process = start(*LONG_TRACE)
    first = process.stdout.readline()
    second = process.stdout.readline()
    process.stdout.close()  # as head -2 does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert first.startswith(b"Training y_hat = x*w on the lecture's data")
    assert second.startswith(b"loss mse, sgd lr 0.01, 3000 epochs")
    assert stderr == ""


@pytest.mark.parametrize("output_format", ["table", "json", "markdown"])
def test_grad_output_into_a_pipe_closed_at_once(output_format):
    process = start("grad", "tanh(x*w + b)", "x=1", "w=2", "b=0", "--no-check",
                    "--format", output_format)
    process.stdout.close()  # the reader is gone before anything is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert stderr == ""


@pytest.mark.parametrize("output_format", ["table", "json"])
@pytest.mark.parametrize("args", [
    ("jacobian", "tanh(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1, 0]"),
    ("hessian", "x*y*sin(x)", "x=1", "y=2"),
], ids=["jacobian", "hessian"])
def test_new_views_output_into_a_pipe_closed_at_once(args, output_format):
    process = start(*args, "--no-check", "--format", output_format)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert stderr == ""


def test_train_json_into_a_pipe_closed_at_once():
    process = start("train", "--format", "json")
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert stderr == ""


def test_shell_pipeline_into_head():
    # What a user types, with pipefail so the shell reports backtrace's own status.
    command = (f"set -o pipefail; {sys.executable} -m backtrace_cli "
               + " ".join(LONG_TRACE) + " | head -2")
    result = subprocess.run(["bash", "-c", command], env=ENV, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == EXIT_CLOSED_PIPE
    assert result.stdout.splitlines()[0].startswith("Training y_hat = x*w")
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == ""


def test_a_pipe_read_to_the_end_is_exit_zero():
    process = start("grad", "x*w", "x=2", "w=3", "--no-check", "--format", "json")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0
    assert stdout.startswith(b"{\n") and stderr == b""


def test_minimize_trace_read_two_lines_then_closed():
    process = start("minimize", "x**2", "x=1", "--steps", "100000", "--trace",
                    "--trace-limit", "100000")
    first = process.stdout.readline()
    second = process.stdout.readline()
    process.stdout.close()  # as head -2 does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert first == b"Minimising z = x**2 from x=1\n"
    assert second == b"method gd, lr 0.01, 100,000 steps\n"
    assert stderr == ""
