"""The JSON document of ``backtrace grad`` (CONTRACT.md, docs/schema/grad.json).

Scalar and array programs have the same keys: every forward row a ``shape`` (``[]`` for a
scalar), every backward row its ``rule`` text, and ``shapes`` per variable. For scalar
programs the document is written as text row by row (``grad_json_text``), several times
faster than building a dict per row: a 100,000-node gradient stays well under a second.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as quote

from backtrace_cli.engine.tape import CONST
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.report.grad_text import rule_text
from backtrace_cli.report.text import plain


def grad_document(explanation: Explanation) -> dict:
    """The JSON object of CONTRACT.md (and a few extra keys), as plain Python data."""
    return json.loads(grad_json_text(explanation))


def named_rules(explanation: Explanation) -> tuple:
    """The JSON's ``chain_rule``: the rules of the named nodes (variables and assigned
    names). The section for people also derives every unnamed step; in the JSON those adjoints
    are in ``backward`` already, and a rule per node would double a huge document."""
    return explanation.named_chain_rules


def grad_json_text(explanation: Explanation) -> str:
    """The JSON object as compact text. The long lists (a row per node, per edge) are written
    row by row with f-strings, several times faster than building a dict per row; floats are
    written by repr, which is valid JSON for the finite values the engine allows."""
    tape = explanation.tape
    nodes = tape.nodes
    values = explanation.values
    if explanation.shapes is not None:
        return _array_json_text(explanation)
    # Per node lists first (ids, op names, values), then one f-string per row: attribute
    # and property lookups in the row loop would cost more than the writing itself.
    ids = [f'"v{index + 1}"' for index in range(len(nodes))]
    rows = []
    append = rows.append
    for node, node_id, value in zip(nodes, ids, map(float, values)):
        op = node.op
        op_name = op.name if op is not None else node.kind
        name = quote(node.name) if node.name is not None else "null"
        append(f'{{"id":{node_id},"op":"{op_name}",'
               f'"inputs":[{",".join([ids[j] for j in node.inputs])}],"value":{value!r},'
               f'"text":{quote(node.text)},"name":{name},"shape":[]}}')
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
        if len(inputs) > 2:
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
               f'"upstream":{float(upstream)!r},"local":{float(local)!r},'
               f'"product":{float(product)!r},"rule":{rule}}}')
    backward = ",".join(rows)
    chain_rule = ",".join(
        f'{{"node":{ids[rule.target]},"name":{quote(explanation.labels[rule.target])},'
        f'"adjoint":{float(rule.total)!r},"terms":['
        + ",".join(
            f'{{"via":{ids[t.node]},"upstream":{float(t.upstream)!r},'
            f'"local":{float(t.local)!r},"product":{float(t.product)!r}}}'
            for t in rule.contributions
        )
        + "]}"
        for rule in named_rules(explanation)
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
        f'"shapes":{small({name: [] for name in tape.variables})}',
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
                "rule": rule_text(explanation, e.node, e.input, e.position)}

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
            for rule in named_rules(explanation)
        ],
        "check": check_document(explanation),
    }
    return json.dumps(document, ensure_ascii=False)


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
