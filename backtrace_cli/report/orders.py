"""The report of ``backtrace grad --order K`` (K >= 2): the derivatives of order 0..K in one
variable, each from the reverse sweep of the previous order's tape written out as ops, with
the size of every tape and SymPy's value of each; ``data`` is the JSON document."""

from __future__ import annotations

from backtrace_cli.engine.higher import derivative_label
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.explain.hessian import OrdersExplanation
from backtrace_cli.i18n import _
from backtrace_cli.report.hessian import shown_note
from backtrace_cli.report.model import Column, Report, Table, Text, text
from backtrace_cli.report.notation import math_name, math_number
from backtrace_cli.report.text import approx, number, one_line


def derivative_name(order: int, variable: str) -> Text:
    """L, dL/dx, d²L/dx² ... with their LaTeX forms."""
    x = math_name(variable)
    label = derivative_label(order, variable)
    if order == 0:
        return Text(label, "L")
    if order == 1:
        return Text(label, f"\\frac{{d L}}{{d {x}}}")
    return Text(label, f"\\frac{{d^{{{order}}} L}}{{d {x}^{{{order}}}}}")


def _status(check) -> str:
    return "–" if check is None or check.ok is None else ("✓" if check.ok else "✗")


def document(explanation: OrdersExplanation) -> dict:
    check = None
    if explanation.checks is not None:
        statuses = [c.ok for c in explanation.checks]
        check = {
            "ok": explanation.ok,
            "status": "disagree" if False in statuses else "ok",
            "sympy_note": explanation.sympy_note,
            "orders": [{"order": c.order, "value": c.value, "sympy": c.sympy_value,
                        "ok": c.ok, "note": c.note} for c in explanation.checks],
        }
    return {
        "expression": explanation.source,
        "bindings": {name: plain(value) for name, value in explanation.bindings.items()},
        "variable": explanation.variable,
        "order": len(explanation.derivatives) - 1,
        "derivatives": list(explanation.derivatives),
        "tape_sizes": list(explanation.tape_sizes),
        "check": check,
    }


def build(explanation: OrdersExplanation) -> Report:
    bindings = ", ".join(f"{name} = {number(value)}"
                         for name, value in explanation.bindings.items())
    title = f"backtrace grad: {one_line(explanation.source)}" + (
        _("  with {bindings}").format(bindings=bindings) if bindings else "")
    checks = {c.order: c for c in explanation.checks or ()}
    rows = []
    for order, (value, size) in enumerate(zip(explanation.derivatives, explanation.tape_sizes)):
        check = checks.get(order)
        cells = [text(str(order)), derivative_name(order, explanation.variable),
                 Text(number(value), math_number(value)), text(f"{size:,}")]
        if explanation.checks is not None:
            sympy = "" if order == 0 else ("–" if check is None or check.sympy_value is None
                                           else approx(check.sympy_value))
            mark = "" if order == 0 else _status(check)
            cells += [text(sympy), Text(mark, tone="good" if mark == "✓" else
                                        "bad" if mark == "✗" else None)]
        rows.append(tuple(cells))
    columns = [Column(text(_("order")), "right"), Column(text(_("derivative"))),
               Column(text(_("value")), "right"), Column(text(_("tape nodes")), "right")]
    if explanation.checks is not None:
        columns += [Column(text("SymPy"), "right"), Column(text(_("check")), "center")]
    notes = [text(_("Each order's tape is the reverse sweep of the previous one written out as "
                    "ops of the op table (double backprop), cut to what its output needs."))]
    if explanation.sympy_note:
        notes.append(text(_("SymPy: {note}").format(note=shown_note(explanation.sympy_note))))
    for check in explanation.checks or ():
        if check.note:
            notes.append(text(_("order {order}: {note}").format(order=check.order,
                                                               note=shown_note(check.note))))
    table = Table(title=text(_("Derivatives in {variable}, order 0 to {order}").format(
                      variable=explanation.variable, order=len(explanation.derivatives) - 1)),
                  columns=tuple(columns), rows=tuple(rows), notes=tuple(notes),
                  key="derivatives")
    return Report("grad", Text(title), (table,), document(explanation))
