"""Cross-checks of a Hessian: SymPy's second derivatives and second-order central differences.

Both work on the program taken element by element (``engine/elements.py``): every variable is
a scalar there. SymPy runs in the forked child of ``checks.sandbox`` with the same deadline,
memory limit and size limit as ``grad``'s check. The differences use the four-point formula
for a mixed entry and the three-point one on the diagonal, with a step of eps^(1/4)·max(1, |x|)
and a bound on the rounding in f; as in ``grad``, a step that crosses a kink (relu, abs,
min, max) says nothing and is skipped, and a mismatch whose quotient moves as the step shrinks
is inconclusive rather than a disagreement.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from backtrace_cli.checks.differences import NUMERIC_ATOL, NUMERIC_RTOL, SYMPY_ATOL, SYMPY_RTOL
from backtrace_cli.checks.sandbox import in_child
from backtrace_cli.checks.verify import Verdicts
from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import OP, Tape
from backtrace_cli.engine.sweeps import forward
from backtrace_cli.errors import BacktraceError
from backtrace_cli.i18n import N_
from backtrace_cli.limits import SYMPY_MAX_NODES

# The notes stay English here (the JSON keeps them); the report shows them in the reader's
# language through these templates (i18n.from_template).
INTERRUPTED_NOTE = N_("skipped: interrupted (Ctrl-C)")
NO_NUMBER = N_("skipped: SymPy gives no number here")
UNDEFINED_SECOND = N_("skipped: SymPy's second derivative is undefined here")
COMPLEX_SECOND = N_("skipped: SymPy's second derivative is complex here")
UNDEFINED = N_("skipped: SymPy's derivative is undefined here")
COMPLEX = N_("skipped: SymPy's derivative is complex here")
TOO_LARGE = N_("skipped: the expression has {nodes} nodes, more than the SymPy check takes "
               "({limit}; raise with {env})")
UNDEFINED_NEAR = N_("skipped: the expression is undefined within {h} of {first}")
UNDEFINED_NEAR_BOTH = N_("skipped: the expression is undefined within {h} of {first} and {k} "
                         "of {second}")
OVERFLOW = N_("skipped: the difference quotient overflows a float")
AT_A_KINK = N_("differs at a kink: {note}")
CROSSES = N_("skipped: a step crosses the kink of {crossed}, so the difference averages two "
             "slopes")
UNSETTLED = N_("inconclusive: the second difference changes as the step shrinks, so it "
               "neither confirms nor refutes the entry")
TOO_SLOW = N_("skipped: the finite differences took longer than {timeout} s")
LOWER_ORDERS = N_("skipped: SymPy took longer than {budget} s for the lower orders")
NOTE_TEMPLATES = (TOO_LARGE, UNDEFINED_NEAR_BOTH, UNDEFINED_NEAR, AT_A_KINK, CROSSES, TOO_SLOW,
                  LOWER_ORDERS)
# After a mismatch the step shrinks by these factors (fewer than grad's: a second difference
# loses twice the digits, so a much smaller step only measures rounding).
SETTLE_SCALES = (0.5, 0.25, 0.1)


@dataclass
class EntryCheck(Verdicts):
    """One entry d²L/(d row d column): its value and both references."""

    row: str
    column: str
    value: float
    sympy_value: float | None = None
    sympy_ok: bool | None = None
    sympy_note: str | None = None
    numeric_value: float | None = None
    numeric_ok: bool | None = None
    numeric_note: str | None = None
    numeric_inconclusive: bool = False
    kink_note: str | None = None


@dataclass
class HessianCheck:
    entries: list[list[EntryCheck]] = field(default_factory=list)  # n x n, variables order
    sympy_note: str | None = None  # why SymPy was skipped as a whole
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return all(entry.ok for row in self.entries for entry in row)

    @property
    def status(self) -> str:
        statuses = {entry.status for row in self.entries for entry in row}
        for status in ("disagree", "inconclusive"):
            if status in statuses:
                return status
        return "ok"


def _close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    return abs(ours - reference) <= atol + rtol * max(abs(ours), abs(reference))


# ----------------------------------------------------------------------------- SymPy
def _sympy_hessian(tape: Tape, bindings, names) -> list:
    """Run in the child: per (i, j) with i <= j, (value or None, note or None)."""
    import sympy as sp

    from backtrace_cli.checks.symbolic import sympy_values

    built, symbols = sympy_values(tape)
    expression = built[tape.output]
    at = {symbols[name]: sp.Float(float(bindings[name])) for name in tape.variables}
    rows = []
    for i, first in enumerate(names):
        once = sp.diff(expression, symbols[first])
        for second in names[i:]:
            value = sp.diff(once, symbols[second]).xreplace(at)
            try:
                number = complex(sp.N(value, 30))
            except (TypeError, ValueError):
                rows.append((None, NO_NUMBER))
                continue
            if not (math.isfinite(number.real) and math.isfinite(number.imag)):
                rows.append((None, UNDEFINED_SECOND))
            elif abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
                rows.append((None, COMPLEX_SECOND))
            else:
                rows.append((number.real, None))
    return rows


def run_sympy_hessian(tape: Tape, bindings, names: Sequence[str], timeout: float):
    """SymPy's Hessian entries (upper triangle, row by row) or (None, note)."""
    limit = SYMPY_MAX_NODES.value
    if len(tape.nodes) > limit:
        return None, TOO_LARGE.format(nodes=f"{len(tape.nodes):,}", limit=f"{limit:,}",
                                      env=SYMPY_MAX_NODES.env)
    recursion = min(200_000, 50 * len(tape.nodes) + 1_000)
    return in_child(_sympy_hessian, (tape, dict(bindings), list(names)), timeout, recursion)


