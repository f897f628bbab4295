"""Graph text: Graphviz DOT, a Mermaid flowchart, and the terminal tree, each a writer of the
graph report (``report/graph.py``). Nodes and edges come in evaluation order, so the same
program always gives the same text."""

from __future__ import annotations

import io
from collections.abc import Iterable

from backtrace_cli.engine.tape import CONST, VAR
from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.i18n import _
from backtrace_cli.report.model import Report
from backtrace_cli.report.text import one_line

# The terminal tree stops expanding below this depth (Rich would crop deeper lines).
MAX_TREE_DEPTH = 16
# The width of the text tree when it is written to a file.
TEXT_FILE_WIDTH = 160

_DOT_STYLE = {
    VAR: 'shape=box, style="rounded,filled", fillcolor="#dbeafe", color="#1d4ed8"',
    CONST: 'shape=box, style="filled,dashed", fillcolor="#f3f4f6", color="#6b7280"',
    "op": 'shape=ellipse, style=filled, fillcolor="#fef3c7", color="#b45309"',
}


def dot_escape(text: str) -> str:
    """Text for inside a DOT double-quoted string, shown literally on one line."""
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot_quote(text: str) -> str:
    """A DOT double-quoted string holding ``text`` literally."""
    return f'"{dot_escape(text)}"'


def dot_label(lines: Iterable[str], left: bool = False) -> str:
    """Several lines as one DOT label, joined by DOT's line breaks (``\\l``: left-justified)."""
    escaped = [dot_escape(line) for line in lines]
    if left:
        return '"' + "".join(line + "\\l" for line in escaped) + '"'
    return '"' + "\\n".join(escaped) + '"'


