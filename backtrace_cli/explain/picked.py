"""Elements and rows of a variable picked by ``wrt`` (``W[0,1]``, ``W[1]``) in a gradient.

The whole variable is differentiated (one reverse sweep gives every element anyway) and
checked; the report then holds the picked parts under their own names, with their checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from backtrace_cli.engine.nodes import Tape
from backtrace_cli.engine.picks import check_pick, parse_pick, pick_name
from backtrace_cli.engine.values import as_float64

if TYPE_CHECKING:  # the checks are loaded when a report has one (not with --no-check)
    from backtrace_cli.checks.verify import CheckReport


def checked_picks(tape: Tape, names: Sequence[str], shapes) -> dict[str, tuple]:
    """{name: (variable, index)} for the picks among ``names``, each index checked against
    its variable's shape before any work."""
    picks = {}
    for name in names:
        pick = None if name in tape.variable_nodes else parse_pick(name)  # W[1] of a
        if pick is None:  # program taken element by element is a variable of its own
            continue
        base, index = pick
        shape = shapes[tape.variable_nodes[base]]
        check_pick(name, base, index, shape)
        picks[name] = (base, index)
    return picks


def bases(names: Sequence[str], picks: dict[str, tuple]) -> list[str]:
    """The whole variables to differentiate: each name, a pick as its variable, once."""
    return list(dict.fromkeys(picks[n][0] if n in picks else n for n in names))


def part(value, index: tuple):
    """The element (a float) or the row (an array) of ``value`` at ``index``."""
    if value is None:
        return None
    import numpy

    return as_float64(numpy.asarray(value, dtype=float)[index])  # a copy, or a float


def picked(whole, names: Sequence[str], picks: dict[str, tuple]):
    """``whole`` (an explanation over whole variables) reporting ``names``: the picks as
    their parts, under their canonical names (``W[0,1]``)."""
    canonical = {n: pick_name(*picks[n]) if n in picks else n for n in names}
    gradients = {canonical[n]: (part(whole.gradients[picks[n][0]], picks[n][1]) if n in picks
                                else whole.gradients[n]) for n in names}
    check = picked_report(whole.check, names, picks)
    return replace(whole, wrt=tuple(dict.fromkeys(canonical.values())), gradients=gradients,
                   check=check, whole=whole.gradients)


def picked_report(check: CheckReport | None, names: Sequence[str], picks: dict[str, tuple],
                  lead: int = 0) -> CheckReport | None:
    """A check report over whole variables, re-keyed to ``names`` with the picks' parts;
    ``lead`` axes (a Jacobian's output axes) come before the variable's."""
    if check is None:
        return None
    from backtrace_cli.checks.verify import CheckReport

    variables = {}
    for name in names:
        if name not in picks:
            variables[name] = check.variables[name]
            continue
        base, index = picks[name]
        key = pick_name(base, index)
        variables[key] = _picked_check(check.variables[base], key,
                                       (slice(None),) * lead + tuple(index))
    return CheckReport(variables, check.sympy_note, check.interrupted)


def _picked_check(check, name: str, index: tuple):
    from backtrace_cli.checks.differences import (
        NUMERIC_ATOL,
        NUMERIC_RTOL,
        SYMPY_ATOL,
        SYMPY_RTOL,
        _close,
    )

    gradient = part(check.gradient, index)
    sympy_value = part(check.sympy_value, index)
    numeric_value = part(check.numeric_value, index)
    sympy_ok = check.sympy_ok
    if sympy_value is not None and sympy_ok is not None:
        sympy_ok = _close(gradient, sympy_value, SYMPY_RTOL, SYMPY_ATOL)
    numeric_ok = check.numeric_ok
    if numeric_value is not None and numeric_ok is False:  # the rest may be what differs
        numeric_ok = _close(gradient, numeric_value, NUMERIC_RTOL, NUMERIC_ATOL)
    return replace(check, name=name, gradient=gradient, sympy_value=sympy_value,
                   numeric_value=numeric_value, sympy_ok=sympy_ok, numeric_ok=numeric_ok,
                   # SymPy's text is the whole variable's, every element's; not a part's
                   sympy_derivative=None)
