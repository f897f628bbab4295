"""The op table: every row complete, every local derivative right.

Each derivative is compared with central finite differences and with SymPy's derivative of the
op's own SymPy form, on both numeric back ends, at points away from kinks and singularities.
"""

from __future__ import annotations

import math
import string

import numpy as np
import pytest
import sympy
from helpers import assert_within_ulps

from backtrace_cli.engine.backends import FLOAT64, numpy_backend
from backtrace_cli.ops.table import (
    BY_NAME,
    CONSTANTS,
    ELEMENTWISE_OPS,
    FUNCTIONS,
    INFIX,
    OPS,
    PREFIX,
    SHAPE_RULES,
)

NUMPY64 = numpy_backend("float64")

# Points for each op, away from kinks (relu, abs at 0; min/max ties) and singularities.
POINTS: dict[str, list[tuple[float, ...]]] = {
    "add": [(1.3, -0.7), (2.5, 3.1), (-1e3, 4e-3)],
    "sub": [(1.3, -0.7), (2.5, 3.1), (-1e3, 4e-3)],
    "mul": [(1.3, -0.7), (2.5, 3.1), (-1e3, 4e-3)],
    "div": [(1.3, -0.7), (2.5, 3.1), (-4.0, 0.25)],
    "pow": [(1.3, 2.5), (2.0, -1.5), (0.7, 3.0), (3.0, 2.0), (0.5, 0.5)],
    "neg": [(1.3,), (-0.2,)],
    "pos": [(1.3,), (-0.2,)],
    "sin": [(0.3,), (-1.1,), (2.0,)],
    "cos": [(0.3,), (-1.1,), (2.0,)],
    "tan": [(0.3,), (-1.1,), (1.0,)],
    "exp": [(0.5,), (-2.0,), (3.0,)],
    "log": [(0.5,), (2.0,), (10.0,)],
    "sqrt": [(0.25,), (2.0,), (9.0,)],
    "tanh": [(0.3,), (-1.2,), (2.5,)],
    "sigmoid": [(-3.0,), (0.2,), (4.0,)],
    "relu": [(-1.5,), (0.7,)],
    "abs": [(-1.5,), (0.7,)],
    "softplus": [(-3.0,), (0.2,), (4.0,)],
    "min": [(1.2, -0.4), (-0.4, 1.2)],
    "max": [(1.2, -0.4), (-0.4, 1.2)],
}

# Ops whose arithmetic is + - * / sqrt and comparisons only: IEEE 754 rounds those exactly,
# so both back ends must give the same bits. The others call exp/log/tan/tanh, which the C
# library (math) and NumPy implement separately and may round 1-2 ulp apart.
CORRECTLY_ROUNDED = {
    "add", "sub", "mul", "div", "neg", "pos", "sqrt", "relu", "abs", "min", "max",
}


def local_derivatives(op, m, point):
    args = tuple(m.number(v) for v in point)
    out = op.forward(m, *args)
    return out, [float(d(m, args, out)) for d in op.derivatives]


def central_difference(op, point, position):
    """Richardson-extrapolated central difference: error about h**4, so 1e-9 is a fair bar."""
    def f(shift):
        args = list(point)
        args[position] += shift
        return op.forward(FLOAT64, *args)

    h = 1e-3 * max(1.0, abs(point[position]))
    d1 = (f(h) - f(-h)) / (2 * h)
    d2 = (f(h / 2) - f(-h / 2)) / h
    return (4 * d2 - d1) / 3


def op_point_cases():
    return [
        pytest.param(BY_NAME[name], point, id=f"{name}{point}")
        for name, points in POINTS.items()
        for point in points
    ]


# ----------------------------------------------------------------------------- completeness
def test_every_op_has_sample_points():
    # The array ops (matmul, sum, ...) are tested on arrays in test_tensors.py.
    assert sorted(POINTS) == sorted(op.name for op in ELEMENTWISE_OPS)


def test_op_names_are_unique():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_row_is_complete(op):
    assert op.arity in (1, 2)
    assert len(op.derivatives) == op.arity
    assert len(op.derivative_text) == op.arity
    assert len(op.derivative_code) == op.arity
    assert all(callable(d) for d in op.derivatives)
    assert op.symbol and op.code
    assert op.notation in ("infix", "prefix", "call", "list")
    assert op.domain.strip()
    assert isinstance(op.precedence, int)
    # Arrays: a shape rule; a vector-Jacobian product per input, or none at all.
    assert op.shape_rule in SHAPE_RULES
    assert len(op.vjp_code) in (0, op.arity) and len(op.vjps) == len(op.vjp_code)
    assert op.shape_rule == "elementwise" or op.vjp_code, "a non-elementwise op needs VJPs"
    # Derivative texts use only the placeholders the renderer fills in.
    for text in op.derivative_text:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert fields <= {"a", "b", "out", "position"}, text
        assert text.format(a="x", b="y", out="z", position=0)
    if op.shape_rule != "elementwise":
        return  # its SymPy form works on arrays of symbols: see test_tensors.py
    # The SymPy builder works on real symbols.
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    built = op.sympy(sympy, *symbols)
    assert isinstance(built, sympy.Basic)
    assert built.free_symbols <= set(symbols)
    # A kink convention always comes with its note.
    assert (op.kink is None) == (op.kink_note == "")


