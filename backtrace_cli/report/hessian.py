"""The report of ``backtrace hessian``: a ``HessianExplanation`` turned once into sections.

Sections, keyed: "gradient" (value and gradient), "hessian" (the matrix), "entries" (how each
entry was obtained, with both cross-checks), "symmetry", "eigenvalues" (definiteness in
words) and, with ``explain``, "edges" (the chain-rule products that add up to each entry).
``data`` is the JSON document (docs/schema/hessian.json).
"""

from __future__ import annotations

from backtrace_cli.checks.second import AT_A_KINK, NOTE_TEMPLATES
from backtrace_cli.explain.hessian import HessianExplanation
from backtrace_cli.i18n import _, from_template, ngettext, translated
from backtrace_cli.report.model import Column, Lines, Report, Table, Text, text
from backtrace_cli.report.notation import math_name, math_number
from backtrace_cli.report.text import approx, number, one_line, plain

CHECK_MARK = {"ok": "✓", "disagree": "✗", "inconclusive": "?", "skipped": "–"}
TONE = {"ok": "good", "disagree": "bad"}


def second_partial(row: str, column: str) -> Text:
    """d²L/dx0dx1 (d²L/dx0² on the diagonal), with its LaTeX fraction."""
    if row == column:
        return Text(f"d²L/d{row}²", f"\\frac{{\\partial^2 L}}{{\\partial {math_name(row)}^2}}")
    return Text(f"d²L/d{row}d{column}",
                f"\\frac{{\\partial^2 L}}{{\\partial {math_name(row)}\\,"
                f"\\partial {math_name(column)}}}")


def shown_note(note: str | None) -> str | None:
    """A cross-check's note (English in the JSON) in the reader's language."""
    prefix = AT_A_KINK.split("{")[0]
    if note and note.startswith(prefix):  # the kink's own note is a message too
        from backtrace_cli.report.grad_text import kink_note_text

        return translated(AT_A_KINK).format(note=kink_note_text(note[len(prefix):]))
    return from_template(note, NOTE_TEMPLATES)


def _value(value) -> Text:
    return Text(number(value), math_number(value))


def _reference(value) -> str:
    return "–" if value is None else approx(value)


def document(explanation: HessianExplanation) -> dict:
    """``backtrace hessian --format json``."""
    result = explanation.result
    names = list(result.variables)
    n = len(names)
    entries = []
    for i in range(n):
        for j in range(n):
            entries.append({"row": names[i], "column": names[j],
                            "value": result.hessian[i][j], "sweep": i + 1,
                            "edges": len(explanation.edges(i, j))})
    check = explanation.check
    check_data = None
    if check is not None:
        check_data = {
            "ok": check.ok, "status": check.status, "sympy_note": check.sympy_note,
            "entries": [{"row": e.row, "column": e.column, "sympy": e.sympy_value,
                         "sympy_ok": e.sympy_ok, "numeric": e.numeric_value,
                         "numeric_status": e.numeric_status, "status": e.status,
                         "note": e.sympy_note or e.numeric_note or e.kink_note}
                        for row in check.entries for e in row],
        }
    return {
        "expression": explanation.source,
        "bindings": {name: plain(value) for name, value in explanation.bindings.items()},
        "variables": names,
        "output": result.value,
        "gradient": list(result.gradient),
        "hessian": [list(row) for row in result.hessian],
        "eigenvalues": list(explanation.eigenvalues),
        "definiteness": explanation.definiteness,
        "meaning": explanation.meaning,
        "symmetric": explanation.symmetric,
        "asymmetry": explanation.asymmetry,
        "tape_sizes": {"program": explanation.scalar_size,
                       "gradient": explanation.gradient_size},
        "entries": entries,
        "check": check_data,
    }


def build(explanation: HessianExplanation, explain: bool = False) -> Report:
    bindings = ", ".join(f"{name} = {number(value)}"
                         for name, value in explanation.bindings.items())
    title = f"backtrace hessian: {one_line(explanation.source)}" + (
        _("  with {bindings}").format(bindings=bindings) if bindings else "")
    sections = [gradient_section(explanation), hessian_section(explanation),
                entries_section(explanation), symmetry_section(explanation),
                eigenvalues_section(explanation)]
    if explain:
        sections.append(edges_section(explanation))
    return Report("hessian", Text(title), tuple(sections), document(explanation))


def gradient_section(explanation: HessianExplanation) -> Table:
    result = explanation.result
    rows = tuple((Text(name, math_name(name), code=True), _value(value))
                 for name, value in zip(result.variables, result.gradient))
    return Table(
        title=text(_("Gradient")),
        columns=(Column(text(_("variable"))), Column(Text(_("dL/d(variable)"), r"\partial L / "
                                                        r"\partial \mathrm{variable}"),
                                                   "right")),
        rows=rows,
        before=(Text(_("output L = {value}").format(value=number(result.value)),
                     f"L = {math_number(result.value)}"),),
        empty=text(_("the expression has no variables")),
        key="gradient",
    )


