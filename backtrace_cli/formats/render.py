"""Rich tables for people; JSON and Markdown writers for scripts and course notes.

Everything here reads an ``Explanation`` (see ``grad.py``) and formats it; nothing here
computes a value. Tables for people are cut to their first and last rows when a graph is
huge (with a note); JSON never is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring as quote

from backtrace_cli.engine.tape import CONST, VAR
from backtrace_cli.explain.gradient import ChainRule, Explanation
from backtrace_cli.report.text import (  # noqa: F401  (re-exported for the writers)
    approx,
    compact_array,
    number,
    one_line,
    plain,
)

# A table for a person shows at most this many rows: the first half and the last half.
HUMAN_ROWS = 60
# A chain-rule sum shows at most this many terms.
CHAIN_TERMS = 8

CHECK_MARK = "✓"
CROSS_MARK = "✗"


# ----------------------------------------------------------------------------- shared text
def shape_cell(explanation: Explanation, index: int) -> str:
    """A node's shape for the shape column: '2x3', '2', or 'scalar'."""
    from backtrace_cli.ops.table import shape_text

    return shape_text(explanation.shapes[index]) if explanation.shapes is not None else ""


def reference(explanation: Explanation, index: int) -> str:
    """A node as a formula mentions it: its label, or a constant's text."""
    node = explanation.tape.nodes[index]
    if node.kind == CONST:
        return node.text
    return explanation.labels[index]


def rule_text(explanation: Explanation, node_index: int, input_index: int) -> str:
    """The local derivative's formula, e.g. 'w' for d(x*w)/dx or 'cos(x)' for d(sin x)/dx."""
    node = explanation.tape.nodes[node_index]
    position = node.inputs.index(input_index)
    names = {"out": explanation.labels[node_index], "position": position}
    for key, j in zip("ab", node.inputs):
        names[key] = reference(explanation, j)
    op = node.op
    template = op.derivative_text[0 if op.variadic else position]
    if op.derivative_text_for is not None and explanation.shapes is not None:
        shapes = tuple(explanation.shapes[j] for j in node.inputs)
        template = op.derivative_text_for(position, shapes)
    return template.format(**names)


def input_ids(explanation: Explanation, index: int) -> str:
    return ", ".join(explanation.tape.nodes[j].id for j in explanation.tape.nodes[index].inputs)


def chain_rule_line(explanation: Explanation, rule: ChainRule) -> str:
    """dL/dx = dL/dz · dz/dx = 5 · 3 = 15 (every contribution, then their sum)."""
    loss = explanation.loss_label
    target = explanation.labels[rule.target]
    terms = list(rule.contributions)
    shown = terms[:CHAIN_TERMS]
    more = len(terms) - len(shown)
    tail = f" + … ({more} more)" if more else ""
    symbols = " + ".join(
        f"d{loss}/d{explanation.labels[t.node]} · d{explanation.labels[t.node]}/d{target}"
        for t in shown
    )
    if explanation.shapes is not None:  # arrays: the products that flow back, summed
        shape = shape_cell(explanation, rule.target)
        values = " + ".join(number(t.product) for t in shown)
        return (f"d{loss}/d{target} ({shape}) = {symbols}{tail} = {values}{tail} = "
                f"{number(rule.total)}")
    values = " + ".join(f"{number(t.upstream)} · {number(t.local)}" for t in shown)
    return f"d{loss}/d{target} = {symbols}{tail} = {values}{tail} = {number(rule.total)}"


def seed_line(explanation: Explanation) -> str:
    output = explanation.labels[explanation.tape.output]
    if explanation.loss_label == output:
        return f"d{output}/d{output} = 1"
    return f"d{explanation.loss_label}/d{output} = {number(explanation.seed)} (the seed, --dz)"


def no_edges_note(explanation: Explanation) -> str:
    """Why the backward pass has no edges: the output is a variable itself, or no variable
    reaches it (then every gradient is 0)."""
    output = explanation.tape.nodes[explanation.tape.output]
    if output.kind == VAR and output.name in explanation.gradients:
        return (f"no edges: the output is the variable {output.name}, "
                f"whose gradient is the seed ({number(explanation.seed)}).")
    return "no variable reaches the output; every gradient is 0."


