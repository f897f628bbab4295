"""``jacobian()``: every d(output element)/d(input element), as ``backtrace jacobian`` does it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.result import Rendered
from backtrace_cli.api.values import as_bindings
from backtrace_cli.engine.picks import split_names
from backtrace_cli.explain.jacobian import Jacobian
from backtrace_cli.report.model import Report
from backtrace_cli.report.text import plain


@dataclass(frozen=True, eq=False)
class JacobianResult(Rendered):
    """What ``jacobian()`` found; ``to_dict()`` is exactly ``--format json``'s document."""

    explanation: Jacobian
    report: Report

    @property
    def jacobian(self) -> dict[str, Any]:
        """{name: d(output)/d(name)}: a float, or nested lists of shape output + name's."""
        return {name: plain(block) for name, block in self.explanation.blocks.items()}

    @property
    def mode(self) -> str:
        """The mode used: forward or reverse."""
        return self.explanation.mode

    @property
    def checks_agree(self) -> bool | None:
        check = self.explanation.check
        return None if check is None else check.ok

    def __repr__(self) -> str:
        return f"JacobianResult(mode={self.mode!r}, jacobian={self.jacobian!r})"


def jacobian(expression: str, bindings: Mapping[str, Any] | None = None, *,
             wrt: str | Sequence[str] | None = None, mode: str = "auto",
             cross_check: bool = True, check_timeout: float = 5.0) -> JacobianResult:
    """The Jacobian of ``expression``'s output with respect to ``wrt`` (default: every
    variable; named steps allowed), by ``mode`` forward, reverse or auto.

    >>> jacobian("[x*w, x + w]", {"x": 2, "w": 3}).jacobian
    {'x': [3.0, 1.0], 'w': [2.0, 1.0]}
    """
    from backtrace_cli.checks.timeout import Timeout
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.explain.jacobian import explain_jacobian
    from backtrace_cli.report.jacobian import build
    from backtrace_cli.syntax.parser import parse

    values = as_bindings(bindings)
    timeout = Timeout(check_timeout, "check_timeout").seconds
    tape = compile_program(parse(expression))
    explained = explain_jacobian(tape, values, split_names(wrt), mode, cross_check, timeout)
    return JacobianResult(explained, build(explained))
