"""The one table of ops. Every op is defined here once, and every other part reads it.

A row holds everything about an op: its name, arity, how it is written (symbol, notation,
precedence), its forward function, one local derivative per input (with the formula as
text for the tables), its SymPy form, its kink convention and the domain it needs.
Forward and derivative functions take a numeric back end ``m`` first (see ``backend.py``),
so the same definition serves Python floats, float32 and NumPy arrays. The engine never
special-cases an op: adding one means adding a row here (``tests/test_ops.py`` checks that
every row is complete and every derivative against central differences and SymPy).

Values may be arrays (NumPy back end): every elementwise op broadcasts as NumPy does, and
the array ops at the end of the table (``@``, ``sum``, ``mean``, ``transpose``, ``[a, b]``)
also carry a shape rule and one vector-Jacobian product per input (``vjp_code``), since
their derivative is not elementwise.

Each op's arithmetic is written once, as source templates (see ``Op``); ``forward(m, *args)``
and ``derivatives[k](m, args, out)`` are compiled from them. Formulas follow PyTorch's
``derivatives.yaml`` where the order of rounding matters for float32 (e.g.
``tanh' = 1 - out*out``, ``sigmoid' = out * (1 - out)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backtrace_cli.i18n import N_

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
    notation: str  # "infix" (a + b), "prefix" (-a), "call" (sin(a)) or "list" ([a, b])
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
    # Arrays. ``shape_rule`` names the function of SHAPE_RULES that gives the output's shape
    # from the inputs' shapes (or says why they do not fit). An elementwise op broadcasts as
    # NumPy does, and its gradient is upstream * local, summed back to the input's shape.
    # An op whose derivative is not elementwise (matmul, sum, transpose, ...) has a
    # vector-Jacobian product per input instead: ``vjp_code`` over the upstream gradient
    # ``{g}``, the inputs, ``{out}`` and the input's ``{position}``; its ``derivative_code``
    # is then the factor shown in the "local" column (x for d(W @ x)/dW).
    shape_rule: str = "elementwise"
    vjp_code: tuple[str, ...] = ()
    # A variadic op ([a, b, c]) takes any number of inputs; its one template per field
    # serves every position.
    variadic: bool = False
    # How the local derivative reads for people when it depends on the shapes (matmul):
    # (position, input shapes) -> a template like derivative_text.
    derivative_text_for: Callable[[int, tuple], str] | None = None
    forward: Callable[..., Any] = field(init=False, repr=False, compare=False)
    derivatives: tuple[Callable[..., Any], ...] = field(init=False, repr=False, compare=False)
    vjps: tuple[Callable[..., Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.derivative_code) != self.arity or len(self.derivative_text) != self.arity:
            raise ValueError(f"op {self.name}: one derivative per input is required")
        if self.vjp_code and len(self.vjp_code) != self.arity:
            raise ValueError(f"op {self.name}: one vector-Jacobian product per input")
        if self.shape_rule not in SHAPE_RULES:
            raise ValueError(f"op {self.name}: unknown shape rule {self.shape_rule}")
        names = "ab"[: self.arity]
        # forward(m, *args), derivatives[k](m, args, out) and vjps[k](m, g, args, out,
        # position), compiled from the templates.
        if self.variadic:
            forward = _compile("lambda m, *args: " + self.code.format(args="args"))
            operands = {}
        else:
            forward = _compile(f"lambda m, {', '.join(names)}: "
                               + self.code.format(**{n: n for n in names}))
            operands = {n: f"args[{i}]" for i, n in enumerate(names)}
        derivatives = tuple(
            _compile("lambda m, args, out: " + template.format(out="out", **operands))
            for template in self.derivative_code
        )
        vjps = tuple(
            _compile("lambda m, g, args, out, position: "
                     + template.format(g="g", out="out", position="position", **operands))
            for template in self.vjp_code
        )
        object.__setattr__(self, "forward", forward)
        object.__setattr__(self, "derivatives", derivatives)
        object.__setattr__(self, "vjps", vjps)

    def is_kink(self, args: tuple) -> bool:
        if self.kink is None:
            return False
        at = self.kink(args)
        return bool(at.any()) if hasattr(at, "any") else bool(at)  # any element of an array


# ----------------------------------------------------------------------------- shapes
# A shape is a tuple of ints, () for a scalar, as NumPy writes it. A rule returns the
# output's shape or raises ShapeMismatch with a sentence a person can act on.
class ShapeMismatch(ValueError):
    """Input shapes an op cannot combine; the tape adds the node and its place."""


def shape_text(shape: tuple) -> str:
    """(2, 3) -> '2x3', (2,) -> '2', () -> 'scalar'."""
    return "x".join(str(n) for n in shape) if shape else N_("scalar")


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's broadcasting: align on the right; each pair of sizes equal or one of them 1."""
    length = max(len(shape) for shape in shapes)
    result = []
    for axis in range(length):
        size = 1
        for shape in shapes:
            position = len(shape) - length + axis
            n = shape[position] if position >= 0 else 1
            if n != 1:
                if size not in (1, n):
                    raise ShapeMismatch(
                        "shapes " + " and ".join(shape_text(s) for s in shapes)
                        + " do not broadcast (sizes must match or be 1, counted from the right)"
                    )
                size = n
        result.append(size)
    return tuple(result)