# ----------------------------------------------------------------------------- differences
def _step(x: float, scale: float = 1.0) -> float:
    step = scale * sys.float_info.epsilon ** 0.25 * max(1.0, abs(x))
    return (x + step) - x  # exactly representable at x


def _value(tape: Tape, point: Mapping[str, float]) -> float:
    return forward(tape, point)[tape.output]


def second_difference(tape: Tape, bindings: Mapping[str, float], first: str, second: str,
                      scale: float = 1.0) -> tuple[float | None, float, str | None]:
    """d²f/(d first d second) by central differences: (value, rounding bound, note)."""
    h, k = _step(bindings[first], scale), _step(bindings[second], scale)

    def at(di: float, dj: float) -> float:
        point = dict(bindings)
        point[first] = point[first] + di
        point[second] = point[second] + dj
        return _value(tape, point)

    try:
        if first == second:
            samples = (at(h, 0.0), _value(tape, bindings), at(-h, 0.0))
            value = (samples[0] - 2 * samples[1] + samples[2]) / (h * h)
            divisor = h * h
        else:
            samples = (at(h, k), at(h, -k), at(-h, k), at(-h, -k))
            value = (samples[0] - samples[1] - samples[2] + samples[3]) / (4 * h * k)
            divisor = h * k
    except BacktraceError:
        template = UNDEFINED_NEAR if first == second else UNDEFINED_NEAR_BOTH
        return None, 0.0, template.format(h=f"{h:.2g}", first=first, k=f"{k:.2g}",
                                          second=second)
    rounding = 8 * sys.float_info.epsilon * max(max(abs(s) for s in samples), 1.0) / divisor
    if not (math.isfinite(value) and math.isfinite(rounding)):
        return None, 0.0, OVERFLOW
    return value, rounding, None


def kink_within_steps(tape: Tape, bindings: Mapping[str, float], names: Sequence[str]):
    """A kink (relu, abs, min, max) whose local derivative changes within one step of the
    point in some variable: the second differences there average two slopes."""
    kinked = [node for node in tape.nodes if node.kind == OP and node.op.kink is not None]
    if not kinked:
        return None
    for name in names:
        step = _step(bindings[name])
        sides = []
        for shift in (step, -step):
            point = dict(bindings)
            point[name] = point[name] + shift
            try:
                sides.append(forward(tape, point))
            except BacktraceError:
                return None
        for node in kinked:
            above = [sides[0][j] for j in node.inputs]
            below = [sides[1][j] for j in node.inputs]
            for derivative in node.op.derivatives:
                if derivative(FLOAT64, above, sides[0][node.index]) != derivative(
                        FLOAT64, below, sides[1][node.index]):
                    return f"{node.op.symbol} at {node.id} ({node.text})"
    return None


def _settles(tape, bindings, first, second, value, rounding) -> bool:
    for scale in SETTLE_SCALES:
        smaller, smaller_rounding, _ = second_difference(tape, bindings, first, second, scale)
        if smaller is None or abs(value - smaller) > NUMERIC_RTOL * max(
                abs(value), abs(smaller)) + rounding + smaller_rounding:
            return False
    return True


def _numeric_entry(entry: EntryCheck, tape: Tape, bindings, crossed: str | None) -> None:
    value, rounding, note = second_difference(tape, bindings, entry.row, entry.column)
    ok = None
    if value is not None:
        agrees = _close(entry.value, value, NUMERIC_RTOL, NUMERIC_ATOL + rounding)
        if not agrees and entry.kink_note is not None:
            ok, note = True, AT_A_KINK.format(note=entry.kink_note)
        elif not agrees and crossed is not None:
            value, note = None, CROSSES.format(crossed=crossed)
        elif not agrees and not _settles(tape, bindings, entry.row, entry.column, value,
                                         rounding):
            entry.numeric_inconclusive = True
            note = UNSETTLED
        else:
            ok = agrees
    entry.numeric_value, entry.numeric_ok, entry.numeric_note = value, ok, note


