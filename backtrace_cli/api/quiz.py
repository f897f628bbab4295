"""``quiz()`` and ``grade()``: worksheets with blanks, and marking a student's own tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.result import Rendered
from backtrace_cli.explain.cells import KINDS
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.explain.grading import Grading
from backtrace_cli.i18n import _
from backtrace_cli.report.model import Report

# How big an answers file may be (a worksheet of a very large program is a few MB).
MAX_ANSWERS_CHARACTERS = 20_000_000


@dataclass(frozen=True, eq=False)
class QuizResult(Rendered):
    """A worksheet: ``render(format)`` gives it in any registered format, ``key`` grad's
    numbers for its blanks in the shape of an answers file (what ``quiz --answers`` writes)."""

    explanation: Explanation
    report: Report
    key: dict
    seed: int | None = None
    level: int | None = None

    @property
    def expression(self) -> str:
        return self.explanation.tape.source

    @property
    def bindings(self) -> dict[str, Any]:
        return dict(self.key["bindings"])

    def __repr__(self) -> str:
        return (f"QuizResult(expression={self.expression!r}, "
                f"blanks={len(self.report.data['blanks'])})")


@dataclass(frozen=True, eq=False)
class GradeResult(Rendered):
    """The marks: ``score``, ``first_wrong`` and ``passed`` (nothing wrong or carried)."""

    grading: Grading
    report: Report

    @property
    def score(self) -> dict[str, int]:
        return self.grading.score

    @property
    def first_wrong(self) -> str | None:
        first = self.grading.first_wrong
        return None if first is None else first.cell.key

    @property
    def passed(self) -> bool:
        return self.grading.passed

    def __repr__(self) -> str:
        return f"GradeResult(score={self.score!r}, first_wrong={self.first_wrong!r})"


def blank_kinds(blank: str | Sequence[str] | None) -> tuple[str, ...]:
    """The kinds of cells to blank: a comma-separated string or a list of KINDS."""
    from backtrace_cli.errors import did_you_mean, setting_error

    if blank is None:
        return KINDS
    names = blank.split(",") if isinstance(blank, str) else list(blank)
    chosen = []
    for name in (str(item).strip() for item in names):
        if not name:  # "forward,,local" or a trailing comma
            continue
        if name not in KINDS:
            raise setting_error("blank", _("blank names '{name}', which is not a kind of cell "
                                           "({kinds})").format(name=name, kinds=", ".join(KINDS)),
                                did_you_mean(name, KINDS) or _("e.g. {example}").format(
                                    example="forward,gradient"))
        chosen.append(name)
    if not chosen:
        raise setting_error("blank", _("blank names no kind of cell"),
                            _("give one or more of {kinds}").format(kinds=", ".join(KINDS)))
    return tuple(kind for kind in KINDS if kind in chosen)


def quiz(expression: str | None = None, bindings: Mapping[str, Any] | None = None, *,
         random: bool = False, level: int = 1, seed: int | None = None,
         blank: str | Sequence[str] | None = None, dz: Any = 1.0,
         include_key: bool = False, worksheet: str = "worksheet.md") -> QuizResult:
    """A worksheet of ``expression`` at ``bindings`` (or, with ``random``, of a program drawn
    at ``level`` 1-3 from ``seed``, default 1) with the cells of ``blank`` left to fill in
    (forward, local, product, gradient; default all). ``dz`` is the seed dL/d(output);
    ``include_key`` puts the key in the worksheet's JSON too (``quiz --answers``);
    ``worksheet`` names the filled-in file in the instruction's grade command.

    >>> quiz("x*w", {"x": 2, "w": 3}, blank="gradient").key["gradients"]
    {'x': 3.0, 'w': 2.0}
    """
    from backtrace_cli.errors import UsageError, setting_error
    from backtrace_cli.explain.exercises import exercise
    from backtrace_cli.report.quiz import build, key_document

    kinds = blank_kinds(blank)
    if random:
        if expression is not None or bindings:
            raise UsageError(_("give an expression or random, not both"),
                             _("random draws the program and its values itself"))
        drawn = exercise(level, 1 if seed is None else seed)
        expression, bindings, seed = drawn.source, drawn.bindings, drawn.seed
    else:
        if expression is None:
            raise UsageError(_("give an expression, or random to draw one"),
                             _("e.g. {example}").format(example="quiz('x*w', {'x': 2, 'w': 3})"))
        if seed is not None:
            raise setting_error("seed", _("seed draws a random program; it needs random"))
        level = None
    explanation = _explained(expression, bindings, dz)
    report = build(explanation, kinds, seed=seed if random else None,
                   level=level if random else None, with_key=include_key,
                   worksheet=worksheet)
    key = key_document(explanation, kinds, seed=seed if random else None,
                       level=level if random else None)
    return QuizResult(explanation, report, key, seed if random else None,
                      level if random else None)


def _explained(expression: str, bindings, dz) -> Explanation:
    """grad's explanation of the program from ``dz`` = dL/d(output)."""
    from backtrace_cli.api.grad import explanation_of

    return explanation_of(expression, bindings, dz=dz, cross_check=False)