def _rows_shown(count: int) -> tuple[range, int, range]:
    """Which rows a person sees: all, or the first and last halves around an omission."""
    if count <= HUMAN_ROWS:
        return range(count), 0, range(0)
    half = HUMAN_ROWS // 2
    return range(half), count - 2 * half, range(count - half, count)


def check_cells(explanation: Explanation, name: str) -> tuple[str, str, str, str]:
    """SymPy derivative, SymPy value, finite difference and verdict for one variable."""
    report = explanation.check
    if report is None:
        return "", "", "", ""
    check = report.variables[name]
    derivative = check.sympy_derivative if check.sympy_derivative is not None else "–"
    if getattr(check.gradient, "ndim", 0) > 0 and check.sympy_derivative is not None:
        derivative = "one per element (--format json)"
    if len(derivative) > 60:
        derivative = derivative[:57] + "..."
    sympy_value = number(check.sympy_value) if check.sympy_value is not None else "–"
    numeric = approx(check.numeric_value) if check.numeric_value is not None else "–"
    verdict = {"ok": CHECK_MARK, "inconclusive": "?"}.get(check.status, CROSS_MARK)
    if check.kink_note and check.ok:
        verdict += " (kink)"
    return derivative, sympy_value, numeric, verdict


def check_notes(explanation: Explanation) -> list[str]:
    """Notes under the gradients: skipped checks and kink conventions, one line each."""
    report = explanation.check
    if report is None:
        return []
    notes = []
    if report.sympy_note:
        notes.append(f"SymPy check {report.sympy_note}")
    for name, check in report.variables.items():
        notes_by_check = (("SymPy", check.sympy_note), ("finite differences", check.numeric_note))
        for label, note in notes_by_check:
            if note and not note.startswith("differs at a kink"):
                notes.append(f"{name}: {label} {note}")
        if check.kink_note:
            notes.append(f"{name}: at a kink, {check.kink_note}")
    if not report.ok:
        failed = [name for name, check in report.variables.items() if not check.ok]
        notes.append(f"{CROSS_MARK} the checks disagree for: {', '.join(failed)}")
    return notes


# ----------------------------------------------------------------------------- Rich tables
def print_grad(explanation: Explanation, console) -> None:
    """The four parts of ``backtrace grad`` for a person, on a Rich console."""
    from rich.table import Table
    from rich.text import Text

    tape = explanation.tape
    labels = explanation.labels
    values = explanation.values

    def table(title: str, columns: Iterable[tuple[str, str]]) -> Table:
        result = Table(title=title, title_justify="left", title_style="bold")
        for header, justify in columns:
            result.add_column(header, justify=justify, overflow="fold")
        return result

    def fill(result: Table, count: int, row: Callable[[int], list[str]]) -> None:
        first, omitted, last = _rows_shown(count)
        for i in first:
            result.add_row(*row(i))
        if omitted:
            result.add_row(
                *(["…"] + [f"{omitted:,} rows omitted (--format json shows all)"]
                  + [""] * (len(result.columns) - 2))
            )
        for i in last:
            result.add_row(*row(i))

    # 1. Forward: the evaluation trace.
    arrays = explanation.shapes is not None  # arrays get a shape column
    forward_table = table(
        f"Forward pass: {one_line(tape.source)}",
        [("id", "left"), ("name", "left"), ("op", "left"), ("inputs", "left"),
         ("expression", "left")] + ([("shape", "left")] if arrays else []) + [("value", "right")],
    )

    def forward_row(i: int) -> list[str]:
        node = tape.nodes[i]
        name = labels[i] if (node.name is not None or i == tape.output) else ""
        inputs = input_ids(explanation, i)
        shape = [shape_cell(explanation, i)] if arrays else []
        return [node.id, name, node.op_name, inputs, node.text, *shape, number(values[i])]

    fill(forward_table, len(tape.nodes), forward_row)
    console.print(forward_table)
    console.print(f"output {labels[tape.output]} = {number(explanation.output)}")
    console.print()

    # 2. Backward: one row per edge, in the order of the reverse sweep.
    loss = explanation.loss_label
    edges = explanation.edges
    backward_table = table(
        f"Backward pass: seed {seed_line(explanation)}",
        [("node", "left"), ("input", "left")] + ([("shape", "left")] if arrays else [])
        + [(f"upstream d{loss}/dnode", "right"),
           ("local dnode/dinput", "left"), ("", "right"), ("product", "right")],
    )

    def backward_row(k: int) -> list[str]:
        edge = edges[k]
        shape = [shape_cell(explanation, edge.input)] if arrays else []
        return [
            f"{tape.nodes[edge.node].id} {labels[edge.node]}".strip()
            if labels[edge.node] != tape.nodes[edge.node].id else tape.nodes[edge.node].id,
            labels[edge.input],
            *shape,
            number(edge.upstream),
            f"d{labels[edge.node]}/d{labels[edge.input]} = "
            + rule_text(explanation, edge.node, edge.input),
            f"{number(edge.local)}",
            number(edge.product),
        ]

    fill(backward_table, len(edges), backward_row)
    if not edges:
        console.print(f"Backward pass: {no_edges_note(explanation)}")
    else:
        console.print(backward_table)
    console.print()

    # 3. Chain rule, written out.
    console.print(Text("Chain rule", style="bold"))
    console.print(f"  {seed_line(explanation)}")
    rules = explanation.chain_rules
    first, omitted, last = _rows_shown(len(rules))
    for i in first:
        console.print("  " + chain_rule_line(explanation, rules[i]), soft_wrap=True)
    if omitted:
        console.print(f"  … {omitted:,} more lines (--format json shows every gradient)")
    for i in last:
        console.print("  " + chain_rule_line(explanation, rules[i]), soft_wrap=True)
    console.print()

    # 4. Gradients with their cross-checks.
    checked = explanation.check is not None
    columns = [("variable", "left")] + ([("shape", "left")] if arrays else []) + [
        (f"d{loss}/dvariable", "right")]
    if checked:
        columns += [("SymPy derivative", "left"), ("SymPy value", "right"),
                    ("finite difference", "right"), ("check", "center")]
    gradient_table = table("Gradients", columns)
    names = list(explanation.gradients)

    def gradient_row(i: int) -> list[str]:
        name = names[i]
        shape = [shape_cell(explanation, tape.variable_nodes[name])] if arrays else []
        row = [name, *shape, number(explanation.gradients[name])]
        if checked:
            row += list(check_cells(explanation, name))
        return row

    fill(gradient_table, len(names), gradient_row)
    if names:
        console.print(gradient_table)
    else:
        console.print("Gradients: the expression has no variables.")
    for note in check_notes(explanation):
        console.print(f"  {note}", soft_wrap=True, markup=False)


