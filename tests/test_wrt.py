"""``--wrt`` lists (issue 21, items 13 and 14): split at the commas outside brackets, an
element (``W[0,1]``) or a row (``W[1]``) picked in every command that takes ``--wrt``, an index
out of range named by its position; ``minimize --wrt`` moves only what it names."""

from __future__ import annotations

import pytest
from helpers import assert_bad_input, invoke, run_json

from backtrace_cli import minimize
from backtrace_cli.engine.picks import split_names
from backtrace_cli.errors import BacktraceError

W = "W=[[1, 2], [3, 4]]"
X = "x=[5, 7]"


@pytest.mark.parametrize("text, names", [
    ("W[0,1]", ["W[0,1]"]),
    ("W[0,1],x", ["W[0,1]", "x"]),
    (" W[ 0 , 1 ] , x[1] ", ["W[0,1]", "x[1]"]),
    ("a,b", ["a", "b"]),
    (["W[0,1]", " b "], ["W[0,1]", "b"]),
    ("", None),
    (None, None),
])
def test_the_list_is_split_at_the_commas_outside_brackets(text, names):
    assert split_names(text) == names


@pytest.mark.parametrize("text, fragment", [
    ("W[0,1", "'[' is not closed in 'W[0,1'"),
    ("W]0", "']' at character 2 closes no '['"),
])
def test_unbalanced_brackets_are_refused(text, fragment):
    with pytest.raises(BacktraceError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        split_names(text)


# ----------------------------------------------------------------------------- grad
def test_grad_reports_one_element_and_a_row():
    document = run_json("grad", "sum(W @ x)", W, X, "--wrt", "W[0,1],x[1]")
    assert document["gradients"] == {"W[0,1]": 7.0, "x[1]": 6.0}
    assert document["check"]["ok"] is True
    assert document["check"]["sympy"]["W[0,1]"]["value"] == 7.0
    row = run_json("grad", "sum(W @ x)", W, X, "--wrt", "W[1]", "--no-check")
    assert row["gradients"] == {"W[1]": [5.0, 7.0]}


def test_grad_table_shows_an_element_as_a_scalar():
    result = invoke("grad", "sum(W @ x)", W, X, "--wrt", "W[0,1],x", "--width", "160")
    assert result.exit_code == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("│ W[0,1]"))
    assert line.split("│")[2].strip() == "scalar"
    assert line.split("│")[3].strip() == "7"


def test_grad_order_2_in_one_element():
    document = run_json("grad", "sum(W*W*W)", "W=[1, 2]", "--order", "2", "--wrt", "W[1]",
                        "--no-check")
    assert document["variable"] == "W[1]"
    assert document["derivatives"] == [9.0, 12.0, 12.0]


# ----------------------------------------------------------------------------- jacobian
def test_jacobian_of_an_element_and_a_row():
    document = run_json("jacobian", "W @ x", W, X, "--wrt", "W[0,1],x")
    assert document["jacobian"] == {"W[0,1]": [7.0, 0.0], "x": [[1.0, 2.0], [3.0, 4.0]]}
    assert document["shapes"] == {"W[0,1]": [], "x": [2]}
    assert document["wrt"] == ["W[0,1]", "x"]
    assert document["check"]["ok"] is True
    row = run_json("jacobian", "W @ x", W, X, "--wrt", "W[1]", "--no-check")
    assert row["jacobian"] == {"W[1]": [[0.0, 0.0], [5.0, 7.0]]}


# ----------------------------------------------------------------------------- hessian
def test_hessian_of_an_element_and_a_row():
    document = run_json("hessian", "sum(W @ x)**2", W, X, "--wrt", "W[0,1],x[0]", "--no-check")
    # L = s**2, s = sum(W @ x) = 4x0 + 6x1 = 62: dL/dW01 = 2 s x1, d2L/dW01^2 = 2 x1^2 = 98,
    # d2L/dW01 dx0 = 2 * 4 * x1 = 56, d2L/dx0^2 = 2 * 16 = 32.
    assert document["variables"] == ["W[0,1]", "x[0]"]
    assert document["hessian"] == [[98.0, 56.0], [56.0, 32.0]]
    row = run_json("hessian", "sum(W @ x)**2", W, X, "--wrt", "W[1]", "--no-check")
    assert row["variables"] == ["W[1,0]", "W[1,1]"]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("command", ["grad", "jacobian", "hessian", "minimize"])
def test_an_index_out_of_range_names_its_position(command):
    expression = "W @ x" if command == "jacobian" else "sum(W @ x)"
    result = invoke(command, expression, W, X, "--wrt", "W[0,2]")
    assert_bad_input(result, "--wrt names 'W[0,2]': index 2 at position 2 is out of range "
                             "for W (shape 2x2: 0 to 1 there)")
    result = invoke(command, expression, W, X, "--wrt", "W[2]")
    assert_bad_input(result, "index 2 at position 1 is out of range")
    result = invoke(command, expression, W, X, "--wrt", "W[0,0,0]")
    assert_bad_input(result, "'W[0,0,0]' with 3 indices, but W has 2 (shape 2x2)")
    result = invoke(command, expression, W, X, "--wrt", "W[a]")
    assert_bad_input(result, "index 1 ('a') is not a whole number from 0")
    result = invoke(command, expression, W, X, "--wrt", "W[0,1")
    assert_bad_input(result, "'[' is not closed in 'W[0,1'")


@pytest.mark.parametrize("command", ["grad", "jacobian", "hessian", "minimize"])
def test_an_element_of_a_scalar_is_refused(command):
    result = invoke(command, "x*w", "x=1", "w=2", "--wrt", "x[0]")
    assert_bad_input(result, "--wrt names 'x[0]', but x is a number, not an array")


