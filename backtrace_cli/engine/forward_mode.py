"""Forward mode: the tangent sweep over a tape (Baydin et al. 2018, Table 2).

A tangent v̇ is d(v)/d(seeded node). The seeded node's tangent is given (1, or a one-hot
array for one element of an array); every later node's tangent is the sum over its inputs of
local derivative x input tangent, the local derivatives read from the one op table
(``Op.derivatives``), and for array ops their Jacobian-vector products (``Op.jvps``). A node
that no path from the seed reaches has no tangent (None: zero, and nothing computed), as a
node off every wanted path has no adjoint in the reverse sweep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import OP, Tape
from backtrace_cli.engine.sweeps import _MATH_ERRORS, _domain_error
from backtrace_cli.engine.values import engine_shapes, is_array


@dataclass(frozen=True)
class TangentTerm:
    """One input's share of a node's tangent: local x tangent = product (local is None for
    an array op, whose share is its Jacobian-vector product)."""

    input: int
    local: Any
    tangent: Any
    product: Any


@dataclass(frozen=True)
class TangentRow:
    node: int
    terms: tuple[TangentTerm, ...]
    tangent: Any


@dataclass(frozen=True)
class Tangents:
    seeds: Mapping[int, Any]  # node index -> its given tangent
    tangents: list  # per node; None where no path from a seed leads
    rows: tuple[TangentRow, ...]  # the op nodes that got a tangent, in tape order


def tangent_sweep(
    tape: Tape,
    values: list,
    seeds: Mapping[int, Any],
    m=FLOAT64,
    shapes: list[tuple] | None = None,
) -> Tangents:
    """One forward-mode sweep from ``seeds`` (node index -> tangent), over the values of a
    forward pass. A seeded node keeps its tangent whatever its inputs do: seeding a named
    step (``y_hat``) asks how the output moves with it alone."""
    nodes = tape.nodes
    shapes = engine_shapes(shapes)  # all scalars: the scalar rules
    tangents: list = [None] * len(nodes)
    rows: list[TangentRow] = []
    isfinite = m.isfinite
    for node in nodes:
        index = node.index
        if index in seeds:
            tangents[index] = seeds[index]
            continue
        if node.kind != OP:
            continue
        op = node.op
        args = [values[j] for j in node.inputs]
        out = values[index]
        terms = []
        for position, j in enumerate(node.inputs):
            tangent = tangents[j]
            if tangent is None:
                continue
            rule = 0 if op.variadic else position
            try:
                if op.jvps and shapes is not None:
                    local = None
                    product = op.jvps[rule](m, tangent, args, out, position)
                else:
                    local = op.derivatives[rule](m, args, out)
                    if not isfinite(local):
                        raise _domain_error(tape, node, args, None, position, local)
                    if local.__class__ is float and local == 1.0:
                        product = tangent
                    else:
                        product = local * tangent
            except _MATH_ERRORS as exc:
                raise _domain_error(tape, node, args, exc, position) from None
            terms.append(TangentTerm(j, local, tangent, product))
        if not terms:
            continue
        total = terms[0].product
        for term in terms[1:]:
            total = total + term.product
        if shapes is not None and getattr(total, "shape", ()) != shapes[index]:
            import numpy  # a scalar's tangent meeting an array: one per element of the output

            total = numpy.broadcast_to(total, shapes[index]).copy()
        tangents[index] = total
        rows.append(TangentRow(index, tuple(terms), total))
    return Tangents(dict(seeds), tangents, tuple(rows))


def unit_seeds(shape: tuple) -> list[tuple[tuple, Any]]:
    """(element index, one-hot tangent) for every element of a value of this shape, in C
    order; a scalar has one, (), with tangent 1.0."""
    if not shape:
        return [((), 1.0)]
    import numpy

    seeds = []
    for element in numpy.ndindex(shape):
        tangent = numpy.zeros(shape)
        tangent[element] = 1.0
        seeds.append((element, tangent))
    return seeds


def weighted(seed, tangent) -> Any:
    """seed · tangent: the derivative of seed * output from the output's tangent (summed over
    the elements of an array output)."""
    if tangent is None:
        return 0.0
    if is_array(tangent) or is_array(seed):
        import numpy

        return float(numpy.sum(numpy.asarray(seed) * tangent))
    return seed * tangent
