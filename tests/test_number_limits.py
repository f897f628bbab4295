"""Numbers and arrays past what the tools underneath hold, read in every place a user gives
one (issue 21, items 6 and 9): one clean message naming the place, exit 2, no traceback.

- nesting: an array has at most MAX_DIMENSIONS (32) dimensions; lists nested 33, 64, 65,
  100, 1,000 and 2,000 deep are refused the same way in a binding of every command, --dz,
  --param (lists and randn/zeros/ones shapes), --init, answers files, worksheet cells, [...]
  literals and the Python API, and 32 deep works;
- integers over 4,300 digits (Python's limit for int text) and numbers past the float
  range: "... is too large for a float", the number shortened, never NumPy's or Python's
  words (``sys.set_int_max_str_digits``).
"""

from __future__ import annotations

import json

import click
import pytest

from backtrace_cli.limits import MAX_DIMENSIONS
from backtrace_cli.syntax.numbers import deepest, shortened
from tests.helpers import assert_bad_input, invoke

DEPTHS = [33, 64, 65, 100, 1000, 2000]


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def shape(depth: int) -> str:
    return "x".join(["1"] * depth)


def test_the_limit_is_within_numpy():
    assert MAX_DIMENSIONS == 32


# Every command that takes bindings, with the array bound to W.
BINDING_COMMANDS = {
    "grad": ["grad", "sum(W)", "--no-check"],
    "jacobian": ["jacobian", "W*2", "--no-check"],
    "hessian": ["hessian", "sum(W*W)", "--no-check"],
    "graph": ["graph", "sum(W)", "--format", "dot"],
    "simplify": ["simplify", "W*x", "x=2"],
    "minimize": ["minimize", "sum(W*W)", "--steps", "1"],
    "quiz": ["quiz", "sum(W)"],
    "grade": ["grade", "sum(W)", "--answers", "ANSWERS"],
}


def _answers(tmp_path, text: str = '{"gradients": {}}') -> str:
    path = tmp_path / "answers.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _args(args, tmp_path):
    return [_answers(tmp_path) if arg == "ANSWERS" else arg for arg in args]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("name", BINDING_COMMANDS)
def test_a_binding_nested_too_deep_in_every_command(name, depth, tmp_path):
    result = invoke(*_args(BINDING_COMMANDS[name], tmp_path), f"W={nested(depth)}")
    assert_bad_input(result, f"W: the array is nested {depth:,} levels deep; an array has "
                             "at most 32 dimensions")


@pytest.mark.parametrize("name", ["grad", "jacobian", "hessian", "graph", "simplify",
                                  "minimize", "grade"])
def test_a_binding_32_deep_works_in_every_command(name, tmp_path):
    result = invoke(*_args(BINDING_COMMANDS[name], tmp_path), f"W={nested(32)}")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("form", ["--W", "--W="])
@pytest.mark.parametrize("depth", [33, 65, 2000])
def test_a_binding_written_as_an_option(form, depth):
    args = ([form + nested(depth)] if form.endswith("=") else [form, nested(depth)])
    result = invoke("grad", "sum(W)", *args, "--no-check")
    assert_bad_input(result, f"--W: the array is nested {depth:,} levels deep")


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("command", ["grad", "graph", "grade", "quiz"])
def test_dz_nested_too_deep(command, depth, tmp_path):
    extra = ["--answers", _answers(tmp_path)] if command == "grade" else []
    result = invoke(command, "x*2", "x=1", "--dz", nested(depth), *extra)
    assert_bad_input(result, f"--dz: the array is nested {depth:,} levels deep")


@pytest.mark.parametrize("depth", DEPTHS)
def test_param_nested_too_deep(depth):
    result = invoke("train", "--model", "sum(x*w)", "--param", f"w={nested(depth)}",
                    "--epochs", "1")
    assert_bad_input(result, f"--param w: the array is nested {depth:,} levels deep")


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", ["randn", "zeros", "ones"])
def test_param_shape_with_too_many_sizes(kind, depth):
    result = invoke("train", "--model", "sum(x*w)", "--param", f"w={kind}:{shape(depth)}",
                    "--epochs", "1")
    assert_bad_input(result, f"--param w: the shape has {depth:,} sizes; an array has at most "
                             "32 dimensions")


