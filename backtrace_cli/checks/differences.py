"""Central finite differences of seed * output, and how far they can be trusted.

A difference is compared with the engine's gradient within NUMERIC_RTOL/NUMERIC_ATOL plus a
bound on the rounding in f(x +- h). When they disagree, the step is shrunk (``settles``): a
quotient that keeps its value says the engine is wrong; one that moves says nothing.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import OP, Tape
from backtrace_cli.engine.sweeps import forward
from backtrace_cli.engine.values import shape_of
from backtrace_cli.errors import BacktraceError

# Tolerances in the spirit of torch.autograd.gradcheck: loose for differences, tight for SymPy.
NUMERIC_RTOL = 1e-3
NUMERIC_ATOL = 1e-5
SYMPY_RTOL = 1e-9
SYMPY_ATOL = 1e-12


def _weighted_output(tape: Tape, bindings, seed, m):
    """seed * output, summed over the elements when the output is an array."""
    output = forward(tape, bindings, m)[tape.output]
    if shape_of(output) or shape_of(seed):
        import numpy

        return float(numpy.sum(seed * output))
    return output


def array_finite_difference(tape: Tape, bindings, name: str, seed, m, scale: float = 1.0):
    """Central differences of seed * output in every element of the array ``name``:
    (values, error bounds, note), each an array of the variable's shape. ``scale`` shrinks
    the step, as in ``finite_difference``."""
    import numpy

    x = bindings[name]
    values = numpy.zeros(x.shape)
    rounding = numpy.zeros(x.shape)
    shifted = dict(bindings)
    for index in numpy.ndindex(x.shape):
        element = float(x[index])
        step = _step(element, scale)
        moved = x.copy()
        try:
            moved[index] = element + step
            shifted[name] = moved
            above = _weighted_output(tape, shifted, seed, m)
            moved = x.copy()
            moved[index] = element - step
            shifted[name] = moved
            below = _weighted_output(tape, shifted, seed, m)
        except BacktraceError:
            where = f"{name}[{', '.join(str(i) for i in index)}]"
            return None, None, f"skipped: the expression is undefined within {step:.2g} of {where}"
        values[index] = (above - below) / (2 * step)
        rounding[index] = 8 * sys.float_info.epsilon * max(abs(above), abs(below), 1.0) / step
    return values, rounding, None


def finite_difference(
    tape: Tape, bindings: Mapping[str, float], name: str, seed: float, scale: float = 1.0,
    m=None,
) -> tuple[float | None, float, str | None]:
    """Central difference of seed * output in ``name``: (value, error bound, note).

    ``scale`` shrinks the step (run_checks takes a second look with half the step); ``m`` is
    given for a scalar variable of a program with arrays (the NumPy back end).
    """
    x = bindings[name]
    step = _step(x, scale)
    shifted = dict(bindings)

    def evaluate(point):
        shifted[name] = point
        if m is None:
            return forward(tape, shifted)[tape.output]
        return _weighted_output(tape, shifted, seed, m)  # already times the seed

    weight = seed if m is None else 1.0
    try:
        above = evaluate(x + step)
        below = evaluate(x - step)
    except BacktraceError:
        return None, 0.0, f"skipped: the expression is undefined within {step:.2g} of {name}"
    value = weight * (above - below) / (2 * step)
    # Rounding in f(x +- h) alone can move the quotient by about eps * |f| / h.
    rounding = 8 * sys.float_info.epsilon * max(abs(above), abs(below), 1.0) * abs(weight) / step
    if not (math.isfinite(value) and math.isfinite(rounding)):
        return None, 0.0, "skipped: the difference quotient overflows a float"
    return value, rounding, None


def _step(x: float, scale: float = 1.0) -> float:
    step = scale * sys.float_info.epsilon ** (1 / 3) * max(1.0, abs(x))
    return (x + step) - x  # a step that is exactly representable at x


def _kink_within_step(tape: Tape, bindings: Mapping[str, float], name: str) -> str | None:
    """A kink (relu, abs, min, max) that lies between x - h and x + h, though not at x.

    Central differences across it average two slopes (abs at 5e-324 gives 0, not 1): the
    quotient says nothing about the gradient at x. Found as a node whose local derivative,
    piecewise constant for these ops, differs between the two ends of the step.
    """
    x = bindings[name]
    step = _step(x)
    shifted = dict(bindings)
    try:
        shifted[name] = x + step
        above = forward(tape, shifted)
        shifted[name] = x - step
        below = forward(tape, shifted)
    except BacktraceError:
        return None
    for node in tape.nodes:
        if node.kind != OP or node.op.kink is None:
            continue
        args_above = [above[j] for j in node.inputs]
        args_below = [below[j] for j in node.inputs]
        for derivative in node.op.derivatives:
            if derivative(FLOAT64, args_above, above[node.index]) != derivative(
                FLOAT64, args_below, below[node.index]
            ):
                return f"{node.op.symbol} at {node.id} ({node.text})"
    return None


# After a mismatch the step shrinks by these factors, down to a millionth of the first step.
SETTLE_SCALES = (0.5, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def differences_settle(
    tape: Tape, bindings: Mapping[str, float], name: str, seed: float, value: float,
    rounding: float, difference=None,
) -> bool:
    """Whether the central difference keeps its value as the step shrinks.

    Where the function changes on a scale much smaller than the step (sin(1e308), whose step
    is 6e302; softplus(x*1e10) at x = 1e-12, whose step of 6.1e-06 spans the whole bend),
    the quotient moves as the step shrinks, and a mismatch with it says nothing about the
    gradient. A quotient that keeps its value over six decades of steps (within the relative
    tolerance and each step's rounding bound) is the function's slope: a mismatch with it is real.
    Only asked after a mismatch, so agreeing checks cost nothing. ``difference`` is the
    function that takes a difference (``finite_difference``, or a stand-in in tests).
    """
    difference = difference or finite_difference
    for scale in SETTLE_SCALES:
        smaller, smaller_rounding, _ = difference(tape, bindings, name, seed, scale=scale)
        if smaller is None:
            return False
        if shape_of(value):  # an array: every element must keep its value
            import numpy

            bound = NUMERIC_RTOL * numpy.maximum(numpy.abs(value), numpy.abs(smaller))
            if not (numpy.abs(value - smaller) <= bound + rounding + smaller_rounding).all():
                return False
            continue
        spread = abs(value - smaller)
        if spread > NUMERIC_RTOL * max(abs(value), abs(smaller)) + rounding + (
            smaller_rounding
        ):
            return False
    return True


_differences_settle = differences_settle  # the name before checks/ was split


def _close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    if shape_of(ours) or shape_of(reference):
        import numpy

        ours, reference = numpy.asarray(ours, float), numpy.asarray(reference, float)
        bound = atol + rtol * numpy.maximum(numpy.abs(reference), numpy.abs(ours))
        return bool((numpy.abs(ours - reference) <= bound).all())  # every element
    return bool(abs(ours - reference) <= atol + rtol * max(abs(reference), abs(ours)))

