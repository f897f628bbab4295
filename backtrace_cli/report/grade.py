"""The report of ``backtrace grade``: every given cell marked, the first mistake written out.

The summary says the score and names the first wrong cell in the order the sweeps compute
them, with grad's computation of it from the right values (``dloss/dr = 2·r^(2-1) =
2·(-1)^(2-1) = -2, you wrote 2``); the table lists each cell with the student's value, grad's
and the verdict. ``data`` is the JSON document (docs/schema/grade.json).
"""

from __future__ import annotations

from backtrace_cli.engine.nodes import CONST
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.explain.cells import KIND_NAMES
from backtrace_cli.explain.grading import VERDICTS, Grading, Mark
from backtrace_cli.i18n import N_, _, ngettext, translated
from backtrace_cli.ops.table import PREC_ATOM, PREC_UNARY
from backtrace_cli.report.grad_text import chain_rule_line, reference, seed_line
from backtrace_cli.report.model import Column, Lines, Report, Table, Text, joined
from backtrace_cli.report.notation import math_number
from backtrace_cli.report.quiz import kind_text, meaning
from backtrace_cli.report.text import number, one_line
from backtrace_cli.syntax.parser import apply_text

TONES = {"right": "good", "close": "good", "wrong": "bad", "carried": "dim", "missing": "dim"}
# How a verdict is shown to people (the JSON keeps the English word).
VERDICT_NAMES = {"right": N_("right"), "close": N_("close"), "wrong": N_("wrong"),
                 "carried": N_("carried"), "missing": N_("missing")}


def document(grading: Grading) -> dict:
    """``backtrace grade --format json``."""
    first = grading.first_wrong
    return {
        "expression": grading.explanation.tape.source,
        "cells": [{"kind": mark.cell.kind, "key": mark.cell.key,
                   "given": None if mark.given is None else plain(mark.given),
                   "expected": plain(mark.cell.expected), "verdict": mark.verdict}
                  for mark in grading.marks],
        "first_wrong": None if first is None else first.cell.key,
        "first_wrong_kind": None if first is None else first.cell.kind,
        "computation": None if first is None else computation(grading, first),
        "score": grading.score,
    }


def _operand(value) -> tuple[str, int]:
    text = number(value)
    return text, PREC_UNARY if text.startswith("-") else PREC_ATOM


def _in_formula(value) -> str:
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def computation(grading: Grading, mark: Mark) -> str:
    """The right computation of a cell, from grad's values, and what the student wrote
    (English: the JSON keeps it; ``shown_computation`` is the reader's language)."""
    return _computation(grading, mark, ", you wrote {given}",
                        "(no path leads from {name} to the output)")


def shown_computation(grading: Grading, mark: Mark) -> str:
    """``computation`` in the reader's language."""
    return _computation(grading, mark, _(", you wrote {given}"),
                        _("(no path leads from {name} to the output)"))


