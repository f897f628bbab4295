"""``backtrace jacobian``: every d(output element)/d(input element), by forward or reverse
mode, checked element by element; hand-derived Jacobians, the auto mode's choice, JSON."""

from __future__ import annotations

import numpy
import pytest
from helpers import assert_bad_input, assert_within_ulps, invoke, run_json

LAYER = ("sigmoid(W @ x + b)", "W=[[1, 2], [3, 4], [5, 6]]", "x=[1, -1]", "b=[0, 1, 2]")
W = numpy.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
X = numpy.array([1.0, -1.0])
B = numpy.array([0.0, 1.0, 2.0])


def _layer_by_hand():
    s = 1 / (1 + numpy.exp(-(W @ X + B)))
    slope = s * (1 - s)  # d sigmoid_i / d pre_i
    d_x = slope[:, None] * W  # d s_i / d x_j = slope_i W_ij
    d_b = numpy.diag(slope)
    d_w = numpy.zeros((3, 3, 2))
    for i in range(3):
        d_w[i, i, :] = slope[i] * X  # d s_i / d W_kj = delta_ik slope_i x_j
    return s, {"W": d_w, "x": d_x, "b": d_b}


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_a_layer_matches_the_hand_derived_jacobian_in_every_mode(mode):
    document = run_json("jacobian", *LAYER, "--mode", mode)
    output, by_hand = _layer_by_hand()
    assert document["output_shape"] == [3]
    # Both sides go through NumPy's exp (in other formulas): equal within its last bits.
    assert_within_ulps(document["output"], output.tolist())
    assert document["shapes"] == {"W": [3, 2], "x": [2], "b": [3]}
    for name, block in by_hand.items():
        assert numpy.array(document["jacobian"][name]).shape == block.shape
        assert_within_ulps(document["jacobian"][name], block.tolist(), where=name)
    assert document["check"]["ok"] is True and document["check"]["status"] == "ok"
    assert set(document["check"]["sympy"]) == {"W", "x", "b"}
    assert all(entry["ok"] for entry in document["check"]["sympy"].values())
    assert all(entry["status"] == "ok" for entry in document["check"]["numeric"].values())


def test_forward_and_reverse_give_the_same_jacobian():
    ahead = run_json("jacobian", *LAYER, "--mode", "forward", "--no-check")
    back = run_json("jacobian", *LAYER, "--mode", "reverse", "--no-check")
    for name in ("W", "x", "b"):
        assert numpy.allclose(ahead["jacobian"][name], back["jacobian"][name], rtol=1e-15,
                              atol=0)
    assert ahead["check"] is None


def test_auto_picks_forward_for_fewer_inputs_and_says_why():
    # One input element, three output elements: forward mode, one tangent sweep.
    document = run_json("jacobian", "[x*w, x + w, x - w]", "x=2", "w=3", "--wrt", "x")
    assert document["mode"] == "forward" and document["requested_mode"] == "auto"
    assert document["reason"] == ("forward mode, chosen: 1 input element is fewer than 3 "
                                  "output elements, so one tangent sweep per input element (1)")
    assert document["jacobian"] == {"x": [3.0, 1.0, 1.0]}
    assert document["cost"]["winner"] == "forward"


def test_auto_picks_reverse_otherwise_and_says_why():
    document = run_json("jacobian", *LAYER)
    assert document["mode"] == "reverse"
    assert document["reason"] == ("reverse mode, chosen: 3 output elements are no more than "
                                  "11 input elements, so one reverse sweep per output element "
                                  "(3)")
    result = invoke("jacobian", *LAYER, "--no-check")
    assert "Mode\n  reverse mode, chosen: 3 output elements" in result.stdout