# ----------------------------------------------------------------------------- JSON
def grad_document(explanation: Explanation) -> dict:
    """The JSON object of CONTRACT.md (and a few extra keys), as plain Python data."""
    return json.loads(_grad_json_text(explanation))


def _grad_json_text(explanation: Explanation) -> str:
    """The JSON object as compact text. The long lists (a row per node, per edge) are written
    row by row with f-strings, several times faster than building a dict per row; floats are
    written by repr, which is valid JSON for the finite values the engine allows."""
    tape = explanation.tape
    nodes = tape.nodes
    values = explanation.values
    ids = [f'"{node.id}"' for node in nodes]
    if explanation.shapes is not None:
        return _array_json_text(explanation)

    def text(value) -> str:
        return quote(value) if value is not None else "null"

    forward = ",".join(
        f'{{"id":{ids[node.index]},"op":"{node.op_name}",'
        f'"inputs":[{",".join([ids[j] for j in node.inputs])}],'
        f'"value":{float(values[node.index])!r},"text":{quote(node.text)},'
        f'"name":{text(node.name)}}}'
        for node in nodes
    )
    backward = ",".join(
        f'{{"node":{ids[e.node]},"input":{ids[e.input]},"upstream":{float(e.upstream)!r},'
        f'"local":{float(e.local)!r},"product":{float(e.product)!r}}}'
        for e in explanation.edges
    )
    chain_rule = ",".join(
        f'{{"node":{ids[rule.target]},"name":{quote(explanation.labels[rule.target])},'
        f'"adjoint":{float(rule.total)!r},"terms":['
        + ",".join(
            f'{{"via":{ids[t.node]},"upstream":{float(t.upstream)!r},'
            f'"local":{float(t.local)!r},"product":{float(t.product)!r}}}'
            for t in rule.contributions
        )
        + "]}"
        for rule in explanation.chain_rules
    )
    small = json.dumps
    parts = [
        f'"expression":{quote(tape.source)}',
        f'"bindings":{small({n: float(v) for n, v in explanation.bindings.items()})}',
        f'"seed":{float(explanation.seed)!r}',
        f'"output":{float(explanation.output)!r}',
        f'"output_id":{ids[tape.output]}',
        f'"forward":[{forward}]',
        f'"backward":[{backward}]',
        f'"gradients":{small(dict(explanation.gradients))}',
        f'"chain_rule":[{chain_rule}]',
        f'"check":{small(check_document(explanation), ensure_ascii=False)}',
    ]
    return "{" + ",".join(parts) + "}"


