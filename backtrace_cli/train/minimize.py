"""Minimise an expression directly: start from the bindings, step downhill, no data.

Every step is one forward and one reverse sweep of the expression's tape (the sweeps that
``backtrace grad`` explains) and one update. The first-order methods are ``train``'s update
rules, taken from its registry (``train/optimizers.py``): ``gd`` is its ``sgd``
(``x - lr * grad``), ``momentum`` and ``adam`` its torch.optim rules. ``newton`` takes the
Hessian from the double backprop of ``engine.higher`` and solves ``H d = -g`` (see
``newton_direction``); a Hessian that gives no step towards a minimum (singular, or not
positive definite) stops the run at that step with a message saying what to do instead.

A run *diverges* when a value or a parameter stops being finite (inf or nan), or the
expression becomes undefined at the new point (log of a negative number): the run stops
there, ``params`` are the last finite ones, and the command line exits 1, as ``train`` does.
Messages name fields (``steps``, ``lr``, ``explain_step``), never the CLI's flags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backtrace_cli.engine.nodes import Tape
from backtrace_cli.engine.sweeps import backward, forward, gradients
from backtrace_cli.engine.tape import check_bindings
from backtrace_cli.engine.values import (
    all_finite,
    as_float64,
    numeric_setting,
    shape_of,
    with_shape,
)
from backtrace_cli.errors import EvaluationError, ShapeError, UsageError, setting_error
from backtrace_cli.i18n import N_, _
from backtrace_cli.ops.table import shape_text
from backtrace_cli.phases import reached as reached_phase
from backtrace_cli.train.loop import interruptible
from backtrace_cli.train.newton import REFUSALS
from backtrace_cli.train.optimizers import make_optimizer, written_state
from backtrace_cli.train.selection import select
from backtrace_cli.train.settings import fraction, positive

# Why a run stopped: English in the JSON ("diverged", "blocked"), read back into the reader's
# language where it is shown (i18n.from_template).
NOT_FINITE_DERIVATIVE = N_("the derivative with respect to {name} is not finite (inf or nan) "
                           "at these values")
BECAME = N_("the parameter {name} became {shown}")
STOP_TEMPLATES = (NOT_FINITE_DERIVATIVE, BECAME, *REFUSALS)

# The methods, and the update rule of train's registry each first-order method is.
METHODS = ("gd", "momentum", "adam", "newton")
RULE_OF = {"gd": "sgd", "momentum": "momentum", "adam": "adam"}
DEFAULT_LR = 0.01  # train's default
MAX_STEPS = 1_000_000
# Every step's parameters are kept for the history: steps x numbers stays below this.
MAX_HISTORY_NUMBERS = 20_000_000
# newton needs the whole Hessian: n variables (array elements) give n x n entries.
MAX_NEWTON_VARIABLES = 1_000


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class MinimizeSettings:
    """How to minimise, validated when made (the API and the CLI refuse the same input with
    the same words). ``lr`` None is train's default 0.01; newton takes the full Newton step
    and has no learning rate. ``trace_limit`` is how many steps are reported through
    ``on_update`` (0: none); ``explain_step`` the 1-based step to explain."""

    method: str = "gd"
    lr: float | None = None
    steps: int = 100
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    trace_limit: int = 0
    explain_step: int | None = None
    wrt: tuple[str, ...] | None = None  # the variables (or parts, W[0,1]) to move; None: all

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise setting_error("method", _("method must be one of {value}, not {method!r}")
                                .format(value=", ".join(METHODS), method=self.method))
        if self.lr is not None:
            if self.method == "newton":
                raise setting_error(
                    "lr", _("lr is not used by newton: it takes the full Newton step "
                            "d = -H⁻¹·g, which has no learning rate"),
                    _("drop lr, or use method gd, momentum or adam, which take one"))
            positive(self.lr, "lr")
        if not _is_whole(self.steps) or not 1 <= self.steps <= MAX_STEPS:
            raise setting_error("steps", _("steps must be a whole number between 1 and "
                                           "{limit:,}, not {steps!r}").format(
                                               limit=MAX_STEPS, steps=self.steps))
        fraction(self.momentum, "momentum")
        fraction(self.beta1, "beta1")
        fraction(self.beta2, "beta2")
        positive(self.eps, "eps")
        if not _is_whole(self.trace_limit) or self.trace_limit < 0:
            raise setting_error("trace_limit", _("trace_limit must be a whole number >= 0, "
                                                 "not {trace_limit!r}").format(
                                                     trace_limit=self.trace_limit))
        if self.explain_step is not None:
            if not _is_whole(self.explain_step) or self.explain_step < 1:
                raise setting_error("explain_step", _("explain_step must be a whole number "
                                                      "at least 1, not {step!r}").format(
                                                          step=self.explain_step))
            if self.explain_step > self.steps:
                raise setting_error(
                    "explain_step", _("explain_step {step}: the run takes only {steps:,} "
                                      "step(s)").format(step=self.explain_step,
                                                        steps=self.steps),
                    _("pick a step between 1 and {steps:,}").format(steps=self.steps))

    @property
    def rate(self) -> float | None:
        """The learning rate in use (None for newton)."""
        return None if self.method == "newton" else (DEFAULT_LR if self.lr is None else self.lr)

    def rule_settings(self):
        """What train's registry reads (``Rule.init(settings, number, m)``): the rule's
        name, the learning rate in use and the hyper-parameters."""
        from types import SimpleNamespace

        return SimpleNamespace(optimizer=RULE_OF[self.method], lr=self.rate,
                               momentum=self.momentum, beta1=self.beta1, beta2=self.beta2,
                               eps=self.eps)


@dataclass
class Step:
    """One point of the run: ``step`` 0 is the start; ``params`` after ``step`` updates."""

    step: int
    value: float
    params: dict[str, Any]


@dataclass
class Update:
    """One update, as --trace prints it and --explain-step writes it out."""

    step: int  # 1-based
    value: float  # at the parameters before the update
    before: dict[str, Any]
    gradients: dict[str, Any]
    after: dict[str, Any] | None = None  # None: the update could not be made
    hessian: list | None = None  # newton: the Hessian (element order of ``variables``)
    direction: list | None = None  # newton: d, the solution of H d = -g
    elements: tuple[str, ...] = ()  # newton: the elements of d (W[0,1]), in its order
    state: dict[str, Any] = field(default_factory=dict)  # momentum's buffer, Adam's moments


@dataclass
class Stop:
    """Why a run ended before its last step: it diverged, or a Newton step was refused."""

    step: int
    reason: str
    hint: str | None = None
    eigenvalues: list[float] | None = None


@dataclass
class MinimizeResult:
    variables: tuple[str, ...]
    initial: dict[str, Any]
    params: dict[str, Any]  # the last finite parameters
    history: list[Step]
    elements: tuple[str, ...] = ()  # newton's variables element by element (W[0,1])
    fixed: dict[str, Any] = field(default_factory=dict)  # held at their bindings (not wrt)
    wrt: tuple[str, ...] = ()  # what moves, as asked (every variable by default)
    diverged: Stop | None = None
    blocked: Stop | None = None  # newton: the Hessian gave no step towards a minimum
    interrupted: bool = False
    explained: Update | None = None  # the update of explain_step

    @property
    def value(self) -> float:
        return self.history[-1].value

    @property
    def steps(self) -> int:
        return self.history[-1].step


def check_problem(tape: Tape, start: Mapping[str, Any], settings: MinimizeSettings):
    """(bindings, shapes, back end, selection) for a run, after every check that needs no
    step: each variable bound and each binding used, a scalar output, ``wrt`` a choice of
    the variables, sizes within the limits."""
    check_bindings(tape, start)
    if not tape.variables:
        raise UsageError(_("the expression has no variables to minimise over"),
                         _("give it a variable, e.g. (x - 3)**2 x=0"))
    bindings, shapes, m = numeric_setting(tape, start)
    if shapes[tape.output] != ():
        output = tape.nodes[tape.output]
        raise ShapeError(
            _("the expression is an array ({shape}), not a number: only a scalar can be "
              "minimised").format(shape=shape_text(shapes[tape.output])),
            tape.source, output.span,
            _("reduce it, e.g. sum({text}) or mean(...)").format(text=output.text))
    selection = select(tape, settings.wrt, shapes)
    numbers = sum(int(getattr(bindings[name], "size", 1)) for name in selection.names)
    solved = selection.count(numbers)  # newton's unknowns: the picked elements only
    if settings.method == "newton" and solved > MAX_NEWTON_VARIABLES:
        raise setting_error(
            "method", _("method newton: {numbers:,} variables (array elements) need a Hessian "
                        "of {entries:,} entries; newton takes at most {limit:,}").format(
                numbers=solved, entries=solved * solved, limit=MAX_NEWTON_VARIABLES),
            _("use method gd, momentum or adam for large arrays"))
    if numbers * (settings.steps + 1) > MAX_HISTORY_NUMBERS:
        raise setting_error(
            "steps", _("steps {steps:,}: keeping every step's {numbers:,} parameter "
                       "value(s) needs more than {limit:,} numbers").format(
                steps=settings.steps, numbers=numbers, limit=MAX_HISTORY_NUMBERS),
            _("take fewer steps"))
    return bindings, shapes, m, selection


def minimize(tape: Tape, start: Mapping[str, Any], settings: MinimizeSettings,
             on_step: Callable[[Step], None] | None = None,
             on_update: Callable[[Update], None] | None = None) -> MinimizeResult:
    """Take ``settings.steps`` steps of ``settings.method`` from ``start``.

    ``on_step`` sees every finished step (progress), ``on_update`` the first
    ``settings.trace_limit`` updates (``--trace``). An expression undefined at the start is an
    ``EvaluationError`` (bad input); one that becomes undefined later ends the run as
    diverged. Ctrl-C stops after the step under way (``interrupted``).
    """
    import numpy as np

    bindings, shapes, m, selection = check_problem(tape, start, settings)
    names = selection.names
    params = {name: bindings[name] for name in tape.variables}

    def snapshot(params):
        return _snapshot({name: params[name] for name in names})

    values = forward(tape, params, m)
    result = MinimizeResult(names, snapshot(params), snapshot(params),
                            [Step(0, float(values[tape.output]), snapshot(params))],
                            fixed=_snapshot({n: params[n] for n in selection.fixed}),
                            wrt=selection.wrt)
    rule = None
    if settings.method != "newton":
        rule = make_optimizer(settings.rule_settings(), m.number, m)
    try:
        with interruptible() as stop, np.errstate(all="ignore"):
            for number in range(1, settings.steps + 1):
                update = Update(number, result.history[-1].value, snapshot(params), {})
                try:
                    if rule is not None:
                        grads = _gradients(tape, values, names, m, shapes)
                        update.gradients = {n: as_float64(g) for n, g in grads.items()}
                        rule.step(params, selection.masked(grads))
                        update.state = written_state(rule.state, names, as_float64)
                        taken = True
                    else:
                        taken = _newton(tape, params, update, result, names,
                                        selection.elements)
                except EvaluationError as error:
                    if number == 1:  # undefined at the start: the input is wrong
                        raise
                    result.diverged = Stop(number, error.message)
                    taken = False
                if not taken:
                    _finish(settings, update, result, on_update)
                    return result
                bad = [n for n in names if not all_finite(params[n])]
                if bad:
                    shown = "inf or nan" if shape_of(params[bad[0]]) else float(params[bad[0]])
                    result.diverged = Stop(number, BECAME.format(name=bad[0], shown=shown))
                    _finish(settings, update, result, on_update)
                    return result
                update.after = snapshot(params)
                try:
                    values = forward(tape, params, m)
                except EvaluationError as error:
                    result.diverged = Stop(number, error.message)
                    _finish(settings, update, result, on_update)
                    return result
                result.params = update.after
                result.history.append(Step(number, float(values[tape.output]), update.after))
                _finish(settings, update, result, on_update)
                if on_step is not None:
                    on_step(result.history[-1])
                reached_phase("train-update")  # a test hook (phases.py)
                if stop.raised:
                    result.interrupted = True
                    return result
    except KeyboardInterrupt:
        result.interrupted = True
    return result


def _finish(settings, update: Update, result: MinimizeResult, on_update) -> None:
    if settings.explain_step == update.step:
        result.explained = update
    if on_update is not None and update.step <= settings.trace_limit:
        on_update(update)


def _snapshot(params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: as_float64(value) for name, value in params.items()}


def _gradients(tape, values, names, m, shapes) -> dict[str, Any]:
    """df/dname from one reverse sweep; an array variable's gradient has its shape."""
    swept = backward(tape, values, m.number(1.0), names, m, shapes=shapes)
    grads = {name: with_shape(value, shapes[tape.variable_nodes[name]])
             for name, value in gradients(tape, swept, names, m).items()}
    for name, value in grads.items():
        if not all_finite(value):
            error = EvaluationError(
                NOT_FINITE_DERIVATIVE.format(name=name), tape.source,
                tape.nodes[tape.variable_nodes[name]].span, _("start from other values"))
            error.templates = (NOT_FINITE_DERIVATIVE,)  # English as data, shown translated
            raise error
    return grads


