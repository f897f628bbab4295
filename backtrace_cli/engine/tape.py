"""Syntax tree -> tape; the forward sweep and the reverse sweep over it.

The tape is a flat list of nodes in evaluation order (Griewank & Walther's evaluation trace):
each node is a variable, a constant, or an op from ``ops.py`` whose inputs are indices of
earlier nodes. A variable used twice is one node with two outgoing edges; a name given by an
assignment labels the node of its right-hand side. Both sweeps are plain loops over the list,
so a graph of any depth needs no recursion, and the reverse sweep accumulates adjoints with
``+=`` exactly as micrograd does. The same tape feeds the tables, the JSON, training and the
graph pictures.

With arrays, ``infer_shapes`` gives every node's shape before anything is evaluated, and
the reverse sweep sums each product back to its input's shape (undoing broadcasting) or
uses the op's vector-Jacobian products; a batched sweep (training) puts a batch axis in
front of every value and aligns the rows' own axes (``batch_alignment``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.errors import (
    BindingError,
    EvaluationError,
    LimitError,
    ShapeError,
    Span,
    did_you_mean,
)
from backtrace_cli.limits import MAX_ARRAY_ELEMENTS, MAX_NODES
from backtrace_cli.ops.table import (
    CONSTANTS,
    PREC_ATOM,
    PREC_UNARY,
    SHAPE_RULES,
    Op,
    ShapeMismatch,
    shape_text,
)
from backtrace_cli.syntax.parser import (
    Apply,
    Assign,
    Number,
    Program,
    apply_text,
    format_array,
    format_number,
)

VAR = "var"
CONST = "const"
OP = "op"

# A node's text spells out its inputs while they are short, and names them by id beyond
# that: each text is then bounded, so building all texts stays linear in the graph's size.
_INLINE_TEXT = 32


class Node(NamedTuple):
    index: int
    kind: str  # VAR, CONST or OP
    op: Op | None
    inputs: tuple[int, ...]
    name: str | None  # the variable's name, or the name an assignment gave this node
    text: str  # the node's expression, e.g. "x*w" or "v3 - y"
    precedence: int
    span: Span
    value: float | None = None  # constants only

    @property
    def id(self) -> str:
        return f"v{self.index + 1}"

    @property
    def op_name(self) -> str:
        return self.op.name if self.op is not None else self.kind


@dataclass(frozen=True)
class Tape:
    nodes: tuple[Node, ...]
    output: int
    variables: tuple[str, ...]  # in order of first appearance
    variable_nodes: Mapping[str, int]
    source: str

    def __len__(self) -> int:
        return len(self.nodes)

    def label(self, index: int) -> str:
        """How a person refers to a node: its name, else its id."""
        node = self.nodes[index]
        return node.name if node.name is not None else node.id


def compile_program(program: Program) -> Tape:
    """Lower a syntax tree to a tape, walking each statement with an explicit stack."""
    source = program.source
    nodes: list[Node] = []
    environment: dict[str, int] = {}  # names given by assignments so far
    variable_nodes: dict[str, int] = {}
    max_nodes = MAX_NODES.value

    def too_many(span: Span) -> LimitError:
        return LimitError(
            f"the graph has more than {max_nodes:,} nodes",
            source,
            span,
            f"raise the limit with {MAX_NODES.env}",
        )

    def snippet(index: int) -> tuple[str, int]:
        node = nodes[index]
        if node.name is not None:
            return node.name, PREC_ATOM
        if len(node.text) <= _INLINE_TEXT:
            return node.text, node.precedence
        return node.id, PREC_ATOM

    from backtrace_cli.ops.table import BY_NAME

    append = nodes.append
    index = 0
    for statement in program.statements:
        root = statement.value if isinstance(statement, Assign) else statement
        results: dict[int, int] = {}  # id(expr) -> node index
        stack = [(root, False)]
        push = stack.append
        while stack:
            expr, expanded = stack.pop()
            kind = expr.__class__
            if kind is Apply and not expanded:
                push((expr, True))
                args = expr.args
                for position in range(len(args) - 1, -1, -1):
                    push((args[position], False))
                continue
            if len(nodes) >= max_nodes:
                raise too_many(expr.span)
            if kind is Apply:
                op = BY_NAME[expr.op]
                inputs = tuple([results[id(arg)] for arg in expr.args])
                text = apply_text(op, [snippet(i) for i in inputs])
                node = Node(len(nodes), OP, op, inputs, None, text, op.precedence, expr.span)
            elif kind is Number:
                precedence = PREC_UNARY if expr.value < 0 else PREC_ATOM
                node = Node(len(nodes), CONST, None, (), None, format_number(expr.value),
                            precedence, expr.span, expr.value)
            else:  # Name
                name = expr.name
                if name in environment:
                    results[id(expr)] = environment[name]
                    continue
                if name not in CONSTANTS and name in variable_nodes:
                    results[id(expr)] = variable_nodes[name]
                    continue
                if name in CONSTANTS:
                    node = Node(len(nodes), CONST, None, (), None, name, PREC_ATOM, expr.span,
                                CONSTANTS[name])
                else:
                    node = Node(len(nodes), VAR, None, (), name, name, PREC_ATOM, expr.span)
                    variable_nodes[name] = node.index
            append(node)
            results[id(expr)] = node.index
        index = results[id(root)]
        if isinstance(statement, Assign):
            node = nodes[index]
            if node.name is None:  # `a = x` keeps x's own name: it is the same node
                nodes[index] = node._replace(name=statement.name)
            environment[statement.name] = index
    return Tape(
        nodes=tuple(nodes),
        output=index,
        variables=tuple(variable_nodes),
        variable_nodes=dict(variable_nodes),
        source=source,
    )


# ----------------------------------------------------------------------------- bindings
def check_bindings(tape: Tape, bindings: Mapping[str, Any], what: str = "binding") -> None:
    """Every variable bound, every binding used; otherwise a BindingError naming the name."""
    for name in tape.variables:
        if name not in bindings:
            node = tape.nodes[tape.variable_nodes[name]]
            raise EvaluationError(
                f"the variable '{name}' has no value",
                tape.source,
                node.span,
                f"give it one: {name}=VALUE (or --{name} VALUE)",
            )
    for name in bindings:
        if name not in tape.variable_nodes:
            if name in CONSTANTS:
                raise BindingError(
                    f"'{name}' is a constant ({CONSTANTS[name]!r}) and cannot be given a value"
                )
            hint = did_you_mean(name, tape.variables)
            used = ", ".join(tape.variables) or "none"
            raise BindingError(
                f"the {what} '{name}' is not used by the expression (its variables: {used})",
                hint,
            )


# ----------------------------------------------------------------------------- shapes
def infer_shapes(tape: Tape, variable_shapes: Mapping[str, tuple]) -> list[tuple]:
    """The shape of every node, from the variables' shapes, before anything is evaluated.

    An op whose inputs do not fit (2x3 @ 2, or shapes that do not broadcast) is a ShapeError
    with a caret under that node; an array larger than the limit is a LimitError.
    """
    limit = MAX_ARRAY_ELEMENTS.value
    shapes: list[tuple] = [()] * len(tape.nodes)
    if not any(variable_shapes.values()) and not any(
        node.op is not None and node.op.shape_rule != "elementwise" for node in tape.nodes
    ):
        return shapes  # all scalars: no rule to apply (and no cost for a huge scalar graph)
    for node in tape.nodes:
        if node.kind == VAR:
            shape = tuple(variable_shapes.get(node.name, ()))
        elif node.kind == CONST:
            shape = ()
        else:
            inputs = [shapes[j] for j in node.inputs]
            try:
                shape = SHAPE_RULES[node.op.shape_rule](*inputs)
            except ShapeMismatch as exc:
                where = f"node {node.id}" + (f" ('{node.name}')" if node.name else "")
                raise ShapeError(f"{exc} at {where}: {node.text}", tape.source, node.span,
                                 None) from None
        size = 1
        for n in shape:
            size *= n
        if size > limit:
            raise LimitError(
                f"{tape.label(node.index)} would have {size:,} elements ({shape_text(shape)}), "
                f"more than the limit of {limit:,}",
                tape.source,
                node.span,
                f"raise it with {MAX_ARRAY_ELEMENTS.env}",
            )
        shapes[node.index] = shape
    return shapes


def batch_alignment(tape: Tape, shapes: list[tuple]) -> dict[int, tuple[int, ...]]:
    """For a batched sweep (a batch axis in front of every value but constants): the
    elementwise nodes whose inputs have fewer per-row axes than their output, with how many
    axes of size 1 to insert after the batch axis of each input, so that NumPy broadcasts
    the rows' own axes (counted from the right) and never the batch axis against them."""
    align: dict[int, tuple[int, ...]] = {}
    for node in tape.nodes:
        if node.kind != OP or node.op.shape_rule != "elementwise":
            continue
        rank = len(shapes[node.index])
        extra = tuple(
            0 if tape.nodes[j].kind == CONST else rank - len(shapes[j]) for j in node.inputs
        )
        if any(extra):
            align[node.index] = extra
    return align


