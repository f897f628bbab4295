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

import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.tape import CONST, OP, VAR, Tape, forward
from backtrace_cli.errors import BacktraceError
from backtrace_cli.limits import SYMPY_MAX_ELEMENTS, SYMPY_MAX_NODES
from backtrace_cli.ops.table import CONSTANTS

# Tolerances in the spirit of torch.autograd.gradcheck: loose for differences, tight for SymPy.
NUMERIC_RTOL = 1e-3
NUMERIC_ATOL = 1e-5
SYMPY_RTOL = 1e-9
SYMPY_ATOL = 1e-12
DEFAULT_TIMEOUT = 5.0
_DERIVATIVE_TEXT_LIMIT = 10_000
_EXACT_POWER_BITS = 100_000  # larger exact powers are taken in floating point (_sympy_power)


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
    interrupted: bool = False  # Ctrl-C cut the checks short; what they finished is kept

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.variables.values())


# ----------------------------------------------------------------------------- kinks
_KINK_NOTES_SHOWN = 3  # per variable; a program with thousands of kinks says how many more


def kink_notes(tape: Tape, kink_nodes: Sequence[int]) -> dict[str, str]:
    """For each variable upstream of a node evaluated at a kink, the convention(s) used.

    Linear in the size of the graph for a handful of kinks, and bounded for many: only nodes
    that lead to a kink get a bit set of variables, and each variable names its first
    ``_KINK_NOTES_SHOWN`` kinks and counts the rest.
    """
    if not kink_nodes:
        return {}
    nodes = tape.nodes
    kinks = sorted(set(kink_nodes))
    leads_to_kink = [False] * len(nodes)
    for index in kinks:
        leads_to_kink[index] = True
    for index in range(kinks[-1], -1, -1):
        if leads_to_kink[index]:
            for j in nodes[index].inputs:
                leads_to_kink[j] = True
    # Variables each such node depends on, as bit sets over the variables (one forward pass).
    position = {name: i for i, name in enumerate(tape.variables)}
    depends = [0] * len(nodes)
    for node in nodes[: kinks[-1] + 1]:
        if not leads_to_kink[node.index]:
            continue
        if node.kind == VAR:
            depends[node.index] = 1 << position[node.name]
        elif node.kind == OP:
            mask = 0
            for j in node.inputs:
                mask |= depends[j]
            depends[node.index] = mask
    shown: dict[str, list[str]] = {}
    more: dict[str, int] = {}
    for index in kinks:
        node = nodes[index]
        note = f"{node.op.kink_note} at {node.id} ({node.text})"
        mask = depends[index]
        while mask:
            lowest = mask & -mask
            name = tape.variables[lowest.bit_length() - 1]
            mask ^= lowest
            items = shown.setdefault(name, [])
            if len(items) < _KINK_NOTES_SHOWN:
                items.append(note)
            else:
                more[name] = more.get(name, 0) + 1
    out = {}
    for name in tape.variables:  # in the order of the variables, as before
        if name in shown:
            text = "; ".join(shown[name])
            if name in more:
                text += f"; and {more[name]:,} more kink(s)"
            out[name] = text
    return out


# ----------------------------------------------------------------------------- differences
def _weighted_output(tape: Tape, bindings, seed, m):
    """seed * output, summed over the elements when the output is an array."""
    output = forward(tape, bindings, m)[tape.output]
    if getattr(output, "ndim", 0) > 0 or getattr(seed, "ndim", 0) > 0:
        import numpy

        return float(numpy.sum(seed * output))
    return output


def array_finite_difference(tape: Tape, bindings, name: str, seed, m):
    """Central differences of seed * output in every element of the array ``name``:
    (values, error bounds, note), each an array of the variable's shape."""
    import numpy

    x = bindings[name]
    values = numpy.zeros(x.shape)
    rounding = numpy.zeros(x.shape)
    shifted = dict(bindings)
    for index in numpy.ndindex(x.shape):
        element = float(x[index])
        step = _step(element)
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


def _differences_settle(
    tape: Tape, bindings: Mapping[str, float], name: str, seed: float, value: float,
    rounding: float,
) -> bool:
    """Whether the central difference keeps its value when the step is halved.

    Where the function changes on a scale much smaller than the step (sin(1e308), whose step
    is 6e302; tan right beside its pole), the quotient is noise, and a mismatch with it says
    nothing about the gradient. Only asked after a mismatch, so agreeing checks cost nothing.
    """
    half, half_rounding, _ = finite_difference(tape, bindings, name, seed, scale=0.5)
    if half is None:
        return False
    return abs(value - half) <= NUMERIC_RTOL * max(abs(value), abs(half)) + rounding + (
        half_rounding
    )


