"""The one table of ops. Every op is defined here once, and every other part reads it.

A row holds everything about an op: its name, arity, how it is written (symbol, notation,
precedence), its forward function, one local derivative per input (with the formula as
text for the tables), its SymPy form, its kink convention and the domain it needs.
Forward and derivative functions take a numeric back end ``m`` first (see ``backend.py``),
so the same definition serves Python floats, float32 and NumPy arrays. The engine never
special-cases an op: adding one means adding a row here (``tests/test_ops.py`` checks that
every row is complete and every derivative against central differences and SymPy).

Each op's arithmetic is written once, as source templates (see ``Op``); ``forward(m, *args)``
and ``derivatives[k](m, args, out)`` are compiled from them. Formulas follow PyTorch's
``derivatives.yaml`` where the order of rounding matters for float32 (e.g.
``tanh' = 1 - out*out``, ``sigmoid' = out * (1 - out)``).
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
    """One op: how it is written, how it evaluates, and how it differentiates.

    ``code`` and ``derivative_code`` are the formulas, as Python expressions over the inputs
    ``{a}``, ``{b}``, the op's own output ``{out}`` and a numeric back end ``m``. They are the
    single definition of the op's arithmetic: ``forward`` and ``derivatives`` are compiled from
    them once, here, and the training loops' code generator (``compiled.py``) inlines the very
    same text. The templates are constants of this module; no user text ever enters them.
    """

    name: str
    arity: int
    symbol: str
    notation: str  # "infix" (a + b), "prefix" (-a) or "call" (sin(a))
    precedence: int
    code: str  # forward, e.g. "m.sin({a})"
    derivative_code: tuple[str, ...]  # per input: d(out)/d(input), e.g. "m.cos({a})"
    derivative_text: tuple[str, ...]  # per input, for people: "cos({a})"
    sympy: Callable[..., Any]  # (sp, *args) -> SymPy expression
    domain: str  # what the op needs of its inputs, said in an error message
    right_assoc: bool = False
    kink: Callable[[tuple], bool] | None = None  # true where the derivative is a convention
    kink_note: str = ""
    aliases: tuple[str, ...] = field(default=())
    # True where an inf or nan input always gives an inf or nan output (not so for 1/inf,
    # exp(-inf), sigmoid(inf), ...): the fast loops need not check such an input.
    keeps_nonfinite: bool = False
    forward: Callable[..., Any] = field(init=False, repr=False, compare=False)
    derivatives: tuple[Callable[..., Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.derivative_code) != self.arity or len(self.derivative_text) != self.arity:
            raise ValueError(f"op {self.name}: one derivative per input is required")
        names = "ab"[: self.arity]
        # forward(m, *args) and derivatives[k](m, args, out), compiled from the templates.
        forward = _compile(f"lambda m, {', '.join(names)}: "
                           + self.code.format(**{n: n for n in names}))
        operands = {n: f"args[{i}]" for i, n in enumerate(names)}
        derivatives = tuple(
            _compile("lambda m, args, out: " + template.format(out="out", **operands))
            for template in self.derivative_code
        )
        object.__setattr__(self, "forward", forward)
        object.__setattr__(self, "derivatives", derivatives)

    def is_kink(self, args: tuple) -> bool:
        return self.kink is not None and bool(self.kink(args))


def _compile(source: str) -> Callable[..., Any]:
    # Safe: ``source`` is built only from this module's constant templates (see Op).
    return eval(source, {"__builtins__": {"abs": abs}})  # noqa: S307


# d(a**b)/da = b * a**(b-1); at b == 0 the power is the constant 1 (PyTorch masks it to 0),
# so 0**0 has derivative 0 instead of the undefined 0 * 0**-1. d(a**b)/db = a**b * log(a),
# 0 at a == 0 with b >= 0, as PyTorch masks it (pow_backward_exponent: self == 0 &
# exponent >= 0), so 0**0 is 0 here too. m.where evaluates the lambda only where needed.
_POW_BASE = "m.where({b} == 0, 0.0, lambda: {b} * m.pow({a}, {b} - 1))"
_POW_EXPONENT = "m.where(({a} == 0) & ({b} >= 0), 0.0, lambda: {out} * m.log({a}))"


def _sympy_relu(sp, a):
    # Not Max(a, 0): its derivative Heaviside(a) is 1/2 at 0, where relu'(0) is 0 (PyTorch).
    # This form differentiates to exactly the engine's convention, so SymPy checks kinks too.
    return sp.Piecewise((a, a > 0), (0, True))


def _sympy_sigmoid(sp, a):
    return 1 / (1 + sp.exp(-a))


def _sympy_softplus(sp, a):
    return sp.log(1 + sp.exp(a))


def _ops() -> tuple[Op, ...]:
    tie = "at a tie {0} passes half the gradient to each input (PyTorch's convention)"
    return (
        Op("add", 2, "+", "infix", PREC_ADD, "{a} + {b}", ("1.0", "1.0"), ("1", "1"),
           lambda sp, a, b: a + b, "any numbers", keeps_nonfinite=True),
        Op("sub", 2, "-", "infix", PREC_ADD, "{a} - {b}", ("1.0", "-1.0"), ("1", "-1"),
           lambda sp, a, b: a - b, "any numbers", keeps_nonfinite=True),
        Op("mul", 2, "*", "infix", PREC_MUL, "{a} * {b}", ("{b}", "{a}"), ("{b}", "{a}"),
           lambda sp, a, b: a * b, "any numbers", keeps_nonfinite=True),
        Op("div", 2, "/", "infix", PREC_MUL, "{a} / {b}",
           ("1 / {b}", "-(({a} / {b}) / {b})"), ("1/{b}", "-{a}/{b}²"),
           lambda sp, a, b: a / b, "a divisor that is not zero"),
        Op("pow", 2, "**", "infix", PREC_POW, "m.pow({a}, {b})", (_POW_BASE, _POW_EXPONENT),
           ("{b}·{a}^({b}-1)", "{a}^{b}·log({a})"), lambda sp, a, b: a**b,
           "a positive base, or a whole-number exponent for a negative base, "
           "and a result that fits in a float",
           right_assoc=True, aliases=("^",)),
        Op("neg", 1, "-", "prefix", PREC_UNARY, "-{a}", ("-1.0",), ("-1",),
           lambda sp, a: -a, "any number", keeps_nonfinite=True),
        Op("pos", 1, "+", "prefix", PREC_UNARY, "+{a}", ("1.0",), ("1",),
           lambda sp, a: a, "any number", keeps_nonfinite=True),
        Op("sin", 1, "sin", "call", PREC_ATOM, "m.sin({a})", ("m.cos({a})",), ("cos({a})",),
           lambda sp, a: sp.sin(a), "a finite number"),
        Op("cos", 1, "cos", "call", PREC_ATOM, "m.cos({a})", ("-m.sin({a})",), ("-sin({a})",),
           lambda sp, a: sp.cos(a), "a finite number"),
        Op("tan", 1, "tan", "call", PREC_ATOM, "m.tan({a})", ("1 + {out} * {out}",),
           ("1 + tan({a})²",), lambda sp, a: sp.tan(a), "a number away from pi/2 + k*pi"),
        Op("exp", 1, "exp", "call", PREC_ATOM, "m.exp({a})", ("{out}",), ("exp({a})",),
           lambda sp, a: sp.exp(a),
           "a result that fits in a float (exp overflows above about 709.78)"),
        Op("log", 1, "log", "call", PREC_ATOM, "m.log({a})", ("1 / {a}",), ("1/{a}",),
           lambda sp, a: sp.log(a), "a positive number"),
        Op("sqrt", 1, "sqrt", "call", PREC_ATOM, "m.sqrt({a})", ("1 / (2 * {out})",),
           ("1/(2·sqrt({a}))",), lambda sp, a: sp.sqrt(a),
           "a number >= 0 (and > 0 for its derivative)"),
        Op("tanh", 1, "tanh", "call", PREC_ATOM, "m.tanh({a})", ("1 - {out} * {out}",),
           ("1 - tanh({a})²",), lambda sp, a: sp.tanh(a), "any number"),
        Op("sigmoid", 1, "sigmoid", "call", PREC_ATOM, "m.sigmoid({a})",
           ("{out} * (1 - {out})",), ("σ({a})·(1 - σ({a}))",), _sympy_sigmoid, "any number"),
        Op("relu", 1, "relu", "call", PREC_ATOM, "m.relu({a})", ("m.gt({a}, 0)",),
           ("1 if {a} > 0 else 0",), _sympy_relu, "any number",
           kink=lambda x: x[0] == 0, kink_note="relu'(0) = 0 (PyTorch's convention)"),
        Op("abs", 1, "abs", "call", PREC_ATOM, "abs({a})", ("m.gt({a}, 0) - m.lt({a}, 0)",),
           ("sign({a})",), lambda sp, a: sp.Abs(a), "any number",
           kink=lambda x: x[0] == 0, kink_note="abs'(0) = 0 (PyTorch's convention)"),
        Op("softplus", 1, "softplus", "call", PREC_ATOM, "m.softplus({a})",
           ("m.sigmoid({a})",), ("sigmoid({a})",), _sympy_softplus, "any number"),
        Op("min", 2, "min", "call", PREC_ATOM, "m.minimum({a}, {b})",
           ("m.lt({a}, {b}) + 0.5 * m.eq({a}, {b})", "m.lt({b}, {a}) + 0.5 * m.eq({a}, {b})"),
           ("1 if {a} < {b} else 0", "1 if {b} < {a} else 0"),
           lambda sp, a, b: sp.Min(a, b), "any numbers", kink=lambda x: x[0] == x[1],
           kink_note=tie.format("min")),
        Op("max", 2, "max", "call", PREC_ATOM, "m.maximum({a}, {b})",
           ("m.gt({a}, {b}) + 0.5 * m.eq({a}, {b})", "m.gt({b}, {a}) + 0.5 * m.eq({a}, {b})"),
           ("1 if {a} > {b} else 0", "1 if {b} > {a} else 0"),
           lambda sp, a, b: sp.Max(a, b), "any numbers", kink=lambda x: x[0] == x[1],
           kink_note=tie.format("max")),
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
