"""Shapes before values: every node's shape from the variables' shapes (a mismatch is an error
before anything is evaluated), and the alignment of a batched sweep's rows."""

from __future__ import annotations

from collections.abc import Mapping

from backtrace_cli.engine.nodes import CONST, OP, VAR, Tape
from backtrace_cli.errors import (
    LimitError,
    ShapeError,
)
from backtrace_cli.i18n import _
from backtrace_cli.limits import MAX_ARRAY_ELEMENTS
from backtrace_cli.ops.table import (
    SHAPE_RULES,
    ShapeMismatch,
    shape_text,
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
                raise ShapeError(
                    _("{exc} at {where}: {text}").format(exc=exc, where=where, text=node.text),
                    tape.source,
                    node.span,
                    None,
                ) from None
        size = 1
        for n in shape:
            size *= n
        if size > limit:
            raise LimitError(
                _(
                    "{value} would have {size:,} elements ({value2}), more than the limit of "
                    "{limit:,}"
                ).format(
                    value=tape.label(node.index), size=size, value2=shape_text(shape), limit=limit
                ),
                tape.source,
                node.span,
                _("raise it with {env}").format(env=MAX_ARRAY_ELEMENTS.env),
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

