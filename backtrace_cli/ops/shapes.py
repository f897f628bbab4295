"""Shapes for the op table: a shape is a tuple of ints, () for a scalar, as NumPy writes it.
Each op row names one rule of SHAPE_RULES, which gives the output's shape from the inputs'
shapes or raises ShapeMismatch with a sentence a person can act on."""

from __future__ import annotations

from collections.abc import Callable

from backtrace_cli.i18n import N_
from backtrace_cli.limits import MAX_DIMENSIONS


class ShapeMismatch(ValueError):
    """Input shapes an op cannot combine; the tape adds the node and its place."""


def shape_text(shape: tuple) -> str:
    """(2, 3) -> '2x3', (2,) -> '2', () -> 'scalar'."""
    return "x".join(str(n) for n in shape) if shape else N_("scalar")


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's broadcasting: align on the right; each pair of sizes equal or one of them 1."""
    length = max(len(shape) for shape in shapes)
    result = []
    for axis in range(length):
        size = 1
        for shape in shapes:
            position = len(shape) - length + axis
            n = shape[position] if position >= 0 else 1
            if n != 1:
                if size not in (1, n):
                    raise ShapeMismatch(
                        "shapes " + " and ".join(shape_text(s) for s in shapes)
                        + " do not broadcast (sizes must match or be 1, counted from the right)"
                    )
                size = n
        result.append(size)
    return tuple(result)


def _matmul_shape(*shapes: tuple) -> tuple:
    a, b = shapes
    for shape in (a, b):
        if len(shape) not in (1, 2):
            raise ShapeMismatch(
                f"@ needs vectors or matrices, got {shape_text(a)} @ {shape_text(b)}"
                + (" (use * to multiply by a scalar)" if not shape else "")
            )
    inner_a, inner_b = a[-1], b[0]
    if inner_a != inner_b:
        raise ShapeMismatch(
            f"@ needs the inner sizes to match: {shape_text(a)} @ {shape_text(b)} "
            f"({inner_a} != {inner_b})"
        )
    return a[:-1] + b[1:]


def _reduce_shape(*shapes: tuple) -> tuple:
    return ()


def _transpose_shape(*shapes: tuple) -> tuple:
    return tuple(reversed(shapes[0]))


def _stack_shape(*shapes: tuple) -> tuple:
    first = shapes[0]
    for shape in shapes[1:]:
        if shape != first:
            raise ShapeMismatch(
                f"the elements of a [...] literal must have one shape, got {shape_text(first)} "
                f"and {shape_text(shape)}"
            )
    if len(first) >= MAX_DIMENSIONS:
        raise ShapeMismatch(
            f"this [...] literal would have {len(first) + 1} dimensions; an array has at most "
            f"{MAX_DIMENSIONS}"
        )
    return (len(shapes), *first)


SHAPE_RULES: dict[str, Callable[..., tuple]] = {
    "elementwise": broadcast_shapes,
    "matmul": _matmul_shape,
    "reduce": _reduce_shape,
    "transpose": _transpose_shape,
    "stack": _stack_shape,
}
