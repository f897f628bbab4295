"""The same command prints the same bytes: tables and JSON, for every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from backtrace_cli.cli.main import main

COMMANDS = [
    ("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    ("grad", "x*w", "--x", "2", "--w", "3", "--dz", "5", "--format", "json"),
    ("grad", "sum(sigmoid(W @ x))", "W=[[0.1, 0.2], [0.3, 0.4]]", "x=[1, 2]", "--format",
     "markdown"),
    ("grad", "log(x1) + x1*x2 - sin(x2)", "x1=2", "x2=5", "--mode", "both"),
    ("grad", "sum(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1, -1]", "--mode", "forward", "--format",
     "json"),
    ("jacobian", "sigmoid(W @ x + b)", "W=[[1, 2], [3, 4]]", "x=[1, -1]", "b=[0, 1]"),
    ("jacobian", "[x*w, x + w]", "x=2", "w=3", "--format", "json"),
    ("train", "--epochs", "5"),
    ("train", "--epochs", "5", "--format", "json", "--trace"),
    ("graph", "(x*w - y)**2", "x=1", "w=1", "y=2", "--format", "dot"),
    ("grad", "a = x*x; a + sin(a)", "x=3", "--format", "html"),
    ("graph", "(x*w - y)**2", "x=1", "w=1", "y=2", "--format", "html"),
    ("simplify", "w2*(w1*x + b1) + b2", "w1=2", "b1=0.5", "w2=3", "b2=1", "x=4"),
    ("minimize", "100*(x1 - x0**2)**2 + (1 - x0)**2", "x0=0", "x1=2", "--lr", "0.001",
     "--steps", "50", "--trace", "--explain-step", "3"),
    ("minimize", "x**4 - 2*x**2", "x=2", "--method", "newton", "--steps", "7", "--format",
     "json"),
    ("quiz", "--random", "--level", "3", "--seed", "4"),
    ("quiz", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1", "--format",
     "latex"),
    ("grade", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1", "--answers",
     str(Path(__file__).parent.parent / "samples" / "lecture-key.json"), "--format", "json"),
    ("hessian", "x0**3 - 2*x0*x1 - x1**6", "x0=1", "x1=2", "--explain"),
    ("hessian", "sum(W @ x)**2", "W=[[1, 2], [3, 4]]", "x=[1, -1]", "--format", "json"),
    ("grad", "tanh(x)", "x=0.5", "--order", "4", "--format", "json"),
    ("graph", "tanh(x)", "x=1", "--order", "3", "--format", "dot"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_the_same_command_prints_the_same_bytes(args):
    runner = CliRunner()
    first = runner.invoke(main, list(args))
    second = runner.invoke(main, list(args))
    assert first.exit_code == second.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    assert "\x1b[" not in first.stdout  # no colour off a terminal
