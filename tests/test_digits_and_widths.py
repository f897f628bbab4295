"""Numbers and headers are never cut inside a word (issue 21, item 17), and ``--digits N``
shortens the numbers people read (every command that prints numbers) while JSON keeps every
digit.

The output at a width must hold the same words as the unwrapped output: a number folded
across two lines (``1.37671488485580`` / ``04``) or a header folded inside a word
(``dloss/dvaria`` / ``ble``) leaves a word that the unwrapped output does not have.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from backtrace_cli.cli.main import main
from backtrace_cli.report.digits import shorter

ISSUE = ["sum(sigmoid(W @ x + b))", "W=[[0.1, 0.2], [0.3, 0.4]]", "x=[1, 2]", "b=[0.5, -0.5]"]
NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]
PROGRAMS = {
    "grad": [[*ISSUE, "--no-check"], [*NEURON, "--no-check"],
             ["y_hat = x*w; r = y_hat - y; loss = r**2", "x=1.1", "y=2.3", "w=0.7"],
             ["log(x1) + x1*x2 - sin(x2)", "x1=2", "x2=5", "--mode", "both", "--no-check"]],
    "jacobian": [["tanh(W @ x)", "W=[[0.1, 0.2], [0.3, 0.4]]", "x=[1.5, -2]", "--no-check"],
                 ["[x*w, sin(x) + w]", "x=0.3", "w=1.7", "--no-check"]],
    "hessian": [["x*y*sin(x)", "x=1", "y=2", "--no-check"],
                ["sum(sigmoid(W @ x))", "W=[[1, 2], [3, 4]]", "x=[1, -1]", "--no-check"],
                ["x0**3 - 2*x0*x1 - x1**6", "x0=1.5", "x1=0.7", "--explain", "--no-check"]],
    "minimize": [["x**4 - 2*x**2", "x=2", "--method", "newton", "--steps", "7"],
                 ["(x - 3)**2 + w*w", "x=0", "w=1", "--method", "adam", "--lr", "0.1",
                  "--steps", "5", "--trace"]],
    "simplify": [["W @ x + b", "W=[[0.1, 0.2], [0.3, 0.4]]", "x=[1, 2]", "b=[0.5, -0.5]"]],
    "train": [["--epochs", "3", "--trace"]],
    "quiz": [["x*w + sin(x)", "x=0.3", "w=0.7"]],
}
WIDTHS = [40, 47, 53, 60, 67, 80, 97, 120, 160]
_SEPARATORS = re.compile(r"[\s│┃┏┓┗┛━┳┻╇┡┩└┘┴┬─┼╋┃╭╮╰╯]+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")


def run(*args: str, ok=(0,)) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in ok, (args, result.stderr)
    return result.stdout


def words(text: str) -> set[str]:
    return {word.rstrip(":,;") for word in _SEPARATORS.split(text) if word.rstrip(":,;")}


def _cases():
    for command, programs in PROGRAMS.items():
        for index, args in enumerate(programs):
            yield pytest.param(command, args, id=f"{command}-{index}")


def cases() -> list:
    return list(_cases())


@pytest.fixture(autouse=True)
def _plain(monkeypatch):
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def answers(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text('{"gradients": {"x": 1.2345678, "w": -0.30000000000000004}}',
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command, args", cases())
def test_no_word_is_cut_at_any_width(command, args):
    whole = words(run(command, *args))
    for width in WIDTHS:
        shown = run(command, *args, "--width", str(width))
        cut = words(shown) - whole
        assert not cut, (width, sorted(cut)[:10])
        for line in shown.splitlines():  # within the width, unless one word is longer
            assert cell_len(line) <= width or max(map(cell_len, line.split())) > width - 4, (
                width, line)


def test_the_issue_example_at_80_columns():
    shown = run(*["grad", *ISSUE, "--no-check"], "--width", "80")
    assert "1.3767148848558004" in shown
    assert "dL/dvariable" in shown
    hessian = run("hessian", "x*y*sin(x)", "x=1", "y=2", "--no-check", "--width", "20")
    assert "d²L/(d row d column)" in hessian


def test_grade_words_are_not_cut(answers):
    args = ["grade", "x*w + sin(x)", "x=0.3", "w=0.7", "--answers", answers]
    whole = words(run(*args, ok=(0, 1)))
    for width in WIDTHS:
        assert not words(run(*args, "--width", str(width), ok=(0, 1))) - whole, width


# ----------------------------------------------------------------------------- --digits
def _significant(token: str) -> int:
    mantissa = token.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


@pytest.mark.parametrize("command, args", cases())
@pytest.mark.parametrize("digits", [1, 3, 6])
def test_digits_shortens_what_people_read(command, args, digits):
    for output_format in ("table", "markdown", "latex"):
        if command == "train" and output_format != "table":
            continue
        shown = run(command, *args, "--digits", str(digits), "--format", output_format)
        decimals = [t for t in _NUMBER.findall(shown) if "." in t or "e" in t]
        assert decimals or digits == 1, (command, output_format)  # 1 digit: 6.75 is 7
        for token in decimals:
            assert _significant(token) <= digits, (output_format, token)


@pytest.mark.parametrize("command, args", cases())
def test_digits_leaves_json_whole(command, args):
    if "--trace" in args:
        args = [a for a in args if a != "--trace"]
    plain = json.loads(run(command, *args, "--format", "json"))
    assert json.loads(run(command, *args, "--digits", "2", "--format", "json")) == plain


def test_digits_in_grade_and_its_json(answers):
    args = ["grade", "x*w + sin(x)", "x=0.3", "w=0.7", "--answers", answers]
    assert "1.235" in run(*args, "--digits", "4", ok=(0, 1))
    assert "1.2345678" not in run(*args, "--digits", "4", ok=(0, 1))
    assert (json.loads(run(*args, "--digits", "4", "--format", "json", ok=(0, 1)))
            == json.loads(run(*args, "--format", "json", ok=(0, 1))))


def test_the_exact_figures():
    shown = run("grad", *ISSUE, "--no-check", "--digits", "4")
    assert "output z = 1.377" in shown
    assert shorter("1.3767148848558004 and -0.020000000000000004 at v12, 2x2, 1e-08", 3) == (
        "1.38 and -0.02 at v12, 2x2, 1e-08")
    assert shorter("6 and 2.5e-300 and 123456.789", 4) == "6 and 2.5e-300 and 1.235e+05"


def test_digits_out_of_range_is_a_usage_error():
    result = CliRunner().invoke(main, ["grad", "x", "x=1", "--digits", "0"])
    assert result.exit_code == 2
    assert "'--digits': 0 is not in the range 1<=x<=17" in result.stderr


@pytest.mark.parametrize("output_format", ["dot", "mermaid", "text", "html"])
def test_digits_in_the_graph_labels(output_format):
    args = ["graph", "x*w + sin(x)", "x=0.3", "w=0.7", "--format", output_format]
    whole = run(*args)
    assert "0.5055202066613396" in whole and "1.655336489125606" in whole
    shown = run(*args, "--digits", "3")
    assert "0.506" in shown and "1.66" in shown
    assert "0.5055202066613396" not in shown and "1.655336489125606" not in shown


def test_digits_in_grad_graph_file(tmp_path):
    path = tmp_path / "g.dot"
    run("grad", "x*w + sin(x)", "x=0.3", "w=0.7", "--no-check", "--digits", "3",
        "--graph", str(path))
    assert "grad 1.66" in path.read_text(encoding="utf-8")


def test_the_api_renders_with_digits():
    from backtrace_cli import grad
    from backtrace_cli.errors import BacktraceError

    result = grad("sum(sigmoid(W @ x + b))", {"W": [[0.1, 0.2], [0.3, 0.4]], "x": [1, 2],
                                              "b": [0.5, -0.5]}, cross_check=False)
    assert "output z = 1.377" in result.render("table", digits=4)
    assert json.loads(result.render("json", digits=4))["output"] == 1.3767148848558004
    for bad in (0, 18, 2.5, True):
        with pytest.raises(BacktraceError, match="digits must be a whole number from 1 to 17"):
            result.render("table", digits=bad)
