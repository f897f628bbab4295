"""The collapse: stacked linear layers without a nonlinearity are one affine map.

``W2 @ (W1 @ x + b1) + b2`` is ``W @ x + b`` with ``W = W2 W1`` and ``b = W2 b1 + b2``: more
layers add nothing. ``analyse`` says whether a program is affine in its input and why not,
and for an affine one gives:

- the symbolic form, from SymPy: plain symbols for scalars (``w2*(w1*x + b1) + b2`` expands
  to ``b1*w2 + b2 + w1*w2*x``), ``MatrixSymbol`` algebra for vectors and matrices (a vector is
  a column), expanded and split into the terms with the input (W) and the rest (b);
- the numbers: ``b`` is the output at input 0 and ``W`` the change per unit of each input
  element (the Jacobian, exact for an affine map), checked against the output at the given
  input.

Whether a program is affine is first asked of the tape, node by node (a sum of affine
values is affine, a product is affine only when one factor is free of the input, a nonlinear
op only on values free of it): the fast path, and it names the node that breaks it. The rule
is sufficient, not necessary (``x*x - x*x + 3*x`` is 3x), so when it says no, SymPy's
expansion decides: affine when every derivative in the input is free of the input.
``Collapse.decided_by`` says which. SymPy runs in a forked child with a deadline (see
``checks.sandbox.in_child``); user text never reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.nodes import CONST, OP, VAR, Tape
from backtrace_cli.engine.values import holds_arrays, shape_of
from backtrace_cli.errors import BindingError, did_you_mean
from backtrace_cli.i18n import N_, _

# Ops that keep a value affine when every input is affine.
_LINEAR = {"add", "sub", "neg", "pos", "sum", "mean", "transpose", "stack"}
# Ops that keep it affine when at most one input depends on the input.
_PRODUCTS = {"mul", "matmul"}


@dataclass(frozen=True)
class Collapse:
    input: str
    affine: bool
    reason: str | None  # why it is not affine: the node that breaks it
    input_shape: tuple
    output_shape: tuple
    expanded: str | None  # SymPy's expanded form (None: skipped, see note)
    weight_text: str | None  # W, symbolically
    bias_text: str | None  # b, symbolically
    weight: Any  # W as numbers (a float or an array of shape output + input)
    bias: Any  # b as numbers (the output's shape)
    residual: float | None  # max |W x + b - output| at the given input
    note: str | None  # why the symbolic part is missing
    decided_by: str = "tape rule"  # or "sympy expansion" (the rule said no; SymPy decided)
    # Two or more layers (products by weights) one after the other on the input's way to
    # the output, as in w2*(w1*x + b1) + b2: not so for x/w, 3*x or x*w + b.
    stacked_layers: bool = False


# Why a program is not affine, kept in English in the JSON ("reason") and shown translated
# (report.affine reads the text back through these templates, i18n.from_template).
PRODUCT_REASON = N_("{where} multiplies two values that depend on {name}")
DIVISION_REASON = N_("{where} divides by a value that depends on {name}")
POWER_REASON = N_("{where} raises a value that depends on {name} to a power")
APPLIED_REASON = N_("{op} at {where} is applied to a value that depends on {name}")
REASONS = (PRODUCT_REASON, DIVISION_REASON, POWER_REASON, APPLIED_REASON)

def affinity(tape: Tape, name: str) -> tuple[bool, str | None]:
    """Whether the output is affine in the variable ``name``, and if not, which node and why
    (the first node on the way to the output that breaks it)."""
    count = len(tape.nodes)
    depends = [False] * count
    affine = [True] * count
    reasons: list[str | None] = [None] * count
    for node in tape.nodes:
        if node.kind == VAR:
            depends[node.index] = node.name == name
            continue
        if node.kind != OP:
            continue
        inputs = node.inputs
        depends[node.index] = any(depends[j] for j in inputs)
        if not depends[node.index]:
            continue
        if not all(affine[j] for j in inputs):
            affine[node.index] = False  # an earlier node broke it
            continue
        op = node.op.name
        where = f"{node.id} ({node.text})"
        if op in _LINEAR:
            continue
        if op in _PRODUCTS:
            if sum(depends[j] for j in inputs) > 1:
                reasons[node.index] = PRODUCT_REASON.format(where=where, name=name)
        elif op == "div":
            if depends[inputs[1]]:
                reasons[node.index] = DIVISION_REASON.format(where=where, name=name)
        elif op == "pow":
            exponent = tape.nodes[inputs[1]]
            if depends[inputs[1]] or not (exponent.kind == CONST and exponent.value == 1):
                reasons[node.index] = POWER_REASON.format(where=where, name=name)
        else:
            reasons[node.index] = (
                APPLIED_REASON.format(op=node.op.name, where=where, name=name)
            )
        affine[node.index] = reasons[node.index] is None
    if affine[tape.output]:
        return True, None
    # The culprit: the first node that reaches the output and broke affinity itself.
    reaches = [False] * count
    reaches[tape.output] = True
    for index in range(tape.output, -1, -1):
        if reaches[index]:
            for j in tape.nodes[index].inputs:
                reaches[j] = True
    for index in range(count):
        if reaches[index] and reasons[index] is not None:
            return False, reasons[index]
    return False, None  # pragma: no cover - a non-affine output always has a culprit


def analyse(tape: Tape, bindings: Mapping[str, Any], name: str, shapes: list | None,
            m, timeout: float = 5.0) -> Collapse:
    """Whether the program is affine in ``name``; if so, its W and b, symbolic and numeric."""
    if name not in tape.variable_nodes:
        error = BindingError(
            _(
                "input names '{name}', which is not a variable of the expression (its variables: "
                "{value})").format(name=name, value=', '.join(tape.variables) or 'none'),
            did_you_mean(name, tape.variables),
        )
        error.field = "input"  # the CLI says --input
        raise error
    input_shape = shapes[tape.variable_nodes[name]] if shapes else ()
    output_shape = shapes[tape.output] if shapes else ()
    affine, reason = affinity(tape, name)
    decided_by, rule_note = "tape rule", None
    if not affine:
        expanded_affine, rule_note = _affine_by_expansion(tape, name, shapes, timeout)
        if expanded_affine is not None:
            decided_by = "sympy expansion"
        if expanded_affine:
            rule_note = f"SymPy's expansion shows it affine, though by the tape rule {reason}"
            reason = None
            affine = True
        elif expanded_affine is None:
            rule_note = f"{rule_note}; the tape rule decided"
        else:
            rule_note = None
    if not affine:
        return Collapse(name, False, reason, input_shape, output_shape, None, None, None,
                        None, None, None, rule_note, decided_by, stacked_layers(tape, name))
    from backtrace_cli.explain.affine_numbers import numbers

    weight, bias, residual, bias_note = numbers(tape, bindings, name, shapes, m)
    if bias_note is not None:
        rule_note = bias_note if rule_note is None else f"{rule_note}; {bias_note}"
    from backtrace_cli.checks.sandbox import in_child
    from backtrace_cli.limits import SYMPY_MAX_NODES

    if len(tape.nodes) > SYMPY_MAX_NODES.value:
        symbolic, note = None, (f"SymPy skipped: more than {SYMPY_MAX_NODES.value:,} nodes "
                                f"(raise with {SYMPY_MAX_NODES.env})")
    else:
        symbolic, note = in_child(_symbolic, (tape, name, shapes), timeout)
        if note is not None:
            note = "SymPy " + note
    expanded, weight_text, bias_text = symbolic if symbolic is not None else (None, None, None)
    if symbolic is not None and weight_text is None:
        note = "x appears transposed or inside a product: W has no symbolic form here"
    if rule_note is not None:
        note = rule_note if note is None else f"{rule_note}; {note}"
    return Collapse(name, True, None, input_shape, output_shape, expanded, weight_text,
                    bias_text, weight, bias, residual, note, decided_by,
                    stacked_layers(tape, name))


def _affine_by_expansion(tape: Tape, name: str, shapes, timeout: float):
    """SymPy's verdict, where the tape rule says no: (True or False, None), or (None, why
    SymPy could not say)."""
    from backtrace_cli.checks.sandbox import in_child
    from backtrace_cli.limits import SYMPY_MAX_ELEMENTS, SYMPY_MAX_NODES

    if len(tape.nodes) > SYMPY_MAX_NODES.value:
        return None, (f"SymPy skipped: more than {SYMPY_MAX_NODES.value:,} nodes "
                      f"(raise with {SYMPY_MAX_NODES.env})")
    if holds_arrays(shapes):
        elements = 1
        for size in shapes[tape.variable_nodes[name]] + shapes[tape.output]:
            elements *= size
        if elements > SYMPY_MAX_ELEMENTS.value:
            return None, (f"SymPy skipped: {elements:,} derivatives, more than "
                          f"{SYMPY_MAX_ELEMENTS.value:,} (raise with {SYMPY_MAX_ELEMENTS.env})")
    verdict, note = in_child(_expansion_is_affine, (tape, name, shapes), timeout)
    return verdict, None if note is None else "SymPy " + note


def _expansion_is_affine(tape: Tape, name: str, shapes) -> bool:
    """Run in the child: whether every derivative of the expanded output in an element of
    the input is free of the input."""
    import numpy
    import sympy as sp

    from backtrace_cli.checks.symbolic import sympy_values

    built, symbols = sympy_values(tape, shapes)
    inputs = list(numpy.ravel(numpy.asarray(symbols[name], dtype=object)))
    for element in numpy.ravel(numpy.asarray(built[tape.output], dtype=object)):
        expanded = sp.expand(element)
        for symbol in inputs:
            if sp.expand(sp.diff(expanded, symbol)).has(*inputs):
                return False
    return True


def stacked_layers(tape: Tape, name: str) -> bool:
    """Whether two layers lie one after the other between the input and the output.

    A layer is a product (``*``, ``@``) or quotient of a value that depends on the input by
    one that does not but does depend on a variable (a weight; a constant factor such as 3
    is no layer). Counted along the input's paths, iteratively, in tape order.
    """
    count = len(tape.nodes)
    depends = [False] * count
    weighted = [False] * count  # depends on some variable
    layers = [0] * count
    for node in tape.nodes:
        if node.kind == VAR:
            depends[node.index] = node.name == name
            weighted[node.index] = True
            continue
        if node.kind != OP:
            continue
        inputs = node.inputs
        weighted[node.index] = any(weighted[j] for j in inputs)
        carried = [j for j in inputs if depends[j]]
        if not carried:
            continue
        depends[node.index] = True
        layers[node.index] = max(layers[j] for j in carried)
        free = [j for j in inputs if not depends[j]]
        if node.op.name in ("mul", "matmul", "div") and free and weighted[free[0]] and (
            node.op.name != "div" or depends[inputs[0]]
        ):
            layers[node.index] += 1
    return layers[tape.output] >= 2


def _symbolic(tape: Tape, name: str, shapes) -> tuple:
    """Run in the child: (expanded text, W text or None, b text or None)."""
    import sympy as sp

    matrix = _matrix_form(sp, tape, shapes) if holds_arrays(shapes) else None
    if matrix is not None:
        values, x = matrix
        expanded = sp.expand(values[tape.output])
        weight, bias = _split_matrix(sp, expanded, x[name])
        return (str(expanded), None if weight is None else str(weight),
                None if bias is None else str(bias))
    import numpy

    from backtrace_cli.checks.symbolic import sympy_values

    built, symbols = sympy_values(tape, shapes)
    output = numpy.asarray(built[tape.output], dtype=object)
    x = numpy.asarray(symbols[name], dtype=object)
    expanded = numpy.empty(output.shape, dtype=object)
    for i in numpy.ndindex(output.shape):
        expanded[i] = sp.expand(output[i])
    # Element by element: W[i..., j...] is the coefficient of x[j...] in output[i...].
    zero = {symbol: 0 for symbol in x.ravel()}
    weight = numpy.empty(output.shape + x.shape, dtype=object)
    bias = numpy.empty(output.shape, dtype=object)
    for i in numpy.ndindex(output.shape):
        bias[i] = expanded[i].subs(zero)
        for j in numpy.ndindex(x.shape):
            weight[i + j] = expanded[i].coeff(x[j])

    def text(array) -> str:
        return str(array.tolist()).replace("'", "") if shape_of(array) else str(array[()])

    return text(expanded), text(weight), text(bias)


def _matrix_form(sp, tape: Tape, shapes):
    """The program in MatrixSymbol algebra (vectors as columns), or None where it has no such
    form (elementwise products of arrays, nonlinear ops, reductions, literals)."""
    values: list = [None] * len(tape.nodes)
    symbols = {}
    for node in tape.nodes:
        shape = shapes[node.index]
        if node.kind == VAR:
            rows, columns = (shape + (1, 1))[:2] if len(shape) < 2 else shape
            if len(shape) > 2:
                return None
            values[node.index] = sp.MatrixSymbol(node.name, rows, columns)
            symbols[node.name] = values[node.index]
            continue
        if node.kind == CONST:
            if shape != ():
                return None
            values[node.index] = sp.nsimplify(node.value) if float(node.value).is_integer() \
                else sp.Float(node.value)
            continue
        args = [values[j] for j in node.inputs]
        in_shapes = [shapes[j] for j in node.inputs]
        op = node.op.name
        is_matrix = [isinstance(a, sp.MatrixExpr) for a in args]
        try:
            if op in ("add", "sub"):
                if is_matrix[0] != is_matrix[1] or in_shapes[0] != in_shapes[1]:
                    return None  # broadcasting has no matrix form
                values[node.index] = args[0] + args[1] if op == "add" else args[0] - args[1]
            elif op == "neg":
                values[node.index] = -args[0]
            elif op == "pos":
                values[node.index] = args[0]
            elif op in ("mul", "div"):
                if is_matrix[1] or (op == "mul" and is_matrix[0] and is_matrix[1]):
                    if op == "div" or is_matrix[0]:
                        return None
                    values[node.index] = args[0] * args[1]
                else:
                    values[node.index] = args[0] * args[1] if op == "mul" else args[0] / args[1]
            elif op == "matmul":
                a, b = args
                if len(in_shapes[0]) == 1:  # a vector on the left is a row
                    a = a.T
                values[node.index] = a * b
                if len(in_shapes[0]) == 1 and len(in_shapes[1]) == 2:
                    values[node.index] = values[node.index].T  # keep vectors as columns
            elif op == "transpose":
                if len(in_shapes[0]) == 1:
                    values[node.index] = args[0]
                else:
                    values[node.index] = args[0].T
            else:
                return None
        except (TypeError, ValueError, sp.matrices.exceptions.ShapeError):
            return None
    return values, symbols


def _split_matrix(sp, expanded, x):
    """W and b from an expanded matrix expression: the terms ending in x, and the rest."""
    terms = expanded.args if isinstance(expanded, sp.MatAdd) else (expanded,)
    weights, rest = [], []
    for term in terms:
        if not term.has(x):
            rest.append(term)
            continue
        if term == x:
            weights.append(sp.Identity(x.shape[0]))
            continue
        if isinstance(term, sp.MatMul) and term.args[-1] == x and not any(
            arg.has(x) for arg in term.args[:-1]
        ):
            weights.append(sp.MatMul(*term.args[:-1]))
            continue
        return None, None  # x transposed or inside a product: no single W
    weight = sp.MatAdd(*weights) if len(weights) > 1 else weights[0] if weights else None
    bias = sp.MatAdd(*rest) if len(rest) > 1 else rest[0] if rest else sp.ZeroMatrix(*x.shape)
    return weight, bias

