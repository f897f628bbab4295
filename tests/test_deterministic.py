"""The same command prints the same bytes: tables and JSON, for every command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backtrace_cli.cli.main import main

COMMANDS = [
    ("grad", "y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    ("grad", "x*w", "--x", "2", "--w", "3", "--dz", "5", "--format", "json"),
    ("grad", "sum(sigmoid(W @ x))", "W=[[0.1, 0.2], [0.3, 0.4]]", "x=[1, 2]", "--format",
     "markdown"),
    ("train", "--epochs", "5"),
    ("train", "--epochs", "5", "--format", "json", "--trace"),
    ("graph", "(x*w - y)**2", "x=1", "w=1", "y=2", "--format", "dot"),
    ("grad", "a = x*x; a + sin(a)", "x=3", "--format", "html"),
    ("graph", "(x*w - y)**2", "x=1", "w=1", "y=2", "--format", "html"),
    ("simplify", "w2*(w1*x + b1) + b2", "w1=2", "b1=0.5", "w2=3", "b2=1", "x=4"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_the_same_command_prints_the_same_bytes(args):
    runner = CliRunner()
    first = runner.invoke(main, list(args))
    second = runner.invoke(main, list(args))
    assert first.exit_code == second.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    assert "\x1b[" not in first.stdout  # no colour off a terminal