def to_dot(report: Report) -> str:
    """The graph as Graphviz DOT text: inputs on the left, the output on the right."""
    data = report.data
    nodes = data["nodes"]
    caption = dot_label([one_line(data["source"], 100), data["legend"]], left=True)
    lines = [
        "digraph backtrace {",
        "  graph [rankdir=LR, ordering=in, fontname=Helvetica, fontsize=10, labelloc=b,",
        f"         label={caption}];",
        "  node [fontname=Helvetica, fontsize=11];",
        '  edge [fontname=Helvetica, fontsize=9, color="#4b5563", fontcolor="#b91c1c"];',
    ]
    for node in nodes:
        label = dot_label([node["title"], _value_line(node), _grad_line(node)])
        style = _DOT_STYLE.get(node["kind"], _DOT_STYLE["op"])
        extra = ", penwidth=2.5" if node["is_output"] else ""
        lines.append(f"  {node['id']} [id={node['id']}, label={label}, {style}{extra}];")
    variables = [node["id"] for node in nodes if node["kind"] == VAR]
    if variables:
        lines.append(f"  {{ rank=source; {'; '.join(variables)}; }}")
    output = nodes[data["output"]]
    if output["kind"] not in (VAR, CONST):
        lines.append(f"  {{ rank=sink; {output['id']}; }}")
    for edge in data["edges"]:
        gradient = edge["gradient"]
        attributes = f" [label={dot_quote(gradient)}]" if gradient is not None else ""
        lines.append(f"  {nodes[edge['source']]['id']} -> {nodes[edge['target']]['id']}"
                     f"{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_SHAPES = {VAR: ('(["', '"])'), CONST: ('["', '"]'), "op": ('{{"', '"}}')}
_MERMAID_CLASSES = (
    ("variable", "fill:#dbeafe,stroke:#1d4ed8,color:#111827"),
    ("constant", "fill:#f3f4f6,stroke:#6b7280,stroke-dasharray:4 3,color:#111827"),
    ("operation", "fill:#fef3c7,stroke:#b45309,color:#111827"),
    ("output", "fill:#fef3c7,stroke:#b45309,stroke-width:3px,color:#111827"),
)


def mermaid_escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label: entity codes for the characters it parses."""
    text = " ".join(text.split())
    replacements = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
                    "`": "#96;", "|": "#124;"}
    return "".join(replacements.get(char, char) for char in text)


def to_mermaid(report: Report) -> str:
    """The graph as a Mermaid ``flowchart LR`` (renders on GitHub and in Markdown viewers)."""
    data = report.data
    nodes = data["nodes"]
    lines = ["flowchart LR", f"  %% {one_line(data['source'], 200)}", f"  %% {data['legend']}"]
    classes: dict[str, list[str]] = {name: [] for name, _style in _MERMAID_CLASSES}
    for node in nodes:
        kind = node["kind"] if node["kind"] in (VAR, CONST) else "op"
        opening, closing = _MERMAID_SHAPES[kind]
        label = "<br/>".join(
            mermaid_escape(line)
            for line in (node["title"], _value_line(node), _grad_line(node))
        )
        lines.append(f"  {node['id']}{opening}{label}{closing}")
        if node["is_output"]:
            classes["output"].append(node["id"])
        else:
            classes[{VAR: "variable", CONST: "constant"}.get(kind, "operation")].append(node["id"])
    for edge in data["edges"]:
        gradient = edge["gradient"]
        arrow = "-->" if gradient is None else f'-->|"{mermaid_escape(gradient)}"|'
        lines.append(f"  {nodes[edge['source']]['id']} {arrow} {nodes[edge['target']]['id']}")
    for name, style in _MERMAID_CLASSES:
        lines.append(f"  classDef {name} {style}")
    for name, _style in _MERMAID_CLASSES:
        if classes[name]:
            lines.append(f"  class {','.join(classes[name])} {name}")
    return "\n".join(lines) + "\n"


_TREE_STYLES = {VAR: "bold cyan", CONST: "dim", "op": "yellow"}


def to_tree(report: Report, marks: dict[int, str] | None = None):
    """A Rich renderable: the output at the root, each node's inputs below it.

    A node used by several ops appears under each of them but is expanded only the first
    time; the repeats say so. The walk uses an explicit stack, so depth costs no recursion.
    The footnote says what the tree shows: values and gradients (it has no arrows).
    ``marks`` {edge number: text} marks edges (their number in the report's edge list) on
    the line of their input (``grad --step`` marks the active edge).
    """
    from rich.console import Group
    from rich.text import Text
    from rich.tree import Tree

    data = report.data
    nodes = data["nodes"]

    marks = marks or {}
    first_edge = [0] * len(nodes)  # the number of each node's first input edge
    for index in range(1, len(nodes)):
        first_edge[index] = first_edge[index - 1] + len(nodes[index - 1]["inputs"])

    def line(index: int, repeat: bool, edge: int | None = None) -> Text:
        node = nodes[index]
        text = Text(node["title"], style=_TREE_STYLES.get(node["kind"], "yellow"))
        text.append(f"  {_('value')} ", style="dim")
        text.append(node["value"], style="green")
        text.append(f"  {_('grad')} ", style="dim")
        text.append(node["gradient"], style="red")
        if repeat:
            text.append("  " + _("↑ shared: expanded above"), style="dim italic")
        if edge in marks:
            text.append(f"  {marks[edge]}", style="bold reverse")
        return text

    def inputs(index: int, branch, depth: int) -> list:
        first = first_edge[index]
        return [(j, branch, depth, first + position)
                for position, j in reversed(list(enumerate(nodes[index]["inputs"])))]

    output = data["output"]
    root = Tree(line(output, False), guide_style="dim")
    expanded = {output}
    stack = inputs(output, root, 1)
    while stack:
        index, parent, depth, edge = stack.pop()
        repeat = index in expanded
        branch = parent.add(line(index, repeat, edge))
        if repeat or not nodes[index]["inputs"]:
            expanded.add(index)
            continue
        expanded.add(index)
        if depth >= MAX_TREE_DEPTH:
            branch.add(Text("… deeper inputs not shown (use --format dot or mermaid)",
                            style="dim italic"))
            continue
        stack.extend(inputs(index, branch, depth + 1))

    parts = [Text(one_line(data["source"]), style="bold"), root]
    if data["unused"]:
        parts.append(Text(f"not used by the output: {', '.join(data['unused'])}", style="dim"))
    parts.append(Text(data["tree_legend"], style="dim"))
    return Group(*parts)


def tree_text(report: Report, width: int = TEXT_FILE_WIDTH, color: bool = False) -> str:
    """The tree as text (colour only when asked), for a file or a terminal."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system="standard" if color else None,
                      force_terminal=color, highlight=False, legacy_windows=False,
                      no_color=not color, force_jupyter=False)  # text, even in a notebook
    console.print(to_tree(report))
    return buffer.getvalue()


def write_dot(report: Report, options: Options = PLAIN) -> str:
    return to_dot(report)


def write_mermaid(report: Report, options: Options = PLAIN) -> str:
    return to_mermaid(report)


def write_text(report: Report, options: Options = PLAIN) -> str:
    return tree_text(report, options.width or TEXT_FILE_WIDTH, options.color)


def _value_line(node: dict) -> str:
    return _("value {value}").format(value=node["value"])


def _grad_line(node: dict) -> str:
    return _("grad {gradient}").format(gradient=node["gradient"])
