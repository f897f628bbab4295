"""A recorded ``backward()`` as ``grad``'s ``Explanation``: its tables, JSON and page.

The tape is made from the recorded nodes (each with the source text that made it and the
script's name for it); the values, adjoints and edges are the recorded ones, in the tensor's
dtype, so every number shown is the run's own (a float32 value as ``.item()`` shows it). A
fused op of PyTorch's without a row in the op table (``MseLossBackward0``, ``AddmmBackward0``)
shows PyTorch's class as its op; its local value is product / upstream where both have one
shape (or upstream is one number), else nan (its backward is one fused formula, not a
product of locals).
"""

from __future__ import annotations

import bisect
import dis
import linecache
from functools import lru_cache
from types import SimpleNamespace

import numpy

from backtrace_cli.engine.nodes import CONST, OP, VAR, Node, Tape
from backtrace_cli.engine.sweeps import Backward, Edge
from backtrace_cli.errors import Span
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.explain.labels import node_labels
from backtrace_cli.ops.table import PREC_ATOM
from backtrace_cli.run.record import Call
from backtrace_cli.torchlike._autograd import source_position

NO_SPAN = Span(0, 0)
_STORES = {"STORE_NAME", "STORE_FAST", "STORE_GLOBAL", "STORE_DEREF"}


@lru_cache(maxsize=256)
def _instructions(code) -> tuple[list[int], list]:
    """The offsets of a code object's instructions (caches left out) and the instructions."""
    listed = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    return [i.offset for i in listed], listed


def _next_instruction(code, offset: int):
    """The instruction after the one at ``offset`` (a frame's f_lasti may point into the
    instruction's inline caches, as a CALL's does)."""
    offsets, listed = _instructions(code)
    k = bisect.bisect_right(offsets, offset) - 1
    return listed[k + 1] if 0 <= k < len(listed) - 1 else None


def stored_name(site) -> str | None:
    """The name the script's next instruction stores the value made at ``site`` in
    (``y_pred = x * w`` gives y_pred), or None."""
    if site is None:
        return None
    code, offset = site[0], site[1]
    following = _next_instruction(code, offset)
    if following is None:
        return None
    if following.opname in _STORES:
        return following.argval
    if following.opname == "RETURN_VALUE" and len(site) > 2 and site[2] is not None:
        return stored_name(site[2])  # named where the function's caller stores it
    return None


def source_text(site) -> str | None:
    """The exact segment of the script that made a node (``(y_pred - y) ** 2``)."""
    position = source_position(site)
    if position is None:
        return None
    filename, line, column, end_line, end_column = position
    if line is None or column is None or end_line is None or end_column is None:
        return None
    lines = [linecache.getline(filename, n) for n in range(line, end_line + 1)]
    if not any(lines):
        return None
    if line == end_line:
        text = lines[0].encode()[column:end_column].decode(errors="replace")
    else:
        text = lines[0].encode()[column:].decode(errors="replace") + "".join(lines[1:-1]) + \
            lines[-1].encode()[:end_column].decode(errors="replace")
    return " ".join(text.split())


def shown(value):
    """A recorded value for a table: a Python float for one element (the float32 value as
    ``.item()`` gives it), else a float64 array of its shape."""
    array = numpy.asarray(value)
    if array.size == 1:
        return float(array.reshape(()))
    return array.astype(numpy.float64)


def _fused_op(function: str, inputs: int) -> SimpleNamespace:
    text = "PyTorch's " + function
    return SimpleNamespace(name=function, derivative_text=(text,) * max(inputs, 1),
                           variadic=False, derivative_text_for=None, precedence=PREC_ATOM,
                           vjps=(), latex=None)