def _computation(grading: Grading, mark: Mark, wrote_template: str, no_path: str) -> str:
    explanation = grading.explanation
    cell = mark.cell
    tape = explanation.tape
    labels = explanation.labels
    loss = explanation.loss_label
    wrote = wrote_template.format(given=number(mark.given))
    if cell.kind == "forward":
        node = tape.nodes[cell.node]
        values = apply_text(node.op, [_operand(explanation.values[j]) for j in node.inputs])
        return f"{labels[cell.node]} = {node.text} = {values} = {number(cell.expected)}{wrote}"
    if cell.kind == "gradient":
        rule = next((r for r in explanation.chain_rules if r.target == cell.node), None)
        if rule is not None:
            return chain_rule_line(explanation, rule) + wrote
        if cell.node == tape.output:
            return seed_line(explanation) + wrote
        return f"d{loss}/d{cell.key} = 0 {no_path.format(name=cell.key)}{wrote}"
    edge = explanation.edges[cell.edge]
    node = tape.nodes[edge.node]
    local_symbol = f"d{labels[edge.node]}/d{labels[edge.input]}"
    if cell.kind == "local":
        template = node.op.derivative_text[0 if node.op.variadic else cell.position]
        if node.op.derivative_text_for is not None and explanation.arrays:
            shapes = tuple(explanation.shapes[j] for j in node.inputs)
            template = node.op.derivative_text_for(cell.position, shapes)
        names = {"out": labels[edge.node], "position": cell.position}
        values = {"out": _in_formula(explanation.values[edge.node]), "position": cell.position}
        for key, j in zip("ab", node.inputs):
            names[key] = reference(explanation, j)
            constant = tape.nodes[j].kind == CONST
            values[key] = tape.nodes[j].text if constant else _in_formula(explanation.values[j])
        rule, substituted = template.format(**names), template.format(**values)
        steps = [rule] + ([substituted] if substituted != rule else [])
        return f"{local_symbol} = {' = '.join(steps)} = {number(cell.expected)}{wrote}"
    upstream = f"d{loss}/d{labels[edge.node]}"
    return (f"{upstream} · {local_symbol} = {_in_formula(edge.upstream)} · "
            f"{_in_formula(edge.local)} = {number(cell.expected)}{wrote}")


def _value_cell(value) -> Text:
    if value is None:
        return Text("–")
    return Text(number(value), math_number(value))


def build(grading: Grading) -> Report:
    explanation = grading.explanation
    bindings = ", ".join(f"{name} = {number(value)}"
                         for name, value in explanation.bindings.items())
    source = one_line(explanation.tape.source)
    score = grading.score
    counted = _(", ").join(_("{count} {verdict}").format(
        count=score[verdict], verdict=translated(VERDICT_NAMES[verdict])) for verdict in VERDICTS)
    first = grading.first_wrong
    lines = [Text(_("Score: {right} of {total} cells right ({counted}).").format(
        right=score["right"] + score["close"], total=score["total"], counted=counted))]
    if first is not None:
        lines.append(joined(_("First mistake, {kind} {key}: ").format(
                                kind=translated(KIND_NAMES[first.cell.kind]),
                                key=first.cell.key),
                            Text(shown_computation(grading, first), code=True), tone="bad"))
        carried = score["carried"]
        if carried:
            lines.append(Text(ngettext(
                "{count} later cell follows from earlier mistakes (carried): right for the "
                "values written upstream.",
                "{count} later cells follow from earlier mistakes (carried): right for the "
                "values written upstream.", carried).format(count=carried)))
    elif score["carried"]:  # a carried cell whose upstream mistake was not itself graded
        lines.append(Text(_("No cell is wrong on its own; the carried cells follow from "
                            "upstream values that were not graded."), tone="bad"))
    else:
        lines.append(Text(_("No mistakes."), tone="good"))
    rows = tuple((kind_text(mark.cell.kind), Text(mark.cell.key),
                  meaning(explanation, mark.cell), _value_cell(mark.given),
                  _value_cell(mark.cell.expected),
                  Text(translated(VERDICT_NAMES[mark.verdict]), tone=TONES[mark.verdict]))
                 for mark in grading.marks)
    table = Table(
        title=Text(_("Cells, in the order the sweeps compute them")),
        columns=(Column(Text(_("kind"))), Column(Text(_("cell"))), Column(Text(_("meaning"))),
                 Column(Text(_("given")), "right"), Column(Text(_("expected")), "right"),
                 Column(Text(_("verdict")))),
        rows=rows,
        empty=Text(_("the answers give no cell.")),
        key="cells",
    )
    return Report(
        command="grade",
        title=Text(f"backtrace grade: {source}" + (_("  with {bindings}").format(
            bindings=bindings) if bindings else "")),
        sections=(Lines(title=Text(_("Grade")), lines=tuple(lines), key="summary", indent=""),
                  table),
        data=document(grading),
    )
