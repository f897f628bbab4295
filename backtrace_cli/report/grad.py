"""The report of ``backtrace grad``: an ``Explanation`` turned once into sections.

Four sections, keyed "forward" (the evaluation trace), "backward" (one row per edge of the
reverse sweep), "chain_rule" (every named node's sum written out) and "gradients" (with the
cross-checks). Every cell carries its plain form and, where it is a formula, its LaTeX math;
``data`` is the JSON document. Sections are built on first use, so a huge graph written as
JSON only pays for its JSON.
"""

from __future__ import annotations

from backtrace_cli.engine.tape import CONST
from backtrace_cli.engine.values import is_array
from backtrace_cli.explain.gradient import ChainRule, Explanation
from backtrace_cli.i18n import N_, _, translated
from backtrace_cli.ops.table import shape_text
from backtrace_cli.report import graph, steps
from backtrace_cli.report.grad_json import grad_json_text
from backtrace_cli.report.grad_text import (
    CHAIN_TERMS,
    CHECK_MARK,
    chain_rule_line,
    check_cells,
    check_notes,
    input_ids,
    no_edges_note,
    rule_text,
    seed_line,
    shape_cell,
)
from backtrace_cli.report.model import (
    Column,
    Lazy,
    LazyData,
    Lines,
    Report,
    Table,
    Text,
    joined,
)
from backtrace_cli.report.notation import formula_math, math_name, math_number, partial
from backtrace_cli.report.text import approx, number, one_line

NODE = r"\mathrm{node}"
INPUT = r"\mathrm{input}"
VARIABLE = r"\mathrm{variable}"
EMPTY = Text("")
# Indented JSON is for a person reading it; past this many nodes it is written compactly.
JSON_INDENT_NODES = 2_000


def build(explanation: Explanation) -> Report:
    """The gradient report: its sections (built when a writer first reads them) and its JSON."""
    bindings = ", ".join(f"{name} = {number(value)}"
                         for name, value in explanation.bindings.items())
    source = one_line(explanation.tape.source)
    title = f"backtrace grad: {source}" + (_("  with {bindings}").format(bindings=bindings)
                                            if bindings else "")
    return Report(
        command="grad",
        title=Text(title),
        sections=Lazy(lambda: sections(explanation)),
        data=LazyData(lambda: grad_json_text(explanation)),
        json_text=lambda: grad_json_text(explanation),
        compact=len(explanation.tape.nodes) > JSON_INDENT_NODES,
        views={"graph": lambda: graph.build(explanation),
               "steps": lambda: steps.build(explanation)},
    )


def sections(explanation: Explanation) -> tuple[Table | Lines, ...]:
    return (forward_section(explanation), backward_section(explanation),
            chain_rule_section(explanation), gradients_section(explanation))


# ----------------------------------------------------------------------------- cells
def math_label(explanation: Explanation, index: int) -> str:
    """How a node is written in formulas: its label, a constant as its number (or pi)."""
    node = explanation.tape.nodes[index]
    if node.kind == CONST:
        if node.text in ("pi", "e"):
            return r"\pi" if node.text == "pi" else "e"
        return math_number(node.value)
    return math_name(explanation.labels[index])


def value_cell(value) -> Text:
    return Text(number(value), math_number(value))


def label_cell(explanation: Explanation, index: int) -> Text:
    return Text(explanation.labels[index], math_label(explanation, index))


def shape_of(explanation: Explanation, index: int) -> Text:
    shape = explanation.shapes[index] if explanation.shapes is not None else ()
    plain_shape = shape_cell(explanation, index)
    if not shape:
        return Text(plain_shape, r"\text{scalar}")
    return Text(plain_shape, r" \times ".join(str(size) for size in shape))


# A column's derivative, d(loss)/d(a node) or d(loss)/d(a variable): "node" and "variable"
# are words, so they are written in the reader's language (dL/d(节点)).
DERIVATIVE_OF = {"node": N_("d{loss}/dnode"), "variable": N_("d{loss}/dvariable")}


def derivative_cell(loss: str, of: str, of_math: str) -> Text:
    """``dL/dnode`` (``of``: "node" or "variable") with its fraction."""
    return Text(translated(DERIVATIVE_OF[of]).format(loss=loss), partial(math_name(loss), of_math))


