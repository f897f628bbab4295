"""Pictures of the computation graph: DOT, Mermaid, a Rich tree, and SVG/PNG files.

Everything here reads an ``Explanation`` (see ``grad.py``): the tape gives the nodes and
edges, the forward values and the adjoints give the numbers written on them. Every node
shows its name or expression, its value and its gradient; the arrow from an input to the op
that uses it carries the gradient sent back along it (upstream x local), as in the CS231n
"circuit" diagrams. Nodes and edges are written in evaluation order, so the same
explanation always gives the same text.

SVG and PNG are laid out by Graphviz: the ``dot`` program when it is on PATH, otherwise
the self-contained ``graphviz-pure`` program (``pip install graphviz-pure``). Files are
written atomically: a temp file in the same folder, then ``os.replace``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass

from backtrace_cli.engine.tape import CONST, VAR
from backtrace_cli.errors import OutputError
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.files import write_atomic
from backtrace_cli.formats.render import number, one_line, seed_line

FORMATS = ("text", "dot", "mermaid", "svg", "png")
IMAGE_FORMATS = ("svg", "png")

# The -o suffixes we recognise, and the format each one means.
SUFFIX_FORMATS = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".txt": "text",
}

ENGINE_HINT = "install Graphviz (apt-get install graphviz) or pip install graphviz-pure"

# A title longer than this is cut with an ellipsis: a picture stays readable.
MAX_TITLE = 40
# The terminal tree stops expanding below this depth (Rich would crop deeper lines).
MAX_TREE_DEPTH = 16
# Seconds a layout engine may take before we give up (huge graphs).
LAYOUT_TIMEOUT = 120
# The width of the text tree when it is written to a file.
TEXT_FILE_WIDTH = 160

MISSING = "–"  # no gradient reaches this node (constants, unused statements)


# ----------------------------------------------------------------------------- graph data
@dataclass(frozen=True)
class GraphNode:
    """What a picture shows of one tape node."""

    index: int
    id: str  # v1, v2, ...: safe as a DOT and Mermaid identifier
    kind: str  # VAR, CONST or OP
    title: str  # the name, the constant, or "label = expression"
    value: str
    gradient: str  # MISSING where no gradient flows
    is_output: bool


@dataclass(frozen=True)
class GraphEdge:
    """An arrow from an input to the op that uses it; ``gradient`` is what flows back."""

    source: int
    target: int
    gradient: str | None  # None where no gradient flows back (into a constant)


def _cut(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def node_title(explanation: Explanation, index: int) -> str:
    """A variable's name, a constant's text, or ``label = expression`` for an op."""
    node = explanation.tape.nodes[index]
    if node.kind == VAR:
        return _cut(node.name)
    if node.kind == CONST:
        return _cut(node.text)
    return _cut(f"{explanation.labels[index]} = {node.text}")


def graph_nodes(explanation: Explanation) -> list[GraphNode]:
    """One entry per tape node, in evaluation order."""
    tape = explanation.tape
    adjoints = explanation.result.adjoints
    return [
        GraphNode(
            index=node.index,
            id=node.id,
            kind=node.kind,
            title=node_title(explanation, node.index),
            value=number(explanation.values[node.index]),
            gradient=MISSING if adjoints[node.index] is None else number(adjoints[node.index]),
            is_output=node.index == tape.output,
        )
        for node in tape.nodes
    ]


def graph_edges(explanation: Explanation) -> list[GraphEdge]:
    """Every (input -> op) edge of the tape in evaluation order, with its backward product.

    An op that uses one input twice (``x*x``) has two edges; the reverse sweep recorded them
    in input order, so they are matched up in that order.
    """
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
            edges.append(GraphEdge(source, node.index, gradient))
    return edges


def reachable(explanation: Explanation) -> list[bool]:
    """Which nodes the output depends on (a statement's value may go unused)."""
    tape = explanation.tape
    reaches = [False] * len(tape.nodes)
    reaches[tape.output] = True
    for index in range(len(tape.nodes) - 1, -1, -1):
        if reaches[index]:
            for j in tape.nodes[index].inputs:
                reaches[j] = True
    return reaches


def legend(explanation: Explanation) -> str:
    """One line that says what the numbers mean."""
    loss = explanation.loss_label
    return (
        f"value: forward pass · grad: d{_cut(loss, 12)}/d(node), "
        f"seed {_cut(seed_line(explanation), 60)}"
        " · on each arrow: the gradient it carries back"
    )


# ----------------------------------------------------------------------------- DOT
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


def to_dot(explanation: Explanation) -> str:
    """The graph as Graphviz DOT text: inputs on the left, the output on the right."""
    tape = explanation.tape
    nodes = graph_nodes(explanation)
    caption = dot_label([one_line(tape.source, 100), legend(explanation)], left=True)
    lines = [
        "digraph backtrace {",
        "  graph [rankdir=LR, ordering=in, fontname=Helvetica, fontsize=10, labelloc=b,",
        f"         label={caption}];",
        "  node [fontname=Helvetica, fontsize=11];",
        '  edge [fontname=Helvetica, fontsize=9, color="#4b5563", fontcolor="#b91c1c"];',
    ]
    for node in nodes:
        label = dot_label([node.title, f"value {node.value}", f"grad {node.gradient}"])
        style = _DOT_STYLE.get(node.kind, _DOT_STYLE["op"])
        extra = ", penwidth=2.5" if node.is_output else ""
        lines.append(f"  {node.id} [id={node.id}, label={label}, {style}{extra}];")
    variables = [node.id for node in nodes if node.kind == VAR]
    if variables:
        lines.append(f"  {{ rank=source; {'; '.join(variables)}; }}")
    output = nodes[tape.output]
    if output.kind not in (VAR, CONST):
        lines.append(f"  {{ rank=sink; {output.id}; }}")
    for edge in graph_edges(explanation):
        attributes = f" [label={dot_quote(edge.gradient)}]" if edge.gradient is not None else ""
        lines.append(f"  {nodes[edge.source].id} -> {nodes[edge.target].id}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- Mermaid
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


def to_mermaid(explanation: Explanation) -> str:
    """The graph as a Mermaid ``flowchart LR`` (renders on GitHub and in Markdown viewers)."""
    nodes = graph_nodes(explanation)
    lines = [
        "flowchart LR",
        f"  %% {one_line(explanation.tape.source, 200)}",
        f"  %% {legend(explanation)}",
    ]
    classes: dict[str, list[str]] = {name: [] for name, _ in _MERMAID_CLASSES}
    for node in nodes:
        kind = node.kind if node.kind in (VAR, CONST) else "op"
        opening, closing = _MERMAID_SHAPES[kind]
        text = "<br/>".join(
            mermaid_escape(line)
            for line in (node.title, f"value {node.value}", f"grad {node.gradient}")
        )
        lines.append(f"  {node.id}{opening}{text}{closing}")
        if node.is_output:
            classes["output"].append(node.id)
        else:
            classes[{VAR: "variable", CONST: "constant"}.get(kind, "operation")].append(node.id)
    for edge in graph_edges(explanation):
        arrow = "-->" if edge.gradient is None else f'-->|"{mermaid_escape(edge.gradient)}"|'
        lines.append(f"  {nodes[edge.source].id} {arrow} {nodes[edge.target].id}")
    for name, style in _MERMAID_CLASSES:
        lines.append(f"  classDef {name} {style}")
    for name, _ in _MERMAID_CLASSES:
        if classes[name]:
            lines.append(f"  class {','.join(classes[name])} {name}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- Rich tree
_TREE_STYLES = {VAR: "bold cyan", CONST: "dim", "op": "yellow"}


def to_tree(explanation: Explanation):
    """A Rich renderable: the output at the root, each node's inputs below it.

    A node used by several ops appears under each of them but is expanded only the first
    time; the repeats say so. The walk uses an explicit stack, so depth costs no recursion.
    """
    from rich.console import Group
    from rich.text import Text
    from rich.tree import Tree

    tape = explanation.tape
    nodes = graph_nodes(explanation)

    def line(index: int, repeat: bool) -> Text:
        node = nodes[index]
        text = Text(node.title, style=_TREE_STYLES.get(node.kind, "yellow"))
        text.append("  value ", style="dim")
        text.append(node.value, style="green")
        text.append("  grad ", style="dim")
        text.append(node.gradient, style="red")
        if repeat:
            text.append("  ↑ shared: expanded above", style="dim italic")
        return text

    root = Tree(line(tape.output, False), guide_style="dim")
    expanded = {tape.output}
    stack = [(j, root, 1) for j in reversed(tape.nodes[tape.output].inputs)]
    while stack:
        index, parent, depth = stack.pop()
        repeat = index in expanded
        branch = parent.add(line(index, repeat))
        if repeat or not tape.nodes[index].inputs:
            expanded.add(index)
            continue
        expanded.add(index)
        if depth >= MAX_TREE_DEPTH:
            branch.add(Text("… deeper inputs not shown (use --format dot or mermaid)",
                            style="dim italic"))
            continue
        stack.extend((j, branch, depth + 1) for j in reversed(tape.nodes[index].inputs))

    parts = [Text(one_line(tape.source), style="bold"), root]
    reaches_output = reachable(explanation)
    unused = [node.title for node in nodes if not reaches_output[node.index]]
    if unused:
        parts.append(Text(f"not used by the output: {', '.join(unused)}", style="dim"))
    parts.append(Text(legend(explanation), style="dim"))
    return Group(*parts)


def tree_text(explanation: Explanation, width: int = TEXT_FILE_WIDTH) -> str:
    """The tree as plain text (no colour), for a file."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False,
                      legacy_windows=False, no_color=True)
    console.print(to_tree(explanation))
    return buffer.getvalue()


# ----------------------------------------------------------------------------- layout engine
def find_layout_engines() -> list[str]:
    """Graphviz programs to try, best first: ``dot`` on PATH, then ``graphviz-pure``.

    ``graphviz-pure`` is also looked for next to this Python, where pip puts it even when
    that folder is not on PATH (a virtual environment that is not activated).
    """
    engines = []
    found = shutil.which("dot")
    if found:
        engines.append(found)
    found = shutil.which("graphviz-pure")
    if not found:
        for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
            if folder:
                found = shutil.which("graphviz-pure", path=folder)
                if found:
                    break
    if found:
        engines.append(found)
    return engines


def render_image(dot_text: str, image_format: str) -> bytes:
    """Lay out DOT text as SVG or PNG bytes with the first layout engine that works."""
    engines = find_layout_engines()
    if not engines:
        raise OutputError(f"no Graphviz layout engine found to draw {image_format}: {ENGINE_HINT}")
    problem = ""
    for engine in engines:
        try:
            done = subprocess.run(
                [engine, f"-T{image_format}"],
                input=dot_text.encode("utf-8"),
                capture_output=True,
                timeout=LAYOUT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise OutputError(
                f"the layout took longer than {LAYOUT_TIMEOUT} s ({os.path.basename(engine)})",
                "for a graph this large, use --format dot, mermaid or text",
            ) from None
        except OSError as exc:
            problem = f"{os.path.basename(engine)} could not run: {exc.strerror or exc}"
            continue
        if done.returncode == 0 and done.stdout:
            return done.stdout
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        problem = f"{os.path.basename(engine)} failed: {message[0] if message else 'no output'}"
    raise OutputError(f"cannot draw {image_format}: {problem}", ENGINE_HINT)


# ----------------------------------------------------------------------------- files
def format_for_path(path: str) -> str | None:
    """The format a file name's suffix asks for, or None when we do not know it."""
    suffix = os.path.splitext(path)[1].lower()
    return SUFFIX_FORMATS.get(suffix)


def render_graph(explanation: Explanation, graph_format: str) -> bytes:
    """The graph in one of ``FORMATS`` as the bytes a file holds."""
    if graph_format == "dot":
        return to_dot(explanation).encode("utf-8")
    if graph_format == "mermaid":
        return to_mermaid(explanation).encode("utf-8")
    if graph_format == "text":
        return tree_text(explanation).encode("utf-8")
    if graph_format in IMAGE_FORMATS:
        return render_image(to_dot(explanation), graph_format)
    raise OutputError(f"unknown graph format '{graph_format}' (choose from {', '.join(FORMATS)})")


def write_graph_file(explanation: Explanation, path: str, graph_format: str | None = None) -> None:
    """Write the graph to ``path`` in the format its suffix names (or ``graph_format``)."""
    chosen = graph_format or format_for_path(path)
    if chosen is None:
        suffixes = ", ".join(SUFFIX_FORMATS)
        raise OutputError(
            f"cannot tell the graph format from the file name {path}",
            f"end it in one of {suffixes}",
        )
    write_atomic(path, render_graph(explanation, chosen))