def read_answers_file(path: str):
    """The answers in a file (``-``: standard input): JSON, or a filled-in worksheet."""
    from backtrace_cli.data.answers import read_answers
    from backtrace_cli.files import read_text

    text = read_text(path, _("cannot read {path}").format(path=path), MAX_ANSWERS_CHARACTERS,
                     _("the answers file is JSON or a filled-in worksheet (quiz --format "
                       "markdown)"))
    if len(text) > MAX_ANSWERS_CHARACTERS:
        from backtrace_cli.errors import DataError

        raise DataError(_("the file is larger than {limit:,} characters").format(
            limit=MAX_ANSWERS_CHARACTERS), path)
    return read_answers(text, path)


def grade(expression: str, bindings: Mapping[str, Any] | None = None, *,
          answers: str | Mapping[str, Any], dz: Any = None, **renamed: Any) -> GradeResult:
    """Mark ``answers`` against grad's numbers for ``expression`` at ``bindings``.

    ``answers`` is a path (a JSON file or a filled-in Markdown worksheet) or a mapping with
    the sections of an answers file: ``forward``, ``local``, ``product``, ``gradients``.
    ``dz`` is dL/d(output) (default 1), as ``grad``'s and ``quiz``'s: a key of ``quiz``
    holds the ``dz`` to grade it with (``seed=``, the old name of ``dz``, still works with a
    DeprecationWarning; ``quiz``'s own ``seed`` draws a random program and is not this).

    >>> grade("x*w", {"x": 2, "w": 3}, answers={"gradients": {"x": 3, "w": 3}}).score
    {'right': 1, 'close': 0, 'wrong': 1, 'carried': 0, 'missing': 0, 'total': 2}
    """
    import json

    from backtrace_cli.api.grad import explanation_of
    from backtrace_cli.api.values import dz_given
    from backtrace_cli.data.answers import read_json
    from backtrace_cli.errors import UsageError
    from backtrace_cli.explain.grading import grade as mark
    from backtrace_cli.report.grade import build

    dz = dz_given(dz, renamed, "grade")
    if isinstance(answers, str):
        read = read_answers_file(answers)
    elif isinstance(answers, Mapping):
        try:
            text = json.dumps(answers, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise UsageError(_("answers: not JSON data ({problem})").format(
                problem=error)) from None
        read = read_json(text)
    else:
        raise UsageError(_("answers must be a path or a mapping of sections"),
                         _("e.g. {example}").format(example='{"gradients": {"x": -2}}'))
    explanation = explanation_of(expression, bindings, dz=dz, cross_check=False)
    grading = mark(explanation, read)
    return GradeResult(grading, build(grading))
