"""No code execution, ever: known injection payloads in every place the CLI reads text.

Each payload goes into each input of the command line: EXPR (as an argument, from a file with
``@FILE``, from stdin), a binding's name and value, ``--dz``, ``--wrt``, the ``graph``
command, and ``train``'s ``--model``, ``--loss``, ``--param`` (name and value), ``--predict``,
``--target`` and a CSV header or cell. Every one must end in exit 2 with one clean message on
stderr (no traceback, no raw control character), and nothing may run: the payloads that
would create the file ``MARKER`` in the working directory (a fresh ``tmp_path``) leave no
file behind, and no text a user typed ever reaches ``eval``, ``exec`` or ``compile`` (spied
on for the whole invocation; SymPy's string parser goes through ``eval`` too).

A few payloads also run through a real ``python -m backtrace_cli`` process.
"""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from backtrace_cli.cli.main import main

MARKER = "MARKER"

# Python code, in every disguise a pasted "formula" could carry it.
PAYLOADS = [
    # calling into the os module
    "__import__('os').system('touch MARKER')",
    '__import__("os").system("touch MARKER")',
    "x + __import__('os').system('touch MARKER')",
    "os.system('touch MARKER')",
    "system('touch MARKER')",
    "open('MARKER','w')",
    "open('MARKER', 'w').write('x')",
    "globals()",
    "__builtins__",
    # dunder and attribute chains
    "(1).__class__.__bases__",
    "x.__class__",
    "().__class__.__mro__",
    "().__class__.__mro__[1].__subclasses__()",
    "sin.__globals__",
    "sin(x).__class__",
    "x.real",
    "1 .real",
    "1.0.hex()",
    "_ = 1; __x",
    # lambdas, comprehensions, statements, keywords and other Python syntax
    "lambda: 1",
    "(lambda: __import__('os').system('touch MARKER'))()",
    "[c for c in ().__class__.__bases__]",
    "{c for c in (1,)}",
    "(c for c in (1,))",
    "x if x else x",
    "x and w",
    "not x",
    "x @ w",
    "x[0]",
    "x := 1",
    "import os",
    "from os import system",
    "None",
    "True",
    "...",
    # strings, f-strings, format strings
    "'x'",
    '"x"',
    "b'x'",
    "f'{x}'",
    "f\"{__import__('os').system('touch MARKER')}\"",
    "'{0.__class__}'.format(1)",
    "'%s' % x",
    # Python number forms that are not ours
    "0x10",
    "1_000",
    "1j",
    "0b1",
    # unicode look-alikes and invisible characters
    "\u0445",  # CYRILLIC SMALL LETTER HA, looks like x
    "\u0445 + 1",
    "\uff58*2",  # FULLWIDTH LATIN SMALL LETTER X
    "\u212f**x",  # SCRIPT SMALL E
    "\U0001d465",  # MATHEMATICAL ITALIC SMALL X
    "e\u0301",  # e with a combining acute accent
    "\u202ex",  # RIGHT-TO-LEFT OVERRIDE
    "x\u200b",  # ZERO WIDTH SPACE
    "x\ufeff",  # a byte order mark inside the text
    # eval and exec by name
    "eval('1')",
    "exec('import os')",
    "eval(\"__import__('os').system('touch MARKER')\")",
    "compile('1', '', 'eval')",
    # backslashes, NUL bytes, terminal escapes
    "x\\\nw",
    "x \\ w",
    "x\x00",
    "\x00",
    "x\x00__import__('os').system('touch MARKER')",
    "x\x1b[2J",
    "\x1b]0;owned\x07x",
    # statement and newline injection, shell syntax
    "x; import os",
    "x; import os; os.system('touch MARKER')",
    "x\nimport os",
    "x\n__import__('os').system('touch MARKER')",
    "x\r\nimport os",
    "x # a comment\n__import__('os')",
    "$(touch MARKER)",
    "`touch MARKER`",
    "x; touch MARKER",
]

LECTURE_CSV = "x,y\n1,2\n2,4\n3,6\n"


def _write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8", newline="")
    return path.name


def _grad_expr(payload, tmp_path):
    return ["grad", payload, "x=1"], None


def _grad_file(payload, tmp_path):
    return ["grad", "@" + _write(tmp_path / "expression.txt", payload), "x=1"], None


def _grad_stdin(payload, tmp_path):
    return ["grad", "-", "x=1"], payload


def _graph_expr(payload, tmp_path):
    return ["graph", payload, "x=1", "--format", "dot"], None


def _minimize_expr(payload, tmp_path):
    return ["minimize", payload, "x=1", "--steps", "1"], None


def _jacobian_expr(payload, tmp_path):
    return ["jacobian", payload, "x=1"], None


def _jacobian_wrt(payload, tmp_path):
    return ["jacobian", "[x*w, x]", "x=1", "w=2", "--wrt", payload], None


def _hessian_expr(payload, tmp_path):
    return ["hessian", payload, "x=1"], None


def _binding_value(payload, tmp_path):
    return ["grad", "x*w", "w=2", f"x={payload}"], None


def _binding_option_value(payload, tmp_path):
    return ["grad", "x*w", "w=2", "--x", payload], None


