"""The JSON document of ``backtrace grad`` (CONTRACT.md, docs/schema/grad.json).

Scalar and array programs have the same keys: every forward row a ``shape`` (``[]`` for a
scalar), every backward row its ``rule`` text, and ``shapes`` per variable. One writer for
both (``grad_json_text``) writes the document as text row by row, several times faster than
building a dict per row: a 100,000-node gradient stays well under a second.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as quote

from backtrace_cli.engine.tape import CONST
from backtrace_cli.engine.values import json_text, json_writer
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.report.grad_text import rule_text


def grad_document(explanation: Explanation) -> dict:
    """The JSON object of CONTRACT.md (and a few extra keys), as plain Python data."""
    return json.loads(grad_json_text(explanation))


def named_rules(explanation: Explanation) -> tuple:
    """The JSON's ``chain_rule``: the rules of the named nodes (variables and assigned
    names). The section for people also derives every unnamed step; in the JSON those adjoints
    are in ``backward`` already, and a rule per node would double a huge document."""
    return explanation.named_chain_rules


def grad_json_text(explanation: Explanation) -> str:
    """The JSON object as compact text, for scalar and array programs alike. The long lists (a
    row per node, per edge) are written row by row with f-strings, several times faster than
    building a dict per row; every value's text comes from ``json_writer`` (floats by repr:
    valid JSON for the finite values the engine allows; arrays as nested lists)."""
    tape = explanation.tape
    nodes = tape.nodes
    shapes = explanation.shapes
    scalars = not explanation.arrays
    text = json_writer(scalars)
    # Per node lists first (ids, values, shapes), then one f-string per row: attribute and
    # property lookups in the row loop would cost more than the writing itself.
    ids = [f'"v{index + 1}"' for index in range(len(nodes))]
    shape_texts = (["[]"] * len(nodes) if scalars
                   else [f"[{','.join(map(str, shape))}]" for shape in shapes])
    rows = []
    append = rows.append
    for node, node_id, value, shape in zip(nodes, ids, explanation.values, shape_texts):
        op = node.op
        op_name = op.name if op is not None else node.kind
        name = quote(node.name) if node.name is not None else "null"
        append(f'{{"id":{node_id},"op":"{op_name}",'
               f'"inputs":[{",".join([ids[j] for j in node.inputs])}],"value":{text(value)},'
               f'"text":{quote(node.text)},"name":{name},"shape":{shape}}}')
    forward = ",".join(rows)
    # The rule text of every edge, as rule_text writes it, inline: most templates are a
    # constant ("1") or one name ("{b}"), and a huge graph has a hundred thousand edges.
    labels = explanation.labels
    references = [quote(node.text if node.kind == CONST else labels[node.index])
                  for node in nodes]
    quoted: dict[str, str] = {}  # a template without fields -> its JSON text
    rows = []
    append = rows.append
    for node_index, input_index, upstream, local, product, position in explanation.edges:
        node = nodes[node_index]
        inputs = node.inputs
        op = node.op
        template = op.derivative_text[0 if op.variadic else position]
        if len(inputs) > 2 or (op.derivative_text_for is not None and not scalars):
            rule = quote(rule_text(explanation, node_index, input_index, position))
        elif template == "{b}":
            rule = references[inputs[1]]
        elif template == "{a}":
            rule = references[inputs[0]]
        elif "{" not in template:
            rule = quoted.get(template) or quoted.setdefault(template, quote(template))
        else:
            rule = quote(rule_text(explanation, node_index, input_index, position))
        append(f'{{"node":{ids[node_index]},"input":{ids[input_index]},'
               f'"upstream":{text(upstream)},"local":{text(local)},"product":{text(product)},'
               f'"rule":{rule}}}')
    backward = ",".join(rows)
    chain_rule = ",".join(
        f'{{"node":{ids[rule.target]},"name":{quote(explanation.labels[rule.target])},'
        f'"adjoint":{text(rule.total)},"terms":['
        + ",".join(
            f'{{"via":{ids[t.node]},"upstream":{text(t.upstream)},'
            f'"local":{text(t.local)},"product":{text(t.product)}}}'
            for t in rule.contributions
        )
        + "]}"
        for rule in named_rules(explanation)
    )
    small = json.dumps
    parts = [
        f'"expression":{quote(tape.source)}',
        f'"bindings":{small({n: plain(v) for n, v in explanation.bindings.items()})}',
        f'"seed":{json_text(explanation.seed)}',
        f'"output":{json_text(explanation.output)}',
        f'"output_id":{ids[tape.output]}',
        f'"forward":[{forward}]',
        f'"backward":[{backward}]',
        f'"gradients":{small({n: plain(v) for n, v in explanation.gradients.items()})}',
        f'"shapes":{small({n: list(shapes[tape.variable_nodes[n]]) for n in tape.variables})}',
        f'"chain_rule":[{chain_rule}]',
        f'"check":{small(check_document(explanation), ensure_ascii=False)}',
    ]
    return "{" + ",".join(parts) + "}"


def check_document(explanation: Explanation) -> dict | None:
    return check_report_document(explanation.check)


def check_report_document(report) -> dict | None:
    """A ``checks.verify.CheckReport`` as JSON data (grad's ``check``; jacobian's too)."""
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
