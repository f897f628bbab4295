"""Tapes recorded op by op, while a program runs (``backtrace run``'s tensors record here).

``compile_program`` makes a tape from text; this module makes one from calls: ``variable``
and ``constant`` add leaves, ``apply`` adds an op of the table over earlier nodes with its
value computed by a back end (Python floats, or NumPy in float32 or float64), and the caller
attaches names, source text and where the node was made. ``reverse`` runs the reverse sweep
from any node with any seed and returns the adjoint of every node it reaches (the leaves'
are the gradients); ``to_tape`` turns the part of the graph an output depends on into the
engine's ``Tape`` and bindings, so every view of ``backtrace grad`` can be made from it.

Each node is a small object with slots that points at its inputs (not a list index), so a
program that builds a new graph per step frees each graph when nothing refers to it any more,
as PyTorch's autograd does. A node's local derivatives are the op table's (``op.derivatives``
and ``op.vjps``); ``step`` may be given to ``reverse`` to compute a node's products another way
(PyTorch's order of rounding for a few ops), and an op node without a table op (``op`` None)
must then be handled by it.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from backtrace_cli.engine.nodes import CONST, OP, VAR, Node, Tape, snippet
from backtrace_cli.errors import Span
from backtrace_cli.ops.table import PREC_ATOM, PREC_UNARY, Op

_ORDER = count()  # the order nodes were made in: a topological order of every graph
NO_SPAN = Span(0, 0)


class Recorded:
    """One node of a recorded graph.

    ``kind`` is VAR (a leaf whose gradient is wanted), CONST (a leaf that gets none) or OP;
    ``op`` is the table's op (None for a caller's own op, see the module's docstring);
    ``inputs`` the input nodes; ``args`` their values when the op ran (None once freed);
    ``value`` the node's own value; ``m`` the back end that computed it; ``order`` when it
    was made. ``label``, ``text``, ``span`` and ``site`` are the caller's: a name, the source
    text, its place in ``source`` of ``to_tape``, and where the program made the node.
    """

    __slots__ = ("kind", "op", "inputs", "args", "value", "m", "order", "label", "text", "span",
                 "site", "__weakref__")

    def __init__(self, kind: str, op: Op | None, inputs: tuple, args: tuple | None, value: Any,
                 m: Any, name: str | None = None, text: str | None = None,
                 span: Span | None = None, site: Any = None) -> None:
        self.kind = kind
        self.op = op
        self.inputs = inputs
        self.args = args
        self.value = value
        self.m = m
        self.order = next(_ORDER)
        self.label = name
        self.text = text
        self.span = span
        self.site = site


def variable(value: Any, m: Any, name: str | None = None, text: str | None = None,
             span: Span | None = None, site: Any = None) -> Recorded:
    """A leaf whose gradient is wanted (a variable of ``grad``, a tensor that requires grad)."""
    return Recorded(VAR, None, (), None, value, m, name, text, span, site)


def constant(value: Any, m: Any, text: str | None = None, span: Span | None = None,
             site: Any = None) -> Recorded:
    """A leaf that gets no gradient (a number, a tensor that does not require grad)."""
    return Recorded(CONST, None, (), None, value, m, None, text, span, site)


def apply(op: Op | None, inputs: tuple, m: Any, value: Any = None, name: str | None = None,
          text: str | None = None, span: Span | None = None, site: Any = None,
          args: tuple | None = None) -> Recorded:
    """An op over earlier nodes. Its value is ``op.forward`` in back end ``m`` unless the
    caller computed it (``value``); ``args`` are the inputs' values (default: their nodes'
    values now)."""
    if args is None:
        args = tuple([node.value for node in inputs])
    if value is None:
        value = op.forward(m, *args)
    return Recorded(OP, op, inputs, args, value, m, name, text, span, site)


def table_step(node: Recorded, upstream: Any) -> list:
    """The products upstream x local of one op node, one per input (None for a constant
    input): the op table's local derivatives, each brought back to its input's shape."""
    op, m, args, out = node.op, node.m, node.args, node.value
    fit = getattr(m, "fit", None)
    products: list = []
    for position, source in enumerate(node.inputs):
        if source.kind == CONST:
            products.append(None)
            continue
        rule = 0 if op.variadic else position
        if op.vjps:
            product = op.vjps[rule](m, upstream, args, out, position)
        else:
            local = op.derivatives[rule](m, args, out)
            if local.__class__ is float and local == 1.0:
                product = upstream
            else:
                product = upstream * local
            if fit is not None:
                product = fit(product, getattr(args[position], "shape", ()))
        products.append(product)
    return products


Step = Callable[[Recorded, Any], list]


def reachable(output: Recorded) -> list[Recorded]:
    """The op nodes ``output`` depends on through inputs that are not constants, latest
    first (the order of the reverse sweep). Iterative: a graph of any depth."""
    seen = {id(output)}
    stack = [output]
    found = []
    while stack:
        node = stack.pop()
        if node.kind != OP:
            continue
        found.append(node)
        for source in node.inputs:
            if source.kind != CONST and id(source) not in seen:
                seen.add(id(source))
                stack.append(source)
    found.sort(key=_order, reverse=True)
    return found


def _order(node: Recorded) -> int:
    return node.order


def reverse(output: Recorded, seed: Any, step: Step = table_step,
            edges: list | None = None, nodes: list[Recorded] | None = None) -> dict:
    """The reverse sweep from ``output`` with ``seed``: {node: adjoint} for every node
    reached (variables included), each accumulated with ``+`` in the order of the sweep.
    ``edges``, when given, receives (node, position, upstream, product) for every edge;
    ``nodes`` is ``reachable(output)`` when the caller has it already."""
    adjoints: dict = {output: seed}
    for node in reachable(output) if nodes is None else nodes:
        upstream = adjoints.get(node)
        if upstream is None:
            continue
        products = step(node, upstream)
        for position, source in enumerate(node.inputs):
            product = products[position]
            if product is None or source.kind == CONST:
                continue
            if edges is not None:
                edges.append((node, position, upstream, product))
            previous = adjoints.get(source)
            adjoints[source] = product if previous is None else previous + product
    return adjoints


def _constant_text(value) -> str:
    """How a constant without a text reads: its number, or its array."""
    from backtrace_cli.syntax.unparse import format_array, format_number

    if getattr(value, "ndim", 0) == 0:
        return format_number(float(value))
    return format_array(value)


def to_tape(output: Recorded, source: str = "") -> tuple[Tape, dict[str, Any]]:
    """The engine's ``Tape`` of everything ``output`` depends on, in the order it was made,
    and the variables' values (its bindings). A variable without a name is called x1, x2...;
    a node without text gets the text ``compile_program`` would give it. Every op node needs
    a table op."""
    nodes_made: list[Recorded] = []
    seen = {id(output)}
    stack = [output]
    while stack:
        node = stack.pop()
        nodes_made.append(node)
        for source_node in node.inputs:
            if id(source_node) not in seen:
                seen.add(id(source_node))
                stack.append(source_node)
    nodes_made.sort(key=_order)
    index_of: dict[int, int] = {}
    tape_nodes: list[Node] = []
    variable_nodes: dict[str, int] = {}
    bindings: dict[str, Any] = {}
    unnamed = count(1)
    for recorded in nodes_made:
        index = len(tape_nodes)
        span = recorded.span or NO_SPAN
        if recorded.kind == VAR:
            name = recorded.label
            while name is None or name in variable_nodes:
                name = f"x{next(unnamed)}"
            node = Node(index, VAR, None, (), name, recorded.text or name, PREC_ATOM, span)
            variable_nodes[name] = index
            bindings[name] = recorded.value
        elif recorded.kind == CONST:
            value = recorded.value
            text = recorded.text or _constant_text(value)
            precedence = PREC_UNARY if text.startswith("-") else PREC_ATOM
            node = Node(index, CONST, None, (), None, text, precedence, span, value)
        else:
            if recorded.op is None:
                raise ValueError("a node without a table op cannot be put on a tape")
            from backtrace_cli.syntax.parser import apply_text

            inputs = tuple(index_of[id(source_node)] for source_node in recorded.inputs)
            text = recorded.text
            if text is None:
                text = apply_text(recorded.op, [snippet(tape_nodes[i]) for i in inputs])
            node = Node(index, OP, recorded.op, inputs, recorded.label, text,
                        recorded.op.precedence, span)
        index_of[id(recorded)] = index
        tape_nodes.append(node)
    tape = Tape(nodes=tuple(tape_nodes), output=index_of[id(output)],
                variables=tuple(variable_nodes), variable_nodes=dict(variable_nodes),
                source=source)
    return tape, bindings