def _binding_name(payload, tmp_path):
    return ["grad", "x*w", "x=1", "w=2", f"{payload}=1"], None


def _dz(payload, tmp_path):
    return ["grad", "x*w", "x=1", "w=2", "--dz", payload], None


def _wrt(payload, tmp_path):
    return ["grad", "x*w", "x=1", "w=2", "--wrt", payload], None


def _quiz_expr(payload, tmp_path):
    return ["quiz", payload, "x=1"], None


def _grade_expr(payload, tmp_path):
    return ["grade", payload, "x=1", "--answers", _write(tmp_path / "a.json", "{}")], None


def _grade_answer_key(payload, tmp_path):
    answers = _write(tmp_path / "a.json", json.dumps({"gradients": {payload: 1}}))
    return ["grade", "x*w", "x=1", "w=2", "--answers", answers], None


def _grade_answer_value(payload, tmp_path):
    answers = _write(tmp_path / "a.json", json.dumps({"gradients": {"x": payload}}))
    return ["grade", "x*w", "x=1", "w=2", "--answers", answers], None


def _grade_worksheet_value(payload, tmp_path):
    row = payload.replace("|", "").replace("\n", " ").replace("\r", " ")
    sheet = ("| # | kind | cell | meaning | answer |\n| --- | --- | --- | --- | --- |\n"
             f"| 1 | gradient | x | dz/dx | {' '.join(row.split()) or '?'} |\n")
    return ["grade", "x*w", "x=1", "w=2", "--answers", _write(tmp_path / "a.md", sheet)], None


def _train(*options: str):
    def build(payload, tmp_path):
        csv = _write(tmp_path / "data.csv", LECTURE_CSV)
        return ["train", csv, *(option.format(payload=payload) for option in options)], None

    return build


def _csv(text: str, *options: str):
    def build(payload, tmp_path):
        csv = _write(tmp_path / "data.csv", text.format(payload=payload))
        return ["train", csv, "--epochs", "1", *options], None

    return build


POSITIONS = {
    "grad EXPR": _grad_expr,
    "grad @FILE": _grad_file,
    "grad stdin": _grad_stdin,
    "graph EXPR": _graph_expr,
    "minimize EXPR": _minimize_expr,
    "hessian EXPR": _hessian_expr,
    "binding value": _binding_value,
    "--x value": _binding_option_value,
    "binding name": _binding_name,
    "--dz": _dz,
    "--wrt": _wrt,
    "quiz EXPR": _quiz_expr,
    "grade EXPR": _grade_expr,
    "grade answers key": _grade_answer_key,
    "grade answers value": _grade_answer_value,
    "grade worksheet answer": _grade_worksheet_value,
    "jacobian EXPR": _jacobian_expr,
    "jacobian --wrt": _jacobian_wrt,
    "train --model": _train("--model", "{payload}"),
    "train --loss": _train("--loss", "{payload}"),
    "train --param value": _train("--param", "w={payload}"),
    "train --param name": _train("--param", "{payload}=1"),
    "train --predict": _train("--predict", "{payload}"),
    "train --predict name": _train("--predict", "{payload}=1"),
    "train --target": _train("--target", "{payload}"),
    "CSV header": _csv("{payload},y\n1,2\n"),
    "CSV cell": _csv("x,y\n1,2\n{payload},4\n"),
    "CSV cell, streamed": _csv("x,y\n1,2\n{payload},4\n", "--stream"),
}

# Not an injection there: "x" is CSV's quoting of the header name x (and is read as x).
LEGITIMATE = {("CSV header", '"x"')}

CASES = [
    pytest.param(position, payload, id=f"{position}-{index}")
    for position in POSITIONS
    for index, payload in enumerate(PAYLOADS)
    if (position, payload) not in LEGITIMATE
]


@pytest.fixture
def spied_code_paths(monkeypatch):
    """Every source text handed to eval, exec or compile while the CLI runs."""
    seen: list[str] = []

    def spy(real):
        def wrapper(source, *args, **kwargs):
            if isinstance(source, (str, bytes)):
                seen.append(source if isinstance(source, str) else source.decode("latin-1"))
            return real(source, *args, **kwargs)

        return wrapper

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, spy(getattr(builtins, name)))
    return seen


def assert_refused_and_nothing_ran(result, tmp_path, inputs: set[str]) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout[-500:], result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    stderr = result.stderr
    assert stderr.strip(), "a message on stderr"
    assert "Error: " in stderr
    assert "Traceback" not in stderr
    # No raw control character reaches the terminal (they are shown as U+FFFD).
    assert all(char.isprintable() or char in "\n" for char in stderr), repr(stderr)
    assert not (tmp_path / MARKER).exists()
    assert set(os.listdir(tmp_path)) == inputs