def test_the_parser_tables_reach_every_op():
    reachable = set(INFIX.values()) | set(PREFIX.values()) | set(FUNCTIONS.values())
    assert reachable | {BY_NAME["stack"]} == set(OPS)  # [a, b] is written with brackets
    assert INFIX["^"] is INFIX["**"] is FUNCTIONS["pow"] is BY_NAME["pow"]
    assert set(FUNCTIONS) >= {
        "sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs",
        "softplus", "min", "max", "pow",
    }
    assert {op.arity for name, op in FUNCTIONS.items() if name in ("min", "max", "pow")} == {2}
    assert CONSTANTS == {"pi": math.pi, "e": math.e}


def test_infix_precedence_is_pythons():
    assert INFIX["+"].precedence == INFIX["-"].precedence < INFIX["*"].precedence
    assert INFIX["*"].precedence == INFIX["/"].precedence < PREFIX["-"].precedence
    assert PREFIX["-"].precedence < INFIX["**"].precedence
    assert INFIX["**"].right_assoc and not INFIX["-"].right_assoc


# ----------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize(("op", "point"), op_point_cases())
def test_local_derivative_matches_central_differences(op, point):
    _, derivatives = local_derivatives(op, FLOAT64, point)
    for position, derivative in enumerate(derivatives):
        reference = central_difference(op, point, position)
        assert derivative == pytest.approx(reference, rel=1e-8, abs=1e-9), (op.name, position)


@pytest.mark.parametrize(("op", "point"), op_point_cases())
def test_float64_and_numpy_float64_back_ends_agree(op, point):
    out64, derivatives64 = local_derivatives(op, FLOAT64, point)
    out_np, derivatives_np = local_derivatives(op, NUMPY64, point)
    assert isinstance(out64, float)
    assert isinstance(out_np, np.float64)
    if op.name in CORRECTLY_ROUNDED:
        assert float(out_np) == out64
        assert derivatives_np == derivatives64
    else:
        # Python's math (the C library) and NumPy's own loops: the same formula, each
        # function within a few ulp of the exact value (docs/numerics.md). A derivative
        # such as 1 - tanh² or out·(1 - out) cancels against 1: its ulps are those of 1.
        assert_within_ulps(float(out_np), out64)
        assert_within_ulps([float(d) for d in derivatives_np], list(derivatives64), scale=1.0)


def test_numpy_float32_keeps_its_dtype():
    m = numpy_backend("float32")
    for op in ELEMENTWISE_OPS:
        point = POINTS[op.name][0]
        out, _ = local_derivatives(op, m, point)
        args = tuple(m.number(v) for v in point)
        assert op.forward(m, *args).dtype == np.float32, op.name
        assert out == pytest.approx(op.forward(FLOAT64, *point), rel=1e-5), op.name


@pytest.mark.parametrize(("op", "point"), op_point_cases())
def test_local_derivative_matches_sympy(op, point):
    symbols = sympy.symbols("a b", real=True)[: op.arity]
    expression = op.sympy(sympy, *symbols)
    at = {s: sympy.Float(v, 30) for s, v in zip(symbols, point)}
    _, derivatives = local_derivatives(op, FLOAT64, point)
    for position, symbol in enumerate(symbols):
        reference = float(sympy.N(sympy.diff(expression, symbol).xreplace(at), 30))
        assert derivatives[position] == pytest.approx(reference, rel=1e-13, abs=1e-15)
    assert op.forward(FLOAT64, *point) == pytest.approx(
        float(sympy.N(expression.xreplace(at), 30)), rel=1e-14, abs=1e-300
    )


# ----------------------------------------------------------------------------- stable forms
@pytest.mark.parametrize("m", [FLOAT64, NUMPY64], ids=["float64", "numpy"])
def test_sigmoid_softplus_tanh_are_stable_at_plus_minus_1000(m):
    sigmoid, softplus, tanh = BY_NAME["sigmoid"], BY_NAME["softplus"], BY_NAME["tanh"]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for op, x, value, derivative in [
            (sigmoid, 1000.0, 1.0, 0.0),
            (sigmoid, -1000.0, 0.0, 0.0),
            (softplus, 1000.0, 1000.0, 1.0),
            (softplus, -1000.0, 0.0, 0.0),
            (tanh, 1000.0, 1.0, 0.0),
            (tanh, -1000.0, -1.0, 0.0),
        ]:
            out, (local,) = local_derivatives(op, m, (x,))
            assert math.isfinite(out) and math.isfinite(local)
            assert float(out) == value, (op.name, x)
            assert local == derivative, (op.name, x)