def seed_text(explanation: Explanation, aligned: bool = False) -> Text:
    """dL/dz = 5 (the seed, --dz), or dz/dz = 1, with its equation."""
    output = math_label(explanation, explanation.tape.output)
    equals = "&=" if aligned else "="
    if explanation.loss_label == explanation.labels[explanation.tape.output]:
        equation = f"{partial(output, output)} {equals} 1"
    else:
        loss = math_name(explanation.loss_label)
        equation = f"{partial(loss, output)} {equals} {math_number(explanation.seed)}"
    line = seed_line(explanation)
    if aligned:
        return Text(line, equation, code=True)
    if explanation.loss_label != explanation.labels[explanation.tape.output]:
        said = _(" (the seed, --dz)")
        before, flag, after = said.partition("--dz")
        return joined(Text(line[: len(line) - len(said)], equation), before,
                      Text(flag, code=True), after)
    return Text(line, equation)


# ----------------------------------------------------------------------------- sections
def forward_section(explanation: Explanation) -> Table:
    tape = explanation.tape
    labels = explanation.labels
    values = explanation.values
    arrays = explanation.shapes is not None
    columns = [Column(Text(_("id"))), Column(Text(_("name"))), Column(Text(_("op"))),
               Column(Text(_("inputs"))), Column(Text(_("expression")))]
    columns += [Column(Text(_("shape")))] if arrays else []
    columns.append(Column(Text(_("value")), "right"))
    rows = []
    for node in tape.nodes:
        i = node.index
        named = node.name is not None or i == tape.output
        inputs = input_ids(explanation, i)
        row = [
            Text(node.id, math_name(node.id)),
            label_cell(explanation, i) if named else EMPTY,
            Text(node.op_name, r"\mathtt{" + node.op_name + "}"),
            Text(inputs, ", ".join(math_name(tape.nodes[j].id) for j in node.inputs)
                 if inputs else None),
            Text(node.text, code=True),
        ]
        row += [shape_of(explanation, i)] if arrays else []
        row.append(value_cell(values[i]))
        rows.append(tuple(row))
    output = tape.output
    result = f"{labels[output]} = {number(explanation.output)}"
    result_math = f"{math_label(explanation, output)} = {math_number(explanation.output)}"
    return Table(
        title=joined(_("Forward pass"), ": ", Text(one_line(tape.source), code=True)),
        columns=tuple(columns),
        rows=tuple(rows),
        after=(joined(_("output "), Text(result, result_math)),),
        key="forward",
    )


def local_cell(explanation: Explanation, node: int, input_: int,
               position: int | None = None) -> Text:
    """dz/dx = w: the local derivative's symbol and formula (``position``: which of the
    node's inputs, where one input is used twice, as in x/x)."""
    labels = explanation.labels
    rule = rule_text(explanation, node, input_, position, human=True)
    symbol = Text(f"d{labels[node]}/d{labels[input_]}",
                  partial(math_label(explanation, node), math_label(explanation, input_)))
    return joined(symbol, " = ", Text(rule, code=True), code=True)


def backward_section(explanation: Explanation) -> Table:
    tape = explanation.tape
    labels = explanation.labels
    loss = explanation.loss_label
    arrays = explanation.shapes is not None
    columns = [Column(Text(_("node"))), Column(Text(_("input")))]
    columns += [Column(Text(_("shape")))] if arrays else []
    columns += [
        Column(joined(_("upstream "), derivative_cell(loss, "node", NODE)), "right"),
        Column(joined(_("local "), Text(_("dnode/dinput"), partial(r"\,\mathrm{node}", INPUT)))),
        Column(Text(_("local value")), "right"),
        Column(Text(_("product")), "right"),
    ]
    rows = []
    for edge in explanation.edges:
        node_id = tape.nodes[edge.node].id
        label = labels[edge.node]
        node_plain = f"{node_id} {label}" if label != node_id else node_id
        row = [Text(node_plain, math_label(explanation, edge.node)),
               label_cell(explanation, edge.input)]
        row += [shape_of(explanation, edge.input)] if arrays else []
        row += [value_cell(edge.upstream),
                local_cell(explanation, edge.node, edge.input, edge.position),
                value_cell(edge.local), value_cell(edge.product)]
        rows.append(tuple(row))
    return Table(
        title=joined(_("Backward pass"), _(": seed "), seed_text(explanation)),
        columns=tuple(columns),
        rows=tuple(rows),
        empty=Text(no_edges_note(explanation)),
        key="backward",
    )