@pytest.mark.parametrize("recipe", ["randn", "zeros", "ones"])
def test_a_shape_of_32_sizes_and_a_list_32_deep_train(recipe, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n", encoding="utf-8")
    for value in (f"{recipe}:{shape(32)}", nested(32)):
        result = invoke("train", str(data), "--model", "sum(x*w)", "--param", f"w={value}",
                        "--epochs", "1", "--format", "json")
        assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("depth", DEPTHS)
def test_init_nested_too_deep(depth, tmp_path):
    path = tmp_path / "init.json"
    path.write_text(json.dumps({"params": {"w": 0}}).replace("0", nested(depth)),
                    encoding="utf-8")
    result = invoke("train", "--model", "sum(x*w)", "--init", str(path), "--epochs", "1")
    assert_bad_input(result, f"--init {path}: the array is nested {depth:,} levels deep")


@pytest.mark.parametrize("depth", DEPTHS)
def test_answers_nested_too_deep(depth, tmp_path):
    path = _answers(tmp_path, '{"gradients": {"x": ' + nested(depth) + "}}")
    result = invoke("grade", "x*2", "x=1", "--answers", path)
    # the bracket that goes one level too deep: column 20 + 33
    assert_bad_input(result, f"{path}, line 1, column 53: ",
                     f"the array is nested {depth:,} levels deep")


def _worksheet(tmp_path, answer: str) -> str:
    sheet = tmp_path / "sheet.md"
    result = invoke("quiz", "x*w", "x=1", "w=2", "--blank", "gradient", "-o", str(sheet))
    assert result.exit_code == 0, result.stderr
    lines = sheet.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("| 1 |"))
    lines[row] = lines[row].rstrip().rstrip("|").rstrip() + f" {answer} |"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(sheet)


@pytest.mark.parametrize("depth", DEPTHS)
def test_worksheet_cell_nested_too_deep(depth, tmp_path):
    path = _worksheet(tmp_path, nested(depth))
    result = invoke("grade", "x*w", "x=1", "w=2", "--answers", path)
    assert_bad_input(result, f"the array is nested {depth:,} levels deep")


@pytest.mark.parametrize("depth", DEPTHS)
def test_an_expression_literal_nested_too_deep(depth):
    result = invoke("grad", "sum(" + nested(depth, "x") + ")", "x=1", "--no-check")
    stderr = assert_bad_input(result)
    assert ("would have 33 dimensions; an array has at most 32" in stderr
            or "BACKTRACE_MAX_DEPTH" in stderr), stderr


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_api_refuses_the_same_way(depth):
    from backtrace_cli import BacktraceError, grad

    value = json.loads(nested(min(depth, 900)))  # Python's own json stops near 1,000
    for _ in range(depth - min(depth, 900)):
        value = [value]
    with pytest.raises(BacktraceError) as error:
        grad("sum(W)", {"W": value}, cross_check=False)
    assert str(error.value.message) == (f"W: the array is nested {depth:,} levels deep; an "
                                        "array has at most 32 dimensions")


def test_deepest_skips_strings_and_counts_in_one_pass():
    assert deepest('["[[[", [[1]]]') == (3, None)
    assert deepest(nested(40))[0] == 40 and deepest(nested(40))[1] == 32


# --------------------------------------------------------------------- huge numbers
HUGE = "1" * 5000
SHOWN = "1111111111…11111 (5,000 digits) is too large for a float"


def _no_python_words(stderr: str) -> None:
    assert "set_int_max_str_digits" not in stderr and "Traceback" not in stderr
    assert len(stderr) < 400, stderr  # the number is shortened, not echoed


@pytest.mark.parametrize("value", [HUGE, f"[{HUGE}]", f"[[1], [{HUGE}]]", f"-{HUGE}",
                                   f"{HUGE}.5", f"1e{HUGE}"])