def _close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    if getattr(ours, "ndim", 0) > 0 or getattr(reference, "ndim", 0) > 0:
        import numpy

        ours, reference = numpy.asarray(ours, float), numpy.asarray(reference, float)
        bound = atol + rtol * numpy.maximum(numpy.abs(reference), numpy.abs(ours))
        return bool((numpy.abs(ours - reference) <= bound).all())  # every element
    return bool(abs(ours - reference) <= atol + rtol * max(abs(reference), abs(ours)))


# ----------------------------------------------------------------------------- SymPy
def _sympy_number(sp, node):
    if node.text in CONSTANTS and node.value == CONSTANTS[node.text]:
        return sp.pi if node.text == "pi" else sp.E
    value = node.value
    if value.is_integer() and abs(value) < 2**53:
        return sp.Integer(int(value))
    return sp.Float(value)


def _sympy_power(sp, base, exponent):
    """``base**exponent``, except that an exact rational raised to a whole number whose exact
    value would need more than ``_EXACT_POWER_BITS`` bits is taken in 30-digit floating point.

    The float forward pass has already refused a power that overflows, but a tiny result is
    finite there (2**-2**40 is 0.0) while SymPy would build it exactly: a denominator of a
    trillion bits, which takes minutes and gigabytes. A Float base keeps it to mpmath's
    arithmetic on exponents, which is instant and still exact to 30 digits.
    """
    if base.is_Rational and exponent.is_Integer and abs(base) != 1 and base != 0:
        numerator, denominator = base.as_numer_denom()
        bits = max(int(abs(numerator)).bit_length(), int(denominator).bit_length())
        if bits * abs(int(exponent)) > _EXACT_POWER_BITS:
            return sp.Pow(sp.Float(base, 30), exponent)
    return base**exponent


def _sympy_seed(sp, seed):
    return sp.Integer(int(seed)) if float(seed).is_integer() else sp.Float(float(seed))


def element_symbols(sp, name: str, shape: tuple):
    """A NumPy object array of real symbols W[0,0], W[0,1], ... (a Symbol for a scalar)."""
    if not shape:
        return sp.Symbol(name, real=True)
    import numpy

    symbols = numpy.empty(shape, dtype=object)
    for index in numpy.ndindex(shape):
        symbols[index] = sp.Symbol(f"{name}[{','.join(str(i) for i in index)}]", real=True)
    return symbols


def sympy_expression(tape: Tape, seed, shapes: Sequence[tuple] | None = None):
    """seed * output as a SymPy expression, built from the tape with real symbols.

    With ``shapes`` (a program with arrays) every array element is a symbol of its own and
    the values are NumPy object arrays of SymPy expressions: ``@``, sums and broadcasting
    then work element by element as NumPy does them, and an array output is weighted by the
    seed's elements and summed.
    """
    import sympy as sp

    built, symbols = sympy_values(tape, shapes)
    output = built[tape.output]
    if hasattr(seed, "ravel") or hasattr(output, "ravel"):
        import numpy

        weights = numpy.broadcast_to(numpy.asarray(seed, dtype=float), numpy.shape(output))
        terms = [_sympy_seed(sp, w) * o for w, o in zip(weights.ravel(), numpy.ravel(output))]
        return sp.Add(*terms), symbols
    return _sympy_seed(sp, seed) * output, symbols


def _sympy_op(sp, op, *args):
    """One op on SymPy values; powers through _sympy_power, which bounds exact integers."""
    if op.name == "pow":
        return _sympy_power(sp, *args)
    return op.sympy(sp, *args)


def sympy_values(tape: Tape, shapes: Sequence[tuple] | None = None) -> tuple[list, dict]:
    """Every node as SymPy (an object array of expressions for an array), and the symbols:
    {name: Symbol, or an object array of element symbols}."""
    import sympy as sp

    symbols = {
        name: element_symbols(sp, name, shapes[tape.variable_nodes[name]] if shapes else ())
        for name in tape.variables
    }
    built: list = [None] * len(tape.nodes)
    for node in tape.nodes:
        if node.kind == VAR:
            built[node.index] = symbols[node.name]
        elif node.kind == CONST:
            built[node.index] = _sympy_number(sp, node)
        else:
            args = [built[j] for j in node.inputs]
            op = node.op
            if op.shape_rule == "elementwise" and any(hasattr(a, "ravel") for a in args):
                import numpy

                def apply(*elements, op=op):
                    return _sympy_op(sp, op, *elements)

                built[node.index] = numpy.frompyfunc(apply, op.arity, 1)(*args)
            else:
                built[node.index] = _sympy_op(sp, op, *args)
    return built, symbols


