"""The worksheet of ``backtrace quiz``: grad's own tables with chosen cells blank and numbered.

The forward, backward and gradients sections are the ones ``report/grad.py`` builds for the
program (without the cross-checks); each cell of a chosen kind is replaced by its number,
``[3]``, in reading order. An instruction line comes first and an Answers table last, with
room to write each answer; ``backtrace grade`` reads that table back from a filled-in
Markdown worksheet. Where products (or gradients) are blank, the upstream column shows the
symbol dL/dnode instead of its number, which would give the sums away.

The key holds grad's numbers for the blanks, in the shape of an answers file.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence

from backtrace_cli.engine.values import shape_of
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.explain.cells import (
    ANSWER_COLUMNS,
    KIND_NAMES,
    SECTIONS,
    Cell,
    cells,
    worksheet_order,
)
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.i18n import _, ngettext, translated
from backtrace_cli.report.grad import (
    backward_section,
    forward_section,
    gradients_section,
    math_label,
)
from backtrace_cli.report.model import Column, Lines, Report, Table, Text, joined
from backtrace_cli.report.notation import math_name, partial
from backtrace_cli.report.text import number, one_line


def kind_text(kind: str) -> Text:
    """A kind of cell (forward, local, ...) in the reader's language."""
    return Text(translated(KIND_NAMES[kind]))


# An answer cell's room to write (a rule in LaTeX).
ROOM = Text("________", r"\rule{2.5cm}{0.4pt}")


@dataclasses.dataclass(frozen=True)
class Blank:
    number: int
    cell: Cell


def blanks(explanation: Explanation, kinds: Sequence[str]) -> tuple[Blank, ...]:
    """The cells of the chosen kinds, numbered in the worksheet's reading order."""
    ordered = worksheet_order(explanation, cells(explanation))
    chosen = [cell for cell in ordered if cell.kind in kinds]
    return tuple(Blank(number, cell) for number, cell in enumerate(chosen, start=1))


def key_sections(explanation: Explanation, numbered: Sequence[Blank],
                 kinds: Sequence[str]) -> dict:
    """grad's numbers for the blanks, by section: {"forward": {"v3": 1.0}, ...}."""
    sections: dict[str, dict] = {SECTIONS[kind]: {} for kind in kinds}
    for blank in numbered:
        sections[SECTIONS[blank.cell.kind]][blank.cell.key] = plain(blank.cell.expected)
    return sections


def bindings_data(explanation: Explanation) -> dict:
    return {name: plain(value) for name, value in explanation.bindings.items()}


def grade_command(explanation: Explanation, answers: str = "worksheet.md") -> str:
    """The command that grades this worksheet, ready to paste into a shell."""
    words = ["backtrace", "grade", explanation.tape.source]
    words += [f"{name}={_binding_text(value)}" for name, value in explanation.bindings.items()]
    if not (shape_of(explanation.seed) == () and float(explanation.seed) == 1.0):
        words += ["--dz", _binding_text(explanation.seed)]
    words += ["--answers", answers]
    return " ".join(shlex.quote(word) for word in words)


def _binding_text(value) -> str:
    """A value as a binding is typed: 2, 0.5, [1, -2], [[1, 2], [3, 4]]."""
    return _data_text(plain(value))


def _data_text(data) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_data_text(item) for item in data) + "]"
    return number(data)