def test_a_scalar_output_gives_the_gradient():
    from backtrace_cli import grad

    document = run_json("jacobian", "sum(sigmoid(W @ x + b))", *LAYER[1:])
    gradients = grad("sum(sigmoid(W @ x + b))", {"W": W.tolist(), "x": X.tolist(),
                                                  "b": B.tolist()}, cross_check=False).gradients
    assert document["output_shape"] == []
    for name, gradient in gradients.items():
        assert numpy.allclose(document["jacobian"][name], gradient, rtol=1e-15, atol=0)
    assert run_json("jacobian", "x*w", "x=2", "w=3")["jacobian"] == {"x": 3.0, "w": 2.0}


def test_a_matrix_output_has_a_block_of_output_shape_plus_input_shape():
    document = run_json("jacobian", "W * 2", "W=[[1, 2], [3, 4]]")
    block = numpy.array(document["jacobian"]["W"])
    assert document["output_shape"] == [2, 2] and block.shape == (2, 2, 2, 2)
    assert (block == 2 * numpy.eye(4).reshape(2, 2, 2, 2)).all()
    transposed = numpy.array(run_json("jacobian", "transpose(W)", "W=[[1, 2], [3, 4]]",
                                      "--mode", "forward")["jacobian"]["W"])
    assert transposed[0, 1, 1, 0] == 1.0 and transposed[0, 1, 0, 1] == 0.0


def test_one_table_per_variable_rows_are_output_elements():
    result = invoke("jacobian", "[x*w, x + w]", "x=2", "w=3", "--no-check")
    assert result.exit_code == 0, result.stderr
    assert "dz/dx  (2 × scalar)" in result.stdout and "dz/dw  (2 × scalar)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ z[")]
    assert [" ".join(row.replace("│", " ").split()) for row in rows] == [
        "z[0] 3", "z[1] 1", "z[0] 2", "z[1] 1"]


def test_wrt_a_named_step():
    # h = tanh(W x); [sum(h), mean(h)]: d/dh is [[1, 1], [1/2, 1/2]], whatever W and x are.
    document = run_json("jacobian", "h = tanh(W @ x); [sum(h), mean(h)]",
                        "W=[[1, 2], [3, 4]]", "x=[1, 0]", "--wrt", "h", "--mode", "forward")
    assert document["jacobian"] == {"h": [[1.0, 1.0], [0.5, 0.5]]}
    assert document["check"]["sympy"]["h"]["ok"] is True


def test_a_check_that_disagrees_exits_1(monkeypatch):
    import backtrace_cli.explain.jacobian as module

    real = module._by_rows

    def wrong(*args):
        blocks = real(*args)
        return {name: block + 0.01 for name, block in blocks.items()}

    monkeypatch.setattr(module, "_by_rows", wrong)
    result = invoke("jacobian", *LAYER, "--mode", "reverse")
    assert result.exit_code == 1
    assert "✗ the checks disagree for: W, x, b" in result.stdout


def test_bad_input_exits_2_with_one_message():
    assert_bad_input(invoke("jacobian", "[x*w, x]", "x=1", "w=2", "--wrt", "ww"),
                     "--wrt names 'ww', which is not a variable", "did you mean 'w'?")
    assert_bad_input(invoke("jacobian", "[x*w, x]", "x=1"), "the variable 'w' has no value")
    result = invoke("jacobian", "x", "x=1", "--mode", "both")
    assert result.exit_code == 2 and "Invalid value for '--mode'" in result.stderr


def test_the_api_matches_the_command():
    from backtrace_cli import BacktraceError, jacobian

    result = jacobian("[x*w, x + w]", {"x": 2, "w": 3}, mode="forward")
    assert result.jacobian == {"x": [3.0, 1.0], "w": [2.0, 1.0]}
    assert result.mode == "forward" and result.checks_agree is True
    assert result.to_dict()["jacobian"] == run_json(
        "jacobian", "[x*w, x + w]", "x=2", "w=3", "--mode", "forward")["jacobian"]
    with pytest.raises(BacktraceError, match=r"^mode must be one of auto, forward, reverse"):
        jacobian("x", {"x": 1}, mode="sideways")
