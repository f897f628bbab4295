"""The one table of ops. Every op is defined here once, and every other part reads it.

A row holds everything about an op: its name, arity, how it is written (symbol, notation,
precedence), its forward function, one local derivative per input (with the formula as
text for the tables), its SymPy form, its kink convention and the domain it needs.
Forward and derivative functions take a numeric back end ``m`` first (see ``backend.py``),
so the same definition serves Python floats, float32 and NumPy arrays. The engine never
special-cases an op: adding one means adding a row here (``tests/test_ops.py`` checks that
every row is complete and every derivative against central differences and SymPy).

Derivative functions receive ``(m, args, out)``: the input values and the op's own output.
Formulas follow PyTorch's ``derivatives.yaml`` where the order of rounding matters for
float32 (e.g. ``tanh' = 1 - out*out``, ``sigmoid' = out * (1 - out)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Binding powers, shared by the parser and the printer (Python's precedence).
PREC_ADD = 10
PREC_MUL = 20
PREC_UNARY = 30
PREC_POW = 40
PREC_ATOM = 100


@dataclass(frozen=True)
class Op:
    """One op: how it is written, how it evaluates, and how it differentiates."""

    name: str
    arity: int
    symbol: str
    notation: str  # "infix" (a + b), "prefix" (-a) or "call" (sin(a))
    precedence: int
    forward: Callable[..., Any]  # (m, *args) -> value
    derivatives: tuple[Callable[..., Any], ...]  # per input: (m, args, out) -> local
    derivative_text: tuple[str, ...]  # per input, in {a}, {b}, {out}
    sympy: Callable[..., Any]  # (sp, *args) -> SymPy expression
    domain: str  # what the op needs of its inputs, said in an error message
    right_assoc: bool = False
    kink: Callable[[tuple], bool] | None = None  # true where the derivative is a convention
    kink_note: str = ""
    aliases: tuple[str, ...] = field(default=())

    def is_kink(self, args: tuple) -> bool:
        return self.kink is not None and bool(self.kink(args))


def _pow_base(m, args, out):
    a, b = args
    # d(a**b)/da = b * a**(b-1); at b == 0 the power is constant 1 (PyTorch masks it to 0),
    # so 0**0 has derivative 0 instead of the undefined 0 * 0**-1.
    return m.where(b == 0, 0.0, lambda: b * m.pow(a, b - 1))


def _pow_exponent(m, args, out):
    a, b = args
    # d(a**b)/db = a**b * log(a); 0 at a == 0 with b > 0, as PyTorch masks it.
    return m.where((a == 0) & (b > 0), 0.0, lambda: out * m.log(a))


def _sympy_relu(sp, a):
    return sp.Max(a, 0)


def _sympy_sigmoid(sp, a):
    return 1 / (1 + sp.exp(-a))


def _sympy_softplus(sp, a):
    return sp.log(1 + sp.exp(a))


def _ops() -> tuple[Op, ...]:
    return (
        Op("add", 2, "+", "infix", PREC_ADD, lambda m, a, b: a + b,
           (lambda m, x, o: 1.0, lambda m, x, o: 1.0), ("1", "1"),
           lambda sp, a, b: a + b, "any numbers"),
        Op("sub", 2, "-", "infix", PREC_ADD, lambda m, a, b: a - b,
           (lambda m, x, o: 1.0, lambda m, x, o: -1.0), ("1", "-1"),
           lambda sp, a, b: a - b, "any numbers"),
        Op("mul", 2, "*", "infix", PREC_MUL, lambda m, a, b: a * b,
           (lambda m, x, o: x[1], lambda m, x, o: x[0]), ("{b}", "{a}"),
           lambda sp, a, b: a * b, "any numbers"),
        Op("div", 2, "/", "infix", PREC_MUL, lambda m, a, b: a / b,
           (lambda m, x, o: 1 / x[1], lambda m, x, o: -((x[0] / x[1]) / x[1])),
           ("1/{b}", "-{a}/{b}²"),
           lambda sp, a, b: a / b, "a divisor that is not zero"),
        Op("pow", 2, "**", "infix", PREC_POW, lambda m, a, b: m.pow(a, b),
           (_pow_base, _pow_exponent), ("{b}·{a}^({b}-1)", "{a}^{b}·log({a})"),
           lambda sp, a, b: a**b,
           "a positive base, or a whole-number exponent for a negative base, "
           "and a result that fits in a float",
           right_assoc=True, aliases=("^",)),
        Op("neg", 1, "-", "prefix", PREC_UNARY, lambda m, a: -a,
           (lambda m, x, o: -1.0,), ("-1",), lambda sp, a: -a, "any number"),
        Op("pos", 1, "+", "prefix", PREC_UNARY, lambda m, a: +a,
           (lambda m, x, o: 1.0,), ("1",), lambda sp, a: a, "any number"),
        Op("sin", 1, "sin", "call", PREC_ATOM, lambda m, a: m.sin(a),
           (lambda m, x, o: m.cos(x[0]),), ("cos({a})",), lambda sp, a: sp.sin(a),
           "a finite number"),
        Op("cos", 1, "cos", "call", PREC_ATOM, lambda m, a: m.cos(a),
           (lambda m, x, o: -m.sin(x[0]),), ("-sin({a})",), lambda sp, a: sp.cos(a),
           "a finite number"),
        Op("tan", 1, "tan", "call", PREC_ATOM, lambda m, a: m.tan(a),
           (lambda m, x, o: 1 + o * o,), ("1 + tan({a})²",), lambda sp, a: sp.tan(a),
           "a number away from pi/2 + k*pi"),
        Op("exp", 1, "exp", "call", PREC_ATOM, lambda m, a: m.exp(a),
           (lambda m, x, o: o,), ("exp({a})",), lambda sp, a: sp.exp(a),
           "a result that fits in a float (exp overflows above about 709.78)"),
        Op("log", 1, "log", "call", PREC_ATOM, lambda m, a: m.log(a),
           (lambda m, x, o: 1 / x[0],), ("1/{a}",), lambda sp, a: sp.log(a),
           "a positive number"),
        Op("sqrt", 1, "sqrt", "call", PREC_ATOM, lambda m, a: m.sqrt(a),
           (lambda m, x, o: 1 / (2 * o),), ("1/(2·sqrt({a}))",), lambda sp, a: sp.sqrt(a),
           "a number >= 0 (and > 0 for its derivative)"),
        Op("tanh", 1, "tanh", "call", PREC_ATOM, lambda m, a: m.tanh(a),
           (lambda m, x, o: 1 - o * o,), ("1 - tanh({a})²",), lambda sp, a: sp.tanh(a),
           "any number"),
        Op("sigmoid", 1, "sigmoid", "call", PREC_ATOM, lambda m, a: m.sigmoid(a),
           (lambda m, x, o: o * (1 - o),), ("σ({a})·(1 - σ({a}))",), _sympy_sigmoid,
           "any number"),
        Op("relu", 1, "relu", "call", PREC_ATOM, lambda m, a: m.relu(a),
           (lambda m, x, o: m.gt(x[0], 0),), ("1 if {a} > 0 else 0",), _sympy_relu,
           "any number", kink=lambda x: x[0] == 0,
           kink_note="relu'(0) = 0 (PyTorch's convention)"),
        Op("abs", 1, "abs", "call", PREC_ATOM, lambda m, a: abs(a),
           (lambda m, x, o: m.gt(x[0], 0) - m.lt(x[0], 0),), ("sign({a})",),
           lambda sp, a: sp.Abs(a), "any number", kink=lambda x: x[0] == 0,
           kink_note="abs'(0) = 0 (PyTorch's convention)"),
        Op("softplus", 1, "softplus", "call", PREC_ATOM, lambda m, a: m.softplus(a),
           (lambda m, x, o: m.sigmoid(x[0]),), ("sigmoid({a})",), _sympy_softplus,
           "any number"),
        Op("min", 2, "min", "call", PREC_ATOM, lambda m, a, b: m.minimum(a, b),
           (lambda m, x, o: m.lt(x[0], x[1]) + 0.5 * m.eq(x[0], x[1]),
            lambda m, x, o: m.lt(x[1], x[0]) + 0.5 * m.eq(x[0], x[1])),
           ("1 if {a} < {b} else 0", "1 if {b} < {a} else 0"),
           lambda sp, a, b: sp.Min(a, b), "any numbers", kink=lambda x: x[0] == x[1],
           kink_note="at a tie min passes half the gradient to each input (PyTorch's convention)"),
        Op("max", 2, "max", "call", PREC_ATOM, lambda m, a, b: m.maximum(a, b),
           (lambda m, x, o: m.gt(x[0], x[1]) + 0.5 * m.eq(x[0], x[1]),
            lambda m, x, o: m.gt(x[1], x[0]) + 0.5 * m.eq(x[0], x[1])),
           ("1 if {a} > {b} else 0", "1 if {b} > {a} else 0"),
           lambda sp, a, b: sp.Max(a, b), "any numbers", kink=lambda x: x[0] == x[1],
           kink_note="at a tie max passes half the gradient to each input (PyTorch's convention)"),
    )


OPS: tuple[Op, ...] = _ops()
BY_NAME: dict[str, Op] = {op.name: op for op in OPS}

# How the parser finds ops: infix symbols, prefix symbols and function names.
INFIX: dict[str, Op] = {}
PREFIX: dict[str, Op] = {}
FUNCTIONS: dict[str, Op] = {}
for _op in OPS:
    if _op.notation == "infix":
        for _symbol in (_op.symbol, *_op.aliases):
            INFIX[_symbol] = _op
    elif _op.notation == "prefix":
        PREFIX[_op.symbol] = _op
    else:
        FUNCTIONS[_op.symbol] = _op
FUNCTIONS["pow"] = BY_NAME["pow"]  # pow(a, b) is a ** b

CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045}
