"""Cross-checks of a gradient: SymPy's symbolic derivative and central finite differences.

The SymPy expression is built node by node from our own tape (itself compiled from our
syntax tree), with a real ``Symbol`` per variable; user text never reaches SymPy's parser.
SymPy runs in a forked child process with a time limit and a memory limit, so a pathological
expression ends in "skipped: ..." instead of hanging, and the finite-difference check (which
needs nothing but the tape) always runs. The parent process never imports SymPy.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .errors import BacktraceError
from .limits import SYMPY_MAX_NODES
from .ops import CONSTANTS
from .tape import CONST, OP, VAR, Tape, forward

# Tolerances in the spirit of torch.autograd.gradcheck: loose for differences, tight for SymPy.
NUMERIC_RTOL = 1e-3
NUMERIC_ATOL = 1e-5
SYMPY_RTOL = 1e-9
SYMPY_ATOL = 1e-12
DEFAULT_TIMEOUT = 5.0
_DERIVATIVE_TEXT_LIMIT = 10_000


@dataclass
class VariableCheck:
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

    @property
    def ok(self) -> bool:
        return self.sympy_ok is not False and self.numeric_ok is not False


@dataclass
class CheckReport:
    variables: dict[str, VariableCheck] = field(default_factory=dict)
    sympy_note: str | None = None  # why the SymPy check was skipped as a whole

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.variables.values())


# ----------------------------------------------------------------------------- kinks
def kink_notes(tape: Tape, kink_nodes: Sequence[int]) -> dict[str, str]:
    """For each variable upstream of a node evaluated at a kink, the convention(s) used."""
    if not kink_nodes:
        return {}
    # Variables each node depends on, as bit sets over the variables (one forward pass).
    bit = {name: 1 << i for i, name in enumerate(tape.variables)}
    depends = [0] * len(tape.nodes)
    for node in tape.nodes:
        if node.kind == VAR:
            depends[node.index] = bit[node.name]
        elif node.kind == OP:
            mask = 0
            for j in node.inputs:
                mask |= depends[j]
            depends[node.index] = mask
    notes: dict[str, list[str]] = {}
    for index in sorted(kink_nodes):
        node = tape.nodes[index]
        note = f"{node.op.kink_note} at {node.id} ({node.text})"
        for name in tape.variables:
            if depends[index] & bit[name] and note not in notes.setdefault(name, []):
                notes[name].append(note)
    return {name: "; ".join(items) for name, items in notes.items()}


# ----------------------------------------------------------------------------- differences
def finite_difference(
    tape: Tape, bindings: Mapping[str, float], name: str, seed: float
) -> tuple[float | None, float, str | None]:
    """Central difference of seed * output in ``name``: (value, error bound, note)."""
    x = bindings[name]
    step = sys.float_info.epsilon ** (1 / 3) * max(1.0, abs(x))
    step = (x + step) - x  # a step that is exactly representable at x
    shifted = dict(bindings)
    try:
        shifted[name] = x + step
        above = forward(tape, shifted)[tape.output]
        shifted[name] = x - step
        below = forward(tape, shifted)[tape.output]
    except BacktraceError:
        return None, 0.0, f"skipped: the expression is undefined within {step:.2g} of {name}"
    value = seed * (above - below) / (2 * step)
    # Rounding in f(x +- h) alone can move the quotient by about eps * |f| / h.
    rounding = 8 * sys.float_info.epsilon * max(abs(above), abs(below), 1.0) * abs(seed) / step
    return value, rounding, None


def _close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    return abs(ours - reference) <= atol + rtol * max(abs(reference), abs(ours))


# ----------------------------------------------------------------------------- SymPy
def _sympy_number(sp, node):
    if node.text in CONSTANTS and node.value == CONSTANTS[node.text]:
        return sp.pi if node.text == "pi" else sp.E
    value = node.value
    if value.is_integer() and abs(value) < 2**53:
        return sp.Integer(int(value))
    return sp.Float(value)


def sympy_expression(tape: Tape, seed: float):
    """seed * output as a SymPy expression, built from the tape with real symbols."""
    import sympy as sp

    symbols = {name: sp.Symbol(name, real=True) for name in tape.variables}
    built: list = [None] * len(tape.nodes)
    for node in tape.nodes:
        if node.kind == VAR:
            built[node.index] = symbols[node.name]
        elif node.kind == CONST:
            built[node.index] = _sympy_number(sp, node)
        else:
            built[node.index] = node.op.sympy(sp, *[built[j] for j in node.inputs])
    seed_value = sp.Integer(int(seed)) if float(seed).is_integer() else sp.Float(seed)
    return seed_value * built[tape.output], symbols


def _sympy_derivatives(tape: Tape, bindings, seed, names) -> list:
    """Run in the child: [(name, derivative text, value or None, note or None)]."""
    import sympy as sp

    expression, symbols = sympy_expression(tape, seed)
    at = {symbols[name]: sp.Float(float(bindings[name])) for name in tape.variables}
    rows = []
    for name in names:
        derivative = sp.diff(expression, symbols[name])
        text = str(derivative)
        if len(text) > _DERIVATIVE_TEXT_LIMIT:
            text = text[:_DERIVATIVE_TEXT_LIMIT] + "..."
        value = derivative.xreplace(at)
        try:
            number = complex(sp.N(value, 30))
        except (TypeError, ValueError):
            rows.append((name, text, None, "skipped: SymPy gives no number here"))
            continue
        if not (math.isfinite(number.real) and math.isfinite(number.imag)):
            rows.append((name, text, None, "skipped: SymPy's derivative is undefined here"))
        elif abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            rows.append((name, text, None, "skipped: SymPy's derivative is complex here"))
        else:
            rows.append((name, text, number.real, None))
    return rows


def _child(connection, tape, bindings, seed, names, memory_bytes) -> None:
    try:
        if memory_bytes:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        connection.send(("ok", _sympy_derivatives(tape, bindings, seed, names)))
    except MemoryError:
        connection.send(("error", "SymPy ran out of memory"))
    except BaseException as exc:  # report, never raise, from the child
        connection.send(("error", f"SymPy failed: {type(exc).__name__}: {str(exc)[:200]}"))
    finally:
        connection.close()


def _memory_budget() -> int | None:
    """The child's address-space limit: what the process maps now plus 2 GiB."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE") + 2 * 1024**3
    except (OSError, ValueError, IndexError):
        return None


