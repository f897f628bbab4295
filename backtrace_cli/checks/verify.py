"""Cross-checks of a gradient: SymPy's symbolic derivative and central finite differences.

The SymPy expression is built node by node from our own tape (itself compiled from our
syntax tree), with a real ``Symbol`` per variable; user text never reaches SymPy's parser.
SymPy runs in a forked child process with a time limit and a memory limit, so a pathological
expression ends in "skipped: ..." instead of hanging, and the finite-difference check (which
needs nothing but the tape) always runs. The parent process never imports SymPy.

For arrays both checks work element by element: a central difference for every element of
every variable, and SymPy on NumPy object arrays of expressions with one real symbol per
element (up to BACKTRACE_SYMPY_MAX_ELEMENTS; past that it is skipped with a note).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from backtrace_cli.checks.differences import (  # noqa: F401  (re-exported: the old names)
    NUMERIC_ATOL,
    NUMERIC_RTOL,
    SYMPY_ATOL,
    SYMPY_RTOL,
    _close,
    _differences_settle,
    _kink_within_step,
    _step,
    _weighted_output,
    array_finite_difference,
    differences_settle,
    finite_difference,
)
from backtrace_cli.checks.kinks import kink_notes  # noqa: F401
from backtrace_cli.checks.sandbox import (  # noqa: F401
    _child,
    _memory_budget,
    _sigint_held,
    in_child,
)
from backtrace_cli.checks.symbolic import (  # noqa: F401
    _array_derivatives,
    _sympy_derivatives,
    _sympy_number,
    _sympy_op,
    _sympy_seed,
    element_symbols,
    sympy_expression,
    sympy_values,
)
from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import Tape
from backtrace_cli.engine.values import is_array
from backtrace_cli.limits import SYMPY_MAX_ELEMENTS, SYMPY_MAX_NODES

DEFAULT_TIMEOUT = 5.0


class Verdicts:
    """The verdicts of one checked number from its two references (SymPy and a finite
    difference), for every check class that has ``sympy_ok``, ``numeric_ok`` and
    ``numeric_inconclusive`` (a gradient here, a Hessian entry in ``second.py``)."""

    sympy_ok: bool | None
    numeric_ok: bool | None
    numeric_inconclusive: bool

    @property
    def ok(self) -> bool:
        """No check disagrees (an inconclusive difference is no disagreement)."""
        return self.sympy_ok is not False and self.numeric_ok is not False

    @property
    def numeric_status(self) -> str:
        """The finite differences' verdict: ok, disagree, inconclusive or skipped."""
        if self.numeric_ok is not None:
            return "ok" if self.numeric_ok else "disagree"
        return "inconclusive" if self.numeric_inconclusive else "skipped"

    @property
    def status(self) -> str:
        """ok, inconclusive (only an unsettled difference dissents) or disagree."""
        if not self.ok:
            return "disagree"
        return "inconclusive" if self.numeric_inconclusive else "ok"


@dataclass
class VariableCheck(Verdicts):
    name: str
    gradient: float
    sympy_derivative: str | None = None
    sympy_value: float | None = None
    sympy_ok: bool | None = None  # None: not compared (skipped)
    sympy_note: str | None = None
    numeric_value: float | None = None
    numeric_ok: bool | None = None
    numeric_note: str | None = None
    kink_note: str | None = None  # set where a kink convention decides the gradient
    # The finite difference disagreed but did not settle as the step shrank: no verdict.
    numeric_inconclusive: bool = False


@dataclass
class CheckReport:
    variables: dict[str, VariableCheck] = field(default_factory=dict)
    sympy_note: str | None = None  # why the SymPy check was skipped as a whole
    interrupted: bool = False  # Ctrl-C cut the checks short; what they finished is kept

    @property
    def ok(self) -> bool:
        """True unless a check disagrees: also when the result is only inconclusive."""
        return all(check.ok for check in self.variables.values())

    @property
    def status(self) -> str:
        """disagree if any variable disagrees, else inconclusive if any is, else ok."""
        statuses = [check.status for check in self.variables.values()]
        for status in ("disagree", "inconclusive"):
            if status in statuses:
                return status
        return "ok"


def run_sympy(
    tape: Tape, bindings, seed, names, timeout: float, shapes: Sequence[tuple] | None = None
) -> tuple[list | None, str | None]:
    """SymPy derivatives in a forked child with a deadline: (rows, None) or (None, note)."""
    limit = SYMPY_MAX_NODES.value
    element_limit = SYMPY_MAX_ELEMENTS.value  # read always: a nonsense value is an error
    if len(tape.nodes) > limit:
        return None, (
            f"skipped: the expression has {len(tape.nodes):,} nodes, more than the SymPy check "
            f"takes ({limit:,}; raise with {SYMPY_MAX_NODES.env})"
        )
    if shapes is not None:
        elements = sum(_size(shapes[tape.variable_nodes[name]]) for name in tape.variables)
        if elements > element_limit:
            return None, (
                f"skipped: the variables have {elements:,} elements, more than the SymPy check "
                f"takes ({element_limit:,}; raise with {SYMPY_MAX_ELEMENTS.env}); finite "
                "differences still checked every element"
            )
    # SymPy recurses over the expression tree; a deep one (a tower x**x**...**x) needs more
    # than Python's 1,000 frames.
    recursion = min(200_000, 50 * len(tape.nodes) + 1_000)
    return in_child(_sympy_derivatives, (tape, bindings, seed, names, shapes), timeout, recursion)


def _size(shape: tuple) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


# ----------------------------------------------------------------------------- together
INTERRUPTED_NOTE = "skipped: interrupted (Ctrl-C)"


