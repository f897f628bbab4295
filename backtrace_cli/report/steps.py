"""The backward pass step by step, as report data: what the HTML page and ``grad --step`` show.

Step 0 is the forward pass done (every value known, the seed at the output). Each following
step is one edge of the reverse sweep, in the order the engine visited them (the rows of the
backward table): the node's upstream gradient times the local derivative gives the product
sent back to the input, and the input's gradient so far is the sum of the products it has
received. A node used more than once gets one step per use; its sum is complete at its last.
The last step therefore leaves every node with the gradient of the static picture.

The steps are a ``Report`` ("steps") whose ``data`` holds plain strings only: a writer draws
them and computes nothing. ``graph_at`` gives the graph report as it stands after a step.
"""

from __future__ import annotations

from dataclasses import replace

from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.i18n import _, ngettext
from backtrace_cli.report.grad_text import rule_text, seed_line
from backtrace_cli.report.model import Report, Text
from backtrace_cli.report.text import number, one_line

PENDING = "…"  # a node's gradient before its first product arrives


def term(value: str) -> str:
    """A number as a term of a sum or product: a negative one in parentheses."""
    return f"({value})" if value.startswith("-") else value


def graph_edge_numbers(explanation: Explanation) -> list[int]:
    """For each edge of the reverse sweep, its position in the graph's edge list (evaluation
    order, ``report/graph.py``). An op that reads one input twice (``x*x``) has two edges
    between the same nodes; they are matched in input order, as the graph matches them."""
    positions: dict[tuple[int, int], list[int]] = {}
    count = 0
    for node in explanation.tape.nodes:
        for source in node.inputs:
            positions.setdefault((node.index, source), []).append(count)
            count += 1
    seen: dict[tuple[int, int], int] = {}
    numbers = []
    for edge in explanation.edges:
        key = (edge.node, edge.input)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        numbers.append(positions[key][occurrence])
    return numbers


def _first_step(explanation: Explanation) -> dict:
    labels, tape = explanation.labels, explanation.tape
    output = f"{labels[tape.output]} = {number(explanation.output)}"
    edges = len(explanation.edges)
    sweep = (ngettext("the backward pass sends it along {edges} edge",
                      "the backward pass sends it along {edges} edges", edges).format(edges=edges)
             if edges else _("no edge carries a gradient back"))
    return {
        "step": 0,
        "title": _("Forward pass done"),
        "lines": [_("every value is known; output {output}").format(output=output),
                  _("seed {seed}; {sweep}").format(seed=seed_line(explanation), sweep=sweep)],
    }


def _edge_steps(explanation: Explanation) -> list[dict]:
    tape, labels, loss = explanation.tape, explanation.labels, explanation.loss_label
    uses: dict[int, int] = {}
    for edge in explanation.edges:
        uses[edge.input] = uses.get(edge.input, 0) + 1
    received: dict[int, list] = {}
    sums: dict[int, object] = {}
    graph_edges = graph_edge_numbers(explanation)
    steps = []
    for number_, edge in enumerate(explanation.edges, start=1):
        node, source = labels[edge.node], labels[edge.input]
        products = received.setdefault(edge.input, [])
        products.append(edge.product)
        previous = sums.get(edge.input)
        sums[edge.input] = edge.product if previous is None else previous + edge.product
        total = number(sums[edge.input])
        use, used = len(products), uses[edge.input]
        gradient = f"d{loss}/d{source}"
        if used == 1:
            sum_line = f"{gradient} = {total}"
        else:
            so_far = " + ".join(term(number(product)) for product in products)
            state = (_(" (complete: use {use} of {used})") if use == used
                     else _(" (so far: use {use} of {used})"))
            sum_line = (f"{gradient} = {so_far} = {total}" if use > 1
                        else f"{gradient} = {total}")
            sum_line += state.format(use=use, used=used)
        upstream, local, product = (number(edge.upstream), number(edge.local),
                                    number(edge.product))
        rule = rule_text(explanation, edge.node, edge.input, edge.position, human=True)
        local_line = _("local d{node}/d{source} = {rule}").format(
            node=node, source=source, rule=rule) + (f" = {local}" if rule != local else "")
        steps.append({
            "step": number_,
            "title": _("edge {node} → {source}").format(node=node, source=source),
            "lines": [
                _("upstream d{loss}/d{node} = {upstream}").format(
                    loss=loss, node=node, upstream=upstream),
                local_line,
                _("upstream × local = {upstream} × {local} = {product}").format(
                    upstream=upstream, local=term(local), product=product)
                if not explanation.arrays else _("product sent back = {product}").format(
                    product=product),
                sum_line,
            ],
            "node": edge.node,
            "input": edge.input,
            "node_id": tape.nodes[edge.node].id,
            "input_id": tape.nodes[edge.input].id,
            "graph_edge": graph_edges[number_ - 1],
            "upstream": upstream,
            "local": local,
            "product": product,
            "sum": total,
            "use": use,
            "uses": used,
        })
    return steps


def build(explanation: Explanation) -> Report:
    """The steps of one explanation: ``data["steps"]`` is step 0 then one step per edge."""
    steps = [_first_step(explanation)] + _edge_steps(explanation)
    data = {"source": one_line(explanation.tape.source), "steps": steps,
            "output": explanation.tape.output}
    return Report("steps", Text(_("backward pass of {source}").format(
                      source=one_line(explanation.tape.source))),
                  (), data)


def gradients_at(steps: Report, graph: Report, step: int) -> list[str]:
    """Each node's gradient as it stands after ``step``: the seed at the output, the running
    sum where products have arrived, ``…`` where they are still to come, and at the last
    step exactly the static picture's gradients (``–`` where none flows)."""
    shown = [node["gradient"] for node in graph.data["nodes"]]
    if step >= len(steps.data["steps"]) - 1:  # the last step is the static picture
        return shown
    for entry in steps.data["steps"][1:]:
        shown[entry["input"]] = PENDING
    for entry in steps.data["steps"][1:step + 1]:
        shown[entry["input"]] = entry["sum"]
    return shown


def graph_at(steps: Report, graph: Report, step: int) -> Report:
    """The graph report with every node's gradient as it stands after ``step``."""
    gradients = gradients_at(steps, graph, step)
    nodes = [dict(node, gradient=gradient)
             for node, gradient in zip(graph.data["nodes"], gradients)]
    return replace(graph, data=dict(graph.data, nodes=nodes))
