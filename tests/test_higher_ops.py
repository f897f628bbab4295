"""Local derivatives as ops (ops/derived.py): every elementwise row of the op table has one
per input, it reads, it uses only ops of the table, and it computes the op's own numeric
derivative; the helper ops (step, sign, less, dpow, powlog) are checked as test_ops.py checks
the table's rows: against central differences and SymPy."""

from __future__ import annotations

import math

import pytest
import sympy

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.ops.derived import (
    DERIVED_BY_NAME,
    HELPER_OPS,
    derivative_form,
    evaluate_form,
    read_form,
)
from backtrace_cli.ops.table import ARRAY_OPS, BY_NAME, ELEMENTWISE_OPS, OPS
from tests.test_ops import NUMPY64, POINTS, central_difference, local_derivatives

HELPER_POINTS = {
    "step": [(-1.5,), (0.7,)],
    "sign": [(-1.5,), (0.7,)],
    "less": [(1.2, -0.4), (-0.4, 1.2)],
    "dpow": [(1.3, 2.5), (2.0, -1.5), (0.7, 3.0), (3.0, 2.0), (0.5, 0.5)],
    "powlog": [(1.3, 2.5), (2.0, -1.5), (0.7, 3.0), (3.0, 2.0), (0.5, 0.5)],
}


def helper_cases():
    return [pytest.param(DERIVED_BY_NAME[name], point, id=f"{name}{point}")
            for name, points in HELPER_POINTS.items() for point in points]


def all_cases():
    table = [pytest.param(BY_NAME[name], point, id=f"{name}{point}")
             for name, points in POINTS.items() for point in points]
    return table + helper_cases()


def test_every_elementwise_op_and_helper_has_its_derivative_as_ops():
    for op in (*ELEMENTWISE_OPS, *HELPER_OPS):
        assert len(op.derivative_ops) == op.arity, op.name
        for position in range(op.arity):
            derivative_form(op, position)  # reads, with known ops and names only
    # Arrays are taken element by element first (engine/elements.py): no forms needed.
    assert all(op.derivative_ops == () for op in ARRAY_OPS)
    assert sorted(HELPER_POINTS) == sorted(op.name for op in HELPER_OPS)
    assert not {op.name for op in HELPER_OPS} & {op.name for op in OPS}  # not user-facing


def test_forms_read_as_nested_tuples_and_bad_forms_are_refused():
    assert read_form("(neg (sin a))") == ("neg", ("sin", "a"))
    assert read_form("(add 1 (mul out out))") == ("add", 1.0, ("mul", "out", "out"))
    assert read_form("-1") == -1.0
    for bad in ("(sin a", "(nope a)", "(sin a b)", "(sin x)", "a b", "()"):
        with pytest.raises(ValueError):
            read_form(bad)


@pytest.mark.parametrize(("op", "point"), all_cases())
def test_the_form_computes_the_numeric_derivative_bit_for_bit(op, point):
    for m in (FLOAT64, NUMPY64):
        args = tuple(m.number(v) for v in point)
        out, derivatives = local_derivatives(op, m, point)
        for position, numeric in enumerate(derivatives):
            built = float(evaluate_form(derivative_form(op, position), m, args, out))
            assert built == numeric, (op.name, position, m.name)


@pytest.mark.parametrize(("op", "point"), helper_cases())
def test_helper_derivative_matches_central_differences(op, point):
    _, derivatives = local_derivatives(op, FLOAT64, point)
    for position, derivative in enumerate(derivatives):
        reference = central_difference(op, point, position)
        assert derivative == pytest.approx(reference, rel=1e-8, abs=1e-9), (op.name, position)


@pytest.mark.parametrize(("op", "point"), helper_cases())
def test_helper_matches_sympy(op, point):
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    expression = op.sympy(sympy, *symbols)
    at = {s: sympy.Float(v, 30) for s, v in zip(symbols, point)}
    _, derivatives = local_derivatives(op, FLOAT64, point)
    for position, symbol in enumerate(symbols):
        reference = float(sympy.N(sympy.diff(expression, symbol).xreplace(at), 30))
        assert derivatives[position] == pytest.approx(reference, rel=1e-13, abs=1e-15)
    assert op.forward(FLOAT64, *point) == pytest.approx(
        float(sympy.N(expression.xreplace(at), 30)), rel=1e-14, abs=1e-300)


def test_helpers_keep_the_first_order_conventions():
    step, sign, less = (DERIVED_BY_NAME[n] for n in ("step", "sign", "less"))
    dpow, powlog = DERIVED_BY_NAME["dpow"], DERIVED_BY_NAME["powlog"]
    assert step.forward(FLOAT64, 0.0) == 0.0  # relu'(0) = 0
    assert sign.forward(FLOAT64, 0.0) == 0.0  # abs'(0) = 0
    assert less.forward(FLOAT64, 1.0, 1.0) == 0.5  # a tie shares the gradient
    assert dpow.forward(FLOAT64, 0.0, 0.0) == 0.0  # d(0**0)/da, PyTorch's mask
    assert powlog.forward(FLOAT64, 0.0, 2.0) == 0.0  # d(0**2)/db
    assert dpow.derivatives[0](FLOAT64, (0.0, 1.0), 0.0) == 0.0  # d²(a**1)/da² at 0
    assert step.is_kink((0.0,)) and not step.is_kink((1.0,))
    assert math.isclose(dpow.forward(FLOAT64, 2.0, 4.0), 32.0)


@pytest.mark.parametrize(("op", "point"), [
    pytest.param(BY_NAME[name], point, id=f"{name}{point}")
    for name, points in POINTS.items() for point in points])
def test_every_op_differentiated_twice_matches_sympys_hessian(op, point):
    from backtrace_cli.engine.higher import hessian_at
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.ops.table import PREC_ATOM
    from backtrace_cli.syntax.parser import apply_text, parse

    names = "ab"[: op.arity]
    tape = compile_program(parse(apply_text(op, [(n, PREC_ATOM) for n in names])))
    result = hessian_at(tape, dict(zip(names, point)))
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    expression = op.sympy(sympy, *symbols)
    at = {s: sympy.Float(v, 30) for s, v in zip(symbols, point)}
    for i, first in enumerate(symbols):
        for j, second in enumerate(symbols):
            reference = float(sympy.N(sympy.diff(expression, first, second).xreplace(at), 30))
            assert result.hessian[i][j] == pytest.approx(reference, rel=1e-12, abs=1e-13), (
                op.name, i, j)


@pytest.mark.parametrize("variable", ["a", "b"])
@pytest.mark.parametrize("point", [(1.3, 2.5), (0.7, 3.0), (2.0, -1.5)])
def test_pow_to_the_fourth_order_uses_the_helpers_own_forms(variable, point):
    from backtrace_cli.engine.higher import derivative_tapes
    from backtrace_cli.engine.sweeps import forward
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.syntax.parser import parse

    tapes = derivative_tapes(compile_program(parse("a**b")), variable, 4)
    bindings = dict(zip("ab", point))
    a, b = sympy.symbols("a b", real=True)
    at = {a: sympy.Float(point[0], 30), b: sympy.Float(point[1], 30)}
    symbol = a if variable == "a" else b
    for order, tape in enumerate(tapes):
        reference = float(sympy.N(sympy.diff(a**b, symbol, order).xreplace(at), 30))
        assert forward(tape, bindings)[tape.output] == pytest.approx(reference, rel=1e-11)
    helpers = {node.op.name for t in tapes for node in t.nodes if node.op in HELPER_OPS}
    assert helpers == ({"dpow"} if variable == "a" else {"powlog"})
