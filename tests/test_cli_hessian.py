"""`backtrace hessian`: numbers, JSON, formats, cross-checks and errors."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import assert_bad_input, invoke, run_json

JAX = ("x0**3 - 2*x0*x1 - x1**6", "x0=1", "x1=2")


def test_jax_docstring_numbers_in_json():
    document = run_json("hessian", *JAX)
    assert document["expression"] == "x0**3 - 2*x0*x1 - x1**6"
    assert document["bindings"] == {"x0": 1.0, "x1": 2.0}
    assert document["variables"] == ["x0", "x1"]
    assert document["output"] == -67.0
    assert document["gradient"] == [-1.0, -194.0]
    assert document["hessian"] == [[6.0, -2.0], [-2.0, -480.0]]
    assert document["eigenvalues"] == [-480.00823031329617, 6.008230313296179]
    assert document["definiteness"] == "indefinite"
    assert document["symmetric"] is True and document["asymmetry"] == 0.0
    assert document["tape_sizes"] == {"program": 11, "gradient": 23}
    assert [e["sweep"] for e in document["entries"]] == [1, 1, 2, 2]
    check = document["check"]
    assert check["ok"] is True and check["status"] == "ok"
    assert [e["sympy"] for e in check["entries"]] == [6.0, -2.0, -2.0, -480.0]
    assert [e["numeric"] for e in check["entries"]] == pytest.approx([6, -2, -2, -480],
                                                                     rel=1e-6)
    assert {e["status"] for e in check["entries"]} == {"ok"}


def test_table_shows_the_matrix_how_and_the_verdict():
    result = invoke("hessian", *JAX, "--width", "200")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "output L = -67" in out
    assert "│ x1 │ -2 │ -480 │" in out
    assert "sweep 2 of 2: back from dL/dx1; 1 edge into x1" in out
    assert "The gradient's tape has 23 nodes: the program's 11" in out
    assert "symmetric: d²L/dadb = d²L/dbda for every pair (largest difference 0)" in out
    assert "indefinite: it curves up in some directions and down in others" in out


def test_definiteness_in_words_at_a_minimum():
    document = run_json("hessian", "(1 - x)**2 + 100*(y - x**2)**2", "x=1", "y=1")
    assert document["gradient"] == [0.0, 0.0]
    assert document["hessian"] == [[802.0, -400.0], [-400.0, 200.0]]
    assert document["definiteness"] == "positive definite"
    assert document["meaning"] == "a local minimum here"
    saddle = run_json("hessian", "x*x - y*y", "x=0", "y=0")
    assert (saddle["definiteness"], saddle["meaning"]) == ("indefinite", "a saddle point here")
    flat = run_json("hessian", "x*y*0 + x", "x=1", "y=2")
    assert flat["definiteness"] == "zero"


def test_arrays_element_by_element_and_wrt():
    document = run_json("hessian", "sum(W @ x)**2", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                        "--wrt", "x")
    assert document["variables"] == ["x[0]", "x[1]"]
    assert document["hessian"] == [[32.0, 48.0], [48.0, 72.0]]
    assert document["bindings"] == {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, -1.0]}
    full = run_json("hessian", "sum(W @ x)**2", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                    "--no-check")
    assert full["variables"] == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "x[0]", "x[1]"]
    assert full["check"] is None
    assert len(full["hessian"]) == 6 and all(len(row) == 6 for row in full["hessian"])


def test_explain_lists_the_edges_of_each_entry():
    result = invoke("hessian", "x*y*sin(x)", "x=1", "y=2", "--explain", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert "## The edges into each variable (their products add up to the entry)" in result.stdout
    assert "| d²L/dxdy | `v3 = x*y → y` | 0.5403023058681398 | 1 | 0.5403023058681398 |" in (
        result.stdout)


@pytest.mark.parametrize("fmt, marker", [("markdown", "## Hessian"), ("latex", "\\partial^2 L")])
def test_every_document_format(fmt, marker):
    result = invoke("hessian", *JAX, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert marker in result.stdout


def test_a_disagreement_exits_1(monkeypatch):
    import backtrace_cli.explain.hessian as module

    real = module.hessian_at

    def wrong(*args, **kwargs):
        result = real(*args, **kwargs)
        hessian = [list(row) for row in result.hessian]
        hessian[0][0] += 1.0
        return dataclasses.replace(result, hessian=hessian)

    monkeypatch.setattr(module, "hessian_at", wrong)
    result = invoke("hessian", *JAX, "--format", "json")
    assert result.exit_code == 1
    assert '"status": "disagree"' in result.stdout


def test_kinks_keep_the_convention_and_say_so():
    document = run_json("hessian", "relu(x)*y + abs(y)*x", "x=0", "y=1")
    assert document["hessian"] == [[0.0, 1.0], [1.0, 0.0]]
    assert document["check"]["ok"] is True


def test_bad_input_is_exit_2_with_one_message():
    assert_bad_input(invoke("hessian", "x*y", "x=1"), "the variable 'y' has no value")
    assert_bad_input(invoke("hessian", "x*y", "x=1", "y=2", "--wrt", "z"),
                     "wrt names 'z'")
    assert_bad_input(invoke("hessian", "x*2", "x=[1, 2]"),
                     "second derivatives need a scalar output")
    assert_bad_input(invoke("hessian", "log(x)", "x=-1"), "log")
    assert_bad_input(invoke("hessian", "x", "x=1", "--check-timeout", "0"), "--check-timeout")


def test_the_node_limit_holds_for_the_gradients_tape(monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_NODES", "12")
    assert_bad_input(invoke("hessian", "sin(x)*cos(x)*x", "x=1"),
                     "the graph of the derivative has more than 12 nodes",
                     "BACKTRACE_MAX_NODES")


def test_api_matches_the_command():
    from backtrace_cli import hessian

    result = hessian("x0**3 - 2*x0*x1 - x1**6", {"x0": 1, "x1": 2})
    assert result.hessian == [[6.0, -2.0], [-2.0, -480.0]]
    assert result.gradient == [-1.0, -194.0] and result.value == -67.0
    assert result.checks_agree is True
    assert result.to_dict() == run_json("hessian", *JAX)
