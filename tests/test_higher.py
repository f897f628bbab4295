"""Double backprop (engine/higher.py): the reverse sweep as a tape, differentiated again."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtrace_cli.engine.elements import element_bindings, scalar_program
from backtrace_cli.engine.higher import derivative_tapes, gradient_tape, hessian_at
from backtrace_cli.engine.nodes import OP
from backtrace_cli.engine.sweeps import backward, forward
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.errors import BindingError, EvaluationError, LimitError, ShapeError
from backtrace_cli.ops.derived import HELPER_OPS
from backtrace_cli.ops.table import OPS
from backtrace_cli.syntax.parser import parse


def tape_of(text):
    return compile_program(parse(text))


def test_jax_docstring_hessian():
    result = hessian_at(tape_of("x0**3 - 2*x0*x1 - x1**6"), {"x0": 1.0, "x1": 2.0})
    assert result.variables == ("x0", "x1")
    assert result.value == -67.0
    assert result.gradient == [-1.0, -194.0]
    assert result.hessian == [[6.0, -2.0], [-2.0, -480.0]]


def test_dezero_derivatives_of_x4_minus_2x2():
    tapes = derivative_tapes(tape_of("x**4 - 2*x**2"), "x", 5)
    values = [forward(t, {"x": 2.0})[t.output] for t in tapes]
    assert values == [8.0, 24.0, 44.0, 48.0, 24.0, 0.0]
    # dpow(x, 0) (x**2's third derivative) folds to 0, so orders 3 to 5 stay small.
    assert [len(t) for t in tapes] == [8, 8, 12, 7, 7, 2]


def test_each_order_differentiates_the_previous_tape():
    tapes = derivative_tapes(tape_of("sin(x)"), "x", 4)
    got = [forward(t, {"x": 0.3})[t.output] for t in tapes]
    assert got == [math.sin(0.3), math.cos(0.3), -math.sin(0.3), -math.cos(0.3),
                   math.sin(0.3)]
    # Every node of a derived tape is an op of the table or a helper op, nothing else.
    allowed = set(OPS) | set(HELPER_OPS)
    assert all(node.op in allowed for t in tapes for node in t.nodes if node.kind == OP)
    assert tapes[2].nodes[tapes[2].output].name == "d²L/dx²"


@pytest.mark.parametrize("text, point", [
    ("x*w + b", {"x": 2.0, "w": -3.0, "b": 1.5}),
    ("tanh(x1*w1 + x2*w2 + b)", {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.88}),
    ("a = x*y; b = a + sin(a); c = b / (y**2 + 1); log(c*c + exp(-x))",
     {"x": 0.7, "y": -1.3}),
    ("relu(x - 1) * abs(y) + max(x, y) - min(x, 2*y) + sqrt(x*x + 1) + sigmoid(y)"
     " + softplus(x) + tan(x/3) + cos(y) + x**y", {"x": 1.7, "y": 0.4}),
])
def test_the_gradient_tape_gives_the_first_order_gradient_bit_for_bit(text, point):
    tape = tape_of(text)
    derived = gradient_tape(tape)
    values = forward(derived.tape, point)
    first = backward(tape, forward(tape, point))
    for name, node in zip(derived.variables, derived.outputs):
        assert values[node] == first.adjoints[tape.variable_nodes[name]], name


def numeric_hessian(tape, point, names, h=1e-5):
    """Central differences of the first-order gradient (an independent reference)."""
    def grad_at(p):
        result = backward(tape, forward(tape, p))
        return [result.adjoints[tape.variable_nodes[n]] or 0.0 for n in names]

    rows = []
    for name in names:
        up, down = dict(point), dict(point)
        up[name] += h
        down[name] -= h
        rows.append([(u - d) / (2 * h) for u, d in zip(grad_at(up), grad_at(down))])
    return rows


@pytest.mark.parametrize("text, point", [
    ("a = x*y; b = a + sin(a); c = b / (y**2 + 1); log(c*c + exp(-x))",
     {"x": 0.7, "y": -1.3}),
    ("relu(x - 1) * abs(y) * x + max(x*x, y) + sqrt(x*x + y*y) + x**y + tan(x/3)",
     {"x": 1.7, "y": 0.4}),
    ("softplus(x*y) + sigmoid(x - y) + tanh(x) * cos(y) + 2**x", {"x": 0.3, "y": 0.8}),
])
def test_hessian_matches_differences_of_the_gradient(text, point):
    tape = tape_of(text)
    result = hessian_at(tape, point)
    reference = numeric_hessian(tape, point, result.variables)
    for row, expected in zip(result.hessian, reference):
        assert row == pytest.approx(expected, rel=1e-6, abs=1e-6)
    n = len(result.variables)
    assert all(math.isclose(result.hessian[i][j], result.hessian[j][i], rel_tol=1e-12)
               for i in range(n) for j in range(n))


def test_arrays_count_element_by_element_row_major():
    tape = tape_of("sum(W @ x)**2 + mean(x*x)")
    bindings = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "x": np.array([1.0, -1.0])}
    result = hessian_at(tape, bindings)
    assert result.variables == ("W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "x[0]", "x[1]")
    assert result.value == 5.0
    assert result.gradient == [-4.0, 4.0, -4.0, 4.0, -15.0, -25.0]
    assert result.hessian[4] == [4.0, -8.0, 4.0, -8.0, 33.0, 48.0]
    assert result.hessian[0][:4] == [2.0, -2.0, 2.0, -2.0]
    scalar = scalar_program(tape, bindings).tape
    point = element_bindings(bindings)
    reference = numeric_hessian(scalar, point, result.variables)
    for row, expected in zip(result.hessian, reference):
        assert row == pytest.approx(expected, rel=1e-6, abs=1e-6)
    picked = hessian_at(tape, bindings, wrt=["x"])
    assert picked.variables == ("x[0]", "x[1]")
    assert picked.hessian == [[33.0, 48.0], [48.0, 73.0]]
    assert hessian_at(tape, bindings, wrt=["W[1,0]"]).hessian == [[2.0]]


def test_transpose_and_stack_move_elements_without_nodes():
    tape = tape_of("v = [x, y*y]; sum(transpose([v, v]) @ [1, 2])")
    result = hessian_at(tape, {"x": 1.5, "y": 2.0})
    assert result.value == 3 * (1.5 + 4.0)
    assert result.gradient == [3.0, 12.0]
    assert result.hessian == [[0.0, 0.0], [0.0, 6.0]]


def test_wrt_picks_variables_and_refuses_unknown_names():
    tape = tape_of("x*x*y")
    assert hessian_at(tape, {"x": 2.0, "y": 3.0}, wrt=["y", "x"]).hessian == [[0.0, 4.0],
                                                                            [4.0, 6.0]]
    with pytest.raises(BindingError, match="wrt names 'z'") as caught:
        hessian_at(tape, {"x": 2.0, "y": 3.0}, wrt=["z"])
    assert caught.value.field == "wrt"


def test_a_variable_that_does_not_reach_the_output_has_zero_rows():
    result = hessian_at(tape_of("x*x + 0*y"), {"x": 3.0, "y": 1.0})
    assert result.gradient == [6.0, 0.0]
    assert result.hessian == [[2.0, 0.0], [0.0, 0.0]]
    assert hessian_at(tape_of("x"), {"x": 3.0}).hessian == [[0.0]]


def test_kinks_keep_the_first_order_conventions():
    assert hessian_at(tape_of("relu(x)*x"), {"x": 1.0}).hessian == [[2.0]]
    assert hessian_at(tape_of("relu(x)*x"), {"x": -1.0}).hessian == [[0.0]]
    assert hessian_at(tape_of("abs(x)*x"), {"x": -2.0}).hessian == [[-2.0]]
    assert hessian_at(tape_of("max(x, y)**2"), {"x": 1.0, "y": 1.0}).hessian == [
        [0.5, 0.5], [0.5, 0.5]]


def test_errors_name_the_node_as_grad_does(monkeypatch):
    with pytest.raises(EvaluationError, match="log"):
        hessian_at(tape_of("log(x)"), {"x": -1.0})
    with pytest.raises(EvaluationError, match="has no value"):
        hessian_at(tape_of("x*y"), {"x": 1.0})
    with pytest.raises(ShapeError, match="second derivatives need a scalar output"):
        hessian_at(tape_of("x*2"), {"x": np.array([1.0, 2.0])})
    monkeypatch.setenv("BACKTRACE_MAX_NODES", "20")
    with pytest.raises(LimitError, match="the graph of the derivative has more than 20 nodes"):
        hessian_at(tape_of("sin(x)*cos(x)*tanh(x)*exp(x)"), {"x": 1.0})
