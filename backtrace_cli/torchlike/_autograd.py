"""Autograd for backtrace's torch: the graph's nodes (``grad_fn``) and ``backward()``.

Every tensor op that needs a gradient records one node through the engine's op-by-op
recording (``engine/recording.py``): a ``Function`` whose class has PyTorch's name
(``MulBackward0``), whose ``op`` is the op table's row where there is one, whose inputs are
the input tensors' nodes (``AccumulateGrad`` for a leaf that requires grad, a constant node
for anything else) and whose ``site`` is where the user's code made it (a code object and
the offset of its instruction: ``source_position`` turns them into a line and columns).

The local derivatives are the op table's. A few ops are computed by PyTorch in another order
of rounding (``grad / b`` for division rather than ``grad * (1/b)``), and a few are PyTorch's
fused kernels without a row of the table (``mse_loss``, ``addmm``, ``view``): their classes
give ``step`` in PyTorch's own form, so float32 gradients agree with PyTorch's bit for bit.

``backward`` sweeps with ``recording.reverse`` and adds each leaf's gradient into ``.grad``.
Without ``retain_graph`` it frees the values the nodes saved, so a second backward through a
node that saved some raises PyTorch's error; nodes that saved none (``w + 3``) run again.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy

from backtrace_cli.engine import recording
from backtrace_cli.engine.backends import NumpyBackend
from backtrace_cli.engine.nodes import CONST, OP, VAR
from backtrace_cli.ops.table import BY_NAME
from backtrace_cli.torchlike._missing import not_in_subset

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class GradMode:
    """Whether ops record a graph (``torch.no_grad()`` turns it off)."""

    enabled = True


class Function(recording.Recorded):
    """A node of the graph, as ``tensor.grad_fn`` shows it."""

    __slots__ = ("retained",)
    saves = True  # backward reads values saved at the forward pass (freed by backward)
    hidden: tuple[int, ...] = ()  # inputs PyTorch does not list in next_functions

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple((None if source.kind == CONST else source, 0)
                     for position, source in enumerate(self.inputs)
                     if position not in self.hidden)

    @property
    def metadata(self) -> dict:
        return {}

    def step(self, upstream) -> list:
        return recording.table_step(self, upstream)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __call__(self, *grads):
        raise NotImplementedError(not_in_subset("torch.autograd.Function.__call__"))


class AccumulateGrad(recording.Recorded):
    """The node of a leaf that requires grad: backward adds into its ``.grad``."""

    __slots__ = ("variable",)
    next_functions = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


_BACKENDS: dict = {}


class TorchBackend(NumpyBackend):
    """The engine's NumPy back end, summing gradients back to a shape in PyTorch's order."""

    def fit(self, value, shape: tuple):
        from backtrace_cli.torchlike._sums import sum_to

        return sum_to(value, shape, super().fit)


def backend(numpy_dtype):
    """The back end of a dtype (float32 or float64; cached)."""
    found = _BACKENDS.get(numpy_dtype)
    if found is None:
        name = numpy.dtype(numpy_dtype).name
        found = _BACKENDS[numpy_dtype] = TorchBackend(
            name if name in ("float32", "float64", "float16") else "float32")
    return found


_HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else __file__.rsplit("\\", 1)[0]


def user_frame(depth: int = 2):
    """The innermost frame of the user's code (the first outside this package)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:  # called from the top of the stack: no user frame
        return None
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame = frame.f_back
    return frame


def site() -> tuple | None:
    """Where the user's code is now: (code object, instruction offset, the caller's frame's
    (code object, offset) or None); cheap to take. The caller's place names a value a
    function returns (``y_pred = forward(x)``) in ``backtrace run``'s record."""
    frame = user_frame(3)
    if frame is None:
        return None
    back = frame.f_back
    return (frame.f_code, frame.f_lasti,
            None if back is None else (back.f_code, back.f_lasti))


def source_position(where: tuple | None) -> tuple | None:
    """(filename, line, column, end line, end column) of a ``site``: the exact segment of
    the source that made a node (Python 3.11's code positions), or None."""
    if where is None:
        return None
    code, offset = where[0], where[1]
    positions = list(code.co_positions())
    index = offset // 2
    if not 0 <= index < len(positions):
        return None
    line, end_line, column, end_column = positions[index]
    return code.co_filename, line, column, end_line, end_column


