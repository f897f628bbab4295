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

Each op's arithmetic is written once: its forward formula as a source template and each
local derivative as a form of ops (see ``ops/op.py``), from which the derivative's source is
made; ``forward(m, *args)`` and ``derivatives[k](m, args, out)`` are compiled from them.
Formulas follow PyTorch's ``derivatives.yaml`` where the order of rounding matters for float32 (e.g.
``tanh' = 1 - out*out``, ``sigmoid' = out * (1 - out)``).
"""

from __future__ import annotations

from backtrace_cli.i18n import N_
from backtrace_cli.ops.helpers import HELPER_OPS
from backtrace_cli.ops.op import (  # noqa: F401 (the Op class's names are this module's too)
    PREC_ADD,
    PREC_ATOM,
    PREC_MUL,
    PREC_POW,
    PREC_UNARY,
    Op,
    _compile,
    derive_codes,
)
from backtrace_cli.ops.shapes import (  # noqa: F401 (shape names are this module's too)
    SHAPE_RULES,
    ShapeMismatch,
    broadcast_shapes,
    shape_text,
)


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
        Op("add", 2, "+", "infix", PREC_ADD, "{a} + {b}", (), ("1", "1"),
           lambda sp, a, b: a + b, N_("any numbers"), keeps_nonfinite=True,
           derivative_ops=("1", "1")),
        Op("sub", 2, "-", "infix", PREC_ADD, "{a} - {b}", (), ("1", "-1"),
           lambda sp, a, b: a - b, N_("any numbers"), keeps_nonfinite=True,
           derivative_ops=("1", "-1")),
        Op("mul", 2, "*", "infix", PREC_MUL, "{a} * {b}", (), ("{b}", "{a}"),
           lambda sp, a, b: a * b, N_("any numbers"), keeps_nonfinite=True,
           derivative_ops=("b", "a")),
        Op("div", 2, "/", "infix", PREC_MUL, "{a} / {b}",
           (), ("1/{b}", "-{a}/{b}²"),
           lambda sp, a, b: a / b, N_("a divisor that is not zero"),
           derivative_ops=("(div 1 b)", "(neg (div (div a b) b))")),
        Op("pow", 2, "**", "infix", PREC_POW, "m.pow({a}, {b})", (),
           ("{b}·{a}^({b}-1)", "{a}^{b}·log({a})"), lambda sp, a, b: a**b,
           N_("a positive base, or a whole-number exponent for a negative base, "
           "and a result that fits in a float"),
           right_assoc=True, aliases=("^",), derivative_ops=("(dpow a b)", "(powlog a b)")),
        Op("neg", 1, "-", "prefix", PREC_UNARY, "-{a}", (), ("-1",),
           lambda sp, a: -a, N_("any number"), keeps_nonfinite=True, derivative_ops=("-1",)),
        Op("pos", 1, "+", "prefix", PREC_UNARY, "+{a}", (), ("1",),
           lambda sp, a: a, N_("any number"), keeps_nonfinite=True, derivative_ops=("1",)),
        Op("sin", 1, "sin", "call", PREC_ATOM, "m.sin({a})", (), ("cos({a})",),
           lambda sp, a: sp.sin(a), N_("a finite number"), derivative_ops=("(cos a)",)),
        Op("cos", 1, "cos", "call", PREC_ATOM, "m.cos({a})", (), ("-sin({a})",),
           lambda sp, a: sp.cos(a), N_("a finite number"), derivative_ops=("(neg (sin a))",)),
        Op("tan", 1, "tan", "call", PREC_ATOM, "m.tan({a})", (),
           ("1 + tan({a})²",), lambda sp, a: sp.tan(a), N_("a number away from pi/2 + k*pi"),
           derivative_ops=("(add 1 (mul out out))",)),
        Op("exp", 1, "exp", "call", PREC_ATOM, "m.exp({a})", (), ("exp({a})",),
           lambda sp, a: sp.exp(a),
           N_("a result that fits in a float (exp overflows above about 709.78)"),
           derivative_ops=("out",)),
        Op("log", 1, "log", "call", PREC_ATOM, "m.log({a})", (), ("1/{a}",),
           lambda sp, a: sp.log(a), N_("a positive number"), derivative_ops=("(div 1 a)",)),
        Op("sqrt", 1, "sqrt", "call", PREC_ATOM, "m.sqrt({a})", (),
           ("1/(2·sqrt({a}))",), lambda sp, a: sp.sqrt(a),
           N_("a number >= 0 (and > 0 for its derivative)"),
           derivative_ops=("(div 1 (mul 2 out))",)),
        Op("tanh", 1, "tanh", "call", PREC_ATOM, "m.tanh({a})", (),
           ("1 - tanh({a})²",), lambda sp, a: sp.tanh(a), N_("any number"),
           derivative_ops=("(sub 1 (mul out out))",)),
        Op("sigmoid", 1, "sigmoid", "call", PREC_ATOM, "m.sigmoid({a})",
           (), ("σ({a})·(1 - σ({a}))",), _sympy_sigmoid, N_("any number"),
           derivative_ops=("(mul out (sub 1 out))",)),
        Op("relu", 1, "relu", "call", PREC_ATOM, "m.relu({a})", (),
           (N_("1 if {a} > 0 else 0"),), _sympy_relu, N_("any number"),
           kink=lambda x: x[0] == 0, kink_note=N_("relu'(0) = 0 (PyTorch's convention)"),
           derivative_ops=("(step a)",)),
        Op("abs", 1, "abs", "call", PREC_ATOM, "abs({a})", (),
           (N_("1 if {a} > 0, -1 if {a} < 0, else 0"),), lambda sp, a: sp.Abs(a),
           N_("any number"),
           kink=lambda x: x[0] == 0, kink_note=N_("abs'(0) = 0 (PyTorch's convention)"),
           derivative_ops=("(sign a)",)),
        Op("softplus", 1, "softplus", "call", PREC_ATOM, "m.softplus({a})",
           (), ("sigmoid({a})",), _sympy_softplus, N_("any number"),
           derivative_ops=("(sigmoid a)",)),
        Op("min", 2, "min", "call", PREC_ATOM, "m.minimum({a}, {b})",
           (),
           (N_("1 if {a} < {b} else 0"), N_("1 if {b} < {a} else 0")),
           lambda sp, a, b: sp.Min(a, b), N_("any numbers"), kink=lambda x: x[0] == x[1],
           kink_note=N_("at a tie min passes half the gradient to each input "
                        "(PyTorch's convention)"), derivative_ops=("(less a b)", "(less b a)")),
        Op("max", 2, "max", "call", PREC_ATOM, "m.maximum({a}, {b})",
           (),
           (N_("1 if {a} > {b} else 0"), N_("1 if {b} > {a} else 0")),
           lambda sp, a, b: sp.Max(a, b), N_("any numbers"), kink=lambda x: x[0] == x[1],
           kink_note=N_("at a tie max passes half the gradient to each input "
                        "(PyTorch's convention)"), derivative_ops=("(less b a)", "(less a b)")),
        # Array ops (see shape_rule and vjp_code above).
        Op("matmul", 2, "@", "infix", PREC_MUL, "m.matmul({a}, {b})", ("{b}", "{a}"),
           (N_("upstream @ {b}ᵀ"), N_("{a}ᵀ @ upstream")), lambda sp, a, b: a @ b,
           N_("numbers whose products and sums fit in a float"), shape_rule="matmul",
           vjp_code=("m.matmul_vjp_a({g}, {a}, {b})", "m.matmul_vjp_b({g}, {a}, {b})"),
           jvp_code=("m.matmul({t}, {b})", "m.matmul({a}, {t})"),
           derivative_text_for=_matmul_text),
        Op("sum", 1, "sum", "call", PREC_ATOM, "m.sum({a})", ("1.0",), (N_("1 (each element)"),),
           _sympy_sum, N_("any array"), shape_rule="reduce", keeps_nonfinite=True,
           vjp_code=("m.spread({g}, {a})",), jvp_code=("m.sum({t})",)),
        Op("mean", 1, "mean", "call", PREC_ATOM, "m.mean({a})", ("1 / m.size({a})",),
           (N_("1/n (each element)"),), _sympy_mean, N_("any array"), shape_rule="reduce",
           keeps_nonfinite=True, vjp_code=("m.spread({g} / m.size({a}), {a})",),
           jvp_code=("m.mean({t})",)),
        Op("transpose", 1, "transpose", "call", PREC_ATOM, "m.transpose({a})", ("1.0",),
           (N_("transpose(upstream)"),), _sympy_transpose, N_("any array"), shape_rule="transpose",
           keeps_nonfinite=True, vjp_code=("m.transpose({g})",),
           jvp_code=("m.transpose({t})",)),
        Op("stack", 1, "[", "list", PREC_ATOM, "m.stack({args})", ("1.0",),
           (N_("upstream[i]"),), _sympy_stack, N_("elements of one shape"), shape_rule="stack",
           keeps_nonfinite=True, vjp_code=("m.unstack({g}, {position})",),
           # The tangent in its own slot, zeros of its shape in the others ({out} has a slot
           # per element).
           jvp_code=("m.stack([{t} if i == {position} else 0.0 * {t} "
                     "for i in m.np.arange(m.np.shape({out})[0])])",), variadic=True),
    )


OPS: tuple[Op, ...] = _ops()
BY_NAME: dict[str, Op] = {op.name: op for op in OPS}
# Each local derivative is written once, as ops: its numeric code is made from that form.
derive_codes((*OPS, *HELPER_OPS))

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
