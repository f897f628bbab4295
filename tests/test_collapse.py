"""The collapse: `backtrace simplify` says whether a program is affine in its input and
gives the single W and b, symbolically (SymPy) and as numbers."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import run_json

from backtrace_cli.cli.main import main
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.affine import affinity
from backtrace_cli.syntax.parser import parse

W1 = "[[1, 2], [3, 4], [-1, 0.5]]"
B1 = "[0, 1, -2]"
W2 = "[[1, -1, 2]]"
B2 = "[0.5]"
X = "[1, 2]"
TWO_LAYERS = "W2 @ (W1 @ x + b1) + b2"
WITH_SIGMOID = "W2 @ sigmoid(W1 @ x + b1) + b2"
MATRICES = [f"W1={W1}", f"b1={B1}", f"W2={W2}", f"b2={B2}", f"x={X}"]


simplify_json = functools.partial(run_json, "simplify")


def test_two_linear_layers_collapse_into_one_matrix():
    document = simplify_json(TWO_LAYERS, *MATRICES)
    assert document["affine"] is True and document["reason"] is None
    assert document["expanded"] == "W2*W1*x + W2*b1 + b2"
    assert document["W"]["symbolic"] == "W2*W1"
    assert document["b"]["symbolic"] == "W2*b1 + b2"
    w1, b1 = np.array(json.loads(W1)), np.array(json.loads(B1))
    w2, b2 = np.array(json.loads(W2)), np.array(json.loads(B2))
    assert document["W"]["value"] == (w2 @ w1).tolist()
    assert document["b"]["value"] == (w2 @ b1 + b2).tolist()
    assert document["input_shape"] == [2] and document["output_shape"] == [1]
    assert document["residual"] == 0.0


def test_a_sigmoid_between_the_layers_stops_the_collapse():
    document = simplify_json(WITH_SIGMOID, *MATRICES)
    assert document["affine"] is False
    assert document["reason"] == (
        "sigmoid at v7 (sigmoid(W1 @ x + b1)) is applied to a value that depends on x"
    )
    assert document["W"]["value"] is None


def test_scalars_collapse_too():
    document = simplify_json("h = w1*x + b1; y_hat = w2*h + b2", "w1=2", "b1=0.5", "w2=3",
                             "b2=1", "x=4")
    assert document["expanded"] == "b1*w2 + b2 + w1*w2*x"
    assert document["W"] == {"symbolic": "w1*w2", "value": 6.0}
    assert document["b"] == {"symbolic": "b1*w2 + b2", "value": 2.5}


def test_elementwise_forms_give_w_and_b_per_element():
    document = simplify_json("sum(W @ x) * 2", "W=[[1, 2], [3, 4]]", "x=[1, 1]")
    assert document["W"]["value"] == [8.0, 12.0]
    assert document["W"]["symbolic"] == "[2*W[0,0] + 2*W[1,0], 2*W[0,1] + 2*W[1,1]]"
    assert document["b"]["value"] == 0.0


def test_the_table_says_it_in_words():
    result = CliRunner().invoke(main, ["simplify", TWO_LAYERS, *MATRICES])
    assert result.exit_code == 0, result.stderr
    assert "Affine in x: the whole program is one map  output = W x + b" in result.stdout
    assert "W = W2*W1 = [[-4, -1]]   (1x2)" in result.stdout
    result = CliRunner().invoke(main, ["simplify", WITH_SIGMOID, *MATRICES])
    assert "Not affine in x: sigmoid at v7" in result.stdout


@pytest.mark.parametrize("source,affine,fragment", [
    ("x*w + b", True, None),
    ("x*x", False, "multiplies two values that depend on x"),
    ("w/x", False, "divides by a value that depends on x"),
    ("x**2", False, "raises a value that depends on x to a power"),
    ("x/w - 3*x", True, None),
    ("a = tanh(x); x*w", True, None),  # a nonlinearity that does not reach the output
    ("relu(w)*x", True, None),  # a nonlinearity of the parameters only
    ("h = relu(x); h*w", False, "relu at v2"),
])
def test_affinity(source, affine, fragment):
    verdict, reason = affinity(compile_program(parse(source)), "x")
    assert verdict is affine
    if fragment:
        assert fragment in reason


def test_bad_input():
    runner = CliRunner()
    result = runner.invoke(main, ["simplify", "a*w", "a=1", "w=2"])
    assert result.exit_code == 2 and result.stderr.startswith(
        "Error: --input is not given and the expression has no x: name the input variable")
    result = runner.invoke(main, ["simplify", "x*w", "x=1", "w=2", "--input", "q"])
    assert result.exit_code == 2 and "--input names 'q'" in result.stderr
    result = runner.invoke(main, ["simplify", "x*w", "x=1"])
    assert result.exit_code == 2 and "the variable 'w' has no value" in result.stderr
