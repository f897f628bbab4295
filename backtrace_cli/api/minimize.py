"""``minimize()``: minimise an expression from its bindings, as ``backtrace minimize`` does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.result import Rendered
from backtrace_cli.api.values import as_bindings
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.report.model import Report

TRACE_LIMIT = 1000  # steps traced when trace=True and no trace_limit is given


@dataclass(frozen=True, eq=False)
class MinimizeResult(Rendered):
    """What ``minimize()`` found. ``to_dict()`` is exactly the document ``backtrace minimize
    --format json`` prints; ``render(format)`` the text of any registered format."""

    outcome: Any  # train.minimize.MinimizeOutcome
    report: Report

    @property
    def params(self) -> dict[str, Any]:
        """The final parameters (the last finite ones): floats, or nested lists for arrays."""
        return {name: plain(value) for name, value in self.outcome.result.params.items()}

    @property
    def value(self) -> float:
        """The expression's value at ``params``."""
        return self.outcome.result.value

    @property
    def history(self) -> list[dict[str, Any]]:
        """Every point of the run, the start first: {step, value, params}."""
        return self.to_dict()["history"]

    @property
    def diverged(self) -> bool:
        """True when a value or a parameter stopped being finite (the CLI exits 1)."""
        return self.outcome.result.diverged is not None

    @property
    def blocked(self) -> str | None:
        """newton: why a step could not be taken (the CLI exits 1), else None."""
        stop = self.outcome.result.blocked
        return None if stop is None else stop.reason

    @property
    def interrupted(self) -> bool:
        return self.outcome.result.interrupted

    @property
    def warnings(self) -> list[str]:
        """What the run did that it did not stop for (a value growing step after step), in
        English, as the JSON ``warnings`` list."""
        return list(self.outcome.warnings)

    def __repr__(self) -> str:
        return f"MinimizeResult(params={self.params!r}, value={self.value!r})"


def minimize(expression: str, bindings: Mapping[str, Any] | None = None, *,
             method: str = "gd", lr: float | None = None, steps: int = 100,
             momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
             eps: float = 1e-8, trace: bool = False, trace_limit: int | None = None,
             explain_step: int | None = None,
             wrt: str | Sequence[str] | None = None) -> MinimizeResult:
    """Minimise ``expression`` starting from ``bindings`` over the variables ``wrt`` names
    (default: every variable; the others are held at their bindings, as data).

    >>> minimize("x**4 - 2*x**2", {"x": 2}, method="newton", steps=7).params
    {'x': 1.0}

    ``method``: "gd" (``x - lr * grad``), "momentum", "adam" (train's update rules, with
    its hyper-parameters) or "newton" (``H d = -g``, no learning rate). ``lr`` defaults to
    0.01. ``trace`` keeps every step's gradient and update (up to ``trace_limit``, else
    1,000); ``explain_step`` explains step K as ``grad()`` does. Bad input raises
    ``BacktraceError`` with the words the command line prints. A run that diverges, or a
    Newton step the Hessian does not allow, is returned with ``diverged`` or ``blocked``
    set (the command line exits 1 on them). ``wrt`` is "W,b" or ["W", "b"]; an element or
    a row (``"W[0,1]"``, ``"W[1]"``) moves alone, the rest of its array stays as bound.

    >>> minimize("(w*x - y)**2", {"w": 0, "x": 2, "y": 6}, wrt="w", method="newton",
    ...          steps=1).params
    {'w': 3.0}
    """
    from backtrace_cli.engine.picks import split_names
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.report.minimize import build
    from backtrace_cli.syntax.parser import parse
    from backtrace_cli.train.minimize import MinimizeSettings, run

    limit = (trace_limit if trace_limit is not None else TRACE_LIMIT) if trace else 0
    settings = MinimizeSettings(method=method, lr=lr, steps=steps, momentum=momentum,
                                beta1=beta1, beta2=beta2, eps=eps, trace_limit=limit,
                                explain_step=explain_step, wrt=_names(split_names(wrt)))
    start = as_bindings(bindings)
    outcome = run(compile_program(parse(expression)), start, settings)
    return MinimizeResult(outcome, build(outcome))


def _names(names: list[str] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(names)
