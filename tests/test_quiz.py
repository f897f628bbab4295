"""backtrace quiz: worksheets of grad's tables with numbered blanks, their key, the random
programs of each level, and the same bytes for the same arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_bad_input, invoke, run_json

from backtrace_cli import quiz
from backtrace_cli.explain.exercises import exercise, is_short

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
LECTURE = "y_hat = x*w; r = y_hat - y; loss = r**2"
LECTURE_BINDINGS = ("x=1", "y=2", "w=1")


def binding_args(bindings: dict) -> list[str]:
    return [f"{name}={json.dumps(value)}" for name, value in bindings.items()]


def grad_cells(expression: str, bindings: dict) -> dict:
    """grad's own numbers, from `backtrace grad --format json`, by the quiz's keys."""
    document = run_json("grad", expression, *binding_args(bindings), "--no-check")
    cells = {"forward": {row["id"]: row["value"] for row in document["forward"]
                         if row["op"] not in ("var", "const")},
             "local": {}, "product": {}, "gradients": document["gradients"]}
    seen: dict[str, int] = {}
    for row in document["backward"]:
        key = f"{row['node']}/{row['input']}"
        seen[key] = seen.get(key, 0) + 1
        key += f"#{seen[key]}" if seen[key] > 1 else ""
        cells["local"][key] = row["local"]
        cells["product"][key] = row["product"]
    return cells


# ----------------------------------------------------------------------------- the key
@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 8, 13, 21])
def test_the_key_is_grads_own_numbers(level, seed, tmp_path):
    key_path = tmp_path / "key.json"
    document = run_json("quiz", "--random", "--level", str(level), "--seed", str(seed),
                        "--answers", str(key_path))
    key = document["key"]
    expected = grad_cells(document["expression"], document["bindings"])
    assert key == expected
    written = json.loads(key_path.read_text(encoding="utf-8"))
    assert {name: written[name] for name in key} == key
    assert (written["expression"], written["bindings"]) == (document["expression"],
                                                            document["bindings"])
    assert document["seed"] == seed and document["level"] == level
    numbers = [blank["number"] for blank in document["blanks"]]
    assert numbers == list(range(1, len(numbers) + 1))
    sections = {"forward": "forward", "local": "local", "product": "product",
                "gradient": "gradients"}
    assert sorted((b["kind"], b["key"]) for b in document["blanks"]) == sorted(
        (kind, k) for kind, section in sections.items() for k in expected[section])


def test_the_key_file_of_a_given_program(tmp_path):
    key_path = tmp_path / "key.json"
    result = invoke("quiz", LECTURE, *LECTURE_BINDINGS, "--answers", str(key_path))
    assert result.exit_code == 0, result.stderr
    key = json.loads(key_path.read_text(encoding="utf-8"))
    assert key == {
        "expression": LECTURE, "bindings": {"x": 1.0, "y": 2.0, "w": 1.0}, "dz": 1.0,
        "level": None, "seed": None,
        "forward": {"v3": 1.0, "v5": -1.0, "v7": 1.0},
        "local": {"v7/v5": -2.0, "v5/v3": 1.0, "v5/v4": -1.0, "v3/v1": 1.0, "v3/v2": 1.0},
        "product": {"v7/v5": -2.0, "v5/v3": -2.0, "v5/v4": 2.0, "v3/v1": -2.0,
                    "v3/v2": -2.0},
        "gradients": {"x": -2.0, "w": -2.0, "y": 2.0},
    }


def test_a_variable_used_twice_by_one_op_has_two_numbered_edges():
    result = quiz("x*x", {"x": 3}, include_key=True)
    assert result.key["local"] == {"v2/v1": 3.0, "v2/v1#2": 3.0}
    assert result.key["gradients"] == {"x": 6.0}
    assert [b["key"] for b in result.report.data["blanks"]] == [
        "v2", "v2/v1", "v2/v1", "v2/v1#2", "v2/v1#2", "x"]


def test_the_seed_dz_reaches_the_key():
    result = invoke("quiz", "x*w", "x=2", "w=3", "--dz", "5", "--blank", "gradient",
                    "--answers", "-", "-o", "/dev/null")
    assert result.exit_code == 0, result.stderr
    key = json.loads(result.stdout)  # --answers - puts the key file on stdout
    assert key["gradients"] == {"x": 15.0, "w": 10.0}
    assert key["dz"] == 5.0


# ----------------------------------------------------------------------------- random programs
@pytest.mark.parametrize("level", [1, 2])
def test_every_answer_is_a_short_exact_decimal_at_levels_one_and_two(level):
    for seed in range(300):
        drawn = quiz(random=True, level=level, seed=seed)
        for section in ("forward", "local", "product", "gradients"):
            for key, value in drawn.key[section].items():
                text = repr(float(value))
                digits = text.lstrip("-").replace(".", "").strip("0")
                assert "e" not in text and len(digits) <= 6, (seed, drawn.expression, key, text)


def test_the_seed_gives_the_same_program_on_every_platform():
    # random.Random(seed) is specified to give the same draws everywhere: pinned here.
    assert (exercise(1, 0).source, exercise(1, 0).bindings) == (
        "a - b - c", {"a": -1, "b": -2, "c": 1})
    assert (exercise(2, 4).source, exercise(2, 4).bindings) == (
        "log(a - b)*a", {"a": -2, "b": -3})
    assert (exercise(3, 7).source, exercise(3, 7).bindings) == (
        "y_hat = sum(w*x) + b; r = y_hat - y; loss = r**2",
        {"w": [-2, 1], "x": [-2, -2], "b": -2, "y": -1})


def test_the_levels_are_what_they_promise():
    level_one = [exercise(1, seed) for seed in range(60)]
    assert all(set(e.source) <= set("abc+-*() 0123456789") for e in level_one)
    assert all(2 <= len(e.bindings) <= 3 for e in level_one)
    assert all(isinstance(v, int) and abs(v) <= 4 for e in level_one
               for v in e.bindings.values())
    functions = ("sin", "tanh", "sigmoid", "exp", "log", "sqrt", "relu", "abs", "**", "/")
    for seed in range(60):
        drawn = exercise(2, seed)
        assert any(f in drawn.source for f in functions), drawn.source
        letters = [c for c in drawn.source if c in "abc"]
        assert len(letters) > len(set(letters)), drawn.source  # a variable used twice
    level_three = [exercise(3, seed) for seed in range(60)]
    assert all("loss" in e.source and ";" in e.source for e in level_three)
    assert any(isinstance(v, list) and len(v) == 2 for e in level_three
               for v in e.bindings.values())


def test_is_short():
    assert is_short(0.25) and is_short(-12.5) and is_short(123456) and is_short([1, -0.5])
    assert not is_short(1 / 3) and not is_short(1e-7) and not is_short(1234567)
    assert not is_short(0.1 + 0.2) and not is_short(float("nan"))


# ----------------------------------------------------------------------------- the worksheet
def test_the_sample_worksheet_and_key_are_what_quiz_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("quiz", LECTURE, *LECTURE_BINDINGS, "-o", "lecture-worksheet.md",
                    "--answers", "lecture-key.json")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    for name in ("lecture-worksheet.md", "lecture-key.json"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name


def test_the_worksheet_blanks_cells_and_leaves_room_to_write():
    text = invoke("quiz", LECTURE, *LECTURE_BINDINGS, "--format", "markdown").stdout
    assert "| v5 | r | sub | v3, v4 | `y_hat - y` | [2] |" in text
    assert "Output loss = [3]" in text
    assert "| v7 loss | r | 1 | `dloss/dr = 2·r^(2-1)` | [4] | [5] |" in text
    # the upstream of a later edge is a sum of blank products: its symbol, not its number
    assert "| v5 r | y_hat | dloss/dr | `dr/dy_hat = 1` | [6] | [7] |" in text
    assert "| x | [14] |" in text and "| y | [16] |" in text
    assert "| 2 | forward | v5 | `r = y_hat - y` | ________ |" in text
    assert "| 13 | product | v3/v2 | dloss/dy_hat · dy_hat/dw | ________ |" in text
    assert ("| `backtrace grade 'y_hat = x*w; r = y_hat - y; loss = r**2' x=1 "
            "y=2 w=1 --answers worksheet.md` |") in text
    assert "Fill in the 16 numbered blanks ([1] to [16])" in text


def test_only_the_chosen_kinds_are_blank():
    text = invoke("quiz", LECTURE, *LECTURE_BINDINGS, "--blank", "local",
                  "--format", "markdown").stdout
    assert "| v5 | r | sub | v3, v4 | `y_hat - y` | -1 |" in text
    # products are shown, so the upstream column keeps its numbers
    assert "| v5 r | y_hat | -2 | `dr/dy_hat = 1` | [2] | -2 |" in text
    assert "| x | -2 |" in text
    assert "Fill in the 5 numbered blanks ([1] to [5]): the local derivatives." in text


def test_json_without_answers_has_no_key():
    document = run_json("quiz", "x*w", "x=2", "w=3", "--blank", "forward,gradient")
    assert document == {"expression": "x*w", "bindings": {"x": 2.0, "w": 3.0}, "seed": None,
                        "level": None, "dz": 1.0, "key": None,
                        "blanks": [{"number": 1, "kind": "forward", "key": "v3"},
                                   {"number": 2, "kind": "gradient", "key": "x"},
                                   {"number": 3, "kind": "gradient", "key": "w"}]}


@pytest.mark.parametrize("output_format", ["table", "markdown", "latex", "json"])
def test_the_same_arguments_give_byte_identical_files(tmp_path, output_format):
    files = []
    for attempt in (1, 2):
        sheet, key = tmp_path / f"sheet{attempt}", tmp_path / f"key{attempt}.json"
        result = invoke("quiz", "--random", "--level", "3", "--seed", "11", "--format",
                        output_format, "-o", str(sheet), "--answers", str(key))
        assert result.exit_code == 0, result.stderr
        files.append((sheet.read_bytes(), key.read_bytes()))
    assert files[0] == files[1]
    assert files[0][0]  # not empty


def test_the_output_suffix_picks_the_format(tmp_path):
    for suffix, start in ((".md", "## Worksheet"), (".tex", ""), (".json", "{")):
        target = tmp_path / f"sheet{suffix}"
        assert invoke("quiz", "x*w", "x=2", "w=3", "-o", str(target)).exit_code == 0
        text = target.read_text(encoding="utf-8")
        assert text.startswith(start), (suffix, text[:40])
    assert r"\begin{tabular}" in (tmp_path / "sheet.tex").read_text(encoding="utf-8")
    assert "Worksheet" in invoke("quiz", "x*w", "x=2", "w=3", "-o", "-").stdout


def test_the_api_refuses_with_field_names():
    from backtrace_cli import BacktraceError

    for call, words in ((lambda: quiz(), "give an expression, or random to draw one"),
                        (lambda: quiz("x", {"x": 1}, seed=2), "seed draws a random program"),
                        (lambda: quiz(random=True, level=5), "level must be 1, 2 or 3, not 5"),
                        (lambda: quiz("x", {"x": 1}, blank="all"), "blank names 'all'")):
        with pytest.raises(BacktraceError, match=words):
            call()


def test_the_api_and_the_command_agree():
    result = quiz(LECTURE, {"x": 1, "y": 2, "w": 1}, blank="gradient,forward")
    assert result.to_dict() == run_json("quiz", LECTURE, *LECTURE_BINDINGS, "--blank",
                                        "forward,gradient")
    assert result.key["gradients"] == {"x": -2.0, "w": -2.0, "y": 2.0}
    assert "local" not in result.key


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(("args", "fragments"), [
    (["--level", "2", "x*w", "x=1", "w=2"], ["--level draws a random program: it needs --random"]),
    (["--seed", "3", "x", "x=1"], ["--seed draws a random program: it needs --random"]),
    (["--random", "x*w", "x=1", "w=2"], ["give EXPR or --random, not both"]),
    ([], ["give EXPR, or --random to draw a program"]),
    (["x*w", "x=1", "w=2", "--blank", "gradients"],
     ["--blank names 'gradients', which is not a kind of cell", "did you mean 'gradient'?"]),
    (["x*w", "x=1", "w=2", "--blank", ","], ["--blank names no kind of cell"]),
    (["--random", "--level", "4"], ["'--level': 4 is not in the range 1<=x<=3"]),
    (["--random", "--seed", "-1"], ["'--seed': -1 is not in the range"]),
    (["x*w", "x=1", "w=2", "--answers", "-"], ["--answers - and the worksheet would both"]),
    (["x*w", "x=1"], ["w"]),
    (["x*w", "x=1", "w=2", "--dz", "abc"], ["--dz: 'abc' is not a number"]),
    (["sum(x)", "x=[1, 2]", "--dz", "[1, 2]"], ["--dz has shape 2 but the output has shape"]),
])
def test_bad_input_is_refused_with_one_message(args, fragments):
    assert_bad_input(invoke("quiz", *args), *fragments)


def test_files_that_cannot_be_written_are_refused_before_the_work(tmp_path):
    missing = tmp_path / "no" / "sheet.md"
    assert_bad_input(invoke("quiz", "x*w", "x=1", "w=2", "-o", str(missing)),
                     "-o", "does not exist")
    assert_bad_input(invoke("quiz", "x*w", "x=1", "w=2", "--answers", str(tmp_path)),
                     "--answers", "it is a directory")


def test_an_expression_may_start_with_a_minus():
    result = invoke("quiz", "-x*w", "x=1", "w=2", "--blank", "gradient", "--answers", "-",
                    "-o", "/dev/null")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"x": -2.0, "w": -1.0}
