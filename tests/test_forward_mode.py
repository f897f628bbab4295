"""Forward mode in the engine: each array op's Jacobian-vector product against central
differences and against its own vector-Jacobian product, the tangent sweep against Baydin et
al. 2018 (Table 2), and the cost of each mode counted by hand on small programs."""

from __future__ import annotations

import numpy
import pytest

from backtrace_cli.engine.backends import FLOAT64, numpy_backend
from backtrace_cli.engine.forward_mode import tangent_sweep, unit_seeds, weighted
from backtrace_cli.engine.sweeps import forward
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.cost import sweep_costs
from backtrace_cli.ops.table import ARRAY_OPS, BY_NAME, OPS
from backtrace_cli.syntax.parser import parse

M = numpy_backend("float64")
RANDOM = numpy.random.default_rng(12)

# (op, input shapes) for every array op, matmul in each of its four forms.
CASES = [
    ("matmul", ((2, 3), (3,))), ("matmul", ((3,), (3,))), ("matmul", ((2, 3), (3, 4))),
    ("matmul", ((3,), (3, 2))), ("sum", ((2, 3),)), ("mean", ((4,),)),
    ("transpose", ((2, 3),)), ("stack", ((2,), (2,), (2,))),
]


def test_every_array_op_has_a_jvp_per_input_and_no_elementwise_op_needs_one():
    assert {op.name for op in ARRAY_OPS} == {name for name, _ in CASES}
    for op in OPS:
        if op in ARRAY_OPS:
            assert len(op.jvps) == len(op.vjps) == op.arity
        else:
            assert op.jvps == ()


def _args(shapes):
    return [RANDOM.normal(size=shape) for shape in shapes]


@pytest.mark.parametrize(("name", "shapes"), CASES, ids=lambda c: str(c))
def test_each_jvp_matches_central_differences(name, shapes):
    op = BY_NAME[name]
    args = _args(shapes)
    out = op.forward(M, *args)
    step = 1e-6
    for position in range(len(args)):
        tangent = RANDOM.normal(size=shapes[position])
        rule = 0 if op.variadic else position
        ours = op.jvps[rule](M, tangent, args, out, position)
        above = list(args)
        above[position] = args[position] + step * tangent
        below = list(args)
        below[position] = args[position] - step * tangent
        difference = (numpy.asarray(op.forward(M, *above)) - numpy.asarray(op.forward(M, *below))
                      ) / (2 * step)
        assert numpy.shape(ours) == numpy.shape(out)
        assert numpy.allclose(ours, difference, rtol=1e-7, atol=1e-8), (name, position)


@pytest.mark.parametrize(("name", "shapes"), CASES, ids=lambda c: str(c))
def test_each_jvp_is_the_transpose_of_the_vjp(name, shapes):
    # <g, J t> == <J^T g, t> for every op: the two directions are one derivative.
    op = BY_NAME[name]
    args = _args(shapes)
    out = op.forward(M, *args)
    for position in range(len(args)):
        rule = 0 if op.variadic else position
        tangent = RANDOM.normal(size=shapes[position])
        upstream = RANDOM.normal(size=numpy.shape(out))
        jvp = op.jvps[rule](M, tangent, args, out, position)
        vjp = op.vjps[rule](M, upstream, args, out, position)
        assert numpy.sum(upstream * jvp) == pytest.approx(numpy.sum(vjp * tangent), rel=1e-12)


def _tape(source):
    return compile_program(parse(source))


# Baydin et al. 2018, Table 2: our ids against the paper's numbering (v-1 = x1, v0 = x2,
# v1 = ln v-1, v2 = v-1 * v0, v3 = sin v0, v4 = v1 + v2, v5 = v4 - v3).
BAYDIN = "log(x1) + x1*x2 - sin(x2)"
PAPER_TO_OURS = {"v-1": "v1", "v0": "v3", "v1": "v2", "v2": "v4", "v3": "v6", "v4": "v5",
                 "v5": "v7"}


def test_baydin_table_2_tangents_in_the_papers_order():
    tape = _tape(BAYDIN)
    assert [node.id for node in tape.nodes if node.name == "x1"] == [PAPER_TO_OURS["v-1"]]
    assert tape.nodes[2].name == "x2" and PAPER_TO_OURS["v0"] == "v3"
    values = forward(tape, {"x1": 2.0, "x2": 5.0})
    tangents = tangent_sweep(tape, values, {tape.variable_nodes["x1"]: 1.0}).tangents
    by_id = {node.id: (0.0 if t is None else t) for node, t in zip(tape.nodes, tangents)}
    paper = [by_id[PAPER_TO_OURS[f"v{k}"]] for k in range(1, 6)]
    assert paper == [0.5, 5.0, 0.0, 5.5, 5.5]
    assert tangents[5] is None  # v6 = sin(x2): no path from x1


def test_a_seeded_step_ignores_its_inputs():
    tape = _tape("y_hat = x*w; loss = (y_hat - y)**2")
    values = forward(tape, {"x": 1.0, "w": 2.0, "y": 3.0})
    y_hat = next(node.index for node in tape.nodes if node.name == "y_hat")
    tangents = tangent_sweep(tape, values, {y_hat: 1.0}).tangents
    assert tangents[tape.variable_nodes["x"]] is None and tangents[tape.output] == -2.0


