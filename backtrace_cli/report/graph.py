"""The computation graph as report data: every node with its title, value and gradient, every
(input -> op) edge with the gradient it carries back, in evaluation order. The graph formats
(DOT, Mermaid, the text tree, SVG, PNG) are writers of this one ``Report``."""

from __future__ import annotations

from backtrace_cli.engine.tape import CONST, VAR
from backtrace_cli.i18n import _
from backtrace_cli.report import steps
from backtrace_cli.report.model import Report, text
from backtrace_cli.report.text import number, one_line

# A title longer than this is cut with an ellipsis: a picture stays readable.
MAX_TITLE = 40
MISSING = "–"  # no gradient reaches this node (constants, unused statements)


def cut(value: str, limit: int = MAX_TITLE) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def without_comments(source: str) -> str:
    """The program without its ``# comments`` (a file's header stays out of the title)."""
    lines = [line.split("#", 1)[0].rstrip() for line in source.splitlines()]
    return "\n".join(line for line in lines if line.strip()) or source


def node_title(explanation, index: int) -> str:
    """A variable's name, a constant's text, or ``label = expression`` for an op."""
    node = explanation.tape.nodes[index]
    if node.kind == VAR:
        return cut(node.name)
    if node.kind == CONST:
        return cut(node.text)
    return cut(f"{explanation.labels[index]} = {node.text}")


def _seed_line(explanation) -> str:
    output = explanation.labels[explanation.tape.output]
    if explanation.loss_label == output:
        return f"d{output}/d{output} = 1"
    seed = f"d{explanation.loss_label}/d{output} = {number(explanation.seed)}"
    return seed + _(" (the seed, --dz)")


def legend(explanation, arrows: bool = True) -> str:
    """One line that says what the numbers mean (``arrows``: the picture has edge labels)."""
    return (
        _("value: forward pass · grad: d{loss}/d(node), seed {seed}").format(
            loss=cut(explanation.loss_label, 12), seed=cut(_seed_line(explanation), 60))
        + (_(" · on each arrow: the gradient it carries back") if arrows else "")
    )


def _nodes(explanation) -> list[dict]:
    tape, adjoints = explanation.tape, explanation.result.adjoints
    return [
        {"index": node.index, "id": node.id, "kind": node.kind,
         "title": node_title(explanation, node.index),
         "value": number(explanation.values[node.index]),
         "gradient": MISSING if adjoints[node.index] is None else number(adjoints[node.index]),
         "is_output": node.index == tape.output, "inputs": list(node.inputs)}
        for node in tape.nodes
    ]


def _edges(explanation) -> list[dict]:
    """Every (input -> op) edge in evaluation order, with its backward product. An op that
    uses one input twice (``x*x``) has two edges, matched up in input order."""
    recorded: dict[tuple[int, int], list] = {}
    for edge in explanation.edges:
        recorded.setdefault((edge.node, edge.input), []).append(edge)
    used: dict[tuple[int, int], int] = {}
    edges = []
    for node in explanation.tape.nodes:
        for source in node.inputs:
            key = (node.index, source)
            position = used.get(key, 0)
            used[key] = position + 1
            matches = recorded.get(key, [])
            gradient = number(matches[position].product) if position < len(matches) else None
            edges.append({"source": source, "target": node.index, "gradient": gradient})
    return edges


def _reachable(explanation) -> list[bool]:
    """Which nodes the output depends on (a statement's value may go unused)."""
    tape = explanation.tape
    reaches = [False] * len(tape.nodes)
    reaches[tape.output] = True
    for index in range(len(tape.nodes) - 1, -1, -1):
        if reaches[index]:
            for j in tape.nodes[index].inputs:
                reaches[j] = True
    return reaches


def build(explanation) -> Report:
    """The graph of one explanation; ``data`` holds everything a graph writer draws."""
    nodes = _nodes(explanation)
    reaches = _reachable(explanation)
    source = without_comments(explanation.tape.source)
    data = {
        "source": source,
        "output": explanation.tape.output,
        "legend": legend(explanation),
        "tree_legend": legend(explanation, arrows=False),
        "nodes": nodes,
        "edges": _edges(explanation),
        "unused": [node["title"] for node in nodes if not reaches[node["index"]]],
    }
    return Report("graph", text(one_line(source)), (), data,
                  views={"steps": lambda: steps.build(explanation)})