def _matmul_shape(*shapes: tuple) -> tuple:
    a, b = shapes
    for shape in (a, b):
        if len(shape) not in (1, 2):
            raise ShapeMismatch(
                f"@ needs vectors or matrices, got {shape_text(a)} @ {shape_text(b)}"
                + (" (use * to multiply by a scalar)" if not shape else "")
            )
    inner_a, inner_b = a[-1], b[0]
    if inner_a != inner_b:
        raise ShapeMismatch(
            f"@ needs the inner sizes to match: {shape_text(a)} @ {shape_text(b)} "
            f"({inner_a} != {inner_b})"
        )
    return a[:-1] + b[1:]


def _reduce_shape(*shapes: tuple) -> tuple:
    return ()


def _transpose_shape(*shapes: tuple) -> tuple:
    return tuple(reversed(shapes[0]))


def _stack_shape(*shapes: tuple) -> tuple:
    first = shapes[0]
    for shape in shapes[1:]:
        if shape != first:
            raise ShapeMismatch(
                f"the elements of a [...] literal must have one shape, got {shape_text(first)} "
                f"and {shape_text(shape)}"
            )
    return (len(shapes), *first)


SHAPE_RULES: dict[str, Callable[..., tuple]] = {
    "elementwise": broadcast_shapes,
    "matmul": _matmul_shape,
    "reduce": _reduce_shape,
    "transpose": _transpose_shape,
    "stack": _stack_shape,
}


def _matmul_text(position: int, shapes: tuple) -> str:
    """d(a @ b): an outer product when a vector meets a vector, else a product with a
    transpose; written the way a student would write it on paper."""
    a, b = shapes
    if position == 0:
        if len(a) == 1 and len(b) == 1:
            return N_("upstream · {b}")
        if len(a) == 2 and len(b) == 1:
            return N_("upstream ⊗ {b}")
        if len(a) == 1:
            return N_("{b} @ upstream")
        return N_("upstream @ {b}ᵀ")
    if len(a) == 1 and len(b) == 1:
        return N_("upstream · {a}")
    if len(a) == 1 and len(b) == 2:
        return N_("{a} ⊗ upstream")
    if len(b) == 1:
        return N_("{a}ᵀ @ upstream")
    return N_("{a}ᵀ @ upstream")


# SymPy forms of the array ops work on NumPy object arrays of SymPy expressions (one real
# symbol per element; see check.py) and on plain SymPy scalars.
def _elements(value) -> list:
    return value.ravel().tolist() if hasattr(value, "ravel") else [value]


def _sympy_sum(sp, a):
    return sp.Add(*_elements(a))


def _sympy_mean(sp, a):
    elements = _elements(a)
    return sp.Add(*elements) / len(elements)


def _sympy_transpose(sp, a):
    return a.T if hasattr(a, "ravel") else a


def _sympy_stack(sp, *args):
    import numpy

    return numpy.stack([numpy.asarray(arg, dtype=object) for arg in args])