def _newton(tape, params, update: Update, result: MinimizeResult, names, wrt) -> bool:
    """One Newton step in place; False (``result.blocked`` or ``result.diverged`` set) when
    the Hessian gives no step towards a minimum or is not finite."""
    from backtrace_cli.train.newton import newton_step

    step = newton_step(tape, params, names, wrt)
    result.elements = step.elements
    update.gradients, update.hessian = step.gradients, step.hessian
    if step.refusal is not None:
        reason, hint, eigenvalues = step.refusal
        stop = Stop(update.step, reason.format(step=update.step), hint, eigenvalues)
        if hint is None:
            result.diverged = stop
        else:
            result.blocked = stop
        return False
    update.direction, update.elements = step.direction, step.elements
    for name in names:
        params[name] = params[name] + step.steps[name]
    return True


# ----------------------------------------------------------------------------- one call
@dataclass
class MinimizeOutcome:
    """Everything a report of a run needs."""

    source: str
    tape: Tape
    settings: MinimizeSettings
    result: MinimizeResult
    label: str  # the output's label for people: its name, else z (as grad labels it)
    traced: list[Update] = field(default_factory=list)
    explanation: Any = None  # explain.gradient.Explanation of explain_step, if asked
    elapsed: float = 0.0
    warnings: list[str] = field(default_factory=list)  # English; the CLI shows them translated


