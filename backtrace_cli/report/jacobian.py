"""The report of ``backtrace jacobian``: the mode and why, the output, one table per variable
(rows: output elements, columns: the variable's elements) and the element-by-element checks.
``data`` is the JSON document (docs/schema/jacobian.json)."""

from __future__ import annotations

import json

from backtrace_cli.checks.jacobian import KINK_NOTE, NOTES
from backtrace_cli.explain.jacobian import Jacobian, mode_reason
from backtrace_cli.i18n import _, from_template, translated
from backtrace_cli.ops.table import shape_text
from backtrace_cli.report.forward import cost_document, cost_section
from backtrace_cli.report.grad_json import check_report_document
from backtrace_cli.report.grad_text import CHECK_MARK, CROSS_MARK, kink_note_text
from backtrace_cli.report.model import Column, Lazy, LazyData, Lines, Report, Table, Text
from backtrace_cli.report.notation import math_name, math_number
from backtrace_cli.report.text import approx, number, one_line, plain

# A block's table shows at most this many columns (variable elements); JSON has them all.
COLUMNS_SHOWN = 12


def build(jacobian: Jacobian) -> Report:
    bindings = ", ".join(f"{name} = {number(value)}" for name, value in jacobian.bindings.items())
    source = one_line(jacobian.tape.source)
    title = f"backtrace jacobian: {source}" + (_("  with {bindings}").format(bindings=bindings)
                                              if bindings else "")
    text = json_text(jacobian)
    return Report(command="jacobian", title=Text(title),
                  sections=Lazy(lambda: sections(jacobian)), data=LazyData(lambda: text),
                  json_text=lambda: text)


def output_label(jacobian: Jacobian) -> str:
    return jacobian.labels[jacobian.tape.output]


def element_text(name: str, element: tuple) -> str:
    return f"{name}[{','.join(str(i) for i in element)}]" if element else name


def sections(jacobian: Jacobian) -> tuple:
    output = output_label(jacobian)
    shape = jacobian.output_shape
    reason = mode_reason(jacobian.mode, jacobian.requested, jacobian.cost.inputs,
                         jacobian.cost.outputs)
    mode = Lines(title=Text(_("Mode")), lines=(Text(reason),), key="mode")
    value = Lines(title=Text(_("Output")), lines=(
        Text(f"{output} ({_shape(shape)}) = {number(jacobian.output)}"),), key="output")
    blocks = tuple(block_section(jacobian, name) for name in jacobian.wrt)
    parts = [mode, value, *blocks]
    if jacobian.check is not None:
        parts.append(check_section(jacobian))
    parts.append(cost_section(jacobian.cost))
    return tuple(parts)


def block_section(jacobian: Jacobian, name: str) -> Table:
    """d(output)/d(name): a row per output element, a column per element of ``name``."""
    import numpy

    output = output_label(jacobian)
    out_shape = jacobian.output_shape
    shape = jacobian.shape_of_name(name)
    block = numpy.asarray(jacobian.blocks[name], dtype=float).reshape(
        (max(1, _size(out_shape)), max(1, _size(shape))))
    elements = list(numpy.ndindex(shape)) if shape else [()]
    shown = elements[:COLUMNS_SHOWN]
    columns = [Column(Text(f"d{output}/d{name}"))]
    columns += [Column(Text(element_text(name, e), math_name(element_text(name, e))), "right")
                for e in shown]
    rows = []
    out_elements = list(numpy.ndindex(out_shape)) if out_shape else [()]
    for r, out_element in enumerate(out_elements):
        row = [Text(element_text(output, out_element))]
        row += [Text(number(block[r, c]), math_number(block[r, c])) for c in range(len(shown))]
        rows.append(tuple(row))
    notes = ()
    if len(elements) > len(shown):
        notes = (Text(_("… {count:,} more columns (--format json has every element)").format(
            count=len(elements) - len(shown))),)
    title = Text(f"d{output}/d{name}  ({_shape(out_shape)} × {_shape(shape)})")
    return Table(title=title, columns=tuple(columns), rows=tuple(rows), notes=notes,
                 key=f"jacobian_{name}")


def _shape(shape: tuple) -> str:
    """3x2, or scalar in the reader's language."""
    return shape_text(shape) if shape else _("scalar")


def _size(shape: tuple) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def check_section(jacobian: Jacobian) -> Table:
    report = jacobian.check
    columns = (Column(Text(_("name"))), Column(Text(_("elements")), "right"),
               Column(Text(_("largest |ours - finite difference|")), "right"),
               Column(Text(_("largest |ours - SymPy|")), "right"),
               Column(Text(_("check")), "center"))
    rows = []
    notes = []
    for name, check in report.variables.items():
        size = _size(jacobian.output_shape) * _size(jacobian.shape_of_name(name))
        verdict = {"ok": CHECK_MARK, "inconclusive": "?"}.get(check.status, CROSS_MARK)
        tone = "good" if verdict == CHECK_MARK else "dim" if verdict == "?" else "bad"
        rows.append((Text(name, math_name(name)), Text(f"{size:,}"),
                     Text(_largest(check.gradient, check.numeric_value)),
                     Text(_largest(check.gradient, check.sympy_value)),
                     Text(verdict, tone=tone)))
        for label, note in (("SymPy", check.sympy_note),
                            (_("finite differences"), check.numeric_note)):
            if note:
                notes.append(Text(f"{name}: {label} {note_text(note)}"))
        if check.kink_note:
            notes.append(Text(_("{name}: at a kink, {note}").format(
                name=name, note=kink_note_text(check.kink_note))))
    if report.sympy_note:
        notes.insert(0, Text(_("SymPy check {note}").format(note=note_text(report.sympy_note))))
    if not report.ok:
        failed = [name for name, check in report.variables.items() if not check.ok]
        notes.append(Text(f"{CROSS_MARK} " + _("the checks disagree for: {names}").format(
            names=", ".join(failed))))
    return Table(title=Text(_("Checks, element by element")), columns=columns, rows=tuple(rows),
                 notes=tuple(notes), key="check")


def note_text(note: str) -> str:
    """A check's note (English in the JSON) in the reader's language."""
    kink = KINK_NOTE.split("{")[0]
    if note.startswith(kink):  # the kink's own words are checks.kinks' notes
        return translated(KINK_NOTE).format(kink=kink_note_text(note[len(kink):]))
    return from_template(note, NOTES)


def _largest(ours, reference) -> str:
    if reference is None:
        return "–"
    import numpy

    difference = numpy.max(numpy.abs(numpy.asarray(ours, float) - numpy.asarray(reference,
                                                                                 float)))
    return approx(float(difference))


def document(jacobian: Jacobian) -> dict:
    tape = jacobian.tape
    return {
        "expression": tape.source,
        "bindings": {name: plain(value) for name, value in jacobian.bindings.items()},
        "wrt": list(jacobian.wrt),
        "output_id": tape.nodes[tape.output].id,
        "output_shape": list(jacobian.output_shape),
        "output": plain(jacobian.output),
        "shapes": {name: list(jacobian.shape_of_name(name)) for name in jacobian.nodes},
        "jacobian": {name: plain(block) for name, block in jacobian.blocks.items()},
        "mode": jacobian.mode,
        "requested_mode": jacobian.requested,
        "reason": jacobian.reason,
        "check": check_report_document(jacobian.check),
        "cost": cost_document(jacobian.cost),
    }


def json_text(jacobian: Jacobian) -> str:
    return json.dumps(document(jacobian), ensure_ascii=False)