def _compile(source: str) -> Callable[..., Any]:
    # Safe: ``source`` is one of this module's own constant templates (the forward and local
    # derivative formulas of the op rows below, filled with the fixed names a, b, out). No text
    # a user typed ever reaches here: expressions are parsed by syntax/ into a tree whose ops
    # are looked up in this table by name, and builtins are cut down to abs.
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
           (N_("1 if {a} > 0 else 0"),), _sympy_relu, "any number",
           kink=lambda x: x[0] == 0, kink_note=N_("relu'(0) = 0 (PyTorch's convention)")),
        Op("abs", 1, "abs", "call", PREC_ATOM, "abs({a})", ("m.gt({a}, 0) - m.lt({a}, 0)",),
           ("sign({a})",), lambda sp, a: sp.Abs(a), "any number",
           kink=lambda x: x[0] == 0, kink_note=N_("abs'(0) = 0 (PyTorch's convention)")),
        Op("softplus", 1, "softplus", "call", PREC_ATOM, "m.softplus({a})",
           ("m.sigmoid({a})",), ("sigmoid({a})",), _sympy_softplus, "any number"),
        Op("min", 2, "min", "call", PREC_ATOM, "m.minimum({a}, {b})",
           ("m.lt({a}, {b}) + 0.5 * m.eq({a}, {b})", "m.lt({b}, {a}) + 0.5 * m.eq({a}, {b})"),
           (N_("1 if {a} < {b} else 0"), N_("1 if {b} < {a} else 0")),
           lambda sp, a, b: sp.Min(a, b), "any numbers", kink=lambda x: x[0] == x[1],
           kink_note=N_("at a tie min passes half the gradient to each input "
                        "(PyTorch's convention)")),
        Op("max", 2, "max", "call", PREC_ATOM, "m.maximum({a}, {b})",
           ("m.gt({a}, {b}) + 0.5 * m.eq({a}, {b})", "m.gt({b}, {a}) + 0.5 * m.eq({a}, {b})"),
           (N_("1 if {a} > {b} else 0"), N_("1 if {b} > {a} else 0")),
           lambda sp, a, b: sp.Max(a, b), "any numbers", kink=lambda x: x[0] == x[1],
           kink_note=N_("at a tie max passes half the gradient to each input "
                        "(PyTorch's convention)")),
        # Array ops (see shape_rule and vjp_code above).
        Op("matmul", 2, "@", "infix", PREC_MUL, "m.matmul({a}, {b})", ("{b}", "{a}"),
           (N_("upstream @ {b}ᵀ"), N_("{a}ᵀ @ upstream")), lambda sp, a, b: a @ b,
           "numbers whose products and sums fit in a float", shape_rule="matmul",
           vjp_code=("m.matmul_vjp_a({g}, {a}, {b})", "m.matmul_vjp_b({g}, {a}, {b})"),
           derivative_text_for=_matmul_text),
        Op("sum", 1, "sum", "call", PREC_ATOM, "m.sum({a})", ("1.0",), (N_("1 (each element)"),),
           _sympy_sum, "any array", shape_rule="reduce", keeps_nonfinite=True,
           vjp_code=("m.spread({g}, {a})",)),
        Op("mean", 1, "mean", "call", PREC_ATOM, "m.mean({a})", ("1 / m.size({a})",),
           (N_("1/n (each element)"),), _sympy_mean, "any array", shape_rule="reduce",
           keeps_nonfinite=True, vjp_code=("m.spread({g} / m.size({a}), {a})",)),
        Op("transpose", 1, "transpose", "call", PREC_ATOM, "m.transpose({a})", ("1.0",),
           (N_("transpose(upstream)"),), _sympy_transpose, "any array", shape_rule="transpose",
           keeps_nonfinite=True, vjp_code=("m.transpose({g})",)),
        Op("stack", 1, "[", "list", PREC_ATOM, "m.stack({args})", ("1.0",),
           (N_("upstream[i]"),), _sympy_stack, "elements of one shape", shape_rule="stack",
           keeps_nonfinite=True, vjp_code=("m.unstack({g}, {position})",), variadic=True),
    )


OPS: tuple[Op, ...] = _ops()
BY_NAME: dict[str, Op] = {op.name: op for op in OPS}

# The array ops: shapes other than scalars, or a derivative that is not elementwise.
ARRAY_OPS: tuple[Op, ...] = tuple(
    op for op in OPS if op.shape_rule != "elementwise" or op.vjp_code
)
ELEMENTWISE_OPS: tuple[Op, ...] = tuple(op for op in OPS if op not in ARRAY_OPS)
STACK = BY_NAME["stack"]  # written [a, b, ...]; the parser builds it from brackets

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
    elif _op.notation == "call":
        FUNCTIONS[_op.symbol] = _op
FUNCTIONS["pow"] = BY_NAME["pow"]  # pow(a, b) is a ** b

CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045}