@pytest.mark.parametrize(("source", "bindings"), [
    (BAYDIN, {"x1": 2.0, "x2": 5.0}),
    ("tanh(x1*w1 + x2*w2 + b)", {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.88}),
    ("x/x + x**3 - relu(x - 1)", {"x": 0.7}),
])
def test_forward_gradients_equal_reverse_gradients_on_scalars(source, bindings):
    from backtrace_cli.api.grad import grad

    reverse = grad(source, bindings, cross_check=False).gradients
    ahead = grad(source, bindings, cross_check=False, mode="forward").gradients
    assert ahead.keys() == reverse.keys()
    for name in reverse:
        assert ahead[name] == pytest.approx(reverse[name], rel=1e-15, abs=1e-15)


def test_forward_sweeps_over_arrays_fill_the_gradient_element_by_element():
    from backtrace_cli.api.grad import grad

    bindings = {"W": [[1, 2], [3, 4]], "x": [1, -1], "b": [0, 1]}
    source = "sum(sigmoid(W @ x + b) * [2, 3])"
    reverse = grad(source, bindings, cross_check=False).gradients
    result = grad(source, bindings, cross_check=False, mode="forward")
    assert [sweep.label for sweep in result.modes.sweeps] == [
        "W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "x[0]", "x[1]", "b[0]", "b[1]"]
    for name in reverse:
        assert numpy.allclose(result.gradients[name], reverse[name], rtol=1e-15, atol=0)


def test_unit_seeds_and_weighted():
    assert unit_seeds(()) == [((), 1.0)]
    seeds = unit_seeds((2,))
    assert [element for element, _ in seeds] == [(0,), (1,)]
    assert seeds[1][1].tolist() == [0.0, 1.0]
    assert weighted(5.0, None) == 0.0
    assert weighted(numpy.array([1.0, 2.0]), numpy.array([3.0, 4.0])) == 11.0
    assert FLOAT64.isfinite(weighted(2.0, 3.0))


# ----------------------------------------------------------------------------- cost
def _cost(source, wrt=None, outputs=1, bindings=None):
    from backtrace_cli.engine.values import numeric_setting

    tape = _tape(source)
    _, shapes, _ = numeric_setting(tape, bindings or {})  # () for every scalar
    names = wrt or tape.variables
    return sweep_costs(tape, shapes, tuple(tape.variable_nodes[n] for n in names), outputs)


def test_cost_of_baydins_program_counted_by_hand():
    # Forward, seed x1: 1/x1 · ẋ1 and x2 · ẋ1 (add and sub multiply by ±1: free); seed x2:
    # x1 · ẋ2 and cos(x2) · ẋ2. Reverse, one sweep: v̄6·cos, v̄4·x2, v̄4·x1, v̄2·(1/x1).
    # Stored: forward holds at most x1, v2, x2, v4 (at v4; x1 is then dropped), a value and a
    # tangent each: 8; reverse keeps all 7 values and 7 adjoints: 14.
    cost = _cost(BAYDIN)
    assert (cost.forward.sweeps, cost.forward.multiplications, cost.forward.stored) == (2, 4, 8)
    assert (cost.reverse.sweeps, cost.reverse.multiplications, cost.reverse.stored) == (1, 4, 14)
    assert cost.winner == "reverse"
    assert cost.sentence().startswith(
        "Reverse mode wins for n = 2 inputs and m = 1 output: forward mode needs a sweep per "
        "input (2 sweeps, 4 multiplications), reverse mode a sweep per output (1 sweep, 4 "
        "multiplications)")


def test_cost_of_the_lecture_loss_counted_by_hand():
    # v1 x, v2 w, v3 = x*w, v4 y, v5 = v3 - v4, v6 = 2, v7 = v5**2.
    # Forward: x: w·ẋ, 2·v5·v̇5 (2); w: the same (2); y: only 2·v5·v̇5 (1); 3 sweeps, 5.
    # Reverse: v̄7·2v5, v̄3·w, v̄3·x (the sub is ±1): 3. Stored: forward at most 3 nodes
    # alive (x, w, v3 at v3): 6; reverse 7 values + 6 adjoints (not the constant): 13.
    cost = _cost("y_hat = x*w; loss = (y_hat - y)**2")
    assert (cost.forward.sweeps, cost.forward.multiplications, cost.forward.stored) == (3, 5, 6)
    assert (cost.reverse.sweeps, cost.reverse.multiplications, cost.reverse.stored) == (1, 3, 13)
    assert cost.winner == "reverse"


def test_cost_of_one_input_and_three_outputs_counted_by_hand():
    # [x*w, x + w, x - w] with respect to x: forward, one sweep, one product (w·ẋ); reverse,
    # three sweeps of one product each (ū3·w). Forward wins.
    cost = _cost("[x*w, x + w, x - w]", wrt=["x"], outputs=3, bindings={"x": 2.0, "w": 3.0})
    assert (cost.forward.sweeps, cost.forward.multiplications, cost.forward.stored) == (1, 1, 12)
    assert (cost.reverse.sweeps, cost.reverse.multiplications, cost.reverse.stored) == (3, 3, 15)
    assert cost.winner == "forward"
    assert cost.sentence().startswith("Forward mode wins for n = 1 input and m = 3 outputs")


def test_cost_of_a_matrix_product_counts_its_multiplications():
    # W (2x3) @ x (3): 6 multiplications per edge and per sweep; sum is free.
    bindings = {"W": numpy.ones((2, 3)), "x": numpy.ones(3)}
    cost = _cost("sum(W @ x)", bindings=bindings)
    assert cost.forward.sweeps == 9 and cost.forward.multiplications == 9 * 6
    assert cost.reverse.sweeps == 1 and cost.reverse.multiplications == 12
