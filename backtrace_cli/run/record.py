"""The record of a run: every ``backward()`` the script made, and the mistakes seen on the way.

``Recorder`` listens to backtrace's torch (``torchlike._autograd.LISTENERS``): for each
``backward()`` it keeps, before the graph is freed, a ``Call`` — its index (1-based), line,
the output, every node of the graph it ran through (op, inputs, value copied in the tensor's
dtype, where the script made it, the script's name for it), every edge (upstream, local,
product) and each leaf's ``.grad`` before, added and after. Names come from the namespace of
the frame that called ``backward()`` (its locals, the module's globals, the parameters of the
``nn.Module`` objects there), looked up once per call; a node still unnamed is named later by
the assignment its source line makes (``y_pred = ...``). Everything heavier (source text,
tables) is made only when asked (``explained.py``).

The diagnoses (``Diagnosis``: kind, line, numbers) are found while the script runs:
``grad-not-zeroed``, ``non-leaf-update``, ``backward-twice``, ``in-place-leaf`` and
``graph-kept`` (see ``messages.py`` for their words). Each is kept once per kind, line and name.
"""

from __future__ import annotations

import os
import sys
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy

from backtrace_cli.engine.nodes import CONST, OP, VAR
from backtrace_cli.torchlike import _autograd, _tensor

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # backtrace_cli/


@dataclass
class NodeRecord:
    """One node of a recorded graph. ``kind`` VAR, CONST or OP; ``op`` the op table's row
    (None for a leaf or a fused op of PyTorch's); ``function`` PyTorch's class name
    (``MulBackward0``); ``inputs`` indices into the call's nodes; ``site`` (code, offset)."""

    kind: str
    op: Any
    function: str
    inputs: tuple[int, ...]
    value: Any
    site: Any
    name: str | None = None


@dataclass
class EdgeRecord:
    node: int
    input: int
    position: int
    upstream: Any
    local: Any  # None where PyTorch's fused backward has no local derivative of its own
    product: Any


@dataclass
class LeafRecord:
    name: str
    before: Any  # None when .grad was None
    added: Any
    after: Any


@dataclass
class Call:
    index: int
    site: Any
    nodes: list[NodeRecord]
    output: int  # index of the output node
    seed: Any
    edges: list[EdgeRecord]
    leaves: list[LeafRecord]
    dtype: Any = None

    @property
    def line(self) -> int | None:
        return line_of(self.site)

    def leaves_by_name(self) -> dict[str, LeafRecord]:
        return {leaf.name: leaf for leaf in self.leaves}


@dataclass
class Diagnosis:
    kind: str
    line: int | None
    fields: dict = field(default_factory=dict)


def line_of(site) -> int | None:
    position = _autograd.source_position(site)
    return None if position is None else position[1]