@pytest.mark.parametrize("name", BINDING_COMMANDS)
def test_a_huge_number_in_a_binding_of_every_command(name, value, tmp_path):
    result = invoke(*_args(BINDING_COMMANDS[name], tmp_path), f"W={value}")
    _no_python_words(assert_bad_input(result, "W: ", "is too large for a float"))


@pytest.mark.parametrize("args, fragment", [
    (["grad", "x", "x=1", "--dz", HUGE], f"--dz: {SHOWN}"),
    (["grad", "x", "x=[1]", "--dz", f"[{HUGE}]"], f"--dz: {SHOWN}"),
    (["grad", f"{HUGE}*x", "x=1"], f"the number {SHOWN}"),
    (["train", "--param", f"w={HUGE}"], f"--param w: {SHOWN}"),
    (["train", "--param", f"w=[{HUGE}]"], f"--param w: {SHOWN}"),
    (["train", "--param", f"w=randn:{HUGE}"], "has more elements than the limit"),
    (["train", "--param", f"w=zeros:2x{HUGE}"], "has more elements than the limit"),
    (["train", "--predict", HUGE], f"--predict: {SHOWN}"),
    (["train", "--predict", f"x={HUGE}"], f"--predict x: {SHOWN}"),
    (["train", "--lr", HUGE], f"--lr: {SHOWN}"),
    (["minimize", "x*x", f"x={HUGE}"], f"x: {SHOWN}"),
], ids=["--dz", "--dz array", "expression", "--param", "--param array", "--param randn",
        "--param zeros", "--predict", "--predict x=", "--lr", "minimize"])
def test_a_huge_number_in_each_option(args, fragment):
    _no_python_words(assert_bad_input(invoke(*args), fragment))


@pytest.mark.parametrize("number", [HUGE, f"-{HUGE}", "1e999", f"[{HUGE}]", f"[1, {HUGE}]"])
def test_a_huge_number_in_init(number, tmp_path):
    path = tmp_path / "init.json"
    path.write_text('{"params": {"w": ' + number + "}}", encoding="utf-8")
    result = invoke("train", "--init", str(path))
    _no_python_words(assert_bad_input(result, f"--init {path}: ", "'w'"))
    assert "not a finite number" in result.stderr or "must be finite numbers" in result.stderr


@pytest.mark.parametrize("number", [HUGE, f"-{HUGE}", "1e999", "-1e999", f"[{HUGE}]"])
def test_a_huge_number_in_json_answers(number, tmp_path):
    path = _answers(tmp_path, '{"gradients": {"x": ' + number + "}}")
    result = invoke("grade", "x*2", "x=1", "--answers", path)
    _no_python_words(assert_bad_input(result, f"{path}, line 1, column 2"))
    # a whole number too long for a float, or a float past the range (refused in place)
    assert ("is too large for a float" in result.stderr
            or f"gradients 'x': {number} is not a finite number" in result.stderr)


@pytest.mark.parametrize("number", [HUGE, "1e999", f"[{HUGE}]"])
def test_a_huge_number_in_a_worksheet_cell(number, tmp_path):
    path = _worksheet(tmp_path, number)
    result = invoke("grade", "x*w", "x=1", "w=2", "--answers", path)
    _no_python_words(assert_bad_input(result, f"{path}, line ", "is too large for a float"))


