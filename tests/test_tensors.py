"""Arrays in `backtrace grad`: literals and bindings, @, reductions, broadcasting, shapes
checked before evaluation, gradients against NumPy by hand, finite differences, SymPy and
(when installed) PyTorch float64, and the tables and JSON.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from click.testing import CliRunner
from helpers import assert_bad_input, invoke, run_json

from backtrace_cli.checks.verify import run_checks
from backtrace_cli.cli.main import main
from backtrace_cli.cli.parsing import parse_array
from backtrace_cli.engine.backends import numpy_backend
from backtrace_cli.engine.tape import compile_program, infer_shapes
from backtrace_cli.errors import BindingError, ShapeError
from backtrace_cli.explain.gradient import explain
from backtrace_cli.ops.table import ARRAY_OPS, BY_NAME, SHAPE_RULES, ShapeMismatch, broadcast_shapes
from backtrace_cli.syntax.parser import parse, unparse

NUMPY64 = numpy_backend("float64")
W = [[0.1, 0.2], [0.3, 0.4]]
X = [1.0, 2.0]
B = [0.5, -0.5]
NETWORK = "sum(sigmoid(W @ x + b))"


def arrays(**values) -> dict:
    return {name: np.array(value, dtype=float) for name, value in values.items()}


def explained(source: str, check: bool = False, seed=1.0, **values):
    return explain(compile_program(parse(source)), arrays(**values), seed, check=check)


# ----------------------------------------------------------------------------- the table
def test_array_ops_have_shape_rules_and_vjps():
    assert {op.name for op in ARRAY_OPS} == {"matmul", "sum", "mean", "transpose", "stack"}
    for op in ARRAY_OPS:
        assert op.shape_rule in SHAPE_RULES and len(op.vjps) == op.arity


@pytest.mark.parametrize("a,b,out", [
    ((2, 3), (3, 4), (2, 4)), ((2, 3), (3,), (2,)), ((3,), (3, 4), (4,)), ((3,), (3,), ()),
])
def test_matmul_shapes(a, b, out):
    assert SHAPE_RULES["matmul"](a, b) == out


@pytest.mark.parametrize("a,b,message", [
    ((2, 3), (2,), "inner sizes to match: 2x3 @ 2 (3 != 2)"),
    ((), (2,), "@ needs vectors or matrices, got scalar @ 2 (use * to multiply by a scalar)"),
    ((2, 2, 2), (2,), "@ needs vectors or matrices"),
])
def test_matmul_shape_errors(a, b, message):
    with pytest.raises(ShapeMismatch) as caught:
        SHAPE_RULES["matmul"](a, b)
    assert message in str(caught.value)


def test_broadcasting_follows_numpy():
    assert broadcast_shapes((2, 1), (3,)) == np.broadcast_shapes((2, 1), (3,)) == (2, 3)
    assert broadcast_shapes((), (4,)) == (4,)
    with pytest.raises(ShapeMismatch, match="shapes 2 and 3 do not broadcast"):
        broadcast_shapes((2,), (3,))


# ----------------------------------------------------------------------------- parser
@pytest.mark.parametrize("source", [
    "[x1, x2]", "[[a, b], [c, d]] @ v", "W @ x + b", "sum([1, 2] * x)", "transpose(A) @ B",
])
def test_array_syntax_round_trips(source):
    assert unparse(parse(unparse(parse(source)))) == unparse(parse(source))


def test_matmul_binds_like_times():
    tree = parse("a + W @ x * c").output
    assert tree.op == "add" and tree.args[1].op == "mul" and tree.args[1].args[0].op == "matmul"


@pytest.mark.parametrize("source,message", [
    ("[]", "an empty [] has no elements"),
    ("[x, y", "expected ']' to close the '['"),
    ("x[0]", "indexing is not supported"),
])
def test_array_syntax_errors(source, message):
    assert_bad_input(invoke("grad", source, "x=1", "y=1"), message)


# ----------------------------------------------------------------------------- bindings
def test_parse_array_reads_nested_lists():
    value = parse_array("[[0.1, 0.2], [0.3, 4e-1]]", "W")
    assert value.shape == (2, 2) and value.dtype == np.float64
    assert value.tolist() == [[0.1, 0.2], [0.3, 0.4]]


@pytest.mark.parametrize("text,message", [
    ("[[1, 2], [3]]", "ragged"),
    ("[[1, 2], 3]", "ragged"),
    ("[1, \"a\"]", "\"a\" is not a number"),
    ("[1, true]", "true is not a number"),
    ("[1, NaN]", "'NaN' is not allowed"),
    ("[1, 1e400]", "too large for a float"),
    ("[1, 2", "not an array of numbers"),
    ("[]", "an empty list has no elements"),
])
def test_bad_array_bindings_exit_2(text, message):
    assert_bad_input(invoke("grad", "sum(x)", f"x={text}"), message)
    with pytest.raises(BindingError):
        parse_array(text, "x")


def test_array_size_limit(monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_ARRAY_ELEMENTS", "3")
    assert_bad_input(invoke("grad", "sum(x)", "x=[1, 2, 3, 4]"), "more than 3 elements",
                     "BACKTRACE_MAX_ARRAY_ELEMENTS")
    # A value computed from small arrays is held to the same limit, before evaluation.
    assert_bad_input(invoke("grad", "sum(a * transpose(b))", "a=[[1, 2]]", "b=[[1, 2]]"),
                     "4 elements (2x2)")


# ----------------------------------------------------------------------------- shapes
def test_shapes_are_inferred_for_every_node():
    tape = compile_program(parse("h = W @ x + b; sum(h * h)"))
    shapes = infer_shapes(tape, {"W": (3, 2), "x": (2,), "b": ()})
    assert shapes == [(3, 2), (2,), (3,), (), (3,), (3,), ()]


def test_a_shape_mismatch_names_the_node_and_both_shapes_with_a_caret():
    stderr = assert_bad_input(
        invoke("grad", "sum(W @ x + b)", f"W={W}", "x=[1, 2, 3]", f"b={B}"),
        "@ needs the inner sizes to match: 2x2 @ 3 (2 != 3) at node v3: W @ x",
    )
    assert "  sum(W @ x + b)\n      ^^^^^" in stderr


def test_a_broadcast_mismatch_is_reported_before_evaluation():
    # log(-1) would be a domain error, but the shapes are wrong first.
    assert_bad_input(invoke("grad", "sum(log(x) + y)", "x=[-1, 2]", "y=[1, 2, 3]"),
                     "shapes 2 and 3 do not broadcast")


def test_a_non_scalar_output_needs_sum_or_an_array_dz():
    stderr = assert_bad_input(invoke("grad", "W @ x", f"W={W}", f"x={X}"),
                              "is an array (2), not a scalar", "sum(W @ x)")
    assert "--dz" in stderr
    document = run_json("grad", "W @ x", f"W={W}", f"x={X}", "--dz", "[1, -1]")
    assert document["seed"] == [1.0, -1.0]
    assert document["gradients"]["x"] == pytest.approx([0.1 - 0.3, 0.2 - 0.4])
    assert_bad_input(invoke("grad", "W @ x", f"W={W}", f"x={X}", "--dz", "[1, 2, 3]"),
                     "--dz has shape 3 but the output has shape 2")
    assert_bad_input(invoke("grad", "x*w", "x=1", "w=2", "--dz", "[1, 2]"),
                     "--dz has shape 2 but the output has shape scalar")


# ----------------------------------------------------------------------------- values
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_the_network_by_hand():
    explanation = explained(NETWORK, W=W, x=X, b=B)
    w, x, b = np.array(W), np.array(X), np.array(B)
    s = sigmoid(w @ x + b)
    local = s * (1 - s)
    assert explanation.output == pytest.approx(s.sum(), rel=1e-15)
    assert explanation.gradients["W"] == pytest.approx(np.outer(local, x), rel=1e-14)
    assert explanation.gradients["x"] == pytest.approx(w.T @ local, rel=1e-14)
    assert explanation.gradients["b"] == pytest.approx(local, rel=1e-14)
    assert explanation.gradients["W"].shape == (2, 2)


@pytest.mark.parametrize("source,values", [
    ("sum(W @ x)", {"W": W, "x": X}),
    ("x @ y", {"x": X, "y": B}),
    ("sum(x @ W)", {"W": W, "x": X}),
    ("sum(A @ B2)", {"A": W, "B2": [[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]]}),
    ("mean(transpose(A) * v)", {"A": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "v": [0.5, -1.0]}),
    ("sum([x1, x2] * c + s)", {"x1": 0.5, "x2": -1.5, "c": [2.0, 3.0], "s": 0.25}),
    ("sum([[a, b], [b, a]] @ [a, 1])", {"a": 0.7, "b": -0.3}),
    ("sum(m * r)", {"m": [[1.0], [2.0]], "r": [3.0, 4.0, 5.0]}),
    ("sum(tanh(W @ x) ** 2) / mean(exp(x))", {"W": W, "x": X}),
])
def test_gradients_agree_with_finite_differences_and_sympy(source, values):
    explanation = explained(source, check=True, **values)
    report = explanation.check
    assert report.ok, report
    assert report.sympy_note is None
    for name, check in report.variables.items():
        assert check.sympy_ok is True and check.numeric_ok is True, name
        assert np.shape(check.numeric_value) == np.shape(values[name])


def test_sympy_falls_back_to_finite_differences_past_its_size(monkeypatch):
    monkeypatch.setenv("BACKTRACE_SYMPY_MAX_ELEMENTS", "3")
    explanation = explained(NETWORK, check=True, W=W, x=X, b=B)
    assert "more than the SymPy check takes (3" in explanation.check.sympy_note
    assert "finite differences still checked every element" in explanation.check.sympy_note
    assert explanation.check.ok
    assert all(check.numeric_ok for check in explanation.check.variables.values())


def test_finite_differences_catch_a_wrong_element():
    explanation = explained("sum(W @ x)", W=W, x=X)
    wrong = dict(explanation.gradients)
    wrong["W"] = wrong["W"].copy()
    wrong["W"][1, 0] += 0.5
    report = run_checks(explanation.tape, explanation.bindings, 1.0, wrong, use_sympy=False,
                        m=NUMPY64, shapes=explanation.shapes)
    assert not report.variables["W"].numeric_ok
    assert report.variables["x"].numeric_ok


def test_torch_float64_agrees():
    torch = pytest.importorskip("torch")
    explanation = explained("h = sigmoid(W1 @ x + b1); sum(W2 @ h + b2) ** 2",
                            W1=[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], x=X,
                            b1=[0.1, 0.2, 0.3], W2=[[1.0, -1.0, 0.5]], b2=[0.25])
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
               for name, value in explanation.bindings.items()}
    t = tensors
    h = torch.sigmoid(t["W1"] @ t["x"] + t["b1"])
    loss = (t["W2"] @ h + t["b2"]).sum() ** 2
    loss.backward()
    assert float(explanation.output) == pytest.approx(loss.item(), rel=1e-14)
    for name, tensor in tensors.items():
        assert explanation.gradients[name] == pytest.approx(tensor.grad.numpy(), rel=1e-12,
                                                            abs=1e-15), name


def test_a_domain_error_in_an_array_names_the_node():
    assert_bad_input(invoke("grad", "sum(log(x))", "x=[1, -2]"),
                     "log(-2) is undefined at node v2: log(x)")


def test_relu_kink_in_an_array_is_noted():
    document = run_json("grad", "sum(relu(x))", "x=[0, 1]")
    assert document["gradients"]["x"] == [0.0, 1.0]
    assert "relu'(0) = 0" in document["check"]["kinks"]["x"]


# ----------------------------------------------------------------------------- output
def test_json_has_nested_lists_and_shapes():
    document = run_json("grad", NETWORK, f"W={W}", f"x={X}", f"b={B}")
    assert document["bindings"] == {"W": W, "x": X, "b": B}
    assert document["shapes"] == {"W": [2, 2], "x": [2], "b": [2]}
    forward = {row["id"]: row for row in document["forward"]}
    assert forward["v3"]["shape"] == [2] and forward["v3"]["value"] == pytest.approx([0.5, 1.1])
    assert forward["v7"]["shape"] == []
    edge = next(e for e in document["backward"] if e["input"] == "v1")
    assert edge["rule"] == "upstream ⊗ x"
    assert edge["local"] == X
    assert np.array(edge["product"]) == pytest.approx(np.outer(edge["upstream"], X))
    assert np.shape(document["gradients"]["W"]) == (2, 2)
    assert document["check"]["ok"] is True
    assert np.shape(document["check"]["sympy"]["W"]["value"]) == (2, 2)
    assert np.shape(document["check"]["numeric"]["W"]["value"]) == (2, 2)


def test_tables_show_shapes_and_the_outer_product():
    result = CliRunner().invoke(main, ["grad", NETWORK, f"W={W}", f"x={X}", f"b={B}"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "│ shape" in out or "┃ shape" in out
    assert "upstream ⊗ x" in out
    assert "[[0.1966, 0.3932], [0.2288, 0.4576]]" in out
    assert "dL/dW (2x2) =" in out
    assert "one per element (--format json)" in out


def test_markdown_and_latex_and_graph_work_with_arrays():
    for fmt in ("markdown", "latex"):
        result = invoke("grad", NETWORK, f"W={W}", f"x={X}", f"b={B}", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        assert "0.1966" in result.stdout
        if fmt == "markdown":
            assert "| id | name | op | inputs | expression | shape | value |" in result.stdout
            assert "| v3 | W | 2x2 | [0.1966, 0.2288] | `dv3/dW = upstream ⊗ x` |" in (
                result.stdout)
        else:
            assert r"\begin{bmatrix} 0.1 & 0.2 \\ 0.3 & 0.4 \end{bmatrix}" in result.stdout
    result = invoke("graph", NETWORK, f"W={W}", f"x={X}", f"b={B}", "--format", "mermaid")
    assert result.exit_code == 0, result.stderr


def test_scalar_sum_and_mean_are_the_scalar_itself():
    document = run_json("grad", "sum(x*w) + mean(x)", "x=2", "w=3")
    assert document["output"] == 8.0
    assert document["gradients"] == {"x": 4.0, "w": 2.0}


def test_array_sympy_forms_work_on_object_arrays():
    symbols = np.array(sympy.symbols("p q", real=True), dtype=object)
    assert BY_NAME["sum"].sympy(sympy, symbols) == symbols[0] + symbols[1]
    assert BY_NAME["matmul"].sympy(sympy, symbols, symbols) == symbols[0]**2 + symbols[1]**2


def test_bad_dz_and_shape_error_classes():
    with pytest.raises(ShapeError):
        explained("W @ x", W=W, x=X)


def test_an_overflowing_matmul_shows_its_arrays_on_one_line():
    assert_bad_input(invoke("grad", "sum(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1e308, 1e308]"),
                     "[[1, 2], [3, 4]] @ [1e+308, 1e+308] overflows a float at node v3: W @ x")
    assert_bad_input(invoke("grad", "sum(exp(x))", "x=[1, 1000]"),
                     "exp(1000) overflows a float at node v2")


# ----------------------------------------------------------------------------- properties
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Each template with the shapes of b that fit it: () and 1 broadcast anywhere, "n" is the
# size of W's rows, "k" of its columns.
TEMPLATES = {
    "sum(tanh(W @ x + b) * c)": ((), (1,), "n"),
    "mean(sigmoid(W @ x) - b) ** 2 + c": ((), (1,), "n"),
    "sum(exp(transpose(W) @ (b * c + 1) / 4) * x)": ("n",),
    "x @ x * c + sum(W * b)": ((), (1,), "k"),
    "sum(softplus(W) @ x + [c, c] @ [b2, b2])": ((),),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_random_shapes_agree_with_finite_differences(template, n, k, data):
    """Random sizes and values: every element of every gradient against central differences
    (broadcasting of b as a scalar, a 1-vector or a vector included)."""
    numbers = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))

    def array(shape):
        size = int(np.prod(shape)) if shape else 1
        return np.array(data.draw(st.lists(numbers, min_size=size, max_size=size))).reshape(shape)

    b_shape = data.draw(st.sampled_from(TEMPLATES[template]))
    b_shape = {"n": (n,), "k": (k,)}.get(b_shape, b_shape)
    values = {"W": array((n, k)), "x": array((k,)), "b": array(b_shape),
              "c": data.draw(numbers), "b2": data.draw(numbers)}
    tape = compile_program(parse(template))
    bindings = {name: value for name, value in values.items() if name in tape.variable_nodes}
    shapes = infer_shapes(tape, {name: np.shape(v) for name, v in bindings.items()})
    explanation = explain(tape, bindings, 1.0, check=False)
    report = run_checks(tape, explanation.bindings, 1.0, explanation.gradients, use_sympy=False,
                        m=NUMPY64, shapes=shapes)
    assert report.ok, {name: (check.gradient, check.numeric_value)
                       for name, check in report.variables.items()}