def _numeric_check(
    check: VariableCheck, tape: Tape, bindings, seed, m=None, shapes=None
) -> None:
    """Compare one gradient with central differences; fills in the check's numeric fields."""
    name = check.name
    if shapes is not None:  # a program with arrays: every element, on the array engine
        if is_array(bindings[name]):
            def difference(tape, bindings, name, seed, scale=1.0):
                return array_finite_difference(tape, bindings, name, seed, m, scale)
        else:
            def difference(tape, bindings, name, seed, scale=1.0):
                return finite_difference(tape, bindings, name, seed, scale, m=m)
        value, rounding, note = difference(tape, bindings, name, seed)
        ok = None
        if value is not None:
            agrees = _close(check.gradient, value, NUMERIC_RTOL, NUMERIC_ATOL + rounding)
            if not agrees and check.kink_note is None and not differences_settle(
                tape, bindings, name, seed, value, rounding, difference=difference
            ):
                check.numeric_inconclusive = True
                note = _inconclusive_note(_step(float(_largest_magnitude(bindings[name]))))
            else:
                ok = agrees or check.kink_note is not None
                if not agrees and check.kink_note is not None:
                    note = "differs at a kink: " + check.kink_note
        check.numeric_value, check.numeric_ok, check.numeric_note = value, ok, note
        return
    value, rounding, note = finite_difference(tape, bindings, name, seed)
    ok = None
    if value is not None:
        agrees = _close(check.gradient, value, NUMERIC_RTOL, NUMERIC_ATOL + rounding)
        crossed = None
        if not agrees and check.kink_note is None:
            crossed = _kink_within_step(tape, bindings, name)
        if crossed is not None:
            value, note = None, (
                f"skipped: the step of {_step(bindings[name]):.2g} crosses the kink of "
                f"{crossed}, so the difference averages two slopes"
            )
        elif not agrees and check.kink_note is None and not differences_settle(
            tape, bindings, name, seed, value, rounding, difference=finite_difference
        ):
            # Only the difference dissents, and it moves with the step: no verdict either way.
            check.numeric_inconclusive = True
            note = _inconclusive_note(_step(bindings[name]))
        else:
            ok = agrees or check.kink_note is not None
            if not agrees and check.kink_note is not None:
                note = "differs at a kink: " + check.kink_note
    check.numeric_value, check.numeric_ok, check.numeric_note = value, ok, note


def _inconclusive_note(step: float) -> str:
    return ("inconclusive: the difference quotient changes as the step shrinks from "
            f"{step:.2g}, so it neither confirms nor refutes the gradient")


def _largest_magnitude(value) -> float:
    """The largest magnitude of a number or an array's elements (the largest step taken)."""
    if is_array(value):
        import numpy

        return float(numpy.max(numpy.abs(value), initial=0.0))
    return abs(float(value))


def run_checks(
    tape: Tape,
    bindings: Mapping[str, float],
    seed: float,
    gradients: Mapping[str, float],
    kink_nodes: Sequence[int] = (),
    timeout: float = DEFAULT_TIMEOUT,
    use_sympy: bool = True,
    m=FLOAT64,
    shapes: Sequence[tuple] | None = None,
) -> CheckReport:
    """Compare each gradient with SymPy and with central differences (for an array, every
    element; ``m`` and ``shapes`` are the array engine's, see ``grad.explain``).

    Each check has ``timeout`` seconds: SymPy's in its child process, and the finite
    differences (two forward passes per variable, so variables x nodes in all) stop starting
    new variables once their time is up; the rest are skipped with a note.
    """
    names = list(gradients)
    report = CheckReport()
    kinks = kink_notes(tape, kink_nodes)
    for name in names:
        gradient = gradients[name]
        gradient = gradient if is_array(gradient) else float(gradient)
        report.variables[name] = VariableCheck(name, gradient, kink_note=kinks.get(name))

    deadline = time.monotonic() + timeout
    done = 0
    try:
        for name in names:
            if time.monotonic() > deadline:
                break
            _numeric_check(report.variables[name], tape, bindings, seed, m, shapes)
            done += 1
    except KeyboardInterrupt:  # Ctrl-C: keep what is finished, skip the rest, say so
        report.interrupted = True
    for name in names[done:]:
        check = report.variables[name]
        check.numeric_value = check.numeric_ok = None
        check.numeric_note = INTERRUPTED_NOTE if report.interrupted else (
            f"skipped: the finite differences took longer than {timeout:g} s "
            "(allow more time per check, or check fewer variables)"
        )

    if use_sympy and report.interrupted:
        report.sympy_note = INTERRUPTED_NOTE
    elif use_sympy:
        try:
            rows, note = run_sympy(tape, bindings, seed, names, timeout, shapes)
        except KeyboardInterrupt:  # the child is gone (run_sympy kills it on the way out)
            rows, note = None, INTERRUPTED_NOTE
            report.interrupted = True
        report.sympy_note = note
        for name, text, value, row_note in rows or ():
            check = report.variables[name]
            check.sympy_derivative, check.sympy_value, check.sympy_note = text, value, row_note
            if value is not None and not isinstance(value, float):
                import numpy

                value = numpy.array(value)
                check.sympy_value = value
            if value is not None:
                # SymPy's forms of the ops differentiate to the engine's kink conventions
                # (relu'(0) = 0, sign(0) = 0, Heaviside(0) = 1/2 at a min/max tie), so a
                # kink is no excuse here: only the finite differences straddle it.
                check.sympy_ok = _close(check.gradient, value, SYMPY_RTOL, SYMPY_ATOL)
    return report