def hessian_section(explanation: HessianExplanation) -> Table:
    result = explanation.result
    names = result.variables
    columns = (Column(text("")),) + tuple(
        Column(Text(name, math_name(name), code=True), "right") for name in names)
    rows = tuple((Text(name, math_name(name), code=True),
                  *(_value(value) for value in row)) for name, row in zip(names, result.hessian))
    return Table(
        title=Text(_("Hessian d²L/(d row d column)"),
                   r"\text{Hessian } \partial^2 L / \partial\,\mathrm{row}\,"
                   r"\partial\,\mathrm{column}"),
        columns=columns, rows=rows, empty=text(_("the expression has no variables")),
        key="hessian",
    )


def entries_section(explanation: HessianExplanation) -> Table:
    result = explanation.result
    names = result.variables
    n = len(names)
    check = explanation.check
    rows = []
    for i in range(n):
        for j in range(n):
            edges = explanation.edges(i, j)
            count = ngettext("{count} edge", "{count} edges", len(edges)).format(
                count=len(edges))
            how = (_("sweep {sweep} of {n}: back from dL/d{row}; {count} into {column}")
                   if edges else
                   _("sweep {sweep} of {n}: no path from dL/d{row} to {column}")).format(
                sweep=i + 1, n=n, row=names[i], count=count, column=names[j])
            cells = [second_partial(names[i], names[j]), _value(result.hessian[i][j]),
                     text(how)]
            if check is not None:
                entry = check.entries[i][j]
                cells += [text(_reference(entry.sympy_value)),
                          text(_reference(entry.numeric_value)),
                          Text(CHECK_MARK[entry.status], tone=TONE.get(entry.status))]
            rows.append(tuple(cells))
    columns = [Column(text(_("entry"))), Column(text(_("value")), "right"),
               Column(text(_("how it was obtained")))]
    if check is not None:
        columns += [Column(text("SymPy"), "right"), Column(text(_("finite diff.")), "right"),
                    Column(text(_("check")), "center")]
    notes = [text(_("The gradient's tape has {size} nodes: the program's {program} and its "
                    "reverse sweep written out as ops. It is evaluated once, then swept back "
                    "once per row.").format(size=f"{explanation.gradient_size:,}",
                                            program=f"{explanation.scalar_size:,}"))]
    if check is not None:
        if check.sympy_note:
            notes.append(text(_("SymPy: {note}").format(
                note=shown_note(check.sympy_note))))
        seen = set()
        for row in check.entries:
            for entry in row:
                note = entry.numeric_note or entry.sympy_note
                if note and note not in seen:
                    seen.add(note)
                    notes.append(text(f"{entry.row}, {entry.column}: "
                                      f"{shown_note(note)}"))
        if check.interrupted:
            notes.append(text(_("The cross-checks were cut short (Ctrl-C).")))
    return Table(title=text(_("How each entry was obtained")), columns=tuple(columns),
                 rows=tuple(rows), notes=tuple(notes), empty=text(_("no entries")),
                 key="entries")


def symmetry_section(explanation: HessianExplanation) -> Lines:
    if explanation.symmetric:
        line = _("symmetric: d²L/dadb = d²L/dbda for every pair (largest difference "
                 "{difference})")
    else:
        line = _("not symmetric: the largest difference between d²L/dadb and d²L/dbda is "
                 "{difference} (a kink convention can do this: relu, abs, min, max)")
    line = line.format(difference=f"{explanation.asymmetry:.3g}")
    return Lines(text(_("Symmetry")), (text(line),), key="symmetry")


def eigenvalues_section(explanation: HessianExplanation) -> Lines:
    values = ", ".join(number(value) for value in explanation.eigenvalues) or _("none")
    return Lines(text(_("Eigenvalues")), (
        text(_("eigenvalues: {values}").format(values=values)),
        text(f"{translated(explanation.definiteness)}: {translated(explanation.meaning)}"),
    ), key="eigenvalues")


def edges_section(explanation: HessianExplanation) -> Table:
    """Every edge of every row's sweep that ends at a variable: the terms of each entry."""
    result = explanation.result
    tape = result.derived.tape
    names = result.variables
    rows = []
    for i in range(len(names)):
        for j in range(len(names)):
            for edge in explanation.edges(i, j):
                node = tape.nodes[edge.node]
                label = node.name or node.id
                rows.append((second_partial(names[i], names[j]),
                             Text(f"{label} = {one_line(node.text, 40)} → {names[j]}",
                                  code=True),
                             _value(edge.upstream), _value(edge.local), _value(edge.product)))
    return Table(
        title=text(_("The edges into each variable (their products add up to the entry)")),
        columns=(Column(text(_("entry"))), Column(text(_("edge"))),
                 Column(text(_("upstream")), "right"), Column(text(_("local")), "right"),
                 Column(text(_("product")), "right")),
        rows=tuple(rows), empty=text(_("no edge reaches a variable")), key="edges",
    )
