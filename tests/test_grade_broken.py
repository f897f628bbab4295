"""``grade`` refuses what it cannot read instead of dropping it (issue 21, item 15): a
worksheet's Answers row with too few or too many cells, an unknown kind, a # that is no blank's
number, a row given twice; a JSON number that is no finite float (1e999, NaN, Infinity) in
any section and at any depth. Each is exit 2 with the line (and column)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_bad_input, invoke

ROOT = Path(__file__).resolve().parent.parent
SHEET = (ROOT / "samples" / "lecture-worksheet.md").read_text(encoding="utf-8")
LECTURE = "y_hat = x*w; r = y_hat - y; loss = r**2"
BINDINGS = ("x=1", "y=2", "w=1")


def _row(number: int) -> tuple[int, str]:
    lines = SHEET.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"| {number} | "))
    return index, lines[index]


def _with_row(number: int, new: str) -> tuple[str, int]:
    lines = SHEET.splitlines()
    index, _old = _row(number)
    lines[index] = new
    return "\n".join(lines) + "\n", index + 1


def _graded(tmp_path, text: str, suffix: str):
    path = tmp_path / f"answers{suffix}"
    path.write_text(text, encoding="utf-8")
    return path, invoke("grade", LECTURE, *BINDINGS, "--answers", str(path))


def _cells(line: str) -> list[str]:
    return line.strip().strip("|").split("|")


SIX = "the Answers table's row has 6 cells; its header has 5"


@pytest.mark.parametrize("change, fragment", [
    (lambda cells: cells[:-1], "the Answers table's row has 4 cells; its header has 5"),
    (lambda cells: cells[:2], "the Answers table's row has 2 cells; its header has 5"),
    (lambda cells: [*cells[:-1], " 1 ", " 2 "], SIX),
    (lambda cells: [*cells[:-1], " 1 | 2 "], SIX),
])
def test_a_row_with_too_few_or_too_many_cells(tmp_path, change, fragment):
    _index, line = _row(3)
    text, number = _with_row(3, "|" + "|".join(change(_cells(line))) + "|")
    path, result = _graded(tmp_path, text, ".md")
    assert_bad_input(result, f"{path}, line {number}, column 1: {fragment}")


def test_a_row_of_an_unknown_kind(tmp_path):
    _index, line = _row(3)
    cells = _cells(line)
    cells[1] = " lokal "
    text, number = _with_row(3, "|" + "|".join(cells) + "|")
    path, result = _graded(tmp_path, text, ".md")
    assert_bad_input(result, f"{path}, line {number}, column 6: the Answers table's row 3 has "
                             "the kind 'lokal'; the kinds are forward, local, product, gradient")


def test_a_row_whose_number_is_no_blank(tmp_path):
    _index, line = _row(3)
    cells = _cells(line)
    cells[0] = " three "
    text, number = _with_row(3, "|" + "|".join(cells) + "|")
    path, result = _graded(tmp_path, text, ".md")
    assert_bad_input(result, f"{path}, line {number}, column 2: the Answers table's row has "
                             "'three' in its # column, not the number of a blank")


def test_a_row_given_twice(tmp_path):
    index, line = _row(3)
    lines = SHEET.splitlines()
    lines.insert(index + 1, line)
    path, result = _graded(tmp_path, "\n".join(lines) + "\n", ".md")
    assert_bad_input(result, f"{path}, line {index + 2}, column 2: the Answers table has row 3 "
                             "twice")


def test_a_table_that_is_no_worksheet(tmp_path):
    path, result = _graded(tmp_path, "| name | value |\n| --- | --- |\n| x | -2 |\n", ".md")
    assert_bad_input(result, f"{path}, line 1, column 1: no answers found")


def test_tables_after_the_answers_table_and_an_empty_row_are_fine(tmp_path):
    # The worksheet's own Grading table (one cell a row) follows the Answers table.
    assert "| command |" in SHEET
    text = SHEET.replace("| # | kind |", "| # | kind |", 1)
    _index, _line = _row(1)
    lines = text.splitlines()
    lines.insert(_index + 1, "|  |  |  |  |  |")
    path, result = _graded(tmp_path, "\n".join(lines) + "\n", ".md")
    assert result.exit_code == 0, result.stderr
    assert "No mistakes" in result.stdout or "no mistakes" in result.stdout.lower()


NOT_FINITE = ["1e999", "-1e999", "1E400", "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("literal", NOT_FINITE)
@pytest.mark.parametrize("section, cell", [("forward", "r"), ("local", "loss/r"),
                                           ("product", "loss/r"), ("gradients", "x")])
def test_a_number_that_is_no_finite_float_is_refused_in_place(tmp_path, literal, section, cell):
    text = '{\n  "' + section + '": {\n    "' + cell + '": ' + literal + "\n  }\n}\n"
    path, result = _graded(tmp_path, text, ".json")
    column = 5 + len(json.dumps(cell)) + 2
    assert_bad_input(result, f"{path}, line 3, column {column}: {section} '{cell}': {literal} "
                             "is not a finite number")


@pytest.mark.parametrize("literal", NOT_FINITE)
def test_inside_a_vector_the_item_itself_is_placed(tmp_path, literal):
    text = '{"gradients": {"W": [[1, 2],\n  [3, ' + literal + "]]}}"
    path = tmp_path / "answers.json"
    path.write_text(text, encoding="utf-8")
    result = invoke("grade", "sum(W)", "W=[[1, 2], [3, 4]]", "--answers", str(path))
    assert_bad_input(result, f"{path}, line 2, column 7: gradients 'W': {literal} is not a "
                             "finite number")


def test_a_worksheet_answer_that_overflows(tmp_path):
    _index, line = _row(3)
    text, number = _with_row(3, line.replace("________", "1e999"))
    path, result = _graded(tmp_path, text, ".md")
    assert_bad_input(result, f"{path}, line {number}, column", "1e999 is too large for a float")


@pytest.mark.parametrize("literal", NOT_FINITE)
def test_a_worksheet_vector_with_a_number_that_is_no_finite_float(tmp_path, literal):
    _index, line = _row(3)
    text, number = _with_row(3, line.replace("________", f"[1, {literal}]"))
    path, result = _graded(tmp_path, text, ".md")
    assert_bad_input(result, f"{path}, line {number}, column",
                     f"blank [3]: {literal} is not a finite number")
