"""The sweeps over a tape: forward (values), reverse (adjoints, accumulated with ``+=``, the
edges recorded when asked) and the gradients read from them."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import CONST, OP, VAR, Node, Tape
from backtrace_cli.engine.shapes import _aligned
from backtrace_cli.engine.values import engine_shapes, is_array
from backtrace_cli.errors import (
    EvaluationError,
)
from backtrace_cli.i18n import N_, _, from_template, translated
from backtrace_cli.ops.table import (
    PREC_ATOM,
    PREC_UNARY,
)
from backtrace_cli.syntax.parser import (
    apply_text,
    format_array,
    format_number,
)

# ----------------------------------------------------------------------------- sweeps
_MATH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


def _value_text(value) -> str:
    if is_array(value):
        return format_array(value, digits=17, threshold=8, edge_items=2)
    try:
        return format_number(float(value))
    except (TypeError, ValueError):
        return str(value)


def _domain_error(
    tape: Tape, node: Node, args, exc: Exception | None, derivative: int | None, value=None
):
    """The error for a node whose value (or local derivative, at ``derivative``) failed.

    ``exc`` is what the float back end raised; NumPy back ends raise nothing and give a
    non-finite ``value`` instead (for a batch, the first such element is reported).
    """
    op = node.op
    if op.shape_rule == "elementwise":  # name the first element that failed
        value, args = _first_non_finite(value, args)
    call = apply_text(op, [(_value_text(a), PREC_ATOM if _as_float(a) >= 0 else PREC_UNARY)
                           for a in args])
    if op.notation == "shown":  # a helper op: d(x**y)/dx at x = 0, y = 0, not d(0**0)/d0
        values = ", ".join(f"{tape.label(j)} = {_value_text(a)}"
                           for j, a in zip(node.inputs, args))
        call = _("{text} at {values}").format(
            text=apply_text(op, [(tape.label(j), PREC_ATOM) for j in node.inputs]),
            values=values)
    if exc is not None:
        overflow = isinstance(exc, OverflowError)
    elif is_array(value):  # an array op (matmul, sum): inf from finite inputs
        import numpy

        overflow = bool(numpy.isinf(value).any()) and all(
            bool(numpy.isfinite(a).all()) for a in args
        )
    else:
        # inf from finite, non-zero inputs overflowed (exp(1000)); nan, or inf from a zero
        # input (1/0, log(0), sqrt'(0)), is undefined, as the float back end says.
        overflow = math.isinf(_as_float(value)) and all(_as_float(a) != 0 for a in args)
    place = NODE_PLACES[0] if node.name else NODE_PLACES[1]
    where = place.format(id=node.id, name=node.name, text=node.text)
    if derivative is None:
        template = DOMAIN_ERRORS[0 if overflow else 1]
        message = template.format(call=call, where=where)
    else:
        template = DOMAIN_ERRORS[2 if overflow else 3]
        message = template.format(call=call, input=tape.label(node.inputs[derivative]),
                                  where=where)
    error = EvaluationError(message, tape.source, node.span, _(
        "{symbol} needs {domain}").format(symbol=op.symbol, domain=translated(op.domain)))
    error.templates, error.nested = DOMAIN_ERRORS, {"where": NODE_PLACES}
    return error


# A value or local derivative that fails, said in English (it is also a divergence's reason
# in the JSON) and shown in the reader's language (errors.BacktraceError.readable_message).
DOMAIN_ERRORS = (
    N_("{call} overflows a float at {where}"),
    N_("{call} is undefined at {where}"),
    N_("the derivative of {call} with respect to {input} is too large for a float at {where}"),
    N_("the derivative of {call} with respect to {input} is undefined or infinite at {where}"),
)
NODE_PLACES = (N_("node {id} ('{name}'): {text}"), N_("node {id}: {text}"))


def readable_domain_error(text: str) -> str:
    """A domain error's English text (a divergence's reason) in the reader's language."""
    return from_template(text, DOMAIN_ERRORS, {"where": NODE_PLACES})


