"""Higher derivatives by double backprop: the reverse sweep written out as a tape.

``gradient_tape(tape, wrt)`` builds a new tape: the nodes of ``tape`` followed by the reverse
sweep as nodes of ops from the one op table. Each edge of the sweep is a node
``upstream * local`` (its local derivative built from the op row's ``derivative_ops``, see
``ops/derived.py``), and a node used twice gets the ``+`` of its contributions, exactly as
``sweeps.backward`` accumulates them with ``+=``. The gradient components are nodes of the
new tape (``GradientTape.outputs``), so a second derivative is the ordinary reverse sweep
(``sweeps.backward``) over that tape, and order K repeats the step (``derivative_tapes``).

The builder takes the shortcuts ``backward`` takes (a local derivative of 1 passes the
upstream gradient through; the seed 1 times a local derivative is the local derivative), folds
ops over constants into constants, and drops products with a constant 0: the numbers are those
of the first-order sweep, bit for bit, and the tapes stay small.

Interface (used by ``backtrace hessian``, ``grad --order``, ``graph --order`` and
``minimize``; keep these names):

- ``gradient_tape(tape, wrt=None, names=None) -> GradientTape`` with ``.tape`` (the derived
  tape; its ``output`` is the first gradient component), ``.outputs`` (node index of each
  component, in ``.variables`` order), ``.variables`` and ``.value_node`` (the original
  output, still in the tape).
- ``hessian_at(tape, bindings, wrt=None) -> HessianResult`` with ``.variables`` (element
  names in order, e.g. ``["x", "W[0,1]"]``), ``.value`` (float), ``.gradient`` (floats, in
  ``variables`` order) and ``.hessian`` (n x n nested lists), by double backprop on the
  float64 back end. Array variables count element by element, row-major (``elements.py``).
  Raises the engine's EvaluationError / LimitError / BindingError as ``grad`` does.

Scalar tapes only: array programs are first taken element by element (``scalar_program``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import CONST, INLINE_TEXT, OP, VAR, Node, Tape, snippet
from backtrace_cli.engine.sweeps import Backward, backward, forward, needs_gradient
from backtrace_cli.errors import BindingError, LimitError
from backtrace_cli.i18n import _
from backtrace_cli.limits import (
    MAX_DERIVED_NODES,
    MAX_NODES,
    MAX_SWEEP_NODES,
    Limit,
    within,
)
from backtrace_cli.ops.derived import DERIVED_BY_NAME, derivative_form, fold_form
from backtrace_cli.ops.table import PREC_ATOM, PREC_UNARY
from backtrace_cli.syntax.parser import apply_text, format_number

_SEED = -1  # the adjoint of the output before it is needed as a node: the constant 1
_MUL, _ADD, _NEG = DERIVED_BY_NAME["mul"], DERIVED_BY_NAME["add"], DERIVED_BY_NAME["neg"]


@dataclass(frozen=True)
class GradientTape:
    """A tape whose extra nodes are the reverse sweep of another: see the module docstring."""

    tape: Tape
    outputs: tuple[int, ...]  # the node of d(output)/d(variable), per variable
    variables: tuple[str, ...]
    value_node: int  # the original output, still in the tape
    original_size: int  # how many nodes the differentiated tape had

    def output_tape(self, position: int = 0) -> Tape:
        """The derived tape with the ``position``-th gradient component as its output."""
        return replace(self.tape, output=self.outputs[position])


class _Builder:
    """Appends nodes to a copy of a tape, folding constants, within the node limit."""

    def __init__(self, tape: Tape, limit: int | None = None) -> None:
        self.tape = tape
        self.nodes: list[Node] = list(tape.nodes)
        self.limit = MAX_NODES.value
        self.derived_limit = limit  # derivative_tapes: the nodes left of its budget
        self.span = tape.nodes[tape.output].span

    def _append(self, node: Node) -> int:
        if self.derived_limit is not None and len(self.nodes) >= self.derived_limit:
            within(MAX_DERIVED_NODES, MAX_DERIVED_NODES.value + 1, _(
                "the tapes of the derivatives grow past {limit} nodes in all"))
        if len(self.nodes) >= self.limit:
            raise LimitError(
                _("the graph of the derivative has more than {limit:,} nodes").format(
                    limit=self.limit),
                self.tape.source, self.span,
                _("raise the limit with {env}").format(env=MAX_NODES.env),
            )
        self.nodes.append(node)
        return node.index

    def constant(self, value: float) -> int:
        text = format_number(value)
        precedence = PREC_UNARY if value < 0 or text.startswith("-") else PREC_ATOM
        return self._append(Node(len(self.nodes), CONST, None, (), None, text, precedence,
                                 self.span, float(value)))

    def constant_value(self, index: int) -> float | None:
        node = self.nodes[index]
        return node.value if node.kind == CONST else None

    def _snippet(self, index: int) -> tuple[str, int]:
        return snippet(self.nodes[index])

    def apply(self, op, inputs: Sequence[int]) -> int:
        """A node for ``op`` over ``inputs``; over constants only, a constant."""
        constants = [self.constant_value(j) for j in inputs]
        if all(value is not None for value in constants):
            try:
                value = float(op.forward(FLOAT64, *constants))
            except (ValueError, ZeroDivisionError, OverflowError):
                value = math.nan  # left as a node below: forward names it
            if math.isfinite(value):
                return self.constant(value)
        text = apply_text(op, [self._snippet(j) for j in inputs])
        return self._append(Node(len(self.nodes), OP, op, tuple(inputs), None, text,
                                 op.precedence, self.span))

    def form(self, form, node: Node) -> int:
        """The nodes of a ``derivative_ops`` form at ``node`` (its inputs a, b; out = node)."""
        names = {"out": node.index}
        for name, j in zip("ab", node.inputs):
            names[name] = j
        return fold_form(form, self.constant, names.__getitem__, self.apply)

    def name(self, index: int, name: str) -> int:
        """Give the node ``index`` a name; a node of the original tape or one already named
        (a variable, a shared constant) gets a named copy (``pos``) instead."""
        node = self.nodes[index]
        if index >= len(self.tape.nodes) and node.name is None and node.kind != VAR:
            self.nodes[index] = node._replace(name=name)
            return index
        copy = self.apply(DERIVED_BY_NAME["pos"], [index]) if node.kind != CONST else (
            self.constant(node.value))
        self.nodes[copy] = self.nodes[copy]._replace(name=name)
        return copy


def _variable_names(tape: Tape, wrt: Sequence[str] | None) -> tuple[str, ...]:
    if wrt is None:
        return tuple(tape.variables)
    for name in wrt:
        if name not in tape.variable_nodes:
            used = ", ".join(tape.variables) or _("none")
            raise BindingError(
                _("wrt names '{name}', which the expression does not use (its variables: "
                  "{used})").format(name=name, used=used)
            )
    return tuple(wrt)


def gradient_tape(tape: Tape, wrt: Sequence[str] | None = None,
                  names: Sequence[str] | None = None, limit: int | None = None) -> GradientTape:
    """The reverse sweep of ``tape`` (seed 1 at its output) written out as nodes.

    ``wrt`` picks the variables (default: all, in order of first appearance); ``names`` the
    names of the gradient nodes (default ``dL/dx``). Only inputs on a path from a wanted
    variable get a local derivative, as in ``sweeps.backward`` (a constant exponent never
    asks for ``log`` of its base).
    """
    variables = _variable_names(tape, wrt)
    labels = tuple(names) if names is not None else tuple(f"dL/d{x}" for x in variables)
    builder = _Builder(tape, limit)
    needs = needs_gradient(tape, variables)
    adjoints: list[int | None] = [None] * len(tape.nodes)
    seed_node: list[int] = []

    def materialised(adjoint: int) -> int:
        if adjoint != _SEED:
            return adjoint
        if not seed_node:
            seed_node.append(builder.constant(1.0))
        return seed_node[0]

    if needs[tape.output]:
        adjoints[tape.output] = _SEED
    for index in range(len(tape.nodes) - 1, -1, -1):
        upstream = adjoints[index]
        node = tape.nodes[index]
        if upstream is None or node.kind != OP:
            continue
        for position, j in enumerate(node.inputs):
            if not needs[j]:
                continue
            local = builder.form(derivative_form(node.op, position), node)
            constant = builder.constant_value(local)
            if constant == 0.0:
                continue  # adds nothing (and keeps the tape small)
            if constant == 1.0:
                product = upstream
            elif upstream == _SEED:
                product = local
            elif builder.constant_value(upstream) == -1.0:
                product = builder.apply(_NEG, [local])  # -1 * local, the same bits
            elif constant == -1.0:
                product = builder.apply(_NEG, [upstream])
            else:
                product = builder.apply(_MUL, [upstream, local])
            previous = adjoints[j]
            if previous is None:
                adjoints[j] = product
            else:
                adjoints[j] = builder.apply(_ADD, [materialised(previous),
                                                   materialised(product)])
    outputs = []
    for name, label in zip(variables, labels):
        adjoint = adjoints[tape.variable_nodes[name]]
        if adjoint is None:
            outputs.append(builder.name(builder.constant(0.0), label))
        else:
            outputs.append(builder.name(materialised(adjoint), label))
    derived = replace(tape, nodes=tuple(builder.nodes), output=outputs[0] if outputs
                      else tape.output)
    return GradientTape(derived, tuple(outputs), variables, tape.output, len(tape.nodes))


def pruned(tape: Tape, keep: Sequence[int] = ()) -> tuple[Tape, dict[int, int]]:
    """The tape cut to the nodes its output (and ``keep``) depend on, renumbered; with the map
    from old indices to new. Variables stay, all of them (the bindings do not change)."""
    wanted = [False] * len(tape.nodes)
    for index in (tape.output, *keep):
        wanted[index] = True
    for node in reversed(tape.nodes):
        if wanted[node.index]:
            for j in node.inputs:
                wanted[j] = True
    for index in tape.variable_nodes.values():
        wanted[index] = True
    mapping: dict[int, int] = {}
    nodes: list[Node] = []
    for node in tape.nodes:
        if wanted[node.index]:
            mapping[node.index] = len(nodes)
            nodes.append(node._replace(index=len(nodes),
                                       inputs=tuple(mapping[j] for j in node.inputs)))
    if len(nodes) == len(tape.nodes):
        return tape, mapping
    # Texts that named an input by id (v12) would now point elsewhere: rewrite them.
    rebuilt: list[Node] = []
    for node in nodes:
        if node.kind == OP:
            parts = []
            for j in node.inputs:
                other = rebuilt[j]
                if other.name is not None:
                    parts.append((other.name, PREC_ATOM))
                elif len(other.text) <= INLINE_TEXT:
                    parts.append((other.text, other.precedence))
                else:
                    parts.append((other.id, PREC_ATOM))
            node = node._replace(text=apply_text(node.op, parts))
        rebuilt.append(node)
    variable_nodes = {name: mapping[i] for name, i in tape.variable_nodes.items()}
    return replace(tape, nodes=tuple(rebuilt), output=mapping[tape.output],
                   variable_nodes=variable_nodes), mapping


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def derivative_label(order: int, variable: str) -> str:
    """How a person names the derivative of the output L of this order: L, dL/dx, d²L/dx²,
    d¹⁰L/dx¹⁰ (the names of the derived tapes' outputs and of the report's rows)."""
    if order == 0:
        return "L"
    if order == 1:
        return f"dL/d{variable}"
    power = str(order).translate(_SUPERSCRIPTS)
    return f"d{power}L/d{variable}{power}"


def derivative_tapes(tape: Tape, variable: str, order: int) -> list[Tape]:
    """The tapes of the derivatives of order 0..``order`` with respect to ``variable``: each
    the reverse sweep of the previous one written out (then cut to what its output needs).

    Their sizes grow about geometrically, so before each order the sizes of the orders still
    to come are foreseen from the growth so far (the mean factor per order): past
    BACKTRACE_MAX_DERIVED_NODES in all, the request is refused before they are built. A
    growth faster than foreseen still stops at the limit (the builder's own bound)."""
    tapes = [tape]
    budget = MAX_DERIVED_NODES.value
    message = _("the tapes of the derivatives up to order {order} would have about "
                "{{amount}} nodes in all (order {k} alone {size:,}), more than {{limit}}")
    for k in range(1, order + 1):
        built = sum(len(t) for t in tapes[1:])
        if k > 1:
            growth = max(1.0, (len(tapes[-1]) / len(tapes[0])) ** (1 / (k - 1)))
            foreseen = [len(tapes[-1]) * growth ** i for i in range(1, order - k + 2)]
            within(MAX_DERIVED_NODES, built + int(sum(foreseen)),
                   message.format(order=order, k=order, size=int(foreseen[-1])))
        derived = gradient_tape(tapes[-1], [variable], [derivative_label(k, variable)],
                                limit=len(tapes[-1]) + budget - built)
        tapes.append(pruned(derived.tape)[0])
    return tapes


# The gradient's tape of the last few programs: a Newton loop asks for the Hessian of one
# tape at many points, and builds it once. Keyed by the tape's identity (the tape is kept
# in the entry, so the identity cannot be reused), the bindings' shapes and wrt.
_PREPARED: dict[tuple, tuple] = {}
_PREPARED_KEPT = 8


@dataclass(frozen=True)
class HessianResult:
    """Value, gradient and Hessian at a point, with the tapes and sweeps that gave them."""

    variables: tuple[str, ...]
    value: float
    gradient: list[float]
    hessian: list[list[float]]
    derived: GradientTape  # the gradient's tape (scalar, element by element)
    values: list  # every node's value on the derived tape
    rows: list[Backward]  # row i: the reverse sweep of the derived tape from dL/d(variable i)


def hessian_at(tape: Tape, bindings: Mapping[str, Any], wrt: Sequence[str] | None = None,
               record: bool = False, entries: Limit | None = None) -> HessianResult:
    """Value, gradient and Hessian of ``tape``'s output at ``bindings`` by double backprop.

    Arrays are taken element by element (``W[0,1]``, row-major); ``wrt`` may name whole
    arrays (``W``) or elements. ``record`` keeps each row's edges (for ``--explain``).
    """
    from backtrace_cli.engine.elements import element_bindings, scalar_program
    from backtrace_cli.engine.tape import check_bindings

    check_bindings(tape, bindings)
    shapes = tuple((name, getattr(value, "shape", ())) for name, value in bindings.items())
    key = (id(tape), shapes, None if wrt is None else tuple(wrt))
    cached = _PREPARED.get(key)
    if cached is None or cached[0] is not tape:
        program = scalar_program(tape, bindings)
        chosen = program.select(wrt)
        n = len(chosen) if chosen is not None else sum(map(len, program.elements.values()))
        _entries_within(entries, n)  # before the gradient's tape is built
        derived = gradient_tape(program.tape, chosen)
        within(MAX_SWEEP_NODES, n * len(derived.tape), _(
            "the Hessian needs {n:,} sweeps of the gradient's tape of {size:,} nodes "
            "({{amount}} node visits), more than {{limit}}").format(n=n, size=len(derived.tape)))
        needs = needs_gradient(derived.tape, derived.variables)
        cached = (tape, program, derived, needs, [derived.output_tape(position)
                                                   for position in range(len(derived.outputs))])
        if len(_PREPARED) >= _PREPARED_KEPT:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = cached
    _tape, program, derived, needs, row_tapes = cached
    _entries_within(entries, len(derived.variables))
    scalar = program.tape
    values = forward(derived.tape, element_bindings(bindings))
    gradient = [float(values[i]) + 0.0 for i in derived.outputs]
    hessian: list[list[float]] = []
    rows: list[Backward] = []
    for row_tape in row_tapes:
        sweep = backward(row_tape, values, 1.0, derived.variables, record=record, needs=needs)
        rows.append(sweep)
        # + 0.0: a -0.0 (a product with a negative zero) reads as 0, as it is.
        hessian.append([0.0 if sweep.adjoints[scalar.variable_nodes[name]] is None
                        else float(sweep.adjoints[scalar.variable_nodes[name]]) + 0.0
                        for name in derived.variables])
    return HessianResult(derived.variables, float(values[derived.value_node]), gradient,
                         hessian, derived, values, rows)


def _entries_within(entries: Limit | None, n: int) -> None:
    """A report of every entry (``hessian``) has its own limit on the n x n entries."""
    if entries is not None:
        within(entries, n * n, _("the Hessian in {n:,} variables (array elements) has "
                                 "{{amount}} entries, more than {{limit}}").format(n=n))