def _array_json_text(explanation: Explanation) -> str:
    """The JSON object for a program with arrays: the same keys as for scalars, every value a
    number or nested lists, and a ``shape`` on every forward row and per gradient."""
    tape = explanation.tape
    nodes = tape.nodes
    values = explanation.values
    shapes = explanation.shapes

    def edge(e) -> dict:
        return {"node": nodes[e.node].id, "input": nodes[e.input].id, "upstream": plain(e.upstream),
                "local": plain(e.local), "product": plain(e.product),
                "rule": rule_text(explanation, e.node, e.input)}

    document = {
        "expression": tape.source,
        "bindings": {name: plain(value) for name, value in explanation.bindings.items()},
        "seed": plain(explanation.seed),
        "output": plain(explanation.output),
        "output_id": nodes[tape.output].id,
        "forward": [
            {"id": node.id, "op": node.op_name, "inputs": [nodes[j].id for j in node.inputs],
             "value": plain(values[node.index]), "text": node.text, "name": node.name,
             "shape": list(shapes[node.index])}
            for node in nodes
        ],
        "backward": [edge(e) for e in explanation.edges],
        "gradients": {name: plain(value) for name, value in explanation.gradients.items()},
        "shapes": {name: list(shapes[tape.variable_nodes[name]]) for name in tape.variables},
        "chain_rule": [
            {"node": nodes[rule.target].id, "name": explanation.labels[rule.target],
             "adjoint": plain(rule.total),
             "terms": [{"via": nodes[t.node].id, "upstream": plain(t.upstream),
                        "local": plain(t.local), "product": plain(t.product)}
                       for t in rule.contributions]}
            for rule in explanation.chain_rules
        ],
        "check": check_document(explanation),
    }
    return json.dumps(document, ensure_ascii=False)


def check_document(explanation: Explanation) -> dict | None:
    report = explanation.check
    if report is None:
        return None
    return {
        "ok": report.ok,
        "status": report.status,
        "sympy": {
            name: {
                "derivative": check.sympy_derivative,
                "value": _maybe_plain(check.sympy_value),
                "ok": check.sympy_ok,
                "note": check.sympy_note
                or (report.sympy_note if check.sympy_value is None else None),
            }
            for name, check in report.variables.items()
        },
        "numeric": {
            name: {"value": _maybe_plain(check.numeric_value), "ok": check.numeric_ok,
                   "status": check.numeric_status, "note": check.numeric_note}
            for name, check in report.variables.items()
        },
        "kinks": {
            name: check.kink_note for name, check in report.variables.items() if check.kink_note
        },
    }


def _maybe_plain(value):
    return None if value is None else plain(value)


# Indented JSON is for a person reading it; past this many nodes it is written compactly.
JSON_INDENT_NODES = 2_000


def grad_json(explanation: Explanation) -> str:
    text = _grad_json_text(explanation)
    if len(explanation.tape.nodes) <= JSON_INDENT_NODES:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    return text


# ----------------------------------------------------------------------------- Markdown
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else " "


