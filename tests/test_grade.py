"""backtrace grade: verdicts for each kind of cell, carried mistakes, the first mistake with its
computation, name-keyed answers, filled-in worksheets, and unreadable answers files."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import assert_bad_input, invoke

from backtrace_cli import grade
from backtrace_cli.explain.grading import compare

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
LECTURE = "y_hat = x*w; r = y_hat - y; loss = r**2"
LECTURE_BINDINGS = ("x=1", "y=2", "w=1")


def graded(tmp_path, answers, *extra: str, expression: str = LECTURE,
           bindings=LECTURE_BINDINGS):
    """(exit code, JSON document) of grading ``answers`` (a dict, or text for the file)."""
    path = tmp_path / "answers.json"
    text = answers if isinstance(answers, str) else json.dumps(answers)
    path.write_text(text, encoding="utf-8")
    result = invoke("grade", expression, *bindings, "--answers", str(path), *extra,
                    "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    assert result.stderr == ""
    return result.exit_code, json.loads(result.stdout)


def verdicts(document) -> list[tuple[str, str, str]]:
    return [(cell["kind"], cell["key"], cell["verdict"]) for cell in document["cells"]]


# ----------------------------------------------------------------------------- verdicts
def test_the_key_grades_every_cell_right():
    result = invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers",
                    str(SAMPLES / "lecture-key.json"))
    assert result.exit_code == 0, result.stderr
    assert "Score: 16 of 16 cells right (16 right, 0 close, 0 wrong, 0 carried, 0 missing)." \
        in result.stdout
    assert "No mistakes." in result.stdout


def test_right_close_wrong_and_missing():
    # x/y = 1/3: six significant digits are right, four are close (rounding), two are wrong
    for given, verdict in ((1 / 3, "right"), (0.333333, "right"), (0.3333333, "right"),
                           (0.3333, "close"), (0.333, "close"), (0.33, "wrong"),
                           (-1 / 3, "wrong")):
        assert compare(given, 1 / 3) == verdict, given
    assert compare(0.0, 0.0) == "right" and compare(1e-9, 0.0) == "wrong"
    assert compare([1.0, 2.0], [1.0, 2.0001]) == "close"
    assert compare([1.0, 2.0], [1.0, 2.0, 3.0]) == "wrong"


def test_each_kind_gets_its_verdict(tmp_path):
    code, document = graded(tmp_path, {
        "forward": {"v3": 1, "v5": -1.0004, "v7": 1},
        "local": {"v7/v5": -2, "v5/v3": 1, "v5/v4": -1, "v3/v1": 1, "v3/v2": 1},
        "product": {"v7/v5": -2, "v5/v3": -2, "v5/v4": 2, "v3/v1": -2},
        "gradients": {"x": -2, "w": -2, "y": 3}})
    assert code == 1
    assert verdicts(document) == [
        ("forward", "v3", "right"), ("forward", "v5", "close"), ("forward", "v7", "right"),
        ("local", "v7/v5", "right"), ("product", "v7/v5", "right"),
        ("local", "v5/v3", "right"), ("product", "v5/v3", "right"),
        ("local", "v5/v4", "right"), ("product", "v5/v4", "right"),
        ("gradient", "y", "wrong"),
        ("local", "v3/v1", "right"), ("product", "v3/v1", "right"),
        ("gradient", "x", "right"),
        ("local", "v3/v2", "right"), ("product", "v3/v2", "missing"),
        ("gradient", "w", "right")]
    assert document["first_wrong"] == "y" and document["first_wrong_kind"] == "gradient"
    assert document["computation"] == "dloss/dy = dloss/dr · dr/dy = -2 · -1 = 2, you wrote 3"
    assert document["score"] == {"right": 13, "close": 1, "wrong": 1, "carried": 0,
                                 "missing": 1, "total": 16}
    assert document["cells"][1] == {"kind": "forward", "key": "v5", "given": -1.0004,
                                    "expected": -1.0, "verdict": "close"}
    assert document["cells"][14]["given"] is None


def test_nothing_wrong_is_exit_zero_even_with_missing_and_close_cells(tmp_path):
    code, document = graded(tmp_path, {"gradients": {"x": -2.0001}})
    assert code == 0
    assert verdicts(document) == [("gradient", "y", "missing"), ("gradient", "x", "close"),
                                  ("gradient", "w", "missing")]
    assert document["first_wrong"] is None and document["computation"] is None


def test_a_wrong_value_upstream_carries_two_edges_downstream(tmp_path):
    # r written as 1 (it is -1): dloss/dr = 2·r, the product of that edge, the product one
    # edge further down (into y_hat) and the gradient of w all follow from it.
    code, document = graded(tmp_path, {
        "forward": {"v3": 1, "v5": 1, "v7": 1},
        "local": {"v7/v5": 2},
        "product": {"v7/v5": 2, "v5/v3": 2, "v3/v2": 2},
        "gradients": {"w": 2, "x": 5}})
    assert code == 1
    found = {(kind, key): verdict for kind, key, verdict in verdicts(document)}
    assert found[("forward", "v5")] == "wrong"
    assert found[("forward", "v7")] == "right"  # 1**2 = (-1)**2
    assert found[("local", "v7/v5")] == "carried"
    assert found[("product", "v7/v5")] == "carried"
    assert found[("product", "v5/v3")] == "carried"
    assert found[("product", "v3/v2")] == "carried"  # two edges below the wrong r
    assert found[("gradient", "w")] == "carried"
    assert found[("gradient", "x")] == "wrong"  # 5 follows from nothing written
    assert document["first_wrong"] == "v5"
    assert document["computation"] == "r = y_hat - y = 1 - 2 = -1, you wrote 1"
    assert document["score"]["carried"] == 5 and document["score"]["wrong"] == 2


def test_a_wrong_local_derivative_is_shown_with_its_computation(tmp_path):
    result_path = tmp_path / "answers.json"
    result_path.write_text(json.dumps({"forward": {"r": -1}, "local": {"loss/r": 2}}))
    result = invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(result_path))
    assert result.exit_code == 1
    assert ("First mistake, local v7/v5: dloss/dr = 2·r^(2-1) = 2·(-1)^(2-1) = -2, "
            "you wrote 2\n") in result.stdout
    markdown = invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(result_path),
                      "--format", "markdown").stdout
    assert ("- First mistake, local v7/v5: `dloss/dr = 2·r^(2-1) = 2·(-1)^(2-1) = -2, "
            "you wrote 2`\n") in markdown
    assert "Score: 1 of 8 cells right (1 right, 0 close, 1 wrong, 0 carried, 6 missing)." \
        in result.stdout


def test_a_wrong_product_is_shown_with_its_computation(tmp_path):
    code, document = graded(tmp_path, {"product": {"r/y": -2}})
    assert code == 1
    assert document["first_wrong"] == "v5/v4"
    assert document["computation"] == "dloss/dr · dr/dy = (-2) · (-1) = 2, you wrote -2"


def test_name_keyed_answers_are_the_same_cells(tmp_path):
    by_name = {"forward": {"y_hat": 1, "r": -1, "loss": 1},
               "local": {"loss/r": -2, "r/y_hat": 1, "r/y": -1, "y_hat/x": 1, "y_hat/w": 1},
               "product": {"loss/r": -2, "r/y_hat": -2, "v5/y": 2, "y_hat/v1": -2,
                           "v3/w": -2},
               "gradients": {"x": -2, "w": -2, "y": 2}}
    code, document = graded(tmp_path, by_name)
    assert code == 0 and document["score"]["right"] == 16


def test_the_seed_dz_is_graded_as_grad_computes_it(tmp_path):
    code, document = graded(tmp_path, {"gradients": {"x": 15, "w": 10}}, "--dz", "5",
                            expression="x*w", bindings=("x=2", "w=3"))
    assert code == 0 and document["score"]["right"] == 2
    code, document = graded(tmp_path, {"gradients": {"x": 3, "w": 2}},
                            expression="x*w", bindings=("x=2", "w=3"))
    assert code == 0


def test_vectors_are_graded_element_by_element_and_carried(tmp_path):
    expression = "y_hat = sum(w*x) + b; r = y_hat - y; loss = r**2"
    bindings = ("w=[-2, 1]", "x=[-2, -2]", "b=-2", "y=-1")
    # w*x is [4, -2]; written as [4, 2] the sum 6 and what follows are carried
    code, document = graded(tmp_path, {"forward": {"v3": [4, 2], "v4": 6, "y_hat": 4,
                                                   "r": 5, "loss": 25},
                                       "gradients": {"w": [-4, -4], "x": [-4, 2]}},
                            expression=expression, bindings=bindings)
    assert code == 1
    assert verdicts(document) == [
        ("forward", "v3", "wrong"), ("forward", "v4", "carried"),
        ("forward", "v6", "carried"), ("forward", "v8", "carried"),
        ("forward", "v10", "carried"),
        ("gradient", "y", "missing"), ("gradient", "b", "missing"),
        ("gradient", "w", "right"), ("gradient", "x", "right")]
    assert document["cells"][0]["given"] == [4.0, 2.0]
    assert document["cells"][0]["expected"] == [4.0, -2.0]
    assert document["computation"] == "v3 = w*x = [-2, 1]*[-2, -2] = [4, -2], you wrote [4, 2]"


def test_a_variable_used_twice_by_one_op(tmp_path):
    code, document = graded(tmp_path, {"local": {"v2/v1": 3, "v2/v1#2": 4},
                                       "gradients": {"x": 6}},
                            expression="x*x", bindings=("x=3",))
    assert code == 1
    assert verdicts(document) == [("local", "v2/v1", "right"), ("local", "v2/v1#2", "wrong"),
                                  ("gradient", "x", "right")]


def test_the_api_grades_a_mapping():
    result = grade("x*w", {"x": 2, "w": 3}, answers={"gradients": {"x": 3, "w": 3}})
    assert result.score == {"right": 1, "close": 0, "wrong": 1, "carried": 0, "missing": 0,
                            "total": 2}
    assert result.first_wrong == "w" and not result.passed
    assert result.to_dict()["computation"] == "dL/dw = dL/dz · dz/dw = 1 · 2 = 2, you wrote 3"


# ----------------------------------------------------------------------------- worksheets
def fill(text: str, answers: dict[int, str]) -> str:
    """The sample worksheet with some answers written in its Answers table."""
    lines = []
    for line in text.splitlines():
        number = line.split("|")[1].strip() if line.startswith("| ") else ""
        if number.isdigit() and int(number) in answers and line.endswith("| ________ |"):
            line = line[: -len("________ |")] + answers[int(number)] + " |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_a_filled_in_worksheet_is_graded(tmp_path):
    sheet = (SAMPLES / "lecture-worksheet.md").read_text(encoding="utf-8")
    filled = fill(sheet, {1: "1", 2: "1", 3: "1", 4: "2", 5: "**2**", 14: "−2"})
    # a blank written over in the table itself counts too
    filled = filled.replace("| `dr/dy_hat = 1` | [6] | [7] |", "| `dr/dy_hat = 1` | [6] 1 | [7] |")
    path = tmp_path / "worksheet.md"
    path.write_text(filled, encoding="utf-8")
    result = invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers", str(path),
                    "--format", "json")
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    given = {(c["kind"], c["key"]): (c["given"], c["verdict"]) for c in document["cells"]}
    assert given[("forward", "v3")] == (1.0, "right")
    assert given[("forward", "v5")] == (1.0, "wrong")
    assert given[("local", "v7/v5")] == (2.0, "carried")
    assert given[("product", "v7/v5")] == (2.0, "carried")
    assert given[("local", "v5/v3")] == (1.0, "right")
    assert given[("gradient", "x")] == (-2.0, "right")
    assert given[("gradient", "y")] == (None, "missing")
    assert document["score"]["total"] == 16 and document["score"]["missing"] == 9


def test_an_empty_worksheet_is_all_missing(tmp_path):
    result = invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers",
                    str(SAMPLES / "lecture-worksheet.md"), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["score"]["missing"] == 16


# ----------------------------------------------------------------------------- unreadable
def refused(tmp_path, text: str, *fragments: str, suffix: str = ".json") -> str:
    path = tmp_path / f"answers{suffix}"
    path.write_text(text, encoding="utf-8")
    return assert_bad_input(invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers",
                                   str(path)), str(path), *fragments)


def test_broken_json_names_its_line_and_column(tmp_path):
    refused(tmp_path, '{\n  "forward": {"r": -1,}\n}\n',
            "line 2, column 23: not valid JSON: Expecting property name enclosed in "
            "double quotes")


def test_an_unknown_section_has_a_did_you_mean(tmp_path):
    refused(tmp_path, '{\n  "gradient": {"x": -2}\n}', "line 2, column 3: unknown section "
            "'gradient'", "did you mean 'gradients'?")


def test_an_unknown_cell_has_a_did_you_mean(tmp_path):
    refused(tmp_path, '{"forward": {"y_hta": 1}}', "line 1, column 14: 'y_hta' names no "
            "forward cell of this program", "did you mean 'y_hat'?")
    refused(tmp_path, '{"local": {"r/w": 1}}', "'r/w' names no local cell",
            "did you mean 'r/y'?")
    refused(tmp_path, '{"local": {"zz/qq": 1}}', "'zz/qq' names no local cell",
            "hint: its local cells: v7/v5, v5/v3, v5/v4, v3/v1, v3/v2, loss/r, ...")
    refused(tmp_path, '{"forward": {"x": 1}}', "'x' names no forward cell",
            "a variable's or a constant's value is given")


def test_a_value_that_is_not_a_number(tmp_path):
    refused(tmp_path, '{"gradients": {\n  "x": "-2"}}', "line 2, column 8: gradients 'x': "
            '"-2" is not a number', "write the number without quotes")
    refused(tmp_path, '{"gradients": {"x": true}}', "column 21: gradients 'x': true is not a "
            "number")
    refused(tmp_path, '{"gradients": {"x": NaN}}', "line 1, column 21: gradients 'x': NaN is "
            "not a finite number")
    refused(tmp_path, '{"gradients": [1, 2]}', "line 1, column 15: the section 'gradients' "
            "must be an object")
    refused(tmp_path, "[1, 2]", "line 1, column 1: the answers must be a JSON object")


def test_a_cell_given_twice(tmp_path):
    refused(tmp_path, '{"forward": {"r": 1, "v5": 2}}', "column 22: the forward cell v5 is "
            "given twice, also as 'r'")
    refused(tmp_path, '{"forward": {"r": 1, "r": 2}}', "'r' is given twice in 'forward'")


def test_a_worksheet_answer_that_is_not_a_number(tmp_path):
    sheet = (SAMPLES / "lecture-worksheet.md").read_text(encoding="utf-8")
    filled = fill(sheet, {2: "minus one"})
    line = next(n for n, text in enumerate(filled.splitlines(), 1) if "minus one" in text)
    column = filled.splitlines()[line - 1].index("minus one") + 1
    refused(tmp_path, filled, f"line {line}, column {column}: blank [2]: 'minus one' is not "
            "a number", suffix=".md")


def test_two_answers_for_one_blank(tmp_path):
    sheet = (SAMPLES / "lecture-worksheet.md").read_text(encoding="utf-8")
    filled = fill(sheet, {6: "1"}).replace("| [6] | [7] |", "| [6] 2 | [7] |")
    refused(tmp_path, filled, "blank [6] has two answers, 1", suffix=".md")


def test_text_that_holds_no_answers(tmp_path):
    refused(tmp_path, "my answers: x is -2\n", "line 1, column 1: no answers found",
            suffix=".txt")


def test_missing_file_and_missing_option(tmp_path):
    assert_bad_input(invoke("grade", LECTURE, *LECTURE_BINDINGS, "--answers",
                            str(tmp_path / "none.json")), "no such file")
    assert_bad_input(invoke("grade", LECTURE, *LECTURE_BINDINGS),
                     "--answers FILE is needed")
    assert_bad_input(invoke("grade", "-", "--answers", "-"),
                     "EXPR and --answers cannot both be read from stdin")


def test_answers_from_stdin(tmp_path):
    from click.testing import CliRunner

    from backtrace_cli.cli.main import main

    result = CliRunner().invoke(main, ["grade", "x*w", "x=2", "w=3", "--answers", "-"],
                                input='{"gradients": {"x": 3, "w": 2}}')
    assert result.exit_code == 0, result.stderr
    assert "Score: 2 of 2 cells right" in result.stdout


def test_every_random_key_grades_right_and_a_changed_cell_is_found():
    from backtrace_cli import quiz

    for level in (1, 2, 3):
        for seed in range(12):
            drawn = quiz(random=True, level=level, seed=seed)
            result = grade(drawn.expression, drawn.bindings, answers=drawn.key)
            assert result.passed and result.score["right"] == result.score["total"], (
                drawn.expression)
            # the output's forward value written one too high: the first (and only) mistake
            output = drawn.explanation.tape.nodes[drawn.explanation.tape.output].id
            changed = {**drawn.key, "forward": dict(drawn.key["forward"])}
            value = changed["forward"][output]
            changed["forward"][output] = (
                [item + 1 for item in value] if isinstance(value, list) else value + 1)
            result = grade(drawn.expression, drawn.bindings, answers=changed)
            assert result.first_wrong == output and not result.passed, drawn.expression
