"""A worksheet as LaTeX compiles with pdflatex (where TeX is installed), for each level."""

from __future__ import annotations

import pytest
from helpers import invoke
from test_latex import compile_latex, needs_tex


def worksheet_latex(*args: str) -> str:
    result = invoke("quiz", *args, "--format", "latex")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_worksheet_has_its_blanks_and_room_to_write():
    text = worksheet_latex("y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1")
    assert text.isascii()
    assert text.count(r"\rule{2.5cm}{0.4pt}") == 16
    assert "[16]" in text and "[17]" not in text
    assert text.count(r"\begin{tabular}") + text.count(r"\begin{longtable}") == 5


@needs_tex
@pytest.mark.parametrize("args", [
    ("y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1"),
    ("--random", "--level", "2", "--seed", "3"),
    ("--random", "--level", "3", "--seed", "7"),
], ids=["lecture", "level-2", "level-3-vectors"])
def test_the_worksheet_compiles(tmp_path, args):
    compile_latex(tmp_path, worksheet_latex(*args))