def build(explanation: Explanation, kinds: Sequence[str], *, seed: int | None = None,
          level: int | None = None, with_key: bool = False,
          worksheet: str = "worksheet.md") -> Report:
    """The worksheet of ``explanation`` with the cells of ``kinds`` blank; ``seed`` and
    ``level`` say how a random program was drawn; ``with_key`` puts the key in the JSON;
    ``worksheet`` is the file the instruction's grade command reads."""
    kinds = tuple(kind for kind in SECTIONS if kind in kinds)
    explanation = dataclasses.replace(explanation, check=None)
    numbered = blanks(explanation, kinds)
    source = one_line(explanation.tape.source)
    shown = ", ".join(f"{name} = {number(value)}" for name, value in explanation.bindings.items())
    document = {
        "expression": explanation.tape.source,
        "bindings": bindings_data(explanation),
        "seed": seed,
        "level": level,
        "dz": plain(explanation.seed),
        "blanks": [{"number": blank.number, "kind": blank.cell.kind, "key": blank.cell.key}
                   for blank in numbered],
        "key": key_sections(explanation, numbered, kinds) if with_key else None,
    }
    return Report(
        command="quiz",
        title=Text(f"backtrace quiz: {source}" + (_("  with {bindings}").format(bindings=shown)
                                                   if shown else "")),
        sections=sections(explanation, numbered, kinds, worksheet),
        data=document,
    )


def sections(explanation: Explanation, numbered: Sequence[Blank], kinds: Sequence[str],
             worksheet: str = "worksheet.md") -> tuple[Table | Lines, ...]:
    by_cell = {(blank.cell.kind, blank.cell.key): blank.number for blank in numbered}
    found = cells(explanation)
    out: list[Table | Lines] = [instructions(explanation, numbered, kinds, worksheet)]
    out.append(_forward(explanation, found, by_cell))
    out.append(_backward(explanation, found, by_cell, kinds))
    out.append(_gradients(explanation, found, by_cell))
    out.append(answers_section(explanation, numbered))
    out.append(grading_section(explanation, worksheet))
    return tuple(out)


def _blank(number_: int) -> Text:
    return Text(f"[{number_}]", tone="strong")


def instructions(explanation: Explanation, numbered: Sequence[Blank], kinds: Sequence[str],
                 worksheet: str = "worksheet.md") -> Lines:
    what = {"forward": _("the forward values"), "local": _("the local derivatives"),
            "product": _("the chain-rule products (upstream · local)"),
            "gradient": _("the gradients (each sums the products flowing into its variable)")}
    asked = [what[kind] for kind in kinds]
    if len(asked) > 1:
        listed = _("{items} and {last}").format(items=_(", ").join(asked[:-1]), last=asked[-1])
    else:
        listed = asked[0] if asked else _("nothing (no kind of cell is blank)")
    count = len(numbered)
    lines = [
        Text(ngettext("Fill in the {count} numbered blank ([1] to [{count}]): {listed}.",
                      "Fill in the {count} numbered blanks ([1] to [{count}]): {listed}.",
                      count).format(count=count, listed=listed) if count else
             _("This program has no cells of the chosen kinds to fill in.")),
        Text(_("Write each answer as an exact decimal (or to 6 significant digits) in the "
               "answer column of the Answers table, or over its blank in the tables.")),
        Text(_("Then grade it with the command below.")),
    ]
    return Lines(title=Text(_("Worksheet")), lines=tuple(lines), key="instructions", indent="")


def grading_section(explanation: Explanation, worksheet: str) -> Table:
    """The command that grades the filled-in worksheet (a table: LaTeX wraps a long one)."""
    return Table(title=Text(_("Grading")), columns=(Column(Text(_("command"))),),
                 rows=((Text(grade_command(explanation, worksheet), code=True),),),
                 cut=False, key="grading")


def _replace_cells(table: Table, column: int, blanks_by_row: dict[int, int]) -> Table:
    rows = []
    for index, row in enumerate(table.rows):
        if index in blanks_by_row:
            row = row[:column] + (_blank(blanks_by_row[index]),) + row[column + 1:]
        rows.append(row)
    return dataclasses.replace(table, rows=tuple(rows))


