"""An expression or a value that begins with '-' is data, never flags, in every command.

Click reads ``-tanh(x)`` as the short options ``-t -a -n -h`` (and ``-h`` prints the help,
exit 0), and in ``graph`` the ``o`` of ``-log(x)`` as ``-o FILE``. Each test below covers a
class: every ASCII letter after the leading '-', before and after the options.
"""

from __future__ import annotations

import json
import math
import string

import pytest
from helpers import assert_bad_input, invoke

LETTERS = string.ascii_letters  # a..z and A..Z: every one of them is some command's flag


def run_json(*args: str) -> dict:
    """The JSON a command printed; the arguments place --format json themselves."""
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout[:300], result.stderr)
    assert result.stderr == ""
    return json.loads(result.stdout)


# ----------------------------------------------------------------------------- grad
@pytest.mark.parametrize("letter", LETTERS)
def test_grad_expression_after_a_minus_any_letter_options_after(letter):
    name = f"{letter}x"  # -ax, -hx, -ox, ...: a name whose first letter follows the '-'
    document = run_json("grad", f"-{name}*w", f"{name}=2", "w=3", "--format", "json",
                        "--no-check")
    assert document["expression"] == f"-{name}*w"
    assert document["output"] == -6.0
    assert document["gradients"] == {name: -3.0, "w": -2.0}


@pytest.mark.parametrize("letter", LETTERS)
def test_grad_expression_after_a_minus_any_letter_options_before(letter):
    name = f"{letter}x"
    document = run_json("grad", "--format", "json", "--no-check", "--dz", "2",
                        f"-{name}*w", f"--{name}", "2", "--w=3")
    assert document["expression"] == f"-{name}*w"
    assert document["output"] == -6.0
    assert document["seed"] == 2.0
    assert document["gradients"] == {name: -6.0, "w": -4.0}


FUNCTIONS = {
    "tanh": math.tanh, "sin": math.sin, "cos": math.cos, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "sigmoid": lambda x: 1 / (1 + math.exp(-x)), "relu": lambda x: x,
    "abs": abs, "softplus": lambda x: math.log1p(math.exp(x)),
}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_grad_minus_function_call(function):
    document = run_json("grad", f"-{function}(x)", "x=0.5", "--format", "json")
    assert document["expression"] == f"-{function}(x)"
    assert document["check"]["ok"] is True
    assert document["output"] == pytest.approx(-FUNCTIONS[function](0.5), rel=1e-12)


# Exactly '-h' stays the help option; `grad -- -h h=1` is the expression (tested below).
BRIEF_EXAMPLES = {  # expression: (its variables, the output with each of them = 2)
    "-(a+h)": (("a", "h"), -4.0), "- x*h": (("x", "h"), -4.0), "-x*a": (("x", "a"), -4.0),
    "-Ax": (("Ax",), -2.0), "-hh": (("hh",), -2.0), "-o": (("o",), -2.0),
}


@pytest.mark.parametrize("expression", sorted(BRIEF_EXAMPLES))
def test_grad_the_brief_examples(expression):
    names, output = BRIEF_EXAMPLES[expression]
    document = run_json("grad", expression, *(f"{n}=2" for n in names), "--format", "json",
                        "--no-check")
    assert document["expression"] == expression
    assert document["output"] == output


def test_help_is_still_help():
    for args in (["grad", "-h"], ["grad", "--help"], ["graph", "x", "-h"], ["train", "-h"],
                 ["quiz", "-h"], ["grade", "-x", "-h"]):
        result = invoke(*args)
        assert result.exit_code == 0
        assert result.stdout.startswith("Usage: "), args


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("letter", LETTERS)
def test_a_seed_beginning_with_minus_is_a_number_error(letter):
    for args in (["--dz", f"-{letter}"], [f"--dz=-{letter}"]):
        result = invoke("grad", "x*w", "x=1", "w=2", *args)
        assert_bad_input(result, f"--dz: '-{letter}' is not a number")


@pytest.mark.parametrize("letter", LETTERS)
def test_a_binding_beginning_with_minus_is_a_number_error(letter):
    for args, where in ((["--x", f"-{letter}"], "--x"), ([f"--x=-{letter}"], "--x"),
                        ([f"x=-{letter}"], "x")):
        result = invoke("grad", "x*w", "w=2", *args, "--no-check")
        assert_bad_input(result, f"{where}: '-{letter}' is not a number")


def test_negative_numbers_still_bind():
    document = run_json("grad", "x*w", "--x", "-1.5", "--w", "-2e-1", "--dz", "-2",
                        "--format", "json", "--no-check")
    assert document["bindings"] == {"x": -1.5, "w": -0.2}
    assert document["seed"] == -2.0
    assert document["gradients"] == {"x": 0.4, "w": 3.0}


def test_a_bare_word_with_a_leading_minus_in_bindings_is_refused_as_a_binding():
    result = invoke("grad", "x", "x=1", "-hx")
    assert_bad_input(result, "unexpected argument '-hx'")


# ----------------------------------------------------------------------------- --
def test_double_dash_still_works_and_options_after_it_keep_meaning():
    for args in (["--", "-x", "x=1", "--format", "json"],
                 ["--format", "json", "--", "-x", "x=1"],
                 ["--", "-h", "h=1", "--format", "json"]):
        document = run_json("grad", *args)
        assert document["output"] == -1.0
        assert document["expression"] in ("-x", "-h")


