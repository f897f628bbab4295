"""`grad --order K` and `graph --order K`: derivatives of higher order on the command line."""

from __future__ import annotations

import pytest
from helpers import assert_bad_input, invoke, run_json


def test_dezero_first_and_second_derivative():
    document = run_json("grad", "x**4 - 2*x**2", "x=2", "--order", "2")
    assert document["variable"] == "x" and document["order"] == 2
    assert document["derivatives"] == [8.0, 24.0, 44.0]
    assert document["tape_sizes"] == [8, 8, 12]
    assert document["check"]["ok"] is True
    assert [o["sympy"] for o in document["check"]["orders"]] == [24.0, 44.0]


def test_order_ten_of_tanh_grows_its_tapes_and_agrees_with_sympy():
    document = run_json("grad", "tanh(x)", "x=0.5", "--order", "10", "--check-timeout", "60")
    sizes = document["tape_sizes"]
    assert len(sizes) == 11 and sizes[:7] == [2, 5, 9, 20, 47, 118, 313]
    assert all(a < b for a, b in zip(sizes, sizes[1:]))
    assert document["derivatives"][2] == -0.7268619813835873
    orders = document["check"]["orders"]
    assert [o["order"] for o in orders] == list(range(1, 11))
    assert all(o["ok"] for o in orders)
    for ours, theirs in ((o["value"], o["sympy"]) for o in orders):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_order_table_and_wrt():
    result = invoke("grad", "x*y**3", "x=2", "y=1", "--order", "3", "--wrt", "y",
                    "--width", "120")
    assert result.exit_code == 0, result.stderr
    assert "Derivatives in y, order 0 to 3" in result.stdout
    assert "│     3 │ d³L/dy³    │    12 │" in result.stdout


def test_order_one_is_todays_grad_exactly():
    assert invoke("grad", "x*w", "x=2", "w=3", "--order", "1").stdout == invoke(
        "grad", "x*w", "x=2", "w=3").stdout


def test_order_of_an_array_element():
    document = run_json("grad", "sum(x*x*x)", "x=[1, 2]", "--order", "3", "--wrt", "x[1]")
    assert document["variable"] == "x[1]"
    assert document["derivatives"] == [9.0, 12.0, 12.0, 6.0]


def test_order_refusals():
    assert_bad_input(invoke("grad", "x*y", "x=1", "y=2", "--order", "2"),
                     "derivatives of higher order are taken in one variable", "--wrt")
    assert_bad_input(invoke("grad", "x", "x=1", "--order", "11"), "--order")
    assert_bad_input(invoke("grad", "x", "x=1", "--order", "2", "--dz", "3"),
                     "--dz works with --order 1 only")
    assert_bad_input(invoke("grad", "x", "x=1", "--order", "2", "--graph", "g.svg"),
                     "--graph draws the graph of order 1")


def test_api_derivatives():
    from backtrace_cli.api.hessian import derivatives
    from backtrace_cli.errors import UsageError

    assert derivatives("x**4 - 2*x**2", {"x": 2}, 2).derivatives == [8.0, 24.0, 44.0]
    with pytest.raises(UsageError, match="order must be a whole number from 1 to 10"):
        derivatives("x", {"x": 1}, 0)


def test_graph_of_the_gradient_in_every_text_format():
    dot = invoke("graph", "tanh(x)", "x=1", "--order", "2", "--format", "dot")
    assert dot.exit_code == 0, dot.stderr
    assert "f' = 1 - tanh(x)*tanh(x)" in dot.stdout
    assert "df'/d(node)" in dot.stdout
    mermaid = invoke("graph", "tanh(x)", "x=1", "--order", "2", "--format", "mermaid")
    assert "v5{{\"f' = 1 - tanh(x)*tanh(x)<br/>value 0.41997434161402614" in mermaid.stdout
    text = invoke("graph", "tanh(x)", "x=1", "--order", "3", "--format", "text")
    assert "x  value 1  grad 0.6216266807712961" in text.stdout  # tanh'''(1)
    plain = invoke("graph", "tanh(x)", "x=1", "--format", "dot")
    assert plain.stdout == invoke("graph", "tanh(x)", "x=1", "--order", "1",
                                  "--format", "dot").stdout


def test_graph_of_the_gradient_as_a_picture(tmp_path):
    from backtrace_cli.formats.graph import find_layout_engines

    if not find_layout_engines():
        pytest.skip("no Graphviz layout engine")
    path = tmp_path / "gradient.svg"
    result = invoke("graph", "x*y*y", "x=1", "y=2", "--order", "2", "--wrt", "y", "-o",
                    str(path))
    assert result.exit_code == 0, result.stderr
    assert path.read_text().count("<svg") == 1


def test_graph_order_needs_one_variable():
    assert_bad_input(invoke("graph", "x*y", "x=1", "y=2", "--order", "2", "--format", "dot"),
                     "derivatives of higher order are taken in one variable", "--wrt")


def test_a_slow_high_order_does_not_cost_the_lower_ones(monkeypatch):
    # A clock that moves one second at every reading: each order "takes" a second, and an
    # order that would end past the budget (5 s, expecting twice the last order's time) is
    # skipped with a note instead of started, so the lower orders still arrive.
    import itertools
    import types

    from backtrace_cli.checks import second
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.syntax.parser import parse

    clock = itertools.count(0.0, 1.0)
    monkeypatch.setattr(second, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    rows = second.sympy_orders(compile_program(parse("tanh(x)")), {"x": 0.5}, "x", 10, 5.0)
    values = [value for value, _ in rows]
    assert values[0] == pytest.approx(0.7864477329659274, rel=1e-15)  # 1 - tanh(0.5)²
    assert values[1] == pytest.approx(-0.7268619813835873, rel=1e-12)  # -2 tanh·sech²
    assert all(value is not None for value in values[:4])
    assert values[4:] == [None] * 6
    assert all(note == "skipped: SymPy took longer than 5 s for the lower orders"
               for _, note in rows[4:])


def test_order_ten_checks_the_orders_sympy_can_finish():
    document = run_json("grad", "tanh(x)", "x=0.5", "--order", "10", "--check-timeout", "20")
    orders = document["check"]["orders"]
    assert document["check"]["ok"] is True  # skipped is no disagreement
    assert orders[0]["ok"] is True and orders[0]["sympy"] == 0.7864477329659274
    assert all(order["ok"] is True or order["note"].startswith("skipped: SymPy took longer")
               for order in orders)
