"""``hessian()``: value, gradient and every second derivative, as ``backtrace hessian`` does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.result import Rendered
from backtrace_cli.explain.hessian import HessianExplanation
from backtrace_cli.report.model import Report


@dataclass(frozen=True, eq=False)
class HessianResult(Rendered):
    """What ``hessian()`` found; ``render(format)`` and ``to_dict()`` as for ``grad()``."""

    explanation: HessianExplanation
    report: Report

    @property
    def variables(self) -> list[str]:
        return list(self.explanation.variables)

    @property
    def value(self) -> float:
        return self.explanation.result.value

    @property
    def gradient(self) -> list[float]:
        return list(self.explanation.result.gradient)

    @property
    def hessian(self) -> list[list[float]]:
        return [list(row) for row in self.explanation.result.hessian]

    @property
    def eigenvalues(self) -> list[float]:
        return list(self.explanation.eigenvalues)

    @property
    def checks_agree(self) -> bool | None:
        check = self.explanation.check
        return None if check is None else check.ok

    def __repr__(self) -> str:
        return f"HessianResult(variables={self.variables!r}, hessian={self.hessian!r})"


def wanted(wrt: str | Sequence[str] | None) -> list[str] | None:
    """``"a,W[0,1]"`` or ``["a", "W[0,1]"]`` as a list of names (None: every variable)."""
    from backtrace_cli.engine.picks import split_names

    return split_names(wrt)


def hessian_explanation(expression: str, bindings: Mapping[str, Any] | None, *,
                        wrt: str | Sequence[str] | None = None, cross_check: bool = True,
                        check_timeout: float = 5.0) -> HessianExplanation:
    from backtrace_cli.api.values import as_bindings
    from backtrace_cli.checks.timeout import Timeout
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.explain.hessian import explain_hessian
    from backtrace_cli.syntax.parser import parse

    values = as_bindings(bindings)
    timeout = Timeout(check_timeout, "check_timeout").seconds
    tape = compile_program(parse(expression))
    return explain_hessian(tape, values, wanted(wrt), cross_check, timeout)


def hessian(expression: str, bindings: Mapping[str, Any] | None = None, *,
            wrt: str | Sequence[str] | None = None, cross_check: bool = True,
            check_timeout: float = 5.0, explain: bool = False) -> HessianResult:
    """Value, gradient and Hessian of ``expression`` at ``bindings`` by double backprop.

    >>> hessian("x0**3 - 2*x0*x1 - x1**6", {"x0": 1, "x1": 2}).hessian
    [[6.0, -2.0], [-2.0, -480.0]]

    Array variables count element by element (``W[0,1]``, row-major); ``wrt`` picks
    variables (whole arrays or elements); ``cross_check`` runs SymPy and second differences;
    ``explain`` adds the edges behind every entry to the report.
    """
    from backtrace_cli.report.hessian import build

    explanation = hessian_explanation(expression, bindings, wrt=wrt, cross_check=cross_check,
                                      check_timeout=check_timeout)
    return HessianResult(explanation, build(explanation, explain))


@dataclass(frozen=True, eq=False)
class DerivativesResult(Rendered):
    """What ``derivatives()`` found: ``backtrace grad --order K``."""

    explanation: Any  # explain.hessian.OrdersExplanation
    report: Report

    @property
    def derivatives(self) -> list[float]:
        return list(self.explanation.derivatives)

    @property
    def tape_sizes(self) -> list[int]:
        return list(self.explanation.tape_sizes)

    @property
    def checks_agree(self) -> bool | None:
        return None if self.explanation.checks is None else self.explanation.ok


def derivatives_explanation(expression: str, bindings: Mapping[str, Any] | None, order: int, *,
                            wrt: str | Sequence[str] | None = None, cross_check: bool = True,
                            check_timeout: float = 5.0):
    from backtrace_cli.api.values import as_bindings
    from backtrace_cli.checks.timeout import Timeout
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.errors import setting_error
    from backtrace_cli.explain.hessian import explain_orders
    from backtrace_cli.i18n import _
    from backtrace_cli.syntax.parser import parse

    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise setting_error("order", _("order must be a whole number from 1 to {limit}, "
                                       "not {order!r}").format(limit=MAX_ORDER, order=order))
    values = as_bindings(bindings)
    timeout = Timeout(check_timeout, "check_timeout").seconds
    tape = compile_program(parse(expression))
    return explain_orders(tape, values, order, wanted(wrt), cross_check, timeout)


MAX_ORDER = 10


def derivatives(expression: str, bindings: Mapping[str, Any] | None = None, order: int = 2, *,
                wrt: str | Sequence[str] | None = None, cross_check: bool = True,
                check_timeout: float = 5.0) -> DerivativesResult:
    """The derivatives of order 0..``order`` in one variable, each from differentiating the
    previous order's tape.

    >>> derivatives("x**4 - 2*x**2", {"x": 2}, 2).derivatives
    [8.0, 24.0, 44.0]
    """
    from backtrace_cli.report.orders import build

    explanation = derivatives_explanation(expression, bindings, order, wrt=wrt,
                                          cross_check=cross_check, check_timeout=check_timeout)
    return DerivativesResult(explanation, build(explanation))
