"""quiz on array programs (issue 21, item 7): every rank of binding, every format, and the
grade command the worksheet prints grades quiz's own key as right."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from helpers import invoke

PROGRAMS = [
    ("sum(W @ x)", ["W=[[1, 2], [3, 4]]", "x=[1, 1]"], []),
    ("sum(W @ x + b)", ["W=[[1, -2], [0.5, 4]]", "x=[1, 2]", "b=[0, 1]"], []),
    ("sum(v*v)", ["v=[1, -2, 3]"], []),
    ("W @ x", ["W=[[1, 2], [3, 4]]", "x=[1, 1]"], ["--dz", "[1, -1]"]),
    ("sum(A*B)", ["A=[[[1, 2]], [[3, 4]]]", "B=[[[2, 2]], [[1, 0]]]"], []),
    ("x*w", ["x=2", "w=3"], ["--dz", "5"]),
]
FORMATS = ["table", "json", "markdown", "latex"]


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize(("expression", "bindings", "extra"), PROGRAMS)
def test_quiz_takes_arrays_of_every_rank_in_every_format(expression, bindings, extra,
                                                         output_format):
    result = invoke("quiz", expression, *bindings, *extra, "--format", output_format)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    if output_format == "json":
        document = json.loads(result.stdout)
        assert document["expression"] == expression


@pytest.mark.parametrize(("expression", "bindings", "extra"), PROGRAMS)
def test_the_printed_grade_command_grades_the_key_as_right(expression, bindings, extra,
                                                           tmp_path):
    key = tmp_path / "key.json"
    worksheet = tmp_path / "worksheet.md"
    result = invoke("quiz", expression, *bindings, *extra, "-o", str(worksheet),
                    "--answers", str(key))
    assert result.exit_code == 0, result.stderr
    text = worksheet.read_text(encoding="utf-8")
    command = shlex.split(re.search(r"`(backtrace grade [^`]*)`", text).group(1))
    assert command[:2] == ["backtrace", "grade"]
    answers_at = command.index("--answers")
    command[answers_at + 1] = str(key)  # the key's answers, graded by the worksheet's command
    graded = invoke(*command[1:], "--format", "json")
    assert graded.exit_code == 0, (command, graded.stdout, graded.stderr)
    report = json.loads(graded.stdout)
    assert report["score"]["right"] == report["score"]["total"] > 0, report["score"]