def _first_non_finite(value, args):
    """For a batch (NumPy arrays), the first element that is not finite and the inputs there."""
    arrays = [x for x in (value, *args) if is_array(x)]
    if not arrays:
        return value, list(args)
    import numpy

    try:
        shape = numpy.broadcast_shapes(*(numpy.shape(x) for x in arrays))
    except ValueError:  # not an elementwise op (matmul, sum): show the arrays themselves
        return value, list(args)
    full = numpy.broadcast_to(numpy.asarray(0.0 if value is None else value), shape)
    bad = numpy.flatnonzero(~numpy.isfinite(full))
    index = numpy.unravel_index(int(bad[0]) if bad.size else 0, shape)
    picked = None if value is None else full[index]
    return picked, [numpy.broadcast_to(a, shape)[index] for a in args]


def _as_float(value) -> float:
    if is_array(value):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def forward(
    tape: Tape,
    bindings: Mapping[str, Any],
    m=FLOAT64,
    checked: Collection[int] | None = None,
    align: Mapping[int, tuple[int, ...]] | None = None,
) -> list:
    """Evaluate every node in order; a math domain error names the node and its values.

    Every node is checked for inf and nan unless ``checked`` names the only nodes to check
    (the batch loops check the rest through the loss and the gradients, whose sums an inf or
    nan cannot leave, and re-run a batch in full to name the node when one shows up).
    ``align`` is a batched sweep's ``batch_alignment``.
    """
    nodes = tape.nodes
    values: list = [None] * len(nodes)
    isfinite = m.isfinite
    for node in nodes:
        if node.kind == OP:
            args = [values[j] for j in node.inputs]
            if align is not None and node.index in align:
                args = _aligned(args, align[node.index])
            try:
                value = node.op.forward(m, *args)
            except _MATH_ERRORS as exc:
                raise _domain_error(tape, node, args, exc, None) from None
            if (checked is None or node.index in checked) and not isfinite(value):
                raise _domain_error(tape, node, args, None, None, value)
        elif node.kind == VAR:
            value = bindings[node.name]
        else:
            value = m.number(node.value)
        values[node.index] = value
    return values


class Edge(NamedTuple):
    """One step of the chain rule: node -> input, upstream x local = product. ``position`` is
    the input's place among the node's inputs (the two edges of x/x are positions 0 and 1)."""

    node: int
    input: int
    upstream: Any
    local: Any
    product: Any
    position: int = 0


@dataclass(frozen=True)
class Backward:
    adjoints: list  # per node; None where no gradient flows
    edges: list[Edge]  # in the order the reverse sweep visited them (empty unless recorded)
    kinks: list[int]  # nodes evaluated at a kink (recorded sweeps only)


def needs_gradient(
    tape: Tape, wanted: Iterable[str] | None = None, wanted_nodes: Collection[int] = ()
) -> list[bool]:
    """Which nodes lie on a path from a wanted variable (default: all variables) or from one
    of ``wanted_nodes`` (named steps, ``--wrt y_hat``)."""
    wanted_set = set(tape.variables if wanted is None else wanted)
    needs = [False] * len(tape.nodes)
    for node in tape.nodes:
        if node.index in wanted_nodes:
            needs[node.index] = True
        elif node.kind == VAR:
            needs[node.index] = node.name in wanted_set
        elif node.kind == OP:
            needs[node.index] = any(needs[j] for j in node.inputs)
    return needs