def test_stable_forms_keep_precision_in_the_tails():
    sigmoid, softplus = BY_NAME["sigmoid"], BY_NAME["softplus"]
    # 1/(1 + e^700) underflows nowhere near 0 and must not lose digits to 1 + tiny.
    assert sigmoid.forward(FLOAT64, -700.0) == pytest.approx(math.exp(-700.0), rel=1e-15)
    assert softplus.forward(FLOAT64, -30.0) == pytest.approx(math.exp(-30.0), rel=1e-12)
    assert softplus.forward(FLOAT64, 30.0) == pytest.approx(30.0 + math.exp(-30.0), rel=1e-15)
    assert sigmoid.forward(FLOAT64, 0.0) == 0.5
    assert softplus.forward(FLOAT64, 0.0) == math.log(2.0)


# ----------------------------------------------------------------------------- conventions
@pytest.mark.parametrize("m", [FLOAT64, NUMPY64], ids=["float64", "numpy"])
def test_kink_conventions_are_pytorchs(m):
    relu, absolute = BY_NAME["relu"], BY_NAME["abs"]
    minimum, maximum = BY_NAME["min"], BY_NAME["max"]
    assert local_derivatives(relu, m, (0.0,)) == (0.0, [0.0])
    assert local_derivatives(absolute, m, (0.0,)) == (0.0, [0.0])
    assert local_derivatives(minimum, m, (2.0, 2.0)) == (2.0, [0.5, 0.5])
    assert local_derivatives(maximum, m, (-1.0, -1.0)) == (-1.0, [0.5, 0.5])
    for op, point in [(relu, (0.0,)), (absolute, (0.0,)), (minimum, (2.0, 2.0)),
                      (maximum, (-1.0, -1.0))]:
        assert op.is_kink(point)
        assert "PyTorch" in op.kink_note
    for op, point in [(relu, (0.5,)), (absolute, (-0.5,)), (minimum, (1.0, 2.0)),
                      (maximum, (1.0, 2.0)), (BY_NAME["mul"], (0.0, 0.0))]:
        assert not op.is_kink(point)


@pytest.mark.parametrize("m", [FLOAT64, NUMPY64], ids=["float64", "numpy"])
def test_zero_to_the_zero(m):
    power = BY_NAME["pow"]
    out, (d_base, d_exponent) = local_derivatives(power, m, (0.0, 0.0))
    assert out == 1.0
    assert d_base == 0.0
    # PyTorch masks d(a**b)/db to 0 where a == 0 and b >= 0 (pow_backward_exponent).
    assert d_exponent == 0.0
    out, (d_base, d_exponent) = local_derivatives(power, m, (0.0, 2.0))
    assert (out, d_base, d_exponent) == (0.0, 0.0, 0.0)


def test_whole_exponent_of_a_negative_base():
    power = BY_NAME["pow"]
    args = (-2.0, 3.0)
    out = power.forward(FLOAT64, *args)
    assert out == -8.0
    assert power.derivatives[0](FLOAT64, args, out) == 12.0
    # The derivative in the exponent needs log(-2): the float back end raises.
    with pytest.raises(ValueError):
        power.derivatives[1](FLOAT64, args, out)


def test_square_is_rounded_as_a_product():
    # backend.pow(a, 2) is a*a on both back ends (PyTorch's and the compiled loops' rounding).
    value = 0.1 + 0.2
    assert BY_NAME["pow"].forward(FLOAT64, value, 2.0) == value * value
    assert float(BY_NAME["pow"].forward(NUMPY64, np.float64(value), np.float64(2.0))) == (
        value * value
    )


def test_forward_domain_errors_raise_on_the_float_back_end():
    cases = [("log", (-1.0,)), ("log", (0.0,)), ("sqrt", (-4.0,)), ("div", (1.0, 0.0)),
             ("exp", (1000.0,)), ("pow", (-8.0, 0.5)), ("pow", (0.0, -1.0))]
    for name, args in cases:
        with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
            BY_NAME[name].forward(FLOAT64, *args)


def test_every_input_appears_in_the_forward_template():
    for op in OPS:
        if op.variadic:
            assert "{args}" in op.code, op.name
            continue
        for name in "ab"[: op.arity]:
            assert f"{{{name}}}" in op.code, op.name
