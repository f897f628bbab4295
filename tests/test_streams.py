"""stdout and stderr as a real process has them (cli/streams.py), for every command.

- stdout that cannot be written (``> /dev/full``, ``>&-``): one line on stderr, exit 2, and
  the files the command writes are still written (issue 21, item 4);
- a terminal whose encoding lacks characters (``PYTHONIOENCODING=ascii``, ``latin-1``,
  ``cp1252``): the output degrades, nothing crashes (item 5);
- a pipe whose reader has gone: exit 141, quietly, also ``--help`` and ``--version`` and the
  outputs written with ``-`` (item 8).

Real processes and real pipes, not CliRunner. A closed pipe is closed before the child
starts (its read end is closed first), so the child meets it whatever the timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backtrace_cli.cli.main import EXIT_CLOSED_PIPE
from backtrace_cli.cli.streams import fallback

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "BACKTRACE_LANG": "en"}
for _name in ("COLUMNS", "PYTHONIOENCODING", "NO_COLOR"):
    ENV.pop(_name, None)

ANSWERS = '{"gradients": {"x": 2}}'

# One short run of every command (the SymPy check off where a command has it: these tests
# are about the streams, not the numbers).
COMMANDS = {
    "grad": ["grad", "x*w + θ", "x=1", "w=2", "θ=3", "--no-check"],
    "jacobian": ["jacobian", "[x*w, x]", "x=1", "w=2", "--no-check"],
    "hessian": ["hessian", "x*w*x", "x=1", "w=2", "--no-check"],
    "graph": ["graph", "x*w + θ", "x=1", "w=2", "θ=3", "--format", "text"],
    "simplify": ["simplify", "w*x + b", "w=2", "x=1", "b=0"],
    "train": ["train", "--epochs", "2"],
    "minimize": ["minimize", "x**2", "x=1", "--steps", "2"],
    "quiz": ["quiz", "x*w", "x=1", "w=2"],
    "grade": ["grade", "x*w", "x=1", "w=2", "--answers", "ANSWERS"],
}


def _args(args: list[str], folder: Path) -> list[str]:
    answers = folder / "answers.json"
    if "ANSWERS" in args and not answers.exists():
        answers.write_text(ANSWERS, encoding="utf-8")
    return [str(answers) if arg == "ANSWERS" else arg for arg in args]


def run(args, folder: Path, stdout=subprocess.PIPE, env=None, shell_suffix=None):
    """``python -m backtrace_cli ARGS`` (or, with ``shell_suffix``, through bash with that
    redirection), its stdout, stderr and exit code."""
    command = [sys.executable, "-m", "backtrace_cli", *_args(list(args), folder)]
    if shell_suffix is not None:
        import shlex

        command = ["bash", "-c", shlex.join(command) + " " + shell_suffix]
    return subprocess.run(command, env=env or ENV, cwd=folder, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=300)


# ------------------------------------------------------------------ item 4: failed stdout
@pytest.mark.parametrize("name", COMMANDS)
def test_stdout_on_a_full_disk_is_one_line_and_exit_2(name, tmp_path):
    with open("/dev/full", "wb") as full:
        result = run(COMMANDS[name], tmp_path, stdout=full)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert stderr.endswith("Error: cannot write to standard output: No space left on device\n")
    assert stderr.count("Error") == 1 and "Traceback" not in stderr


@pytest.mark.parametrize("name", COMMANDS)
def test_a_closed_stdout_is_one_line_and_exit_2(name, tmp_path):
    result = run(COMMANDS[name], tmp_path, stdout=None, shell_suffix=">&-")
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert stderr.endswith("Error: cannot write to standard output: it is closed\n")
    assert stderr.count("Error") == 1 and "Traceback" not in stderr


@pytest.mark.parametrize("args, written", [
    (["grad", "x*w", "x=1", "w=2", "--no-check", "--graph", "-", "-o", "report.json"],
     "report.json"),
    (["train", "--epochs", "2", "--save", "params.json"], "params.json"),
    (["train", "--epochs", "2", "--plot", "loss.svg"], "loss.svg"),
    (["quiz", "x*w", "x=1", "w=2", "--answers", "key.json"], "key.json"),
], ids=["grad --graph - -o", "train --save", "train --plot", "quiz --answers"])
@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"])
def test_a_file_is_written_although_stdout_failed(args, written, redirect, tmp_path):
    result = run(args, tmp_path, stdout=None, shell_suffix=redirect)
    assert result.returncode == 2, result.stderr
    assert "cannot write to standard output" in result.stderr.decode()
    assert (tmp_path / written).stat().st_size > 0
    if written.endswith(".json"):
        json.loads((tmp_path / written).read_text(encoding="utf-8"))


def test_nothing_for_stdout_and_stdout_closed_is_success(tmp_path):
    # -o takes the report: nothing had to reach stdout, so nothing failed.
    result = run(["grad", "x*w", "x=1", "w=2", "--no-check", "-o", "r.txt"], tmp_path,
                 stdout=None, shell_suffix=">&-")
    assert (result.returncode, result.stderr) == (0, b"")
    assert "Gradients" in (tmp_path / "r.txt").read_text(encoding="utf-8")


def test_a_closed_stdout_does_not_lend_its_number_to_a_file(tmp_path):
    # With fd 1 closed, the first file opened would get number 1 and receive the report.
    result = run(["grad", "x*w", "x=1", "w=2", "--no-check", "-o", "r.json",
                  "--graph", "g.dot"], tmp_path, stdout=None, shell_suffix=">&-")
    assert result.returncode == 0, result.stderr
    json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")


def test_stderr_on_a_full_disk_changes_nothing(tmp_path):
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "backtrace_cli", "grad", "x*", "x=1"],
                                env=ENV, cwd=tmp_path, stdout=subprocess.PIPE, stderr=full,
                                timeout=300)
    assert result.returncode == 2 and result.stdout == b""


# ------------------------------------------------------------------ item 8: closed pipes
def run_into_closed_pipe(args, folder: Path):
    """Run with stdout a pipe whose reader is closed before the child starts."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "backtrace_cli",
                               *_args(list(args), folder)], env=ENV, cwd=folder,
                              stdout=write_end, stderr=subprocess.PIPE, timeout=300)
    finally:
        os.close(write_end)