def _array_derivatives(sp, expression, symbols, at, name) -> tuple:
    """One array variable: (texts as nested lists, values as nested lists or None, note)."""
    import numpy

    elements = symbols[name]
    texts = numpy.empty(elements.shape, dtype=object)
    values = numpy.zeros(elements.shape)
    for index in numpy.ndindex(elements.shape):
        derivative = sp.diff(expression, elements[index])
        texts[index] = str(derivative)
        try:
            number = complex(sp.N(derivative.xreplace(at), 30))
        except (TypeError, ValueError):
            return None, None, "skipped: SymPy gives no number here"
        if not (math.isfinite(number.real) and math.isfinite(number.imag)):
            return None, None, "skipped: SymPy's derivative is undefined here"
        if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            return None, None, "skipped: SymPy's derivative is complex here"
        values[index] = number.real
    text = str(texts.tolist()).replace("'", "")
    if len(text) > _DERIVATIVE_TEXT_LIMIT:
        text = text[:_DERIVATIVE_TEXT_LIMIT] + "..."
    return text, values.tolist(), None


def _sympy_derivatives(tape: Tape, bindings, seed, names, shapes=None) -> list:
    """Run in the child: [(name, derivative text, value or None, note or None)]."""
    import sympy as sp

    expression, symbols = sympy_expression(tape, seed, shapes)
    at = {}
    for name in tape.variables:
        if hasattr(symbols[name], "ravel"):
            for symbol, value in zip(symbols[name].ravel(), bindings[name].ravel()):
                at[symbol] = sp.Float(float(value))
        else:
            at[symbols[name]] = sp.Float(float(bindings[name]))
    rows = []
    for name in names:
        if hasattr(symbols[name], "ravel"):
            text, value, note = _array_derivatives(sp, expression, symbols, at, name)
            rows.append((name, text, value, note))
            continue
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


def _child(connection, function, args, memory_bytes, recursion_limit) -> None:
    # Ctrl-C is the parent's to handle (it kills this process): a KeyboardInterrupt here would
    # print a traceback. SIGINT was blocked across the fork, so none can have arrived yet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # SymPy recurses over the expression tree; a deep one (a tower x**x**...**x) needs more
    # than Python's 1,000 frames. A crash of this process only skips the check.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), recursion_limit))
    try:
        if memory_bytes:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        connection.send(("ok", function(*args)))
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


@contextlib.contextmanager
def _sigint_held():
    """Block SIGINT in this thread for the duration; a Ctrl-C meanwhile arrives after it."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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


def in_child(function, args: tuple, timeout: float, recursion_limit: int = 1_000) -> tuple:
    """``function(*args)`` in a forked child with a deadline and a memory limit:
    (result, None), or (None, "skipped: ...") when it fails, runs out or takes too long.
    ``function`` and its result must be picklable; the parent never imports SymPy."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        try:
            return function(*args), None
        except Exception as exc:
            return None, f"skipped: SymPy failed: {exc}"
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, function, args, _memory_budget(), recursion_limit),
        daemon=True,
    )
    started = False
    try:
        # Ctrl-C is held back while forking, so that the child never sees it (it ignores
        # SIGINT from its first line on) and the parent always kills a child it started.
        with _sigint_held():
            process.start()
            started = True
        sender.close()
        if not receiver.poll(timeout):
            return None, f"skipped: SymPy took longer than {timeout:g} s"
        status, payload = receiver.recv()
    except (EOFError, OSError):
        return None, "skipped: SymPy stopped without an answer"
    finally:
        sender.close()
        if started:
            if process.is_alive():
                process.kill()
            process.join(1)
        receiver.close()
    if status != "ok":
        return None, f"skipped: {payload}"
    return payload, None


# ----------------------------------------------------------------------------- together
INTERRUPTED_NOTE = "skipped: interrupted (Ctrl-C)"


def _numeric_check(
    check: VariableCheck, tape: Tape, bindings, seed, m=None, shapes=None
) -> None:
    """Compare one gradient with central differences; fills in the check's numeric fields."""
    name = check.name
    if shapes is not None:  # a program with arrays: every element, on the array engine
        if getattr(bindings[name], "ndim", 0) > 0:
            value, rounding, note = array_finite_difference(tape, bindings, name, seed, m)
        else:
            value, rounding, note = finite_difference(tape, bindings, name, seed, m=m)
        ok = None
        if value is not None:
            agrees = _close(check.gradient, value, NUMERIC_RTOL, NUMERIC_ATOL + rounding)
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
        elif not agrees and check.kink_note is None and not _differences_settle(
            tape, bindings, name, seed, value, rounding
        ):
            value, note = None, (
                "skipped: the difference quotient changes with the step (the function "
                f"varies faster than a step of {_step(bindings[name]):.2g} can follow)"
            )
        else:
            ok = agrees or check.kink_note is not None
            if not agrees and check.kink_note is not None:
                note = "differs at a kink: " + check.kink_note
    check.numeric_value, check.numeric_ok, check.numeric_note = value, ok, note


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
        gradient = gradient if getattr(gradient, "ndim", 0) > 0 else float(gradient)
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
            "(--check-timeout; --wrt picks fewer variables)"
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