def _forward(explanation: Explanation, found, by_cell) -> Table:
    table = forward_section(explanation)
    numbers = {}
    for cell in found:
        if cell.kind == "forward" and ("forward", cell.key) in by_cell:
            numbers[cell.node] = by_cell[("forward", cell.key)]
    table = _replace_cells(table, len(table.columns) - 1, numbers)
    output = explanation.tape.output
    if output in numbers:
        label = explanation.labels[output]
        table = dataclasses.replace(table, after=(
            joined(_("output "), Text(f"{label} = [{numbers[output]}]")),))
    return table


def _backward(explanation: Explanation, found, by_cell, kinds) -> Table:
    table = backward_section(explanation)
    width = len(table.columns)
    for kind, column in (("local", width - 2), ("product", width - 1)):
        numbers = {cell.edge: by_cell[(kind, cell.key)] for cell in found
                   if cell.kind == kind and (kind, cell.key) in by_cell}
        table = _replace_cells(table, column, numbers)
    if "product" in kinds or "gradient" in kinds:
        upstream = width - 4
        rows = []
        for edge, row in zip(explanation.edges, table.rows):
            if edge.node != explanation.tape.output:
                label = explanation.labels[edge.node]
                symbol = Text(f"d{explanation.loss_label}/d{label}",
                              partial(math_name(explanation.loss_label),
                                      math_label(explanation, edge.node)))
                row = row[:upstream] + (symbol,) + row[upstream + 1:]
            rows.append(row)
        table = dataclasses.replace(table, rows=tuple(rows))
    return table


def _gradients(explanation: Explanation, found, by_cell) -> Table:
    table = gradients_section(explanation)
    order = {name: index for index, name in enumerate(explanation.gradients)}
    numbers = {order[cell.key]: by_cell[("gradient", cell.key)] for cell in found
               if cell.kind == "gradient" and ("gradient", cell.key) in by_cell}
    return _replace_cells(table, len(table.columns) - 1, numbers)


def meaning(explanation: Explanation, cell: Cell) -> Text:
    """What a blank stands for, in grad's notation: y_hat = x*w, dr/dy_hat, dL/dx."""
    labels = explanation.labels
    loss = explanation.loss_label
    if cell.kind == "forward":
        node = explanation.tape.nodes[cell.node]
        return Text(f"{labels[cell.node]} = {node.text}", code=True)
    if cell.kind == "gradient":
        return Text(f"d{loss}/d{cell.key}", partial(math_name(loss), math_name(cell.key)))
    edge = explanation.edges[cell.edge]
    node, input_ = math_label(explanation, edge.node), math_label(explanation, edge.input)
    local = Text(f"d{labels[edge.node]}/d{labels[edge.input]}", partial(node, input_))
    if cell.kind == "local":
        return local
    upstream = partial(math_name(loss), node)
    return Text(f"d{loss}/d{labels[edge.node]} · {local.plain}",
                f"{upstream} \\cdot {local.math}")


def answers_section(explanation: Explanation, numbered: Sequence[Blank]) -> Table:
    rows = tuple((Text(str(blank.number)), kind_text(blank.cell.kind), Text(blank.cell.key),
                  meaning(explanation, blank.cell), ROOM) for blank in numbered)
    return Table(
        title=Text(_("Answers")),
        columns=(Column(Text("#"), "right"),
                 *(Column(Text(translated(title))) for title in ANSWER_COLUMNS)),
        rows=rows,
        empty=Text(_("nothing to fill in.")),
        cut=False,
        key="answers",
    )


def key_document(explanation: Explanation, kinds: Sequence[str], *, seed: int | None = None,
                 level: int | None = None) -> dict:
    """The key file (``quiz --answers``): the program, and grad's numbers for the blanks in
    the shape of an answers file, so ``grade --answers KEY.json`` marks every cell right."""
    kinds = tuple(kind for kind in SECTIONS if kind in kinds)
    numbered = blanks(explanation, kinds)
    return {"expression": explanation.tape.source, "bindings": bindings_data(explanation),
            "dz": plain(explanation.seed), "level": level, "seed": seed,
            **key_sections(explanation, numbered, kinds)}