def test_a_huge_number_in_a_csv_cell(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(f"x,y\n1,{HUGE}\n", encoding="utf-8")
    result = invoke("train", str(path))
    _no_python_words(assert_bad_input(result, f"{path}, line 2, column 2", "column 'y'"))


def test_a_huge_blank_number_in_a_worksheet_is_not_a_blank(tmp_path):
    sheet = tmp_path / "sheet.md"
    sheet.write_text(_worksheet_text(tmp_path).replace("| 1 |", f"| {HUGE} |", 1),
                     encoding="utf-8")
    result = invoke("grade", "x*w", "x=1", "w=2", "--answers", str(sheet))
    assert "Traceback" not in result.stderr and result.exit_code in (0, 1, 2)
    assert "set_int_max_str_digits" not in result.stderr


def _worksheet_text(tmp_path) -> str:
    sheet = tmp_path / "plain.md"
    invoke("quiz", "x*w", "x=1", "w=2", "-o", str(sheet))
    return sheet.read_text(encoding="utf-8")


def test_the_api_with_a_huge_python_int():
    from backtrace_cli import BacktraceError, grad

    for value in (10**5000, [10**5000], -(10**400)):
        with pytest.raises(BacktraceError) as error:
            grad("sum(x)", {"x": value}, cross_check=False)
        assert "too large for a float" in error.value.message
        assert len(error.value.message) < 120


def test_shortened():
    assert shortened("x=" + "9" * 39) == "x=" + "9" * 39
    assert shortened("9" * 40) == "9999999999…99999 (40 digits)"


def _number_options(kind):
    """(command, option) for every option of every command whose type is ``kind``."""
    from backtrace_cli.cli.main import COMMANDS as ALL
    from backtrace_cli.cli.main import main

    parent = click.Context(main, **main.context_settings)  # -h stays help (see
    found = []                                              # test_misspelt_options)
    for name in ALL:
        command = main.get_command(parent, name)
        context = click.Context(command, parent=parent, **command.context_settings)
        for param in command.get_params(context):
            if isinstance(param, click.Option) and isinstance(param.type, kind):
                found.append((name, param.opts[-1]))
    return found


INTEGER_OPTIONS = _number_options(click.types.IntParamType)
FLOAT_OPTIONS = _number_options(click.types.FloatParamType)
ARGS = {"grad": ["x"], "jacobian": ["x"], "hessian": ["x*x"], "graph": ["x"],
        "simplify": ["x"], "minimize": ["x*x"], "quiz": [], "grade": ["x"], "train": []}


@pytest.mark.parametrize("sign", ["", "-", "+"])
@pytest.mark.parametrize("command, option", INTEGER_OPTIONS,
                         ids=[f"{c} {o}" for c, o in INTEGER_OPTIONS])
def test_a_huge_integer_in_every_whole_number_option(command, option, sign):
    assert len(INTEGER_OPTIONS) >= 10
    for args in ([option, sign + HUGE], [f"{option}={sign}{HUGE}"]):
        result = invoke(command, *ARGS[command], *args)
        stderr = assert_bad_input(
            result, f"{option}: {sign}1111111111…11111 (5,000 digits) has too many digits")
        _no_python_words(stderr)


def test_a_long_number_in_our_own_messages_is_shortened():
    stderr = assert_bad_input(invoke("train", "--epochs", "1" * 4000),
                              "not 1111111111…11111 (4,000 digits)")
    _no_python_words(stderr)


def test_the_caret_line_keeps_the_expression_whole():
    number = "1" * 50
    stderr = assert_bad_input(invoke("grad", f"{number}*x +", "x=1"))
    lines = stderr.splitlines()
    assert lines[1] == f"  {number}*x +" and lines[2].index("^") == len(lines[1])


@pytest.mark.parametrize("depth", [33, 65, 2000])
def test_fit_refuses_deep_parameters_and_shapes(depth):
    from backtrace_cli import BacktraceError, fit

    value = 1.0
    for _ in range(depth):
        value = [value]
    for params in ({"w": value}, {"w": f"randn:{shape(depth)}"}):
        with pytest.raises(BacktraceError) as error:
            fit("sum(x*w)", {"x": [1.0], "y": [2.0]}, params=params, epochs=1)
        assert f"{depth:,}" in error.value.message
        assert "at most 32 dimensions" in error.value.message


@pytest.mark.parametrize("value, shown", [(HUGE, SHOWN), (f"-{HUGE}", f"-{SHOWN}"),
                                          ("1e999", "1e999 is too large for a float")])
@pytest.mark.parametrize("command, option", FLOAT_OPTIONS,
                         ids=[f"{c} {o}" for c, o in FLOAT_OPTIONS])
def test_a_huge_number_in_every_decimal_option(command, option, value, shown):
    assert len(FLOAT_OPTIONS) >= 10
    for args in ([option, value], [f"{option}={value}"]):
        result = invoke(command, *ARGS[command], *args)
        _no_python_words(assert_bad_input(result, f"{option}: {shown}"))