def _aligned(args: list, extra: tuple[int, ...]) -> list:
    return [
        a if k == 0 else a.reshape(a.shape[:1] + (1,) * k + a.shape[1:])
        for a, k in zip(args, extra)
    ]


def has_arrays(tape: Tape, shapes: list[tuple]) -> bool:
    """Whether the program needs the array engine: any value that is not a scalar."""
    return any(shapes)  # () is the only falsy shape


# ----------------------------------------------------------------------------- sweeps
_MATH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


def _value_text(value) -> str:
    if getattr(value, "ndim", 0) > 0:
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
    if exc is not None:
        overflow = isinstance(exc, OverflowError)
    elif getattr(value, "ndim", 0) > 0:  # an array op (matmul, sum): inf from finite inputs
        import numpy

        overflow = bool(numpy.isinf(value).any()) and all(
            bool(numpy.isfinite(a).all()) for a in args
        )
    else:
        # inf from finite, non-zero inputs overflowed (exp(1000)); nan, or inf from a zero
        # input (1/0, log(0), sqrt'(0)), is undefined, as the float back end says.
        overflow = math.isinf(_as_float(value)) and all(_as_float(a) != 0 for a in args)
    where = f"node {node.id}" + (f" ('{node.name}')" if node.name else "") + f": {node.text}"
    if derivative is None:
        problem = "overflows a float" if overflow else "is undefined"
        message = f"{call} {problem} at {where}"
    else:
        input_label = tape.label(node.inputs[derivative])
        message = (
            f"the derivative of {call} with respect to {input_label} is "
            f"{'too large for a float' if overflow else 'undefined or infinite'} at {where}"
        )
    return EvaluationError(message, tape.source, node.span, f"{op.symbol} needs {op.domain}")


