"""Marking a student's own tables against grad's numbers (``backtrace grade``).

Each given cell gets a verdict: ``right`` (exact, or equal to 6 significant digits),
``close`` (within 1e-3 relative: rounding), ``wrong``, ``carried`` (wrong, but right given the
student's own values upstream: the mistake was made earlier) or ``missing`` (a cell of a kind
the answers hold, left out). "Given the student's own values" is computed with the op table's
own functions: the cell is evaluated again, as the sweep evaluates it, from the values the
student wrote for its inputs (grad's value where they wrote none).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.values import all_finite, backend_for, shape_of
from backtrace_cli.errors import DataError
from backtrace_cli.explain.cells import Cell, UnknownKey, cells, resolve
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.i18n import _, translated

VERDICTS = ("right", "close", "wrong", "carried", "missing")
# right: equal when both are written to this many significant digits
SIGNIFICANT = 6
# close: within this relative difference (a value rounded by hand)
CLOSE = 1e-3


@dataclass(frozen=True)
class Answer:
    """One value a student wrote, and where: ``text`` is the key as written (``y_hat/w``);
    ``line`` and ``column`` point at the value in ``path``, ``key_at`` at the key (None when
    not from a file)."""

    kind: str  # one of cells.KINDS
    text: str
    value: Any  # a float, or nested lists for an array
    line: int | None = None
    column: int | None = None
    path: str | None = None
    key_at: tuple[int, int] | None = None  # (line, column) of the key, where it has one


@dataclass(frozen=True)
class Answers:
    """What an answers file holds: the values, and the kinds of cells it answers (a JSON
    file's sections, a worksheet's blanks), whose cells left out are ``missing``."""

    items: tuple[Answer, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Mark:
    cell: Cell
    given: Any  # the student's value (None when missing)
    verdict: str
    recomputed: Any = None  # carried: the cell's value from the student's upstream values


@dataclass(frozen=True)
class Grading:
    explanation: Explanation
    marks: tuple[Mark, ...]  # in sweep order

    @property
    def first_wrong(self) -> Mark | None:
        """The first wrong cell in the order the sweeps compute them: the mistake itself."""
        return next((mark for mark in self.marks if mark.verdict == "wrong"), None)

    @property
    def score(self) -> dict[str, int]:
        counts = {verdict: 0 for verdict in VERDICTS}
        for mark in self.marks:
            counts[mark.verdict] += 1
        return {**counts, "total": len(self.marks)}

    @property
    def passed(self) -> bool:
        """Nothing wrong: right, close or missing only (exit 0)."""
        return not any(mark.verdict in ("wrong", "carried") for mark in self.marks)


def compare(given, expected) -> str:
    """``right``, ``close`` or ``wrong`` for one value (an array: its worst element)."""
    if shape_of(expected) or shape_of(given) or isinstance(given, list):
        import numpy

        given_array = numpy.asarray(given, dtype=numpy.float64)
        expected_array = numpy.asarray(expected, dtype=numpy.float64)
        if given_array.shape != expected_array.shape:
            return "wrong"
        verdicts = [compare(float(g), float(e))
                    for g, e in zip(given_array.ravel(), expected_array.ravel())]
        return next((v for v in ("wrong", "close") if v in verdicts), "right")
    given, expected = float(given), float(expected)
    if given == expected or f"{given:.{SIGNIFICANT}g}" == f"{expected:.{SIGNIFICANT}g}":
        return "right"
    if math.isfinite(expected) and abs(given - expected) <= CLOSE * abs(expected):
        return "close"
    return "wrong"


def grade(explanation: Explanation, answers: Answers) -> Grading:
    """Every cell of the answered kinds, marked (see the module's docstring). A key that
    names no cell, or a cell given twice, is a ``DataError`` at the value's line and column."""
    found = cells(explanation)
    given: dict[tuple[str, str], Any] = {}
    where: dict[tuple[str, str], Answer] = {}
    for answer in answers.items:
        line, column = answer.key_at or (answer.line, answer.column)
        try:
            cell = resolve(explanation, answer.kind, answer.text, found)
        except UnknownKey as error:
            raise DataError(error.message, answer.path, line, column, error.hint) from None
        if (cell.kind, cell.key) in given:
            first = where[(cell.kind, cell.key)]
            from backtrace_cli.explain.cells import KIND_NAMES

            at = _(" (line {line})").format(line=first.line) if first.line is not None else ""
            raise DataError(_("the {kind} cell {key} is given twice, also as "
                              "'{text}'{at}").format(kind=translated(KIND_NAMES[cell.kind]),
                                                     key=cell.key, text=first.text, at=at),
                            answer.path, line, column, _("give each cell one value"))
        given[(cell.kind, cell.key)] = _as_value(answer.value, cell.expected)
        where[(cell.kind, cell.key)] = answer
    student = _Student(explanation, found, given)
    marks = []
    for cell in found:
        if cell.kind not in answers.kinds and (cell.kind, cell.key) not in given:
            continue
        value = given.get((cell.kind, cell.key))
        if value is None:
            marks.append(Mark(cell, None, "missing"))
            continue
        verdict = compare(value, cell.expected)
        recomputed = None
        if verdict == "wrong":
            recomputed = student.recompute(cell)
            if recomputed is not None and compare(value, recomputed) != "wrong":
                verdict = "carried"
            else:
                recomputed = None
        marks.append(Mark(cell, value, verdict, recomputed))
    return Grading(explanation, tuple(marks))


def _as_value(value, expected):
    if shape_of(expected) or isinstance(value, list):
        import numpy

        return numpy.asarray(value, dtype=numpy.float64)
    return float(value)


class _Student:
    """The student's world: their values where they wrote one, grad's elsewhere."""

    def __init__(self, explanation: Explanation, found: Sequence[Cell], given: dict) -> None:
        self.explanation = explanation
        self.found = found
        self.given = given
        self.m = backend_for(explanation.shapes)
        self.edge_cells = {cell.edge: cell for cell in found if cell.kind == "local"}

    def value(self, index: int):
        node = self.explanation.tape.nodes[index]
        return self.given.get(("forward", node.id), self.explanation.values[index])

    def local(self, edge_index: int):
        cell = self.edge_cells[edge_index]
        return self.given.get(("local", cell.key), self.explanation.edges[edge_index].local)

    def product(self, edge_index: int):
        cell = self.edge_cells[edge_index]
        return self.given.get(("product", cell.key), self.explanation.edges[edge_index].product)

    def adjoint(self, index: int):
        """dL/d(node) from the student's products into it, summed in the sweep's order."""
        if index == self.explanation.tape.output:
            return self.explanation.seed
        total = None
        for edge_index, edge in enumerate(self.explanation.edges):
            if edge.input == index:
                product = self.product(edge_index)
                total = product if total is None else total + product
        return 0.0 if total is None else total

    def recompute(self, cell: Cell):
        """The cell from the student's own upstream values, or None when it cannot be
        evaluated there (their value is outside the op's domain)."""
        import numpy

        try:
            with numpy.errstate(all="ignore"):
                value = self._recompute(cell)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return None
        return value if all_finite(value) else None

    def _recompute(self, cell: Cell):
        tape = self.explanation.tape
        if cell.kind == "gradient":
            return self.adjoint(cell.node)
        node = tape.nodes[cell.node]
        args = [self.value(j) for j in node.inputs]
        if cell.kind == "forward":
            return node.op.forward(self.m, *args)
        rule = 0 if node.op.variadic else cell.position
        out = self.value(cell.node)
        if cell.kind == "local":
            return node.op.derivatives[rule](self.m, args, out)
        upstream = self.adjoint(cell.node)
        if not self.explanation.arrays:
            return upstream * self.local(cell.edge)
        if node.op.vjps:  # as the sweep does it (engine.sweeps._array_products)
            return node.op.vjps[rule](self.m, upstream, args, out, cell.position)
        input_index = self.explanation.edges[cell.edge].input
        return self.m.fit(upstream * self.local(cell.edge), self.explanation.shapes[input_index])

