"""The catalogue of errors: every subclass of ``errors.BacktraceError`` (found by walking
``__subclasses__()``), each with command lines that raise it, the exit code the contract
gives it, and a piece of its message. A new error class without an entry fails the test.

Each entry is checked end to end: the error that reached the CLI's one reporting place is of
that class (spied on ``cli.report_error``), the exit code is right, stderr holds one message
that starts with ``Error:`` and no traceback, and the message says what is wrong and where.
Entries marked ``hint`` also say how to fix it on a ``hint:`` line (the others say it in the
message itself, e.g. "--epochs must be between 1 and 10,000,000, not 0").

Read as a table, this is the list of what the CLI can say when the input is wrong.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from click.testing import CliRunner

from backtrace_cli.cli import main as cli
from backtrace_cli.errors import BacktraceError, ExpressionError


class Entry(NamedTuple):
    args: tuple[str, ...]
    exit_code: int
    message: str  # a piece of the message
    hint: bool = True  # a "hint:" line says how to fix it
    env: dict[str, str] = {}
    files: dict[str, str] = {}  # name -> contents, written to tmp_path


LECTURE_CSV = "x,y\n1,2\n2,4\n3,6\n"

CATALOGUE: dict[str, list[Entry]] = {
    "ExpressionError": [  # the base of the errors drawn with a caret under the expression
        Entry(("grad", "x +* w", "x=1", "w=1"), 2, "expected a value, found '*'", hint=False),
    ],
    "ParseError": [
        Entry(("grad", "sinn(x)", "x=1"), 2, "unknown function 'sinn'"),
        Entry(("grad", "2x", "x=1"), 2, "malformed number '2x'"),
        Entry(("grad", "__import__('os')"), 2, "names starting with '__' are not allowed",
              hint=False),
        Entry(("grad", "'x'"), 2, "strings are not allowed in expressions", hint=False),
        Entry(("grad", "x # \x1b[2J", "x=1"), 2, "a comment holds '\\x1b'"),
        Entry(("grad", "lambda: 1"), 2, "'lambda' is a Python keyword"),
        Entry(("grad", "(x", "x=1"), 2, "expected ')' to close the '(' at column 1", hint=False),
        Entry(("grad", "x; w", "x=1", "w=1"), 2, "this statement's value is never used"),
        Entry(("grad", " "), 2, "the expression is empty", hint=False),
        Entry(("train", "--model", "x*"), 2, "expected a value after '*'", hint=False),
    ],
    "ShapeError": [
        Entry(("grad", "sum(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1, 2, 3]"), 2,
              "@ needs the inner sizes to match", hint=False),
        Entry(("minimize", "[x, 2*x]", "x=1"), 2, "only a scalar can be minimised"),
        Entry(("hessian", "x*2", "x=[1, 2]"), 2, "second derivatives need a scalar output"),
    ],
    "LimitError": [
        Entry(("grad", "(" * 250 + "x" + ")" * 250, "x=1"), 2,
              "nested too deeply (limit 200 levels)"),
        Entry(("grad", "x+x+x+x", "x=1"), 2, "too long (7 characters, limit 5)",
              env={"BACKTRACE_MAX_LENGTH": "5"}),
        Entry(("grad", "@expr.txt", "x=1"), 2, "the expression in expr.txt is too long",
              env={"BACKTRACE_MAX_LENGTH": "5"}, files={"expr.txt": "x+x+x+x"}),
        Entry(("grad", "a = x; b = a; b", "x=1"), 2, "too many statements (limit 2)",
              env={"BACKTRACE_MAX_STATEMENTS": "2"}),
        Entry(("grad", "x+x+x+x", "x=1"), 2, "the graph has more than 3 nodes",
              env={"BACKTRACE_MAX_NODES": "3"}),
        Entry(("hessian", "sin(x)*cos(x)", "x=1"), 2,
              "the graph of the derivative has more than 8 nodes",
              env={"BACKTRACE_MAX_NODES": "8"}),
    ],
    "EvaluationError": [
        Entry(("grad", "log(x)", "x=-1"), 2, "log(-1) is undefined at node v2: log(x)"),
        Entry(("hessian", "log(x)*y", "x=-1", "y=1"), 2, "log(-1) is undefined at node v2"),
        Entry(("grad", "1/x", "x=0"), 2, "1/0 is undefined at node v3: 1/x"),
        Entry(("grad", "exp(x)", "x=1000"), 2, "exp(1000) overflows a float"),
        Entry(("grad", "sqrt(x)", "x=0"), 2, "the derivative of sqrt(0) with respect to x"),
        Entry(("grad", "x*w", "x=1"), 2, "the variable 'w' has no value"),
        Entry(("grad", "x*w", "x=1", "w=1e10", "--dz", "1e300"), 2,
              "the gradient with respect to x overflows a float"),
        Entry(("train", "data.csv", "--model", "log(x*w)", "--param", "w=-1"), 2,
              "log(-1) is undefined", files={"data.csv": LECTURE_CSV}),
    ],
    "BindingError": [
        Entry(("grad", "x*2", "x=1", "y=2"), 2, "the binding 'y' is not used by the expression",
              hint=False),
        Entry(("grad", "x*w", "x=1", "w=2", "ww=3"), 2, "the binding 'ww' is not used"),
        Entry(("grad", "x*2", "x=1", "x=2"), 2, "the variable 'x' is given twice"),
        Entry(("grad", "x*y", "x=1", "y=2", "--order", "2"), 2,
              "derivatives of higher order are taken in one variable"),
        Entry(("hessian", "x*y", "x=1", "y=2", "--wrt", "z"), 2, "wrt names 'z'", hint=False),
        Entry(("grad", "x*2", "x=abc"), 2, "x: 'abc' is not a number"),
        Entry(("grad", "x*2", "x=1e400"), 2, "x: 1e400 is too large for a float"),
        Entry(("grad", "x*2", "x=nan"), 2, "'nan' is not allowed; values must be finite",
              hint=False),
        Entry(("grad", "x*2", "--x"), 2, "--x needs a value"),
        Entry(("grad", "x*2", "x=1", "oops"), 2, "unexpected argument 'oops'"),
        Entry(("grad", "x*2", "=1"), 2, "the binding '=1' has no variable name"),
        Entry(("grad", "x*2", "2x=1"), 2, "'2x' is not a valid variable name"),
        Entry(("grad", "x*pi", "x=1", "pi=3"), 2, "'pi' is a constant", hint=False),
        Entry(("grad", "x*w", "x=1", "w=2", "--wrt", "ww"), 2, "--wrt names 'ww'"),
        Entry(("grad", "y_hat = x*w; y_hat*2", "x=1", "w=2", "--wrt", "y_ht"), 2,
              "its named steps: y_hat"),
        Entry(("jacobian", "[x*w, x]", "x=1", "w=2", "--wrt", "ww"), 2, "--wrt names 'ww'"),
        Entry(("grad", "x*w", "x=1", "w=2", "--dz", "abc"), 2, "--dz: 'abc' is not a number"),
        Entry(("train", "--predict", "x=abc"), 2, "--predict x: 'abc' is not a number"),
    ],
    "DataError": [
        Entry(("train", "data.csv"), 2, "data.csv, line 3, column 2: 'abc' is not a number",
              hint=False, files={"data.csv": "x,y\n1,2\n2,abc\n"}),
        Entry(("train", "data.csv"), 2, "line 2: expected 2 fields, found 3",
              files={"data.csv": "x,y\n1,2,3\n"}),
        Entry(("train", "missing.csv"), 2, "missing.csv: no such file", hint=False),
        Entry(("train", "data.csv", "--target", "Y"), 2, "the target column 'Y' is not in",
              files={"data.csv": LECTURE_CSV}),
        Entry(("train", "data.csv", "--model", "w*q"), 2, "the model uses no column",
              files={"data.csv": LECTURE_CSV}),
        Entry(("train", "data.csv", "--dtype", "float32"), 2, "does not fit in float32",
              files={"data.csv": "x,y\n1e300,2\n"}),

        Entry(("grade", "x*w", "x=1", "w=2", "--answers", "a.json"), 2,
              "a.json, line 1, column 13: not valid JSON", files={"a.json": '{"forward": }'}),
        Entry(("grade", "x*w", "x=1", "w=2", "--answers", "a.json"), 2,
              "a.json, line 1, column 2: unknown section 'gradient'",
              files={"a.json": '{"gradient": {"x": 2}}'}),
        Entry(("grade", "x*w", "x=1", "w=2", "--answers", "a.json"), 2,
              "a.json, line 1, column 21: gradients 'x': \"two\" is not a number",
              files={"a.json": '{"gradients": {"x": "two"}}'}),
        Entry(("grade", "x*w", "x=1", "w=2", "--answers", "a.json"), 2,
              "a.json, line 1, column 16: 'q' names no gradient cell",
              files={"a.json": '{"gradients": {"q": 2}}'}),
    ],
    "UsageError": [
        Entry(("train", "--epochs", "0"), 2, "--epochs must be between 1 and 10,000,000, not 0",
              hint=False),
        Entry(("minimize", "x**2", "x=1", "--steps", "0"), 2,
              "--steps must be a whole number between 1 and 1,000,000, not 0", hint=False),
        Entry(("minimize", "x**2", "x=1", "--method", "newton", "--lr", "0.1"), 2,
              "--lr is not used by newton"),
        Entry(("train", "--batch-size", "two"), 2, "--batch-size: 'two' is not a whole number",
              hint=False),
        Entry(("train", "--lr", "-1"), 2, "--lr must be a finite number above 0", hint=False),
        Entry(("train", "--param", "=1"), 2, "the parameter's name is missing"),
        Entry(("quiz", "--level", "2"), 2, "--level draws a random program: it needs --random"),
        Entry(("quiz", "x*w", "x=1", "w=2", "--blank", "grads"), 2,
              "--blank names 'grads', which is not a kind of cell"),
        Entry(("quiz", "x", "x=1", "--seed", "2"), 2, "--seed draws a random program"),
        Entry(("train", "--param", "w=1", "--param", "w=2"), 2,
              "the parameter 'w' is given twice"),
        Entry(("train", "--param", "q=1"), 2, "the model has no parameter 'q'", hint=False),
        Entry(("train", "data.csv", "--param", "x=1"), 2, "'x' is a column of the data",
              files={"data.csv": LECTURE_CSV}),
        Entry(("train", "--init", "init.json"), 2, "not valid JSON (line 1, column 2",
              files={"init.json": "{oops"}),
        Entry(("train", "--init", "missing.json"), 2, "--init missing.json: no such file",
              hint=False),
        Entry(("train", "--explain-step", "1000"), 2, "training makes only 300 updates"),
        Entry(("train", "--loss", "(y_hat - q)**2"), 2, "--loss may use only y_hat and y"),
        Entry(("train", "--stream"), 2, "--stream reads a CSV file", hint=False),
        Entry(("train", "--plot", "loss.pdf"), 2, "the file name must end in .svg or .png",
              hint=False),
        Entry(("jacobian", "x", "x=1", "--check-timeout", "-1"), 2,
              "--check-timeout must be a finite number of seconds", hint=False),
        Entry(("grad", "@missing.txt"), 2, "cannot read missing.txt: no such file"),
        Entry(("grad", "@expr.txt"), 2, "cannot read expr.txt: not UTF-8 text",
              files={"expr.txt": "\udcff"}),
        Entry(("graph", "x", "x=1", "--format", "svg"), 2, "--format svg writes a picture"),
        Entry(("graph", "x", "x=1", "-o", "graph.pdf"), 2, "cannot tell the format"),
        Entry(("grad", "x*w", "x=1", "w=2", "--step"), 2,
              "--step needs a terminal, and stdin is not one"),
        Entry(("grad", "x*w", "x=1", "w=2", "-o", "page.html", "--format", "json"), 2,
              "the file name page.html says html, but --format is json"),
        Entry(("grad", "x", "x=1"), 2, "BACKTRACE_MAX_DEPTH='5k' is not a whole number",
              env={"BACKTRACE_MAX_DEPTH": "5k"}),
    ],
    "OutputError": [
        Entry(("graph", "x*w", "x=1", "w=2", "-o", "missing/graph.dot"), 2,
              "cannot write missing/graph.dot: the folder missing does not exist", hint=False),
        Entry(("train", "--save", "missing/params.json"), 2,
              "--save missing/params.json: cannot write it, the folder", hint=False),
        Entry(("train", "--save", "."), 2, "it is a directory", hint=False),
    ],
    "ScriptError": [  # backtrace run SCRIPT
        Entry(("run", "nope.py"), 2, "the script nope.py does not exist", hint=False),
        Entry(("run", "."), 2, "the script . is a directory: name the .py file to run",
              hint=False),
    ],
    "TorchUnavailable": [  # backtrace run --compare
        Entry(("run", "--compare", "--python", "./no-python", "ok.py"), 2,
              "the Python interpreter ./no-python cannot be started",
              files={"ok.py": "print(1)\n"}),
    ],
    "DivergedError": [
        Entry(("train", "--lr", "1", "--epochs", "2000"), 1,
              "training diverged at epoch 75, update 225 (data row 3)"),
        Entry(("minimize", "x**2", "x=3", "--lr", "2", "--steps", "2000"), 1,
              "minimize diverged at step 323"),
        Entry(("minimize", "x*y", "x=1", "y=1", "--method", "newton"), 1,
              "newton cannot take step 1: the Hessian is indefinite"),
    ],
}
# Classes that are bases of others and never raised themselves: an entry may raise a subclass.
ABSTRACT = {"ExpressionError"}


def error_classes() -> list[type]:
    found, stack = [], list(BacktraceError.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in found:
            found.append(cls)
            stack.extend(cls.__subclasses__())
    return found


def test_every_error_class_has_an_entry():
    names = {cls.__name__ for cls in error_classes()}
    assert names == set(CATALOGUE), (
        f"without an entry: {sorted(names - set(CATALOGUE))}; "
        f"entries for no class: {sorted(set(CATALOGUE) - names)}")
    assert ABSTRACT <= {cls.__name__ for cls in error_classes() if issubclass(cls, ExpressionError)}


def test_exit_codes_follow_the_contract():
    for cls in error_classes():
        expected = 1 if cls.__name__ == "DivergedError" else 2
        assert cls.exit_code == expected, cls
        assert all(entry.exit_code == expected for entry in CATALOGUE[cls.__name__])


CASES = [
    pytest.param(name, entry, id=f"{name}-{index}")
    for name, entries in CATALOGUE.items()
    for index, entry in enumerate(entries)
]


@pytest.mark.parametrize(("name", "entry"), CASES)
def test_catalogue_entry(name, entry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for variable, value in entry.env.items():
        monkeypatch.setenv(variable, value)
    for file_name, contents in entry.files.items():
        (tmp_path / file_name).write_bytes(contents.encode("utf-8", "surrogateescape"))
    reported: list[BacktraceError] = []
    real_report = cli.report_error

    def spy(error: BacktraceError) -> None:
        reported.append(error)
        real_report(error)

    monkeypatch.setattr(cli, "report_error", spy)
    result = CliRunner().invoke(cli.main, list(entry.args))

    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == entry.exit_code, (result.stdout[-300:], result.stderr)
    assert len(reported) == 1, "one error, reported in one place"
    error = reported[0]
    if name in ABSTRACT:
        assert isinstance(error, next(c for c in error_classes() if c.__name__ == name))
    else:
        assert type(error).__name__ == name, type(error)
    stderr = result.stderr
    while stderr.startswith("Warning: "):  # a run's warnings (a growing loss) come first
        stderr = stderr.split("\n", 1)[1]
    assert stderr.startswith("Error: ")
    assert stderr.count("Error: ") == 1
    assert "Traceback" not in stderr
    assert entry.message in stderr, (entry.message, stderr)
    if entry.exit_code == 2:
        assert result.stdout == ""  # bad input: nothing half-done on stdout
    if isinstance(error, ExpressionError):
        assert "^" in stderr and "(at " in stderr  # where: a caret under the column
    if entry.hint:
        assert "\n  hint: " in stderr, stderr