def backward(
    tape: Tape,
    values: list,
    seed: Any = 1.0,
    wanted: Iterable[str] | None = None,
    m=FLOAT64,
    record: bool = False,
    check: bool = True,
    shapes: list[tuple] | None = None,
    align: Mapping[int, tuple[int, ...]] | None = None,
    wanted_nodes: Collection[int] = (),
    needs: list[bool] | None = None,
) -> Backward:
    """The reverse sweep: adjoints of every node reached, from ``seed`` at the output.

    Local derivatives are computed only for inputs that lead to a wanted variable, so a
    constant exponent never asks for ``log`` of a negative base. A product with a local
    derivative of exactly 1 is the upstream gradient itself (the same bits, and no pass over
    an array). ``check=False`` skips the inf/nan check of each local derivative (see forward).

    ``shapes`` (from ``infer_shapes``) turns on the array rules: an elementwise product is
    summed back to its input's shape (undoing broadcasting), and an op with vector-Jacobian
    products (matmul, sum, transpose, [a, b]) uses them instead of upstream * local.
    """
    nodes = tape.nodes
    shapes = engine_shapes(shapes)  # all scalars: the scalar rules
    if needs is None:  # a caller sweeping one tape many times (a Hessian's rows) gives it
        needs = needs_gradient(tape, wanted, wanted_nodes)
    adjoints: list = [None] * len(nodes)
    edges: list[Edge] = []
    kinks: list[int] = []
    isfinite = m.isfinite
    if needs[tape.output]:
        adjoints[tape.output] = seed
    for index in range(len(nodes) - 1, -1, -1):
        upstream = adjoints[index]
        node = nodes[index]
        if upstream is None or node.kind != OP:
            continue
        op = node.op
        args = [values[j] for j in node.inputs]
        out = values[index]
        if record and op.is_kink(args):
            kinks.append(index)
        if shapes is not None:
            extra = align.get(index) if align is not None else None
            if extra is not None:
                args = _aligned(args, extra)
            _array_products(tape, node, upstream, args, out, shapes, needs, adjoints,
                            edges if record else None, check, m, extra)
            continue
        for position, j in enumerate(node.inputs):
            if not needs[j]:
                continue
            try:
                local = op.derivatives[position](m, args, out)
            except _MATH_ERRORS as exc:
                raise _domain_error(tape, node, args, exc, position) from None
            if check and not isfinite(local):
                raise _domain_error(tape, node, args, None, position, local)
            if local.__class__ is float and local == 1.0:
                product = upstream
            elif not is_array(upstream) and upstream == 1.0:
                product = local  # the seed 1 times a local derivative: the same bits
            else:
                product = upstream * local
            if record:
                edges.append(Edge(index, j, upstream, local, product, position))
            previous = adjoints[j]
            adjoints[j] = product if previous is None else previous + product
    return Backward(adjoints, edges, kinks)


def _array_products(
    tape, node, upstream, args, out, shapes, needs, adjoints, edges, check, m, extra=None
):
    """The reverse step of one node with array values: each input's product, in its shape
    (``extra``: the batch alignment of its inputs, see ``batch_alignment``)."""
    op = node.op
    for position, j in enumerate(node.inputs):
        if not needs[j]:
            continue
        shape = shapes[j]
        if extra is not None and extra[position]:
            shape = shape[:1] + (1,) * extra[position] + shape[1:]
        rule = 0 if op.variadic else position
        try:
            local = op.derivatives[rule](m, args, out)
            if check and not m.isfinite(local):
                raise _domain_error(tape, node, args, None, position, local)
            if op.vjps:
                product = op.vjps[rule](m, upstream, args, out, position)
            elif local.__class__ is float and local == 1.0:
                product = m.fit(upstream, shape)
            else:
                product = m.fit(upstream * local, shape)
            if shape is not shapes[j]:
                product = product.reshape(shapes[j])
        except _MATH_ERRORS as exc:
            raise _domain_error(tape, node, args, exc, position) from None
        if edges is not None:
            edges.append(Edge(node.index, j, upstream, local, product, position))
        previous = adjoints[j]
        adjoints[j] = product if previous is None else previous + product


def unguarded_nodes(tape: Tape) -> frozenset[int]:
    """Op nodes whose inf or nan might not reach the output: read by an op that can turn inf
    into a finite number (1/inf, exp(-inf)), or by nothing. A loop that checks only the
    output and the gradients for inf/nan must check these nodes too."""
    keeps: dict[int, bool] = {}
    for node in tape.nodes:
        if node.kind != OP:
            continue
        exponent = tape.nodes[node.inputs[-1]]
        # A square is computed as a*a (backend.pow), which keeps inf and nan.
        square = node.op.name == "pow" and exponent.kind == CONST and exponent.value == 2.0
        for position, j in enumerate(node.inputs):
            kept = node.op.keeps_nonfinite or (square and position == 0)
            keeps[j] = keeps.get(j, True) and kept
    return frozenset(
        node.index for node in tape.nodes
        if node.kind == OP and not keeps.get(node.index, node.index == tape.output)
    )


def gradients(tape: Tape, result: Backward, names: Iterable[str], m=FLOAT64) -> dict:
    """d(seed * output)/d(name) for each name; 0 where no path leads to the output."""
    zero = m.number(0.0)
    out = {}
    for name in names:
        adjoint = result.adjoints[tape.variable_nodes[name]]
        out[name] = zero if adjoint is None else adjoint
    return out