# ----------------------------------------------------------------------------- minimize
HELP_EXAMPLE = ("sum((W @ x - y)**2)", "W=[[1, 0], [0, 1]]", "x=[1, 2]", "y=[3, 4]")


def test_the_help_example_moves_only_the_weights():
    result = invoke("minimize", "--help")
    assert "--wrt W --steps 50 --lr 0.1" in result.stdout
    document = run_json("minimize", *HELP_EXAMPLE, "--wrt", "W", "--steps", "50", "--lr", "0.1")
    assert document["variables"] == ["W"]
    assert document["wrt"] == ["W"]
    assert document["fixed"] == {"x": [1.0, 2.0], "y": [3.0, 4.0]}
    assert document["params"] == {"W": [[1.4, 0.8], [0.4, 1.8]]}
    assert document["value"] == 0.0
    assert all(set(point["params"]) == {"W"} for point in document["history"])


def test_without_wrt_every_variable_moves_as_before():
    document = run_json("minimize", "x**2 + (y - 1)**2", "x=3", "y=0", "--lr", "0.25",
                        "--steps", "1")
    assert document["wrt"] == ["x", "y"]
    assert document["fixed"] == {}
    assert document["params"] == {"x": 1.5, "y": 0.5}


@pytest.mark.parametrize("method", ["gd", "momentum", "adam"])
def test_an_element_moves_alone_and_the_rest_keeps_its_bits(method):
    start = {"W": [[0.1, 0.2], [0.3, 0.4]], "x": [1.0, 2.0], "y": [3.0, 4.0]}
    lr = 0.05 if method != "adam" else 0.1
    result = minimize("sum((W @ x - y)**2)", start, method=method, lr=lr, steps=20,
                      wrt="W[1,0]")
    final = result.params["W"]
    assert final[0] == [0.1, 0.2] and final[1][1] == 0.4
    assert final[1][0] != 0.3
    assert result.to_dict()["fixed"] == {"x": [1.0, 2.0], "y": [3.0, 4.0]}


def test_newton_over_one_element_solves_it_exactly():
    document = run_json("minimize", *HELP_EXAMPLE, "--wrt", "W[1,1]", "--method", "newton",
                        "--steps", "1")
    # (1*0 + 2*W11 - 4)**2 is least at W11 = 2; the first row keeps its error (3 - 1)**2.
    assert document["params"] == {"W": [[1.0, 0.0], [0.0, 2.0]]}
    assert document["value"] == 4.0


def test_newton_over_two_of_four_variables():
    result = minimize("(w*x - y)**2 + (v*x)**2", {"w": 0, "v": 1, "x": 2, "y": 6},
                      method="newton", steps=1, wrt=["w", "v"])
    assert result.params == {"w": 3.0, "v": 0.0}
    assert result.value == 0.0
    assert result.to_dict()["fixed"] == {"x": 2.0, "y": 6.0}


def test_minimize_wrt_an_unknown_name():
    result = invoke("minimize", "x*y", "x=1", "y=2", "--wrt", "z")
    assert_bad_input(result, "--wrt names 'z', which is not a variable of the expression "
                             "(its variables: x, y)")


def test_the_table_says_what_is_held_fixed():
    result = invoke("minimize", *HELP_EXAMPLE, "--wrt", "W", "--steps", "2", "--width", "120")
    assert result.exit_code == 0, result.stderr
    assert "over W only; the rest stays as bound" in result.stdout
    assert "held fixed: x = [1, 2]" in result.stdout
    assert "held fixed: y = [3, 4]" in result.stdout


@pytest.mark.parametrize("mode", ["forward", "both"])
def test_grad_forward_mode_seeds_only_the_picked_elements(mode):
    document = run_json("grad", "sum(W @ x)", W, X, "--wrt", "W[0,1],x[1],W[1]", "--mode",
                        mode)
    assert document["gradients"] == {"W[0,1]": 7.0, "x[1]": 6.0, "W[1]": [5.0, 7.0]}
    assert [(t["wrt"], t["element"], t["gradient"]) for t in document["tangents"]] == [
        ("W", [0, 1], 7.0), ("x", [1], 6.0), ("W", [1, 0], 5.0), ("W", [1, 1], 7.0)]
    assert document["check"]["ok"] is True
    assert list(document["check"]["numeric"]) == ["W[0,1]", "x[1]", "W[1]"]


def test_graph_order_in_one_element():
    result = invoke("graph", "sum(W*W*W)", "W=[1, 2]", "--order", "2", "--wrt", "W[1]",
                    "--format", "dot")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph backtrace {")
    assert_bad_input(invoke("graph", "sum(W*W*W)", "W=[1, 2]", "--order", "2", "--wrt",
                            "W[2]"), "index 2 at position 1 is out of range for W")


def test_newton_counts_only_the_picked_elements():
    big = "W=" + str([[0.5] * 55] * 55)
    result = invoke("minimize", "sum(W*W*W*W)", big, "--method", "newton", "--steps", "2")
    assert_bad_input(result, "3,025 variables (array elements) need a Hessian")
    document = run_json("minimize", "sum(W*W*W*W)", big, "--method", "newton", "--steps", "2",
                        "--wrt", "W[3,4]")
    # x - f'/f'' = x - x/3 twice: 0.5 * (2/3)**2; every other element keeps its bits
    assert document["params"]["W"][3][4] == pytest.approx(2 / 9, rel=1e-15)
    assert all(value == 0.5 for i, row in enumerate(document["params"]["W"])
               for j, value in enumerate(row) if (i, j) != (3, 4))
