"""How wide stdout is: decided once, in ``cli.parsing.output_options``, for every command.

Piped or redirected output (CliRunner is not a terminal) is never wrapped: one table row, one
trace line, one header per line. ``--width N`` (every command) or ``COLUMNS`` lays tables out
N columns wide; ``--width`` wins.
"""

from __future__ import annotations

import io
import json
import re

import helpers
import pytest
from click.testing import CliRunner

from backtrace_cli.cli import parsing
from backtrace_cli.cli.main import main
from backtrace_cli.formats.registry import Options

NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]
LONG_MODEL = "x*a_long_parameter_name + another_long_bias"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str, env: dict | None = None):
    result = helpers.invoke(*args, env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def table_lines(text: str) -> list[str]:
    # grad's chain-rule lines are written unwrapped by formats/render.py whatever the width;
    # the tables are what a width lays out.
    return [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]


def numbers_of(document: dict) -> list[str]:
    """Every number of a grad JSON document's forward and backward rows, as repr writes it."""
    found = [row["value"] for row in document["forward"]]
    found += [row[key] for row in document["backward"] for key in ("upstream", "local",
                                                                   "product")]
    found += list(document["gradients"].values())
    return sorted({repr(value) for value in found if not float(value).is_integer()})


# ----------------------------------------------------------------------------- piped
def test_piped_grad_table_is_not_wrapped():
    stdout = invoke("grad", *NEURON, "--no-check")
    document = json.loads(invoke("grad", *NEURON, "--no-check", "--format", "json"))
    lines = stdout.splitlines()
    assert max(len(line) for line in lines) > 80  # wider than any default terminal
    for number in numbers_of(document):
        assert number in stdout, number  # whole, on one line
    row = next(line for line in lines if "│ v10 " in line)
    assert "tanh(x1*w1 + x2*w2 + b)" in row and "0.7071067811865477" in row


def test_piped_train_trace_and_headers_are_not_wrapped():
    stdout = invoke("train", "--model", LONG_MODEL, "--trace", "--epochs", "1")
    lines = stdout.splitlines()
    assert lines[0] == (f"Training y_hat = {LONG_MODEL} on the lecture's data "
                        "(3 rows; inputs x; target y)")
    assert lines[6] == ("grad: x=3 y=6 dloss/da_long_parameter_name=-11.159999999999997 "
                        "dloss/danother_long_bias=-3.719999999999999 loss=3.459599999999998  "
                        "[a_long_parameter_name ← a_long_parameter_name − "
                        "lr·dloss/da_long_parameter_name = 1.04 − 0.01·(-11.159999999999997) "
                        "= 1.1516; another_long_bias ← another_long_bias − "
                        "lr·dloss/danother_long_bias = 1.02 − 0.01·(-3.719999999999999) = 1.0572]")
    assert "│ a_long_parameter_name │" in stdout


def test_piped_options_are_unwrapped_and_colourless():
    assert parsing.output_options() == Options(width=None, color=False)
    assert parsing.output_options(72) == Options(width=72, color=False)


# ----------------------------------------------------------------------------- widths
@pytest.mark.parametrize("width", [40, 60, 80, 200])
def test_width_option_bounds_every_line(width):
    for args in (["grad", *NEURON, "--no-check"],
                 ["train", "--model", LONG_MODEL, "--trace", "--epochs", "1"]):
        stdout = invoke(*args, "--width", str(width))
        lines = table_lines(stdout) if args[0] == "grad" else stdout.splitlines()
        assert max(len(line) for line in lines) <= width, args
        if width < 80 and args[0] == "train":
            assert max(len(line) for line in lines) > width - 10, args  # laid out to fit
        # grad's tables either use the width or, where their longest words do not fit side
        # by side, are stacked as "column: value" lines (numbers never split)


@pytest.mark.parametrize("width", [40, 60, 80, 200])
def test_columns_bounds_every_line_and_width_wins(width):
    stdout = invoke("grad", *NEURON, "--no-check", env={"COLUMNS": str(width)})
    assert max(len(line) for line in table_lines(stdout)) <= width
    assert invoke("grad", *NEURON, "--no-check", "--width", str(width),
                  env={"COLUMNS": "30"}) == stdout


@pytest.mark.parametrize("width", [80, 200])
def test_numbers_are_whole_when_the_table_fits(width):
    stdout = invoke("grad", "x*w", "x=0.1", "w=0.2", "--no-check", "--width", str(width))
    for number in ("0.1", "0.2", "0.020000000000000004"):
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", stdout), number


@pytest.mark.parametrize("width", [40, 60])
def test_numbers_are_never_split_at_narrow_widths(width):
    stdout = invoke("grad", *NEURON, "--no-check", "--width", str(width))
    document = json.loads(invoke("grad", *NEURON, "--no-check", "--format", "json"))
    for number in numbers_of(document):
        assert number in stdout, number


def test_width_is_an_option_of_every_command():
    for command in ("grad", "graph", "simplify", "train", "minimize", "quiz", "grade", "jacobian",
                    "hessian"):
        assert "--width N" in invoke(command, "--help")


def test_width_out_of_range_is_a_usage_error():
    result = CliRunner().invoke(main, ["grad", "x", "x=1", "--width", "5"])
    assert result.exit_code == 2
    assert "Invalid value for '--width': 5 is not in the range 20<=x<=10000." in result.stderr
    assert result.stdout == ""


# ----------------------------------------------------------------------------- terminals
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_its_width_and_colour(monkeypatch):
    import shutil

    monkeypatch.setattr(parsing.sys, "stdout", _Terminal())
    monkeypatch.setattr(shutil, "get_terminal_size", lambda: __import__("os").terminal_size(
        (97, 30)))
    assert parsing.output_options() == Options(width=97, color=True)
    monkeypatch.setenv("COLUMNS", "64")
    assert parsing.output_options() == Options(width=64, color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert parsing.output_options() == Options(width=64, color=False)
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: an empty value does not count
    assert parsing.output_options().color is True


@pytest.mark.parametrize("columns", ["abc", "0", "-5", "19", "９０", ""])
def test_a_columns_that_is_not_a_width_is_ignored(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    assert parsing.output_options() == Options(width=None, color=False)


def test_stdout_console_follows_the_options(monkeypatch):
    console = parsing.stdout_console()
    assert console.soft_wrap is True and console.color_system is None
    console = parsing.stdout_console(50)
    assert console.width == 50 and console.soft_wrap is False
