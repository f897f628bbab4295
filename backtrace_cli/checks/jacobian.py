"""Cross-checks of a Jacobian, element by element: central differences and SymPy.

The same tolerances, limits and sandbox as the gradient checks (``checks.verify``): a
difference quotient per input element gives a whole column d(output)/d(that element), and is
trusted only if it settles as its step shrinks; SymPy differentiates every output element
with respect to every input element in the time-bounded child, within the element limit.
A named step is checked on the tape cut at it (``engine.cut``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping

from backtrace_cli.checks.differences import (
    NUMERIC_ATOL,
    NUMERIC_RTOL,
    SYMPY_ATOL,
    SYMPY_RTOL,
    _close,
    _step,
    differences_settle,
)
from backtrace_cli.checks.kinks import kink_notes
from backtrace_cli.checks.sandbox import in_child
from backtrace_cli.checks.timeout import work_clock
from backtrace_cli.checks.verify import INTERRUPTED_NOTE, CheckReport, VariableCheck
from backtrace_cli.engine.nodes import OP, Tape
from backtrace_cli.engine.sweeps import forward
from backtrace_cli.engine.values import as_number_or_array, shape_of
from backtrace_cli.errors import BacktraceError
from backtrace_cli.i18n import N_
from backtrace_cli.limits import SYMPY_MAX_ELEMENTS, SYMPY_MAX_NODES

# The notes of these checks, kept in English in the JSON and shown translated (report.jacobian
# reads them back through these templates, i18n.from_template).
INCONCLUSIVE_NOTE = N_("inconclusive: the difference quotients change as the step shrinks, so "
                       "they neither confirm nor refute the Jacobian")
KINK_NOTE = N_("differs at a kink: {kink}")
SLOW_NOTE = N_("skipped: the finite differences took longer than {timeout} s")
NODES_NOTE = N_("skipped: the expression has {nodes} nodes, more than the SymPy check takes "
                "({limit})")
ELEMENTS_NOTE = N_("skipped: the inputs have {elements} elements, more than the SymPy check "
                   "takes ({limit}; raise with {variable}); finite differences still checked "
                   "every element")
NOTES = (INCONCLUSIVE_NOTE, KINK_NOTE, SLOW_NOTE, NODES_NOTE, ELEMENTS_NOTE)


def _size(shape: tuple) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def jacobian_difference(tape: Tape, bindings, name: str, seed=None, scale: float = 1.0, m=None):
    """Central differences of the whole output in every element of ``name``: (values of
    shape output + variable, rounding bounds of that shape, note). ``seed`` is unused (a
    Jacobian weighs nothing); it keeps the signature ``differences_settle`` calls."""
    import numpy

    x = bindings[name]
    shape = numpy.shape(x)
    shifted = dict(bindings)
    columns, bounds = [], []
    for index in numpy.ndindex(shape) if shape else [()]:
        element = float(x[index]) if shape else float(x)
        step = _step(element, scale)
        ends = []
        for direction in (1, -1):
            if shape:
                moved = numpy.array(x, dtype=float)
                moved[index] = element + direction * step
            else:
                moved = element + direction * step
            shifted[name] = moved
            try:
                output = forward(tape, shifted, m) if m is not None else forward(tape, shifted)
            except BacktraceError:
                where = f"{name}[{', '.join(map(str, index))}]" if shape else name
                return None, None, ("skipped: the expression is undefined within "
                                    f"{step:.2g} of {where}")
            ends.append(numpy.asarray(output[tape.output], dtype=float))
        above, below = ends
        columns.append((above - below) / (2 * step))
        bounds.append(8 * sys.float_info.epsilon
                      * numpy.maximum(numpy.maximum(abs(above), abs(below)), 1.0) / step)
    values = numpy.stack(columns, axis=-1)
    rounding = numpy.stack(bounds, axis=-1)
    out_shape = values.shape[:-1]
    values = values.reshape(out_shape + shape)
    rounding = rounding.reshape(out_shape + shape)
    if not (numpy.isfinite(values).all() and numpy.isfinite(rounding).all()):
        return None, None, "skipped: the difference quotient overflows a float"
    if not values.shape:
        return float(values), float(rounding), None
    return values, rounding, None


def _numeric(check: VariableCheck, tape: Tape, bindings, m) -> None:
    def difference(tape, bindings, name, seed, scale=1.0):
        return jacobian_difference(tape, bindings, name, seed, scale, m)

    value, rounding, note = difference(tape, bindings, check.name, None)
    ok = None
    if value is not None:
        agrees = _close(check.gradient, value, NUMERIC_RTOL, NUMERIC_ATOL + rounding)
        if not agrees and check.kink_note is None and not differences_settle(
            tape, bindings, check.name, None, value, rounding, difference=difference
        ):
            check.numeric_inconclusive = True
            note = INCONCLUSIVE_NOTE
        else:
            ok = agrees or check.kink_note is not None
            if not agrees and check.kink_note is not None:
                note = KINK_NOTE.format(kink=check.kink_note)
    check.numeric_value, check.numeric_ok, check.numeric_note = value, ok, note


def _sympy_jacobians(cases, shapes) -> list:
    """In the child: [(name, nested list of values or None, note)] for (name, tape, bindings)."""
    import numpy
    import sympy as sp

    from backtrace_cli.checks.symbolic import sympy_values

    rows = []
    for name, tape, bindings in cases:
        built, symbols = sympy_values(tape, shapes)
        at = {}
        for variable in tape.variables:
            if hasattr(symbols[variable], "ravel"):
                for symbol, value in zip(symbols[variable].ravel(),
                                         numpy.ravel(bindings[variable])):
                    at[symbol] = sp.Float(float(value))
            else:
                at[symbols[variable]] = sp.Float(float(bindings[variable]))
        output = built[tape.output]
        outputs = list(numpy.ravel(output)) if hasattr(output, "ravel") else [output]
        inputs = (list(symbols[name].ravel()) if hasattr(symbols[name], "ravel")
                  else [symbols[name]])
        values = []
        note = None
        for element in outputs:
            for symbol in inputs:
                number = complex(sp.N(sp.diff(element, symbol).xreplace(at), 30))
                if not (math.isfinite(number.real) and math.isfinite(number.imag)):
                    note = "skipped: SymPy's derivative is undefined here"
                elif abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
                    note = "skipped: SymPy's derivative is complex here"
                values.append(number.real)
        rows.append((name, None if note else values, note))
    return rows


def check_jacobian(
    tape: Tape, bindings: Mapping, values: list, jacobian: Mapping, nodes: Mapping[str, int],
    shapes, m, timeout: float,
) -> CheckReport:
    """Every element of every block d(output)/d(name), against central differences and
    SymPy; ``nodes`` maps each name to its node (a variable, or a named step)."""
    import numpy

    from backtrace_cli.engine.cut import cut_at

    kinks = [node.index for node in tape.nodes
             if node.kind == OP and node.op.is_kink([values[j] for j in node.inputs])]
    report = CheckReport()
    cases = []
    for name, index in nodes.items():
        if name in tape.variable_nodes:
            tape_for, at = tape, dict(bindings)
        else:
            tape_for, at = cut_at(tape, index, name), {**bindings, name: values[index]}
        block = jacobian[name]
        check = VariableCheck(name, as_number_or_array(block),
                              kink_note=kink_notes(tape_for, kinks).get(name))
        report.variables[name] = check
        cases.append((name, tape_for, at))
    deadline = work_clock() + timeout
    done = 0
    try:
        for name, tape_for, at in cases:
            if work_clock() > deadline:
                break
            _numeric(report.variables[name], tape_for, at, m)
            done += 1
    except KeyboardInterrupt:
        report.interrupted = True
    for name, _, _ in cases[done:]:
        report.variables[name].numeric_note = INTERRUPTED_NOTE if report.interrupted else (
            SLOW_NOTE.format(timeout=f"{timeout:g}"))
    if report.interrupted:
        report.sympy_note = INTERRUPTED_NOTE
        return report
    elements = sum(_size(shapes[index]) if shapes else 1 for index in nodes.values())
    if len(tape.nodes) > SYMPY_MAX_NODES.value:
        report.sympy_note = NODES_NOTE.format(nodes=f"{len(tape.nodes):,}",
                                              limit=f"{SYMPY_MAX_NODES.value:,}")
        return report
    if elements > SYMPY_MAX_ELEMENTS.value:
        report.sympy_note = ELEMENTS_NOTE.format(elements=f"{elements:,}",
                                                 limit=f"{SYMPY_MAX_ELEMENTS.value:,}",
                                                 variable=SYMPY_MAX_ELEMENTS.env)
        return report
    recursion = min(200_000, 50 * len(tape.nodes) + 1_000)
    try:
        rows, note = in_child(_sympy_jacobians, (cases, shapes), timeout, recursion)
    except KeyboardInterrupt:
        rows, note = None, INTERRUPTED_NOTE
        report.interrupted = True
    report.sympy_note = note
    for name, found, row_note in rows or ():
        check = report.variables[name]
        check.sympy_note = row_note
        if found is None:
            continue
        block = check.gradient
        value = (numpy.array(found).reshape(shape_of(block)) if shape_of(block)
                 else float(found[0]))
        check.sympy_value = value
        check.sympy_ok = _close(block, value, SYMPY_RTOL, SYMPY_ATOL)
    return report