def run(tape: Tape, start: Mapping[str, Any], settings: MinimizeSettings, *,
        on_start: Callable[[MinimizeOutcome], None] | None = None,
        on_step: Callable[[Step], None] | None = None,
        on_update: Callable[[Update], None] | None = None) -> MinimizeOutcome:
    """Check, minimise, and explain the step asked for: what ``backtrace minimize`` does,
    except printing. ``on_start`` is called once everything is checked, before the first
    step (``outcome.result`` is still None)."""
    import time

    from backtrace_cli.explain.gradient import explain, node_labels
    from backtrace_cli.train.advice import minimize_growth

    check_problem(tape, start, settings)
    outcome = MinimizeOutcome(tape.source, tape, settings, None,  # type: ignore[arg-type]
                              node_labels(tape)[tape.output])
    if on_start is not None:
        on_start(outcome)

    def traced(update: Update) -> None:
        outcome.traced.append(update)
        if on_update is not None:
            on_update(update)

    started = time.perf_counter()
    outcome.result = minimize(tape, start, settings, on_step,
                              traced if settings.trace_limit else None)
    outcome.elapsed = time.perf_counter() - started
    growing = minimize_growth(outcome, MAX_NEWTON_VARIABLES)
    if growing is not None:
        outcome.warnings.append(growing)
    explained = outcome.result.explained
    if explained is not None:
        at = {**outcome.result.fixed, **explained.before}
        outcome.explanation = explain(tape, at, 1.0, outcome.result.variables, check=True)
    return outcome

