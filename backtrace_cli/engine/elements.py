"""A program with arrays taken element by element: one scalar node per element.

Second derivatives count array variables element by element (``W[0,1]``, row-major, as
NumPy's ``ravel``). ``scalar_program`` lowers a tape with array values to a tape of scalar
ops of the same table: an elementwise op becomes one node per output element (broadcasting
the inputs' elements), ``a @ b`` the sums of products, ``sum`` and ``mean`` chains of ``+``
(and a division), ``transpose`` and ``[a, b]`` no nodes at all (they only move elements).
Every node keeps its source span, so errors still point into the expression. A program of
scalars only is returned as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.nodes import CONST, OP, VAR, Node, Tape, snippet
from backtrace_cli.engine.picks import check_pick, parse_pick
from backtrace_cli.engine.shapes import infer_shapes
from backtrace_cli.errors import BindingError, LimitError, ShapeError, did_you_mean
from backtrace_cli.i18n import _
from backtrace_cli.limits import MAX_NODES
from backtrace_cli.ops.table import BY_NAME, PREC_ATOM, PREC_UNARY, shape_text
from backtrace_cli.syntax.parser import apply_text, format_number


def element_name(name: str, index: tuple) -> str:
    """'W' at (0, 1) -> 'W[0,1]'; a scalar keeps its name."""
    return f"{name}[{','.join(str(i) for i in index)}]" if index else name


@dataclass(frozen=True)
class ElementProgram:
    tape: Tape  # scalar ops only
    elements: dict[str, tuple[str, ...]]  # variable -> its element names (itself if scalar)

    def select(self, wrt: Iterable[str] | None) -> tuple[str, ...] | None:
        """Element names for ``wrt`` (whole variables or single elements); None: all."""
        if wrt is None:
            return None
        chosen: list[str] = []
        known = [e for names in self.elements.values() for e in names]
        for name in wrt:
            pick = parse_pick(name)
            if pick is not None and pick[0] in self.elements:  # an element or a row
                base, index = pick
                elements = self.elements[base]
                last = parse_pick(elements[-1]) if elements[-1] != base else None
                shape = tuple(i + 1 for i in last[1]) if last else ()
                check_pick(name, base, index, shape)
                chosen.extend(e for e in elements if parse_pick(e)[1][:len(index)] == index)
            elif name in self.elements:
                chosen.extend(self.elements[name])
            elif name in known:
                chosen.append(name)
            else:
                error = BindingError(
                    _("wrt names '{name}', which is not a variable of the expression "
                      "(its variables: {used})").format(
                        name=name, used=", ".join(self.elements) or _("none")),
                    did_you_mean(name, list(self.elements)),
                )
                error.field = "wrt"
                raise error
        return tuple(dict.fromkeys(chosen))


def element_bindings(bindings: Mapping[str, Any]) -> dict[str, float]:
    """Every binding as Python floats, one per element (``W[0,1]``), row-major."""
    out: dict[str, float] = {}
    for name, value in bindings.items():
        if getattr(value, "ndim", 0) == 0:
            out[name] = float(value)
            continue
        import numpy

        array = numpy.asarray(value, dtype=numpy.float64)
        for index, element in numpy.ndenumerate(array):
            out[element_name(name, index)] = float(element)
    return out


def scalar_program(tape: Tape, bindings: Mapping[str, Any]) -> ElementProgram:
    """``tape`` with one scalar node per array element (see the module docstring)."""
    import numpy

    shapes = infer_shapes(tape, {name: numpy.shape(value) for name, value in bindings.items()})
    output = tape.nodes[tape.output]
    if shapes[tape.output] != ():
        raise ShapeError(
            _("{label} is an array ({shape}), not a number: second derivatives need a scalar "
              "output").format(label=output.name or _("the output"),
                               shape=shape_text(shapes[tape.output])),
            tape.source, output.span,
            _("reduce it, e.g. sum({text}) or mean(...)").format(text=output.text),
        )
    if not any(shapes) and all(
        node.op is None or node.op.derivative_ops for node in tape.nodes
    ):
        return ElementProgram(tape, {name: (name,) for name in tape.variables})
    return _lower(tape, shapes)


def _lower(tape: Tape, shapes: list[tuple]) -> ElementProgram:
    import numpy

    nodes: list[Node] = []
    limit = MAX_NODES.value
    variable_nodes: dict[str, int] = {}
    elements: dict[str, tuple[str, ...]] = {}
    ids: list[Any] = [None] * len(tape.nodes)  # per node: object array of scalar node ids
    add, mul, div = BY_NAME["add"], BY_NAME["mul"], BY_NAME["div"]

    def append(kind, op, inputs, name, span, value=None) -> int:
        if len(nodes) >= limit:
            raise LimitError(_("the graph has more than {max_nodes:,} nodes").format(
                max_nodes=limit), tape.source, span,
                _("raise the limit with {env}").format(env=MAX_NODES.env))
        if kind == OP:
            text, precedence = apply_text(op, [snippet(nodes[j]) for j in inputs]), op.precedence
        elif kind == CONST:
            text = format_number(value)
            precedence = PREC_UNARY if value < 0 else PREC_ATOM
        else:
            text, precedence = name, PREC_ATOM
        nodes.append(Node(len(nodes), kind, op, tuple(inputs), name, text, precedence, span,
                          value))
        return len(nodes) - 1

    def total(items: list[int], span) -> int:
        result = items[0]
        for item in items[1:]:
            result = append(OP, add, (result, item), None, span)
        return result

    for node in tape.nodes:
        shape, span = shapes[node.index], node.span
        grid = numpy.empty(shape, dtype=object)
        if node.kind == VAR:
            names = []
            for index in numpy.ndindex(*shape):
                label = element_name(node.name, index)
                grid[index] = append(VAR, None, (), label, span)
                variable_nodes[label] = grid[index]
                names.append(label)
            elements[node.name] = tuple(names)
        elif node.kind == CONST:
            grid[()] = append(CONST, None, (), None, span, node.value)
        else:
            op, inputs = node.op, [ids[j] for j in node.inputs]
            rule = op.shape_rule
            if rule == "elementwise":
                for index in numpy.ndindex(*shape):
                    picked = [numpy.broadcast_to(g, shape)[index] for g in inputs]
                    grid[index] = append(OP, op, picked, None, span)
            elif rule == "matmul":
                a, b = inputs
                a2 = a if a.ndim == 2 else a[None, :]
                b2 = b if b.ndim == 2 else b[:, None]
                full = numpy.empty((a2.shape[0], b2.shape[1]), dtype=object)
                for i in range(a2.shape[0]):
                    for j in range(b2.shape[1]):
                        products = [append(OP, mul, (a2[i, k], b2[k, j]), None, span)
                                    for k in range(a2.shape[1])]
                        full[i, j] = total(products, span)
                grid = full.reshape(shape)
            elif op.name == "sum":
                grid[()] = total(list(inputs[0].ravel()), span)
            elif op.name == "mean":
                count = append(CONST, None, (), None, span, float(inputs[0].size))
                grid[()] = append(OP, div, (total(list(inputs[0].ravel()), span), count),
                                  None, span)
            elif rule == "transpose":
                grid = inputs[0].T
            else:  # stack
                grid = numpy.stack(inputs)
            if node.name is not None and op.shape_rule != "transpose" and rule != "stack":
                for index in numpy.ndindex(*shape):
                    k = grid[index]
                    if nodes[k].kind == OP and nodes[k].name is None:
                        nodes[k] = nodes[k]._replace(name=element_name(node.name, index))
        ids[node.index] = grid
    lowered = Tape(nodes=tuple(nodes), output=int(ids[tape.output][()]),
                   variables=tuple(variable_nodes), variable_nodes=variable_nodes,
                   source=tape.source)
    return ElementProgram(lowered, elements)