def run_sympy(tape: Tape, bindings, seed, names, timeout: float) -> tuple[list | None, str | None]:
    """SymPy derivatives in a forked child with a deadline: (rows, None) or (None, note)."""
    limit = SYMPY_MAX_NODES.value
    if len(tape.nodes) > limit:
        return None, (
            f"skipped: the expression has {len(tape.nodes):,} nodes, more than the SymPy check "
            f"takes ({limit:,}; raise with {SYMPY_MAX_NODES.env})"
        )
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        try:
            return _sympy_derivatives(tape, bindings, seed, names), None
        except Exception as exc:
            return None, f"skipped: SymPy failed: {exc}"
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, tape, bindings, seed, names, _memory_budget()), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            return None, f"skipped: SymPy took longer than {timeout:g} s"
        status, payload = receiver.recv()
    except (EOFError, OSError):
        return None, "skipped: SymPy stopped without an answer"
    finally:
        if process.is_alive():
            process.kill()
        process.join(1)
        receiver.close()
    if status != "ok":
        return None, f"skipped: {payload}"
    return payload, None


# ----------------------------------------------------------------------------- together
def run_checks(
    tape: Tape,
    bindings: Mapping[str, float],
    seed: float,
    gradients: Mapping[str, float],
    kink_nodes: Sequence[int] = (),
    timeout: float = DEFAULT_TIMEOUT,
    use_sympy: bool = True,
) -> CheckReport:
    """Compare each gradient with SymPy and with central differences."""
    names = list(gradients)
    report = CheckReport()
    kinks = kink_notes(tape, kink_nodes)
    for name in names:
        report.variables[name] = VariableCheck(name, float(gradients[name]), kink_note=kinks.get(name))

    for name in names:
        check = report.variables[name]
        value, rounding, note = finite_difference(tape, bindings, name, seed)
        check.numeric_value, check.numeric_note = value, note
        if value is not None:
            agrees = _close(check.gradient, value, NUMERIC_RTOL, NUMERIC_ATOL + rounding)
            check.numeric_ok = agrees or check.kink_note is not None
            if not agrees and check.kink_note is not None:
                check.numeric_note = "differs at a kink: " + check.kink_note

    if use_sympy:
        rows, note = run_sympy(tape, bindings, seed, names, timeout)
        report.sympy_note = note
        for name, text, value, row_note in rows or ():
            check = report.variables[name]
            check.sympy_derivative, check.sympy_value, check.sympy_note = text, value, row_note
            if value is not None:
                # SymPy's forms of the ops differentiate to the engine's kink conventions
                # (relu'(0) = 0, sign(0) = 0, Heaviside(0) = 1/2 at a min/max tie), so a
                # kink is no excuse here: only the finite differences straddle it.
                check.sympy_ok = _close(check.gradient, value, SYMPY_RTOL, SYMPY_ATOL)
    return report