def make(cls, inputs: tuple, args: tuple, value, m) -> Function:
    """A new node of class ``cls`` (PyTorch's name) made at the user's current line."""
    node = cls(OP, cls.table_op, inputs, args, value, m, site=site())
    node.retained = None
    return node


def function_class(name: str, op_name: str | None, saves: bool = True,
                   hidden: tuple[int, ...] = (), step=None) -> type:
    """A Function class named as PyTorch names it, over a row of the op table."""
    namespace: dict[str, Any] = {"__slots__": (), "saves": saves, "hidden": hidden,
                                 "table_op": BY_NAME[op_name] if op_name else None}
    if step is not None:
        namespace["step"] = step
    return type(name, (Function,), namespace)


# ----------------------------------------------------------------------------- backward
class BackwardCall:
    """What one ``backward()`` did, for listeners (``backtrace run``'s record of it):
    the output tensor, the seed, the nodes swept (latest first), every node's adjoint, the
    edges (node, position, upstream, product) when ``LISTENERS`` asked for them, and for
    each leaf (tensor, .grad before as an array or None, the gradient added)."""

    __slots__ = ("output", "seed", "nodes", "adjoints", "edges", "leaves", "site")

    def __init__(self, output, seed, nodes, adjoints, edges, leaves, where) -> None:
        self.output, self.seed, self.nodes, self.adjoints = output, seed, nodes, adjoints
        self.edges, self.leaves, self.site = edges, leaves, where


# Callables given each BackwardCall before the graph is freed (and, through their optional
# ``failed(tensor, nodes, error)``, a backward that raised); RECORD_EDGES asks the sweep
# to keep every edge for them.
LISTENERS: list = []
RECORD_EDGES = [False]


def _sweep_step(node, upstream):
    if node.args is None:
        raise RuntimeError(BACKWARD_TWICE)
    return node.step(upstream)


def run_backward(tensor, gradient=None, retain_graph=None) -> None:
    """``tensor.backward(gradient, retain_graph)``."""
    if not tensor._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    value = tensor._value
    if gradient is None:
        if value.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        seed = numpy.ones(value.shape, value.dtype)
    else:
        seed = numpy.asarray(getattr(gradient, "_value", gradient), dtype=value.dtype)
        if seed.shape != value.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                               f"torch.Size({list(seed.shape)}) and output[0] has a shape of "
                               f"torch.Size({list(value.shape)}).")
    root = tensor._grad_fn if tensor._grad_fn is not None else tensor._accumulator()
    nodes = recording.reachable(root)
    edges = [] if RECORD_EDGES[0] else None
    try:
        adjoints = recording.reverse(root, seed, _sweep_step, edges, nodes)
    except RuntimeError as error:  # backward twice: listeners hear of it (backtrace run)
        for listener in LISTENERS:
            failed = getattr(listener, "failed", None)
            if failed is not None:
                failed(tensor, nodes, error)
        raise
    leaves = []
    for node, adjoint in adjoints.items():
        if node.kind == VAR:
            target = node.variable
        elif node.kind == OP and node.retained is not None:
            target = node.retained
        else:
            continue
        before = _accumulate(target, adjoint)
        leaves.append((target, before, adjoint))
    if LISTENERS:
        call = BackwardCall(tensor, seed, nodes, adjoints, edges, leaves, site())
        for listener in LISTENERS:
            listener(call)
    if not retain_graph:
        for node in nodes:
            if node.saves:
                node.args = None


def _accumulate(target, adjoint):
    """Add a gradient into ``target.grad`` (in place once it exists, as PyTorch does);
    returns what .grad held before (a copy) or None."""
    value = target._value
    grad = target._grad
    if grad is None:
        array = numpy.array(numpy.broadcast_to(adjoint, value.shape), dtype=value.dtype)
        target._grad = target._make(array, target._dtype)  # a plain Tensor
        return None
    before = grad._value.copy() if LISTENERS else None
    grad._value += adjoint
    return before