def chain_rule_math(explanation: Explanation, rule: ChainRule) -> str:
    r"""dL/dx as a sum over the consumers of x: symbols, then (upstream)(local), then the total.
    For arrays each term is the product that flows back, written as its rule (``W^T u``)."""
    loss = math_name(explanation.loss_label)
    target = math_label(explanation, rule.target)
    terms = list(rule.contributions)
    shown = terms[:CHAIN_TERMS]
    more = len(terms) - len(shown)
    tail = rf" + \cdots \text{{ ({more} more)}}" if more else ""
    if explanation.shapes is None:
        symbols = " + ".join(
            f"{partial(loss, math_label(explanation, t.node))} \\cdot "
            f"{partial(math_label(explanation, t.node), target)}" for t in shown)
        values = " + ".join(f"({math_number(t.upstream)})({math_number(t.local)})"
                            for t in shown)
    else:
        products = []
        for t in shown:
            upstream = partial(loss, math_label(explanation, t.node))
            formula = rule_text(explanation, t.node, rule.target)
            written = formula_math(formula, {"upstream": upstream})
            if "upstream" not in formula or written is None:
                local = written if written is not None else partial(
                    math_label(explanation, t.node), target)
                written = rf"{upstream} \odot \left({local}\right)"
            products.append(written)
        symbols = " + ".join(products)
        values = " + ".join(math_number(t.product) for t in shown)
    return (f"{partial(loss, target)} &= {symbols}{tail} = {values}{tail} = "
            f"{math_number(rule.total)}")


def chain_rule_section(explanation: Explanation) -> Lines:
    lines = [seed_text(explanation, aligned=True)]
    lines += [Text(chain_rule_line(explanation, rule), chain_rule_math(explanation, rule),
                   code=True) for rule in explanation.chain_rules]
    return Lines(title=Text(_("Chain rule")), lines=tuple(lines), equations=True, key="chain_rule")


def gradients_section(explanation: Explanation) -> Table:
    arrays = explanation.shapes is not None
    checked = explanation.check is not None
    columns = [Column(Text(_("variable")))]
    columns += [Column(Text(_("shape")))] if arrays else []
    columns.append(Column(derivative_cell(explanation.loss_label, "variable", VARIABLE),
                          "right"))
    if checked:
        columns += [Column(Text(_("SymPy derivative"))), Column(Text(_("SymPy value")), "right"),
                    Column(Text(_("finite difference")), "right"),
                    Column(Text(_("check")), "center")]
    rows = []
    for name, value in explanation.gradients.items():
        index = explanation.node_of(name)
        row = [Text(name, math_name(name))]
        if arrays and getattr(value, "shape", ()) != explanation.shapes[index]:
            row.append(Text(translated(shape_text(getattr(value, "shape", ())))))  # W[0,1]
        elif arrays:
            row.append(shape_of(explanation, index))
        row.append(value_cell(value))
        if checked:
            row += check_row(explanation, name)
        rows.append(tuple(row))
    return Table(
        title=Text(_("Gradients")),
        columns=tuple(columns),
        rows=tuple(rows),
        notes=tuple(Text(note) for note in check_notes(explanation)),
        empty=Text(_("the expression has no variables.")),
        key="gradients",
    )


def check_row(explanation: Explanation, name: str) -> list[Text]:
    derivative, sympy_value, numeric, verdict = check_cells(explanation, name)
    check = explanation.check.variables[name]
    derivative_cell_ = Text(derivative, code=derivative not in ("", "–"))
    if is_array(check.gradient) and check.sympy_derivative is not None:
        derivative_cell_ = Text(derivative)  # "one per element (--format json)"
    sympy_cell = (Text(sympy_value, math_number(check.sympy_value))
                  if check.sympy_value is not None else Text(sympy_value))
    numeric_cell = Text(numeric)
    if check.numeric_value is not None:
        numeric_cell = Text(numeric, _approx_math(check.numeric_value))
    tone = ("good" if verdict.startswith(CHECK_MARK)
            else "dim" if verdict.startswith("?") else "bad")
    return [derivative_cell_, sympy_cell, numeric_cell, Text(verdict, tone=tone)]


def _approx_math(value) -> str:
    if is_array(value):
        return math_number(value)
    return math_number(float(approx(value)))
