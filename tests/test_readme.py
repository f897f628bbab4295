"""README.md's examples are real output: every ``$ backtrace`` command in a code block is run
and its output compared, and every ``>>>`` block runs as a doctest.

A command's expected output is the text up to the next ``$`` line or the end of the block;
a line ``...`` at the end means "and more" (only the lines before it are compared). Output
is compared as a terminal shows it (stdout and stderr), without trailing blanks.
"""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from backtrace_cli.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
# The English README and its Chinese walk-through (README.zh-CN.md) are checked alike.
READMES = ("README.md", "README.zh-CN.md")


def _blocks(name: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S)


BLOCKS = _blocks("README.md")


def _commands(block: str) -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) for each ``$ backtrace`` line of a block."""
    found: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ backtrace"):
            if found:
                found[-1][1].append(line)
            i += 1
            continue
        command = line[2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        found.append((command, []))
        i += 1
    return found


COMMANDS = [entry for name in READMES for block in _blocks(name) for entry in _commands(block)]
DOCTESTS = [block for block in BLOCKS if block.lstrip().startswith(">>>")]


def test_the_readme_has_examples_of_both_kinds():
    assert len(COMMANDS) >= 5
    assert len([entry for block in _blocks("README.zh-CN.md") for entry in _commands(block)]) >= 4
    assert DOCTESTS, "README.md should show the Python API with a >>> example"


@pytest.mark.parametrize("command, expected", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_readme_command_output(command, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("COLUMNS", raising=False)
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    while expected and not expected[-1].strip():
        expected = expected[:-1]
    # What a terminal shows: stdout and stderr together; trailing blanks are not compared.
    actual = [line.rstrip() for line in result.output.rstrip("\n").splitlines()]
    expected = [line.rstrip() for line in expected]
    if expected and expected[-1] == "...":
        expected = expected[:-1]
        actual = actual[: len(expected)]
    if actual != expected:
        # Numbers computed through NumPy's exp, tanh, ... (arrays) may differ in their last
        # bits on another CPU (docs/numerics.md), and a table's widths with them: compared
        # to 12 significant digits, with runs of spaces and rules taken as one; a number
        # below 1e-9 is a check's rounding noise (|ours - finite difference|), any such
        # number matches any other. Every other character must be the same.
        assert _loosely(actual) == _loosely(expected), (
            f"README.md shows other output for: {command}")


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_PADDING = re.compile(r"[ ━─═]{2,}")


def _rounded(found: re.Match) -> str:
    value = float(found.group())
    return "≈0" if abs(value) < 1e-9 else f"{value:.12g}"


def _loosely(lines: list[str]) -> list[str]:
    """The lines with every number rounded to 12 significant digits (below 1e-9: ≈0) and the
    padding of table cells (spaces, horizontal rules) reduced to one character."""
    rounded = [_NUMBER.sub(_rounded, line) for line in lines]
    return [_PADDING.sub(lambda found: found.group()[0], line) for line in rounded]


@pytest.mark.parametrize("block", DOCTESTS, ids=[f"doctest{i}" for i in range(len(DOCTESTS))])
def test_readme_python_examples(block, monkeypatch):
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    outcome = runner.summarize(verbose=False)
    assert outcome.failed == 0, f"{outcome.failed} README doctest example(s) failed"


def test_the_worksheet_excerpt_is_the_sample():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    excerpt = re.search(r"<!-- worksheet:[^\n]*-->\n(.*?)<!-- /worksheet -->", readme, re.S)
    assert excerpt, "README.md should show the sample worksheet"
    sample = (ROOT / "samples" / "lecture-worksheet.md").read_text(encoding="utf-8")
    assert excerpt.group(1).strip() in sample
