"""SymPy's derivative of seed * output, built node by node from the tape.

Every variable is a real ``Symbol`` (for an array, one per element, in NumPy object arrays);
user text never reaches SymPy's parser. Only the forked child of ``checks.sandbox`` imports
SymPy: these functions run there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from backtrace_cli.engine.nodes import CONST, VAR, Tape
from backtrace_cli.ops.table import CONSTANTS

_DERIVATIVE_TEXT_LIMIT = 10_000
_EXACT_POWER_BITS = 100_000  # larger exact powers are taken in floating point (sympy_power)


def _sympy_number(sp, node):
    if node.text in CONSTANTS and node.value == CONSTANTS[node.text]:
        return sp.pi if node.text == "pi" else sp.E
    value = node.value
    if value.is_integer() and abs(value) < 2**53:
        return sp.Integer(int(value))
    return sp.Float(value)


def sympy_power(sp, base, exponent):
    """``base**exponent``, except that an exact rational raised to a whole number whose exact
    value would need more than ``_EXACT_POWER_BITS`` bits is taken in 30-digit floating point.

    The float forward pass has already refused a power that overflows, but a tiny result is
    finite there (2**-2**40 is 0.0) while SymPy would build it exactly: a denominator of a
    trillion bits, which takes minutes and gigabytes. A Float base keeps it to mpmath's
    arithmetic on exponents, which is instant and still exact to 30 digits.
    """
    if base.is_Rational and exponent.is_Integer and abs(base) != 1 and base != 0:
        numerator, denominator = base.as_numer_denom()
        bits = max(int(abs(numerator)).bit_length(), int(denominator).bit_length())
        if bits * abs(int(exponent)) > _EXACT_POWER_BITS:
            return sp.Pow(sp.Float(base, 30), exponent)
    return base**exponent


def _sympy_seed(sp, seed):
    return sp.Integer(int(seed)) if float(seed).is_integer() else sp.Float(float(seed))


def element_symbols(sp, name: str, shape: tuple):
    """A NumPy object array of real symbols W[0,0], W[0,1], ... (a Symbol for a scalar)."""
    if not shape:
        return sp.Symbol(name, real=True)
    import numpy

    symbols = numpy.empty(shape, dtype=object)
    for index in numpy.ndindex(shape):
        symbols[index] = sp.Symbol(f"{name}[{','.join(str(i) for i in index)}]", real=True)
    return symbols


def sympy_expression(tape: Tape, seed, shapes: Sequence[tuple] | None = None):
    """seed * output as a SymPy expression, built from the tape with real symbols.

    With ``shapes`` (a program with arrays) every array element is a symbol of its own and
    the values are NumPy object arrays of SymPy expressions: ``@``, sums and broadcasting
    then work element by element as NumPy does them, and an array output is weighted by the
    seed's elements and summed.
    """
    import sympy as sp

    built, symbols = sympy_values(tape, shapes)
    output = built[tape.output]
    if hasattr(seed, "ravel") or hasattr(output, "ravel"):
        import numpy

        weights = numpy.broadcast_to(numpy.asarray(seed, dtype=float), numpy.shape(output))
        terms = [_sympy_seed(sp, w) * o for w, o in zip(weights.ravel(), numpy.ravel(output))]
        return sp.Add(*terms), symbols
    return _sympy_seed(sp, seed) * output, symbols


def _sympy_op(sp, op, *args):
    """One op on SymPy values; powers through sympy_power, which bounds exact integers."""
    if op.name == "pow":
        return sympy_power(sp, *args)
    return op.sympy(sp, *args)


def sympy_values(tape: Tape, shapes: Sequence[tuple] | None = None) -> tuple[list, dict]:
    """Every node as SymPy (an object array of expressions for an array), and the symbols:
    {name: Symbol, or an object array of element symbols}."""
    import sympy as sp

    symbols = {
        name: element_symbols(sp, name, shapes[tape.variable_nodes[name]] if shapes else ())
        for name in tape.variables
    }
    built: list = [None] * len(tape.nodes)
    for node in tape.nodes:
        if node.kind == VAR:
            built[node.index] = symbols[node.name]
        elif node.kind == CONST:
            built[node.index] = _sympy_number(sp, node)
        else:
            args = [built[j] for j in node.inputs]
            op = node.op
            if op.shape_rule == "elementwise" and any(hasattr(a, "ravel") for a in args):
                import numpy

                def apply(*elements, op=op):
                    return _sympy_op(sp, op, *elements)

                built[node.index] = numpy.frompyfunc(apply, op.arity, 1)(*args)
            else:
                built[node.index] = _sympy_op(sp, op, *args)
    return built, symbols


def _array_derivatives(sp, expression, symbols, at, name) -> tuple:
    """One array variable: (texts as nested lists, values as nested lists or None, note)."""
    import numpy

    elements = symbols[name]
    texts = numpy.empty(elements.shape, dtype=object)
    values = numpy.zeros(elements.shape)
    for index in numpy.ndindex(elements.shape):
        derivative = sp.diff(expression, elements[index])
        texts[index] = str(derivative)
        try:
            number = complex(sp.N(derivative.xreplace(at), 30))
        except (TypeError, ValueError):
            return None, None, "skipped: SymPy gives no number here"
        if not (math.isfinite(number.real) and math.isfinite(number.imag)):
            return None, None, "skipped: SymPy's derivative is undefined here"
        if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            return None, None, "skipped: SymPy's derivative is complex here"
        values[index] = number.real
    text = str(texts.tolist()).replace("'", "")
    if len(text) > _DERIVATIVE_TEXT_LIMIT:
        text = text[:_DERIVATIVE_TEXT_LIMIT] + "..."
    return text, values.tolist(), None


def _sympy_derivatives(tape: Tape, bindings, seed, names, shapes=None) -> list:
    """Run in the child: [(name, derivative text, value or None, note or None)]."""
    import sympy as sp

    expression, symbols = sympy_expression(tape, seed, shapes)
    at = {}
    for name in tape.variables:
        if hasattr(symbols[name], "ravel"):
            for symbol, value in zip(symbols[name].ravel(), bindings[name].ravel()):
                at[symbol] = sp.Float(float(value))
        else:
            at[symbols[name]] = sp.Float(float(bindings[name]))
    rows = []
    for name in names:
        if hasattr(symbols[name], "ravel"):
            text, value, note = _array_derivatives(sp, expression, symbols, at, name)
            rows.append((name, text, value, note))
            continue
        derivative = sp.diff(expression, symbols[name])
        text = str(derivative)
        if len(text) > _DERIVATIVE_TEXT_LIMIT:
            text = text[:_DERIVATIVE_TEXT_LIMIT] + "..."
        value = derivative.xreplace(at)
        try:
            number = complex(sp.N(value, 30))
        except (TypeError, ValueError):
            rows.append((name, text, None, "skipped: SymPy gives no number here"))
            continue
        if not (math.isfinite(number.real) and math.isfinite(number.imag)):
            rows.append((name, text, None, "skipped: SymPy's derivative is undefined here"))
        elif abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            rows.append((name, text, None, "skipped: SymPy's derivative is complex here"))
        else:
            rows.append((name, text, number.real, None))
    return rows

