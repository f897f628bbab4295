"""The frozen syntax tree: every node keeps its span in the source (for carets), which does
not take part in equality (two trees of the same text compare equal wherever they came from).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backtrace_cli.errors import Span


@dataclass(frozen=True)
class Number:
    value: float
    span: Span = field(compare=False, default=Span(0, 0))


@dataclass(frozen=True)
class Name:
    """A variable or a constant (``pi``, ``e``), or a name given by an earlier statement."""

    name: str
    span: Span = field(compare=False, default=Span(0, 0))


@dataclass(frozen=True)
class Apply:
    """An op from the table applied to its arguments."""

    op: str
    args: tuple
    span: Span = field(compare=False, default=Span(0, 0))


Expr = Number | Name | Apply


@dataclass(frozen=True)
class Assign:
    name: str
    value: Expr
    span: Span = field(compare=False, default=Span(0, 0))


@dataclass(frozen=True)
class Program:
    """Statements in order; the last one is the output."""

    statements: tuple  # of Assign | Expr
    source: str = field(compare=False, default="")

    @property
    def output(self) -> Expr:
        last = self.statements[-1]
        return last.value if isinstance(last, Assign) else last