def _md_table(headers: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def grad_markdown(explanation: Explanation) -> str:
    """The same content as the tables, as Markdown for course notes (never truncated)."""
    tape = explanation.tape
    labels = explanation.labels
    values = explanation.values
    loss = explanation.loss_label
    arrays = explanation.shapes is not None  # arrays get a shape column

    def shape(index: int) -> list[str]:
        return [shape_cell(explanation, index)] if arrays else []

    lines = [f"## Forward pass: `{one_line(tape.source, 200)}`", ""]
    lines += _md_table(
        ["id", "name", "op", "inputs", "expression", *(["shape"] if arrays else []), "value"],
        (
            [node.id,
             labels[node.index] if (node.name is not None or node.index == tape.output) else "",
             node.op_name, input_ids(explanation, node.index), f"`{node.text}`",
             *shape(node.index), number(values[node.index])]
            for node in tape.nodes
        ),
    )
    lines += ["", f"Output {labels[tape.output]} = {number(explanation.output)}", ""]
    lines += [f"## Backward pass (seed {seed_line(explanation)})", ""]
    lines += _md_table(
        ["node", "input", *(["shape"] if arrays else []), f"upstream d{loss}/dnode",
         "local dnode/dinput", "", "product"],
        (
            [labels[e.node], labels[e.input], *shape(e.input), number(e.upstream),
             f"`d{labels[e.node]}/d{labels[e.input]} = {rule_text(explanation, e.node, e.input)}`",
             number(e.local), number(e.product)]
            for e in explanation.edges
        ),
    )
    lines += ["", "## Chain rule", "", f"- `{seed_line(explanation)}`"]
    lines += [f"- `{chain_rule_line(explanation, rule)}`" for rule in explanation.chain_rules]
    lines += ["", "## Gradients", ""]
    headers = ["variable", *(["shape"] if arrays else []), f"d{loss}/dvariable"]
    if explanation.check is not None:
        headers += ["SymPy derivative", "SymPy value", "finite difference", "check"]
    rows = []
    for name, value in explanation.gradients.items():
        row = [name, *shape(tape.variable_nodes[name]), number(value)]
        if explanation.check is not None:
            derivative, sympy_value, numeric, verdict = check_cells(explanation, name)
            row += [f"`{derivative}`" if derivative not in ("", "–") else derivative,
                    sympy_value, numeric, verdict]
        rows.append(row)
    lines += _md_table(headers, rows)
    notes = check_notes(explanation)
    if notes:
        lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"



# ----------------------------------------------------------------------------- the collapse
def collapse_document(collapse, source: str) -> dict:
    """``backtrace simplify --format json``: the verdict, the expanded form, W and b."""
    from backtrace_cli.ops.table import shape_text

    def part(text, value):
        return {"symbolic": text, "value": None if value is None else plain(value)}

    return {
        "expression": source,
        "input": collapse.input,
        "affine": collapse.affine,
        "reason": collapse.reason,
        "input_shape": list(collapse.input_shape),
        "output_shape": list(collapse.output_shape),
        "shapes": {"input": shape_text(collapse.input_shape),
                   "output": shape_text(collapse.output_shape)},
        "expanded": collapse.expanded,
        "W": part(collapse.weight_text, collapse.weight),
        "b": part(collapse.bias_text, collapse.bias),
        "residual": collapse.residual,
        "note": collapse.note,
        "decided_by": collapse.decided_by,
        "stacked_layers": collapse.stacked_layers,
    }


def collapse_json(collapse, source: str) -> str:
    return json.dumps(collapse_document(collapse, source), ensure_ascii=False, indent=2)


def collapse_lines(collapse, source: str) -> list[str]:
    """The collapse for a person: the verdict, then the expanded form and the single W and b."""
    from backtrace_cli.ops.table import shape_text

    x = collapse.input
    lines = [f"Expression: {one_line(source)}"]
    if not collapse.affine:
        lines += [
            f"Not affine in {x}: {collapse.reason}.",
            "A nonlinearity between the layers keeps them from collapsing into one map "
            f"W {x} + b.",
        ]
        return lines
    lines.append(
        f"Affine in {x}: the whole program is one map  output = W {x} + b"
        f"  (input {shape_text(collapse.input_shape)}, output "
        f"{shape_text(collapse.output_shape)})."
    )
    if collapse.expanded is not None:
        lines.append(f"Expanded (SymPy): {collapse.expanded}")
    weight_shape = shape_text(getattr(collapse.weight, "shape", ()))
    weight = f"{collapse.weight_text} = " if collapse.weight_text else ""
    bias = f"{collapse.bias_text} = " if collapse.bias_text else ""
    lines.append(f"  W = {weight}{number(collapse.weight)}   ({weight_shape})")
    lines.append(f"  b = {bias}{number(collapse.bias)}   "
                 f"({shape_text(getattr(collapse.bias, 'shape', ()))})")
    lines.append(
        f"Check: W {x} + b gives the output at the given {x} "
        f"(largest difference {collapse.residual:.3g})."
    )
    if collapse.stacked_layers:
        lines.append("Stacked linear layers add nothing: a nonlinearity (sigmoid, tanh, relu) "
                     "between them is what keeps them apart.")
    if collapse.note:
        lines.append(f"Note: {collapse.note}")
    return lines
