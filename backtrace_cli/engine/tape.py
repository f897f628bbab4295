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

from collections.abc import Mapping
from typing import Any

from backtrace_cli.engine.nodes import CONST, OP, VAR, Node, Tape, snippet
from backtrace_cli.errors import (
    BindingError,
    EvaluationError,
    LimitError,
    Span,
    did_you_mean,
)
from backtrace_cli.i18n import _
from backtrace_cli.limits import MAX_NODES
from backtrace_cli.ops.table import (
    CONSTANTS,
    PREC_ATOM,
    PREC_UNARY,
)
from backtrace_cli.syntax.parser import (
    Apply,
    Assign,
    Number,
    Program,
    apply_text,
    format_number,
)


def compile_program(program: Program) -> Tape:
    """Lower a syntax tree to a tape, walking each statement with an explicit stack."""
    source = program.source
    nodes: list[Node] = []
    environment: dict[str, int] = {}  # names given by assignments so far
    variable_nodes: dict[str, int] = {}
    max_nodes = MAX_NODES.value

    def too_many(span: Span) -> LimitError:
        return LimitError(
            _("the graph has more than {max_nodes:,} nodes").format(max_nodes=max_nodes),
            source,
            span,
            _("raise the limit with {env}").format(env=MAX_NODES.env),
        )

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
                text = apply_text(op, [snippet(nodes[i]) for i in inputs])
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
                _("the variable '{name}' has no value").format(name=name),
                tape.source,
                node.span,
                _("give it one: {name}=VALUE (or --{name} VALUE)").format(name=name),
            )
    for name in bindings:
        if name not in tape.variable_nodes:
            if name in CONSTANTS:
                raise BindingError(
                    _("'{name}' is a constant ({CONSTANTS!r}) and cannot be given a value").format(
                        name=name, CONSTANTS=CONSTANTS[name]
                    )
                )
            hint = did_you_mean(name, tape.variables)
            used = ", ".join(tape.variables) or "none"
            raise BindingError(
                _(
                    "the {what} '{name}' is not used by the expression (its variables: {used})"
                ).format(what=what, name=name, used=used),
                hint,
            )


# The names this module had before engine/ was split; other modules import them from here.
from backtrace_cli.engine.shapes import (  # noqa: E402, F401
    _aligned,
    batch_alignment,
    infer_shapes,
)
from backtrace_cli.engine.sweeps import (  # noqa: E402, F401
    Backward,
    Edge,
    _array_products,
    _as_float,
    _domain_error,
    _first_non_finite,
    _value_text,
    backward,
    forward,
    gradients,
    needs_gradient,
    unguarded_nodes,
)