def explanation(call: Call) -> Explanation:
    """``grad``'s Explanation of one recorded backward()."""
    nodes = []
    variables: dict[str, int] = {}
    bindings = {}
    for index, record in enumerate(call.nodes):
        text = source_text(record.site)
        name = record.name
        if name is None and record.kind == OP:
            name = stored_name(record.site)
        if record.kind == VAR:
            while name is None or name in variables:
                name = f"x{len(variables) + 1}" if name is None else name + "'"
            variables[name] = index
            bindings[name] = shown(record.value)
            nodes.append(Node(index, VAR, None, (), name, name, PREC_ATOM, NO_SPAN))
        elif record.kind == CONST:
            value = shown(record.value)
            constant_text = name or text or (format(value) if isinstance(value, float)
                                             else "tensor")
            nodes.append(Node(index, CONST, None, (), None, constant_text, PREC_ATOM, NO_SPAN,
                              value))
        else:
            op = record.op
            function = type_name(record)
            if op is None:
                op = _fused_op(function, len(record.inputs))
            nodes.append(Node(index, OP, op, record.inputs, name, text or function,
                              op.precedence, NO_SPAN))
    source = nodes[call.output].text
    tape = Tape(nodes=tuple(nodes), output=call.output, variables=tuple(variables),
                variable_nodes=dict(variables), source=source)
    values = [shown(record.value) for record in call.nodes]
    adjoints: list = [None] * len(nodes)
    adjoints[call.output] = shown(call.seed)
    edges = []
    for edge in call.edges:
        upstream, product = shown(edge.upstream), shown(edge.product)
        if edge.local is not None:
            local = shown(edge.local)
        else:
            local = _local_of(edge)
        edges.append(Edge(edge.node, edge.input, upstream, local, product, edge.position))
        previous = adjoints[edge.input]
        adjoints[edge.input] = product if previous is None else _sum(previous, edge)
    gradients = {}
    for leaf in call.leaves:
        if leaf.name in variables:
            gradients[leaf.name] = shown(leaf.added)
            adjoints[variables[leaf.name]] = shown(leaf.added)
    for name in variables:
        gradients.setdefault(name, shown(numpy.zeros_like(call.nodes[variables[name]].value)))
    shapes = [() for _ in call.nodes]  # one-element tensors are shown as numbers
    if any(numpy.asarray(record.value).size != 1 for record in call.nodes):
        shapes = [numpy.asarray(record.value).shape for record in call.nodes]
        values = [numpy.asarray(record.value, dtype=numpy.float64) for record in call.nodes]
    labels = node_labels(tape)
    output = tape.nodes[tape.output]
    loss_label = labels[tape.output] if output.name is not None else "L"
    if output.name is None and "L" in labels:
        loss_label = "J"
    return Explanation(tape=tape, bindings=bindings, seed=shown(call.seed),
                       wrt=tuple(variables), values=values,
                       result=Backward(adjoints=adjoints, edges=edges, kinks=[]),
                       labels=labels, loss_label=loss_label, gradients=gradients, check=None,
                       shapes=shapes)


def _sum(previous, edge):
    return shown(numpy.asarray(edge.product) + numpy.asarray(previous, dtype=edge.product.dtype))


def _local_of(edge):
    upstream = numpy.asarray(edge.upstream, dtype=numpy.float64)
    product = numpy.asarray(edge.product, dtype=numpy.float64)
    if upstream.shape == product.shape or upstream.size == 1:
        with numpy.errstate(all="ignore"):
            return shown(product / upstream)
    return shown(numpy.full(product.shape, numpy.nan))


def type_name(record) -> str:
    return record.function if getattr(record, "function", "") else "op"


def output_name(call: Call) -> str | None:
    record = call.nodes[call.output]
    return record.name or (stored_name(record.site) if record.kind == OP else None)


def statement(call: Call) -> tuple[int | None, str]:
    """(line, text) of the statement that made the output in the frame that called
    backward() (``l = loss(x, y)``), or of the backward() call itself."""
    line = call.line
    name = output_name(call)
    if call.site is not None and name is not None and line is not None:
        code = call.site[0]
        best = None
        for instruction in dis.get_instructions(code):
            number = instruction.positions.lineno if instruction.positions else None
            if (instruction.opname in _STORES and instruction.argval == name
                    and number is not None and number <= line):
                best = number if best is None else max(best, number)
        if best is not None:
            line = best
    if line is None or call.site is None:
        return line, ""
    return line, linecache.getline(call.site[0].co_filename, line).strip()