@pytest.mark.parametrize(("position", "payload"), CASES)
def test_payload_is_refused_and_nothing_runs(position, payload, tmp_path, monkeypatch,
                                             spied_code_paths):
    monkeypatch.chdir(tmp_path)
    args, stdin = POSITIONS[position](payload, tmp_path)
    inputs = set(os.listdir(tmp_path))
    result = CliRunner().invoke(main, args, input=stdin)
    assert_refused_and_nothing_ran(result, tmp_path, inputs)
    # The payload's own text never reached eval/exec/compile. (Ours do run: the op table's
    # templates and dataclasses' generated methods; none of them holds user text.)
    distinctive = [part for part in ("MARKER", "__import__", "__class__", "lambda", "import os")
                   if part in payload]
    for source in spied_code_paths:
        for part in distinctive:
            assert part not in source, (part, source[:200])


def test_there_are_many_payloads_and_positions():
    # The docstring promises every input; keep the tables from shrinking unnoticed.
    assert len(PAYLOADS) >= 70
    assert len(POSITIONS) >= 19
    assert len(set(PAYLOADS)) == len(PAYLOADS)


# ----------------------------------------------------------------------------- real processes
SUBPROCESS_PAYLOADS = [
    "__import__('os').system('touch MARKER')",
    "open('MARKER','w')",
    "(1).__class__.__bases__",
    "[c for c in ().__class__.__bases__]",
    "'{0.__class__}'.format(1)",
    "\u0445 + \uff58",
    "x; import os; os.system('touch MARKER')",
]


def _run(tmp_path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "backtrace_cli", *args], cwd=tmp_path, input=stdin,
        capture_output=True, text=True, encoding="utf-8", timeout=60, env=environment,
    )


def _assert_process_refused(done, tmp_path, inputs: set[str]) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("Error: ")
    assert "Traceback" not in done.stderr
    assert set(os.listdir(tmp_path)) == inputs


@pytest.mark.parametrize("payload", SUBPROCESS_PAYLOADS)
def test_payload_in_a_real_process(payload, tmp_path):
    _assert_process_refused(_run(tmp_path, "grad", payload, "x=1"), tmp_path, set())


def test_payloads_from_a_file_stdin_and_train_in_a_real_process(tmp_path):
    program = "x = 1\n__import__('os').system('touch MARKER')\x00\n"
    (tmp_path / "program.txt").write_text(program, encoding="utf-8")
    (tmp_path / "data.csv").write_text(LECTURE_CSV, encoding="utf-8")
    inputs = {"program.txt", "data.csv"}
    _assert_process_refused(_run(tmp_path, "grad", "@program.txt"), tmp_path, inputs)
    _assert_process_refused(_run(tmp_path, "grad", "-", stdin=program), tmp_path, inputs)
    for option in ("--model", "--loss"):
        done = _run(tmp_path, "train", "data.csv", option, "open('MARKER','w')")
        _assert_process_refused(done, tmp_path, inputs)


# ----------------------------------------------------------------------------- the terminal
# Every table, Markdown, LaTeX and graph prints the expression, comments included. So the
# parser refuses, in comments and white space too, any character that would act on a terminal.
TERMINAL_CONTROLS = ["\x1b[2J", "\x1b]0;owned\x07", "\x08", "\x00", "\x0b", "\x0c", "\x7f",
                     "\x9b", "\u202e", "\u2066", "\u200b", "\u2028", "\ufeff"]


@pytest.mark.parametrize("control", TERMINAL_CONTROLS)
@pytest.mark.parametrize("place", ["comment", "white space"])
def test_terminal_controls_in_comments_and_white_space_are_refused(control, place):
    source = f"x*w # note {control}" if place == "comment" else f"x *{control} w"
    result = CliRunner().invoke(main, ["grad", source, "x=1", "w=2"], color=True)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "holds" in result.stderr or "unexpected character" in result.stderr
    assert all(char.isprintable() or char in "\n" for char in result.stderr), result.stderr


def test_a_lone_carriage_return_is_refused_but_crlf_is_fine():
    assert CliRunner().invoke(main, ["grad", "x*w\r\n# ok\r\n", "x=1", "w=2"]).exit_code == 0
    result = CliRunner().invoke(main, ["grad", "x\r*w", "x=1", "w=2"])
    assert result.exit_code == 2
    assert "a lone carriage return" in result.stderr


OUTPUTS = [["grad", "--format", "table"], ["grad", "--format", "markdown"],
           ["grad", "--format", "latex"], ["grad", "--format", "json"],
           ["graph", "--format", "dot"], ["graph", "--format", "mermaid"],
           ["graph", "--format", "text"], ["jacobian", "--format", "table"],
           ["jacobian", "--format", "json"], ["jacobian", "--format", "latex"],
           ["hessian", "--format", "table"], ["hessian", "--format", "json"]]


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda output: " ".join(output))
def test_readable_unicode_in_a_comment_is_kept_and_every_output_is_safe(output):
    source = "y_hat = x*w  # ∂L/∂w, résumé, naïve\tand\u00a0more\r\nloss = (y_hat - y)**2"
    command, *options = output
    arguments = [command, source, "x=1", "w=2", "y=3", *options]
    if command in ("grad", "jacobian", "hessian"):
        arguments.append("--no-check")
    result = CliRunner().invoke(main, arguments, color=True)
    assert result.exit_code == 0, result.stderr
    assert all(char.isprintable() or char in "\n\t\u00a0" for char in result.stdout)