def _user_frame():
    """The innermost frame outside backtrace's package (the script's own)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return frame


def _namespace_tensors(frame) -> dict[str, Any]:
    """name -> tensor for the tensors and module parameters the frame can name (locals first,
    then the module's globals)."""
    from backtrace_cli.torchlike.nn.modules import Module

    found: dict[str, Any] = {}
    spaces = [frame.f_locals] if frame.f_locals is frame.f_globals else [frame.f_locals,
                                                                          frame.f_globals]
    for space in spaces:
        for name, value in list(space.items()):
            if name.startswith("__"):
                continue
            if isinstance(value, _tensor.Tensor):
                found.setdefault(name, value)
            elif isinstance(value, Module):
                for sub, parameter in value.named_parameters():
                    found.setdefault(f"{name}.{sub}", parameter)
    return found


def _node_of_tensor(tensor):
    return tensor._grad_fn if tensor._grad_fn is not None else tensor._node


def _copy(value):
    return numpy.array(value, copy=True)


def _nonzero(array) -> bool:
    return array is not None and bool(numpy.any(array != 0))


class Recorder:
    """Listens to backtrace's torch while a script runs; ``calls`` and ``diagnoses`` after."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep  # False: only the diagnoses (no copy of any graph is kept)
        self.calls: list[Call] = []
        self.count = 0  # backward() calls made
        self.diagnoses: list[Diagnosis] = []
        self._seen: set = set()
        self._freed_by: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._swept: weakref.WeakSet = weakref.WeakSet()  # every node a backward() ran through
        # leaf node -> (value when its .grad was last written, call index)
        self._written: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # name -> weak leaf node that name held at a backward()
        self._leaf_names: dict[str, Any] = {}
        self._spaces: list[dict] = []  # the namespaces seen (checked again at the end)
        self.failure: tuple[int, str] | None = None  # (backward() number, what went wrong)

    # ------------------------------------------------------------------ hooks
    def install(self) -> None:
        _autograd.LISTENERS.append(self)
        _autograd.RECORD_EDGES[0] = _autograd.RECORD_EDGES[0] or self.keep
        _tensor.IN_PLACE_LISTENERS.append(self.in_place)

    def remove(self) -> None:
        if self in _autograd.LISTENERS:
            _autograd.LISTENERS.remove(self)
        _autograd.RECORD_EDGES[0] = any(getattr(listener, "keep", False)
                                        for listener in _autograd.LISTENERS)
        if self.in_place in _tensor.IN_PLACE_LISTENERS:
            _tensor.IN_PLACE_LISTENERS.remove(self.in_place)

    def _diagnose(self, kind: str, line, key: str, **fields) -> None:
        if (kind, line, key) in self._seen:
            return
        self._seen.add((kind, line, key))
        self.diagnoses.append(Diagnosis(kind, line, fields))

    # ------------------------------------------------------------------ backward()
    def __call__(self, call) -> None:
        """Record one backward(). A failure of the record itself never reaches the script:
        it is kept (``failure``) and said after the run, and recording stops."""
        if self.failure is not None:
            return
        try:
            self._record(call)
        except Exception as error:  # noqa: BLE001 - the script must run as under python
            self.failure = (self.count, f"{type(error).__name__}: {error}")

    def _record(self, call) -> None:
        frame = _user_frame()
        names: dict[int, str] = {}
        tensors = {}
        if frame is not None:
            tensors = _namespace_tensors(frame)
            for name, tensor in tensors.items():
                node = _node_of_tensor(tensor)
                if node is not None:
                    names.setdefault(id(node), name)
                else:  # a tensor without grad is a constant of the graph: its storage
                    names.setdefault(id(tensor._value), name)
            self._remember_space(frame.f_globals)
            if frame.f_locals is not frame.f_globals:
                self._check_space(frame.f_locals)
        self.count += 1
        index = self.count
        root = call.output._grad_fn if call.output._grad_fn is not None else call.output._node
        nodes, order, edges = self._graph(call, root, names) if self.keep else ([], {}, [])
        leaves = []
        for target, before, added in call.leaves:
            leaf_node = target._node
            name = names.get(id(leaf_node)) if leaf_node is not None else None
            if name is None:
                name = f"leaf{len(leaves) + 1}"
            after = _copy(target._grad._value)
            leaves.append(LeafRecord(name, before, _copy(numpy.broadcast_to(
                added, target._value.shape)), after))
            if leaf_node is not None:
                self._check_not_zeroed(leaf_node, target, name, before, after, call.site)
                self._written[leaf_node] = _copy(target._value)
        if self.keep:
            self.calls.append(Call(index, call.site, nodes, order[id(root)], _copy(call.seed),
                                   edges, leaves, call.output._value.dtype))
        for node in call.nodes:
            self._swept.add(node)
            if node.saves:
                self._freed_by[node] = (index, call.site)  # the line is found if needed
        for name, tensor in tensors.items():
            if tensor._grad_fn is None and tensor._requires_grad and tensor._node is not None:
                self._leaf_names[name] = weakref.ref(tensor._node)
        self._check_space_tensors(tensors, exclude=root)

    def _graph(self, call, root, names: dict) -> tuple[list, dict, list]:
        """The recorded nodes (in the order they were made), their positions, the edges."""
        order: dict[int, int] = {}
        graph: list = []
        stack = [root]
        order[id(root)] = -1
        while stack:  # every node the output depends on, constants included
            node = stack.pop()
            graph.append(node)
            for source in node.inputs:
                if id(source) not in order:
                    order[id(source)] = -1
                    stack.append(source)
        graph.sort(key=lambda node: node.order)
        nodes: list[NodeRecord] = []
        for position, node in enumerate(graph):
            order[id(node)] = position
            if node.kind == OP:
                function = type(node).__name__
            elif node.kind == VAR:
                function = "AccumulateGrad"
            else:
                function = ""
            value = node.value if node.kind != VAR else node.variable._value
            nodes.append(NodeRecord(node.kind, node.op, function,
                                    tuple(order[id(s)] for s in node.inputs),
                                    _copy(value), node.site,
                                    names.get(id(node) if node.kind != CONST else id(value))))
        edges = []
        for node, position, upstream, product in call.edges or ():
            local = None
            op = node.op
            if op is not None and not op.vjps and node.args is not None:
                rule = 0 if op.variadic else position
                local = op.derivatives[rule](node.m, node.args, node.value)
            source = node.inputs[position]
            edges.append(EdgeRecord(order[id(node)], order[id(source)], position,
                                    _copy(upstream), None if local is None else _copy(local),
                                    _copy(product)))
        return nodes, order, edges

    def _check_not_zeroed(self, leaf_node, target, name, before, after, where) -> None:
        written = self._written.get(leaf_node)
        if before is None or written is None or not _nonzero(before):
            return
        if written.shape == target._value.shape and numpy.array_equal(written, target._value):
            return  # no update since that gradient: accumulating on purpose
        added = after - before
        self._diagnose("grad-not-zeroed", line_of(where), name, name=name,
                       before=before, added=added, after=after)

    # ------------------------------------------------------------------ other hooks
    def failed(self, tensor, nodes, error) -> None:
        """A backward() that raised: through a graph freed by an earlier one?"""
        try:
            self._failed(nodes)
        except Exception as problem:  # noqa: BLE001 - the script's own error goes on
            self.failure = self.failure or (self.count, f"{type(problem).__name__}: {problem}")

    def _failed(self, nodes) -> None:
        for node in nodes:
            if node.args is None and node.saves:
                first = self._freed_by.get(node)
                frame = _user_frame()
                where = None if frame is None else (frame.f_code, frame.f_lasti)
                self._diagnose("backward-twice", line_of(where), "",
                               first=None if first is None else line_of(first[1]))
                return

    def in_place(self, tensor) -> None:
        try:
            self._in_place(tensor)
        except Exception as problem:  # noqa: BLE001 - PyTorch's error is raised next
            self.failure = self.failure or (self.count, f"{type(problem).__name__}: {problem}")

    def _in_place(self, tensor) -> None:
        frame = _user_frame()
        where = None if frame is None else (frame.f_code, frame.f_lasti)
        name = ""
        if frame is not None:
            for key, value in _namespace_tensors(frame).items():
                if value is tensor:
                    name = key
                    break
        self._diagnose("in-place-leaf", line_of(where), name, name=name or "a leaf")

    # ------------------------------------------------------------------ namespaces
    def _remember_space(self, space: dict) -> None:
        if not any(space is known for known in self._spaces):
            self._spaces.append(space)

    def _check_space(self, space: dict) -> None:
        tensors = {name: value for name, value in list(space.items())
                   if isinstance(value, _tensor.Tensor)}
        self._check_space_tensors(tensors)

    def _check_space_tensors(self, tensors: dict, exclude=None) -> None:
        for name, tensor in tensors.items():
            grad_fn = tensor._grad_fn
            if grad_fn is None or grad_fn is exclude:
                continue
            held = self._leaf_names.get(name)
            leaf = held() if held is not None else None
            if leaf is not None and _reaches(grad_fn, leaf):
                self._diagnose("non-leaf-update", line_of(grad_fn.site), name, name=name)
                continue
            if grad_fn in self._swept:
                continue  # a graph already used: the tensor is just left over
            freed = _first_freed(grad_fn, self._swept)
            if freed is not None:
                self._diagnose("graph-kept", line_of(grad_fn.site), name, name=name)

    def finish(self) -> None:
        """Look at the script's namespaces once more (a mistake that ended the run)."""
        try:
            for space in self._spaces:
                self._check_space(space)
        except Exception as problem:  # noqa: BLE001 - a namespace the script left odd
            self.failure = self.failure or (self.count, f"{type(problem).__name__}: {problem}")
        self.diagnoses.sort(key=lambda d: (d.line or 0))


def _reaches(start, target) -> bool:
    seen = {id(start)}
    stack = [start]
    while stack:
        node = stack.pop()
        if node is target:
            return True
        for source in node.inputs:
            if id(source) not in seen:
                seen.add(id(source))
                stack.append(source)
    return False


def _first_freed(start, swept):
    """The first node below ``start`` that an earlier backward() ran through, or None."""
    seen = {id(start)}
    stack = [start]
    while stack:
        node = stack.pop()
        if node is not start and node in swept:
            return node
        for source in node.inputs:
            if source.kind == OP and id(source) not in seen:
                seen.add(id(source))
                stack.append(source)
    return None


__all__ = ["CONST", "Call", "Diagnosis", "Recorder"]