def _first_non_finite(value, args):
    """For a batch (NumPy arrays), the first element that is not finite and the inputs there."""
    arrays = [x for x in (value, *args) if getattr(x, "ndim", 0) > 0]
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
    if getattr(value, "ndim", 0) > 0:
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
    """One step of the chain rule: node -> input, upstream x local = product."""

    node: int
    input: int
    upstream: Any
    local: Any
    product: Any


@dataclass(frozen=True)
class Backward:
    adjoints: list  # per node; None where no gradient flows
    edges: list[Edge]  # in the order the reverse sweep visited them (empty unless recorded)
    kinks: list[int]  # nodes evaluated at a kink (recorded sweeps only)


def needs_gradient(tape: Tape, wanted: Iterable[str] | None = None) -> list[bool]:
    """Which nodes lie on a path from a wanted variable (default: all variables)."""
    wanted_set = set(tape.variables if wanted is None else wanted)
    needs = [False] * len(tape.nodes)
    for node in tape.nodes:
        if node.kind == VAR:
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
    needs = needs_gradient(tape, wanted)
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
            elif getattr(upstream, "ndim", 0) == 0 and upstream == 1.0:
                product = local  # the seed 1 times a local derivative: the same bits
            else:
                product = upstream * local
            if record:
                edges.append(Edge(index, j, upstream, local, product))
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
            edges.append(Edge(node.index, j, upstream, local, product))
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