CLOSED_PIPE_CASES = {
    **{f"{name}": args for name, args in COMMANDS.items()},
    "--help": ["--help"],
    "--version": ["--version"],
    **{f"{name} --help": [name, "--help"] for name in COMMANDS},
    "graph svg -o -": ["graph", "x*w", "x=1", "w=2", "--format", "svg", "-o", "-"],
    "graph png -o -": ["graph", "x*w", "x=1", "w=2", "--format", "png", "-o", "-"],
    "grad --graph -": ["grad", "x*w", "x=1", "w=2", "--no-check", "--graph", "-"],
    "train --save -": ["train", "--epochs", "2", "--save", "-"],
    "train --plot -": ["train", "--epochs", "2", "--plot", "-"],
    "quiz --answers -": ["quiz", "x*w", "x=1", "w=2", "-o", "sheet.md", "--answers", "-"],
    "grad --format json": ["grad", "x*w", "x=1", "w=2", "--no-check", "--format", "json"],
    "grad --format html": ["grad", "x*w", "x=1", "w=2", "--no-check", "--format", "html"],
    "minimize --format json": ["minimize", "x**2", "x=1", "--steps", "2", "--format", "json"],
}


@pytest.mark.parametrize("case", CLOSED_PIPE_CASES)
def test_a_closed_pipe_is_exit_141_quietly(case, tmp_path):
    result = run_into_closed_pipe(CLOSED_PIPE_CASES[case], tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == EXIT_CLOSED_PIPE, stderr
    assert "Error" not in stderr and "Traceback" not in stderr and "Exception" not in stderr


# ------------------------------------------------------------------ item 5: encodings
ENCODINGS = ["ascii", "latin-1", "cp1252"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_degrades_in_a_narrow_encoding(name, encoding, tmp_path):
    result = run(COMMANDS[name], tmp_path, env={**ENV, "PYTHONIOENCODING": encoding})
    stderr = result.stderr.decode(encoding)
    assert result.returncode == 0, stderr
    text = result.stdout.decode(encoding)  # every byte is the encoding's own
    assert "Traceback" not in stderr
    if name not in ("graph", "simplify"):  # a tree (Rich's ASCII guides) and lines
        assert "+--" in text and "|" in text, text  # ASCII box drawing, aligned
    if "θ" in " ".join(COMMANDS[name]):
        assert "\\u03b8" in text


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("output_format", ["json", "markdown", "latex", "html", "table"])
def test_every_grad_format_degrades(output_format, encoding, tmp_path):
    args = ["grad", "θ*w + sin(θ)", "θ=1", "w=2", "--no-check", "--format", output_format]
    wide = run(args, tmp_path)
    narrow = run(args, tmp_path, env={**ENV, "PYTHONIOENCODING": encoding})
    assert narrow.returncode == 0, narrow.stderr
    text = narrow.stdout.decode("utf-8" if output_format == "html" else encoding)
    if output_format == "json":  # the same document, in ASCII with \\u escapes: exact
        assert json.loads(text) == json.loads(wide.stdout.decode("utf-8"))
        assert narrow.stdout.isascii() and "\\u03b8" in text
    elif output_format == "html":  # the page says it is UTF-8: the bytes -o would write
        assert narrow.stdout == wide.stdout
    elif output_format == "latex":  # LaTeX spells θ itself
        assert "\\theta" in text
    else:
        assert "\\u03b8" in text


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("graph_format", ["text", "dot", "mermaid"])
def test_every_graph_text_format_degrades(graph_format, encoding, tmp_path):
    result = run(["graph", "θ*w", "θ=1", "w=2", "--format", graph_format], tmp_path,
                 env={**ENV, "PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr
    assert "\\u03b8" in result.stdout.decode(encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_errors_and_chinese_degrade_on_stderr(encoding, tmp_path):
    result = run(["--lang", "zh", "grad", "x*", "x=1"], tmp_path,
                 env={**ENV, "PYTHONIOENCODING": encoding})
    stderr = result.stderr.decode(encoding)
    assert result.returncode == 2
    assert "Traceback" not in stderr and "\\u9519\\u8bef" in stderr  # 错误


def test_a_utf8_terminal_is_untouched(tmp_path):
    result = run(COMMANDS["grad"], tmp_path, env={**ENV, "PYTHONIOENCODING": "utf-8"})
    text = result.stdout.decode("utf-8")
    assert "┏━" in text and "θ" in text and "·" in text


def test_the_fallbacks():
    assert [fallback(char) for char in "┏━┳┃│┡╇└─┴┘╭╰╴╵▇"] == list("+-+||+++-++++-|#")
    assert [fallback(char) for char in "·−✓✗←→²ᵀ…"] == [
        "*", "-", "v", "x", "<-", "->", "^2", "^T", "..."]
    assert fallback("θ") == "\\u03b8" and fallback("😀") == "\\ud83d\\ude00"
    assert "x⁻¹".encode("ascii", "backtrace-fallback") == b"x^-1"


def test_a_stdin_expression_is_utf8_whatever_the_encoding(tmp_path):
    result = subprocess.run([sys.executable, "-m", "backtrace_cli", "grad", "-", "θ=2",
                             "--no-check", "--format", "json"], input="θ*θ".encode(),
                            env={**ENV, "PYTHONIOENCODING": "ascii"}, cwd=tmp_path,
                            capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"θ": 4.0}
