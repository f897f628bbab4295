"""``grad()``: the forward and backward pass of one expression, as ``backtrace grad`` does it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.result import Rendered
from backtrace_cli.api.values import as_bindings, as_value, dz_given
from backtrace_cli.engine.picks import split_names
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.i18n import _
from backtrace_cli.report.model import Report


@dataclass(frozen=True, eq=False)
class GradResult(Rendered):
    """What ``grad()`` found. ``render(format)`` gives the text of any registered format,
    ``to_dict()`` exactly the document ``backtrace grad --format json`` prints."""

    explanation: Explanation
    report: Report
    modes: Any = None  # explain.forward.ForwardMode with mode="forward" or "both", else None

    @property
    def output(self):
        """The value of the output: a float, or nested lists for an array."""
        return plain(self.explanation.output)

    @property
    def gradients(self) -> dict[str, Any]:
        """d(dz * output)/d(name) for every reported variable: floats or nested lists."""
        return {name: plain(value) for name, value in self.explanation.gradients.items()}

    @property
    def checks_agree(self) -> bool | None:
        """True when SymPy and finite differences agree (None when not checked)."""
        check = self.explanation.check
        return None if check is None else check.ok

    def __repr__(self) -> str:
        return f"GradResult(output={self.output!r}, gradients={self.gradients!r})"


def explanation_of(expression: str, bindings: Mapping[str, Any] | None, *, dz: Any = 1.0,
                   wrt: str | Sequence[str] | None = None, cross_check: bool = True,
                   check_timeout: float = 5.0) -> Explanation:
    """Parse, build the tape, sweep forward and backward from ``dz`` = dL/d(output), and
    cross-check if asked."""
    from backtrace_cli.checks.timeout import Timeout
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.syntax.parser import parse

    values = as_bindings(bindings)
    seed_value = as_value(dz, "dz")
    timeout = Timeout(check_timeout, "check_timeout").seconds
    tape = compile_program(parse(expression))
    return explain(tape, values, seed_value, split_names(wrt), cross_check, timeout)


def explained_in_mode(expression: str, bindings: Mapping[str, Any] | None, *, dz: Any = 1.0,
                      wrt: str | Sequence[str] | None = None, cross_check: bool = True,
                      check_timeout: float = 5.0, mode: str = "reverse"):
    """(explanation, forward mode or None, report) of ``grad`` in a mode: reverse (the
    default report), forward (tangent sweeps, whose gradients are the ones checked) or both."""
    if mode == "reverse":  # the default: loads neither the forward-mode sweeps nor their costs
        from backtrace_cli.report.grad import build

        explanation = explanation_of(expression, bindings, dz=dz, wrt=wrt,
                                     cross_check=cross_check, check_timeout=check_timeout)
        return explanation, None, build(explanation)
    import dataclasses

    from backtrace_cli.errors import setting_error
    from backtrace_cli.explain.forward import MODES, checked_forward, forward_mode

    if mode not in MODES:
        raise setting_error("mode", _("mode must be one of {modes}, not {value}").format(
            modes=", ".join(MODES), value=repr(mode)))
    from backtrace_cli.report.forward import build

    explanation = explanation_of(expression, bindings, dz=dz, wrt=wrt,
                                 cross_check=cross_check and mode == "both",
                                 check_timeout=check_timeout)
    modes = forward_mode(explanation)
    if mode == "forward":  # the gradients reported, and checked, are the tangents'
        explanation = dataclasses.replace(
            explanation, gradients=modes.gradients,
            check=checked_forward(explanation, modes, check_timeout) if cross_check else None)
    return explanation, modes, build(explanation, modes, mode)


def grad(expression: str, bindings: Mapping[str, Any] | None = None, *, dz: Any = None,
         wrt: str | Sequence[str] | None = None, cross_check: bool = True,
         check_timeout: float = 5.0, mode: str = "reverse", **renamed: Any) -> GradResult:
    """The forward and backward pass of ``expression`` at ``bindings``.

    >>> grad("x*w", {"x": 2, "w": 3}, dz=5).gradients
    {'x': 15.0, 'w': 10.0}

    ``bindings`` maps names to numbers, nested lists or NumPy arrays; ``dz`` is dL/d(output)
    (``--dz``, default 1; ``seed=``, its old name, still works with a DeprecationWarning);
    ``wrt`` picks the reported variables; ``cross_check`` runs SymPy and finite
    differences (``checks_agree`` says whether they agree); ``mode`` is ``reverse``,
    ``forward`` (gradients from tangent sweeps) or ``both`` (``--mode``). Bad input raises
    ``BacktraceError`` with the message the command line prints.
    """
    dz = dz_given(dz, renamed, "grad")
    explanation, modes, report = explained_in_mode(
        expression, bindings, dz=dz, wrt=wrt, cross_check=cross_check,
        check_timeout=check_timeout, mode=mode)
    return GradResult(explanation, report, modes)