def test_double_dash_makes_even_an_option_name_the_expression():
    result = invoke("grad", "--format", "json", "--no-check", "--", "-o")
    assert_bad_input(result, "the variable 'o' has no value")


# ----------------------------------------------------------------------------- graph
@pytest.mark.parametrize("letter", LETTERS)
def test_graph_expression_after_a_minus_any_letter(letter):
    name = f"{letter}x"
    for args in ([f"-{name}*w", f"{name}=2", "w=3", "--format", "mermaid"],
                 ["--format", "mermaid", "--dz", "1", f"-{name}*w", f"{name}=2", "w=3"]):
        result = invoke("graph", *args)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout.startswith(f"flowchart LR\n  %% -{name}*w\n")


def test_graph_minus_log_is_not_dash_o():
    result = invoke("graph", "-log(x)", "x=2", "--format", "dot")
    assert result.exit_code == 0, result.stderr
    assert 'label="-log(x)' in result.stdout


def test_graph_dash_o_still_writes_a_file(tmp_path):
    target = tmp_path / "g.mmd"
    result = invoke("graph", "-log(x)", "x=2", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith("flowchart LR\n  %% -log(x)\n")


# ----------------------------------------------------------------------------- jacobian
@pytest.mark.parametrize("letter", ["h", "m", "w", "c", "f"])
def test_jacobian_expression_after_a_minus_is_data(letter):
    # -h must not print the help; -m/-w/-c/-f are the first letters of its own options.
    document = run_json("jacobian", f"-{letter}*[x, 2*x]", f"{letter}=2", "x=3",
                        "--format", "json", "--no-check")
    assert document["jacobian"][letter] == [-3.0, -6.0]
    assert document["jacobian"]["x"] == [-2.0, -4.0]


def test_jacobian_minus_values_after_the_options():
    document = run_json("jacobian", "--format", "json", "--mode", "forward", "--no-check",
                        "[x*w, x]", "--x", "-1.5", "w=-2")
    assert document["jacobian"] == {"x": [-2.0, 1.0], "w": [-1.5, 0.0]}


# ----------------------------------------------------------------------------- simplify
@pytest.mark.parametrize("letter", LETTERS)
def test_simplify_expression_after_a_minus_any_letter(letter):
    # Unbound on purpose: the error names the variable, which proves EXPR was read as an
    # expression (not as flags, which printed the help and exited 0), without SymPy's cost.
    name = f"{letter}x"
    for args in ([f"-{name}*x + 1", "x=1"], ["--format", "json", f"-{name}*x + 1", "x=1"]):
        result = invoke("simplify", *args)
        assert_bad_input(result, f"the variable '{name}' has no value")


def test_simplify_minus_expression_succeeds():
    document = run_json("simplify", "--format", "json", "-(a+h)*x", "a=1", "h=2", "x=1")
    assert document["expression"] == "-(a+h)*x"
    assert document["affine"] is True


# ----------------------------------------------------------------------------- train
@pytest.mark.parametrize("letter", LETTERS)
def test_train_model_after_a_minus_any_letter(letter):
    name = f"{letter}x" if letter not in "xy" else f"{letter}p"  # not the data's columns
    for args in (["--model", f"-{name}*x"], [f"--model=-{name}*x"]):
        document = run_json("train", *args, "--epochs", "1", "--format", "json")
        assert document["model"] == f"-{name}*x"
        assert document["initial"] == {name: 1.0}


def test_train_values_beginning_with_minus():
    document = run_json("train", "--model", "-w*x", "--param", "w=-1", "--predict", "-4",
                        "--loss", "-(y_hat - y)*(y - y_hat)", "--epochs", "1",
                        "--format", "json")
    assert document["loss"] == "-(y_hat - y)*(y - y_hat)"
    assert document["initial"] == {"w": -1.0}
    assert [p["input"] for p in document["predictions"]] == [{"x": -4.0}]


def test_train_click_errors_show_what_was_typed():
    result = invoke("train", "-a.csv", "-b.csv")
    assert result.exit_code == 2
    assert "unexpected extra argument (-b.csv)" in result.stderr
    assert "\x00" not in result.stderr


# ----------------------------------------------------------------------------- minimize
@pytest.mark.parametrize("letter", LETTERS)
def test_minimize_expression_after_a_minus_any_letter(letter):
    name = f"{letter}x"
    for args in ([f"-{name}*x + x**4", "x=1"], ["--steps", "1", f"-{name}*x + x**4", "x=1"]):
        assert_bad_input(invoke("minimize", *args), f"the variable '{name}' has no value")


def test_minimize_values_beginning_with_minus():
    document = run_json("minimize", "-x + x**2", "x=-1", "--lr", "0.5", "--steps", "1",
                        "--format", "json")
    assert document["expression"] == "-x + x**2"
    assert document["params"] == {"x": 0.5}


# ----------------------------------------------------------------------------- hessian
def test_hessian_expression_with_a_leading_minus():
    document = run_json("hessian", "-tanh(x)*h", "x=0", "h=2", "--format", "json", "--no-check")
    assert document["expression"] == "-tanh(x)*h"
    assert document["hessian"] == [[0.0, -1.0], [-1.0, 0.0]]
    assert "-0.0" not in json.dumps(document["hessian"])
