"""The plain-text pieces of a gradient report: how a node, a rule, a seed, a chain-rule sum and
a cross-check read for people. The report builder (``grad.py``) puts them into cells; other
views (the graph) use them too, so a node reads the same everywhere.
"""

from __future__ import annotations

import re

from backtrace_cli.engine.tape import CONST, VAR
from backtrace_cli.engine.values import shape_of
from backtrace_cli.explain.gradient import ChainRule, Explanation
from backtrace_cli.i18n import _, translated
from backtrace_cli.report.text import approx, number

# A chain-rule sum shows at most this many terms.
CHAIN_TERMS = 8

CHECK_MARK = "✓"
CROSS_MARK = "✗"


def shape_cell(explanation: Explanation, index: int) -> str:
    """A node's shape for the shape column: '2x3', '2', or 'scalar'."""
    from backtrace_cli.ops.table import shape_text

    if not explanation.arrays:
        return ""
    return translated(shape_text(explanation.shapes[index]))  # 'scalar' is a word


def reference(explanation: Explanation, index: int) -> str:
    """A node as a formula mentions it: its label, or a constant's text."""
    node = explanation.tape.nodes[index]
    if node.kind == CONST:
        return node.text
    return explanation.labels[index]


def rule_text(explanation: Explanation, node_index: int, input_index: int,
              position: int | None = None, human: bool = False) -> str:
    """The local derivative's formula, e.g. 'w' for d(x*w)/dx or 'cos(x)' for d(sin x)/dx;
    ``position`` picks the input where it occurs twice (x/x). ``human``: with its words
    ('upstream', 'each element', 'if') in the reader's language, for the tables; the JSON
    keeps the op table's text."""
    node = explanation.tape.nodes[node_index]
    if position is None:
        position = node.inputs.index(input_index)
    names = {"out": explanation.labels[node_index], "position": position}
    for key, j in zip("ab", node.inputs):
        names[key] = reference(explanation, j)
    op = node.op
    template = op.derivative_text[0 if op.variadic else position]
    if op.derivative_text_for is not None and explanation.arrays:
        shapes = tuple(explanation.shapes[j] for j in node.inputs)
        template = op.derivative_text_for(position, shapes)
    if human:
        template = translated(template)
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
    tail = " + … " + _("({more} more)").format(more=more) if more else ""
    symbols = " + ".join(
        f"d{loss}/d{explanation.labels[t.node]} · d{explanation.labels[t.node]}/d{target}"
        for t in shown
    )
    if explanation.arrays:  # the products that flow back, summed
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
    seed = f"d{explanation.loss_label}/d{output} = {number(explanation.seed)}"
    return seed + _(" (the seed, --dz)")


def no_edges_note(explanation: Explanation) -> str:
    """Why the backward pass has no edges: the output is a variable itself, or no variable
    reaches it (then every gradient is 0)."""
    output = explanation.tape.nodes[explanation.tape.output]
    if output.kind == VAR and output.name in explanation.gradients:
        return _("no edges: the output is the variable {name}, "
                 "whose gradient is the seed ({seed}).").format(
                     name=output.name, seed=number(explanation.seed))
    return _("no variable reaches the output; every gradient is 0.")


def check_cells(explanation: Explanation, name: str) -> tuple[str, str, str, str]:
    """SymPy derivative, SymPy value, finite difference and verdict for one variable."""
    report = explanation.check
    if report is None:
        return "", "", "", ""
    check = report.variables[name]
    derivative = check.sympy_derivative if check.sympy_derivative is not None else "–"
    if shape_of(check.gradient) and check.sympy_derivative is not None:
        derivative = _("one per element (--format json)")
    if len(derivative) > 60:
        derivative = derivative[:57] + "..."
    sympy_value = number(check.sympy_value) if check.sympy_value is not None else "–"
    numeric = approx(check.numeric_value) if check.numeric_value is not None else "–"
    verdict = {"ok": CHECK_MARK, "inconclusive": "?"}.get(check.status, CROSS_MARK)
    if check.kink_note and check.ok:
        verdict += _(" (kink)")
    return derivative, sympy_value, numeric, verdict


def check_notes(explanation: Explanation) -> list[str]:
    """Notes under the gradients: skipped checks and kink conventions, one line each."""
    report = explanation.check
    if report is None:
        return []
    notes = []
    if report.sympy_note:
        notes.append(_("SymPy check {note}").format(note=translated(report.sympy_note)))
    for name, check in report.variables.items():
        notes_by_check = (("SymPy", check.sympy_note),
                          (_("finite differences"), check.numeric_note))
        for label, note in notes_by_check:
            if note and not note.startswith("differs at a kink"):
                notes.append(f"{name}: {label} {translated(note)}")
        if check.kink_note:
            notes.append(_("{name}: at a kink, {note}").format(
                name=name, note=kink_note_text(check.kink_note)))
    if not report.ok:
        failed = [name for name, check in report.variables.items() if not check.ok]
        notes.append(f"{CROSS_MARK} " + _("the checks disagree for: {names}").format(
            names=", ".join(failed)))
    return notes


_KINK = re.compile(r"(?P<convention>.+) at (?P<node>v\d+) \((?P<text>.*)\)")
_MORE = re.compile(r"and (?P<count>[\d,]+) more kink\(s\)")


def kink_note_text(note: str) -> str:
    """checks.kinks' note ("relu'(0) = 0 (PyTorch's convention) at v2 (relu(x)); ...", kept
    in English in the JSON) in the reader's language, one convention at a time."""
    parts = []
    for part in note.split("; "):
        kink, more = _KINK.fullmatch(part), _MORE.fullmatch(part)
        if kink:
            parts.append(_("{convention} at {node} ({text})").format(
                convention=translated(kink["convention"]), node=kink["node"],
                text=kink["text"]))
        elif more:
            parts.append(_("and {count} more kink(s)").format(count=more["count"]))
        else:
            parts.append(translated(part))
    return _("; ").join(parts)
