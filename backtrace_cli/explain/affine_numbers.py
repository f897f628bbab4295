"""The numbers of an affine program's collapse ``W x + b`` (see ``explain.affine``): W from
reverse sweeps, b the output at input 0, and how well ``W x + b`` matches the output at the
given input. A program affine where it is defined but undefined at 0 (``exp(log(x))``,
``x*x/x``) takes b at the given input instead, and says so."""

from __future__ import annotations

from typing import Any

from backtrace_cli.engine.nodes import Tape
from backtrace_cli.engine.sweeps import backward, forward
from backtrace_cli.errors import EvaluationError
from backtrace_cli.i18n import N_

# b is the output at input 0, unless the program is undefined there (log(x), 1/x): then b is
# the output at the given input minus W times it (the same b for a map affine where defined).
BIAS_AT_GIVEN = N_("b = f({x}) - W {x} at the given {x}, not f(0): the program is undefined "
                   "at {x} = 0 ({reason})")


def numbers(tape: Tape, bindings, name: str, shapes, m):
    """b = f(0); W, row by row, from reverse sweeps seeded with each output element (the
    Jacobian, exact for an affine f, with no differences taken); and how well W x + b
    matches f(x) at the given x."""
    import numpy

    input_shape = shapes[tape.variable_nodes[name]] if shapes else ()
    output_shape = shapes[tape.output] if shapes else ()

    def output_at(value) -> Any:
        point = dict(bindings)
        point[name] = value if input_shape else m.number(value)
        return numpy.asarray(forward(tape, point, m)[tape.output], dtype=float)

    values = forward(tape, bindings, m)
    rows = []
    for index in numpy.ndindex(output_shape):
        seed = numpy.zeros(output_shape)
        seed[index] = 1.0
        seed = seed if output_shape else m.number(1.0)
        result = backward(tape, values, seed, (name,), m, shapes=shapes)
        adjoint = result.adjoints[tape.variable_nodes[name]]
        rows.append(numpy.zeros(input_shape) if adjoint is None
                    else numpy.asarray(adjoint, dtype=float))
    weight = numpy.stack(rows).reshape(output_shape + input_shape)
    given = numpy.asarray(bindings[name], dtype=float)
    axes = len(input_shape)

    def mapped(bias):
        return numpy.tensordot(weight, given, axes=axes) + bias if axes else weight * given + bias

    try:
        bias = output_at(numpy.zeros(input_shape))
    except EvaluationError as error:
        # Affine where it is defined (exp(log(x)) is x for x > 0) but undefined at 0: b is
        # what the map must add at the given input, where the program is defined.
        at_given = numpy.asarray(values[tape.output], dtype=float)
        bias = at_given - mapped(0.0)
        note = BIAS_AT_GIVEN.format(x=name, reason=error.message)
        return weight[()], bias[()], None, note
    residual = float(numpy.max(numpy.abs(mapped(bias) - output_at(given)), initial=0.0))
    return weight[()], bias[()], residual, None