def check_hessian(tape: Tape, bindings: Mapping[str, float], names: Sequence[str],
                  hessian: Sequence[Sequence[float]], kinks: Mapping[str, str],
                  timeout: float, use_sympy: bool = True) -> HessianCheck:
    """Every entry against SymPy and against second differences (``tape``: scalars only;
    ``kinks``: the variables whose derivatives a kink convention decides, and how)."""
    n = len(names)
    report = HessianCheck([[EntryCheck(names[i], names[j], float(hessian[i][j]),
                                       kink_note=kinks.get(names[i]) or kinks.get(names[j]))
                            for j in range(n)] for i in range(n)])
    deadline = time.monotonic() + timeout
    pairs = [(i, j) for i in range(n) for j in range(n)]
    done = 0
    try:
        crossed = kink_within_steps(tape, bindings, names)
        for i, j in pairs:
            if time.monotonic() > deadline:
                break
            _numeric_entry(report.entries[i][j], tape, bindings, crossed)
            done += 1
    except KeyboardInterrupt:
        report.interrupted = True
    for i, j in pairs[done:]:
        report.entries[i][j].numeric_note = INTERRUPTED_NOTE if report.interrupted else (
            TOO_SLOW.format(timeout=f"{timeout:g}"))
    if not use_sympy:
        return report
    if report.interrupted:
        report.sympy_note = INTERRUPTED_NOTE
        return report
    try:
        rows, note = run_sympy_hessian(tape, bindings, names, timeout)
    except KeyboardInterrupt:
        rows, note = None, INTERRUPTED_NOTE
        report.interrupted = True
    report.sympy_note = note
    if rows is None:
        return report
    position = 0
    for i in range(n):
        for j in range(i, n):
            value, row_note = rows[position]
            position += 1
            for entry in {id(e): e for e in (report.entries[i][j],
                                              report.entries[j][i])}.values():
                entry.sympy_value, entry.sympy_note = value, row_note
                if value is not None:
                    entry.sympy_ok = _close(entry.value, value, SYMPY_RTOL, SYMPY_ATOL)
    return report


# ----------------------------------------------------------------------------- orders
def sympy_orders(tape: Tape, bindings, name: str, order: int, budget: float) -> list:
    """Run in the child: the derivatives of order 1..order in ``name`` at the point. Past
    ``budget`` seconds the higher orders are skipped, so the lower ones still arrive."""
    import sympy as sp

    from backtrace_cli.checks.symbolic import sympy_values

    built, symbols = sympy_values(tape)
    expression = built[tape.output]
    at = {symbols[n]: sp.Float(float(bindings[n])) for n in tape.variables}
    rows = []
    start = last = time.monotonic()
    step = 0.0
    for _ in range(order):
        # A derivative is larger than the one before: expect each to take twice as long.
        if last - start + 2 * step > budget:
            rows.append((None, LOWER_ORDERS.format(budget=f"{budget:g}")))
            continue
        expression = sp.diff(expression, symbols[name])
        try:
            number = complex(sp.N(expression.xreplace(at), 30))
        except (TypeError, ValueError):
            rows.append((None, NO_NUMBER))
            continue
        if not (math.isfinite(number.real) and math.isfinite(number.imag)):
            rows.append((None, UNDEFINED))
        elif abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            rows.append((None, COMPLEX))
        else:
            rows.append((number.real, None))
        now = time.monotonic()
        step, last = now - last, now
    return rows


@dataclass
class OrderCheck:
    order: int
    value: float
    sympy_value: float | None = None
    ok: bool | None = None  # None: not compared
    note: str | None = None


def check_orders(tape: Tape, bindings, name: str, derivatives: Sequence[float],
                 timeout: float) -> tuple[list[OrderCheck], str | None]:
    """Each derivative of order 1.. against SymPy's: (checks, note when skipped as a whole)."""
    checks = [OrderCheck(k, float(value)) for k, value in enumerate(derivatives) if k > 0]
    limit = SYMPY_MAX_NODES.value
    if len(tape.nodes) > limit:
        return checks, TOO_LARGE.format(nodes=f"{len(tape.nodes):,}", limit=f"{limit:,}",
                                        env=SYMPY_MAX_NODES.env)
    recursion = min(200_000, 50 * len(tape.nodes) + 1_000)
    # Each order's derivative is larger than the last: the child stops starting new ones at
    # half the time, so a slow high order does not cost the ones before it.
    rows, note = in_child(sympy_orders, (tape, dict(bindings), name, len(checks),
                                          timeout / 2), timeout, recursion)
    for check, (value, row_note) in zip(checks, rows or ()):
        check.sympy_value, check.note = value, row_note
        if value is not None:
            check.ok = _close(check.value, value, SYMPY_RTOL, SYMPY_ATOL)
    return checks, note
