"""The computation graph: DOT, Mermaid, SVG/PNG, the terminal tree, files and `backtrace graph`.

DOT is parsed back (labels hold the values and gradients; the edges are the tape's edges, in
evaluation order); SVG is parsed with xml.etree; Mermaid is compared with golden files.
"""

from __future__ import annotations

import functools
import io
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import assert_golden, invoke
from rich.console import Console

from backtrace_cli.engine.tape import CONST, VAR, compile_program
from backtrace_cli.errors import OutputError
from backtrace_cli.explain.gradient import explain
from backtrace_cli.formats import graph
from backtrace_cli.report.text import number
from backtrace_cli.syntax.parser import parse

GOLDEN = Path(__file__).parent / "golden"
LECTURE = "(x*w - y)**2"
LECTURE_BINDINGS = {"x": 1.0, "w": 1.0, "y": 2.0}
PROGRAM = "y_hat = x*w; r = y_hat - y; loss = r**2"
SHARED = "a = x*w; a*a + a"

HAS_ENGINE = bool(graph.find_layout_engines())
needs_engine = pytest.mark.skipif(not HAS_ENGINE, reason="no Graphviz layout engine here")


def explain_text(source: str, seed: float = 1.0, **bindings: float):
    return explain(compile_program(parse(source)), bindings, seed, None, check=False)


# ----------------------------------------------------------------------------- parsing DOT
_ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\]\s]+)')
_NODE_LINE = re.compile(r"^\s*(\w+) \[(.*)\];$")
_EDGE_LINE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")


def dot_unquote(value: str) -> list[str]:
    """A DOT attribute value as the lines it shows (escapes undone, \\n and \\l split)."""
    if not value.startswith('"'):
        return [value]
    lines, current, position, body = [], "", 0, value[1:-1]
    while position < len(body):
        char = body[position]
        if char == "\\" and position + 1 < len(body):
            following = body[position + 1]
            if following in "nl":
                lines.append(current)
                current = ""
            else:
                current += following
            position += 2
            continue
        current += char
        position += 1
    if current or not lines:
        lines.append(current)
    return lines


def parse_dot(text: str) -> tuple[dict[str, dict[str, list[str]]], list[tuple[str, str, dict]]]:
    """Nodes {id: {attribute: lines}} and edges [(source, target, attributes)] in order."""
    nodes: dict[str, dict[str, list[str]]] = {}
    edges = []
    for line in text.splitlines():
        edge = _EDGE_LINE.match(line)
        if edge:
            attributes = {k: dot_unquote(v) for k, v in _ATTRIBUTE.findall(edge.group(3) or "")}
            edges.append((edge.group(1), edge.group(2), attributes))
            continue
        node = _NODE_LINE.match(line)
        if node and node.group(1) not in ("graph", "node", "edge"):
            nodes[node.group(1)] = {k: dot_unquote(v) for k, v in _ATTRIBUTE.findall(node.group(2))}
    return nodes, edges


def tape_edges(explanation) -> list[tuple[str, str]]:
    nodes = explanation.tape.nodes
    return [(nodes[j].id, node.id) for node in nodes for j in node.inputs]


# ----------------------------------------------------------------------------- DOT
@pytest.mark.parametrize(
    ("source", "bindings"),
    [(LECTURE, LECTURE_BINDINGS), (PROGRAM, LECTURE_BINDINGS), (SHARED, {"x": 2.0, "w": -3.0}),
     ("x*x + sin(x)/pi", {"x": 0.5})],
)
def test_dot_labels_hold_each_nodes_value_and_gradient(source, bindings):
    explanation = explain_text(source, **bindings)
    nodes, _ = parse_dot(graph.to_dot(explanation))
    assert list(nodes) == [node.id for node in explanation.tape.nodes]
    for node in explanation.tape.nodes:
        label = nodes[node.id]["label"]
        adjoint = explanation.result.adjoints[node.index]
        assert label[1] == f"value {number(explanation.values[node.index])}"
        assert label[2] == f"grad {graph.MISSING if adjoint is None else number(adjoint)}"
        if node.kind == VAR:
            assert label[0] == node.name
        elif node.kind == CONST:
            assert label[0] == node.text
        else:
            assert label[0] == f"{explanation.labels[node.index]} = {node.text}"


@pytest.mark.parametrize(
    ("source", "bindings"),
    [(LECTURE, LECTURE_BINDINGS), (PROGRAM, LECTURE_BINDINGS), (SHARED, {"x": 2.0, "w": -3.0}),
     ("x*x*x", {"x": 3.0}), ("b = 2*y; x", {"x": 1.0, "y": 2.0})],
)
def test_dot_edges_are_the_tapes_edges_in_evaluation_order(source, bindings):
    explanation = explain_text(source, **bindings)
    _, edges = parse_dot(graph.to_dot(explanation))
    assert [(source, target) for source, target, _ in edges] == tape_edges(explanation)


def test_a_shared_subexpression_is_one_node_with_several_outgoing_edges():
    explanation = explain_text(SHARED, x=2.0, w=-3.0)
    nodes, edges = parse_dot(graph.to_dot(explanation))
    shared = [node_id for node_id, attrs in nodes.items() if attrs["label"][0].startswith("a = ")]
    assert len(shared) == 1
    outgoing = [target for source, target, _ in edges if source == shared[0]]
    assert len(outgoing) == 3  # twice into a*a, once into the sum
    # its gradient is the sum of what flows back along those edges: 2a + 1 = -11
    assert nodes[shared[0]]["label"][2] == "grad -11"
    carried = [float(attrs["label"][0]) for source, _, attrs in edges if source == shared[0]]
    assert sum(carried) == -11


def test_edges_carry_the_gradient_sent_back_and_constants_get_none():
    explanation = explain_text(LECTURE, **LECTURE_BINDINGS)
    nodes, edges = parse_dot(graph.to_dot(explanation))
    labels = {(source, target): attrs.get("label") for source, target, attrs in edges}
    assert labels[("v5", "v7")] == ["-2"]  # d((x*w-y)**2)/d(x*w-y) at -1
    assert labels[("v4", "v5")] == ["2"]  # through the minus: y gets +2
    assert labels[("v6", "v7")] is None  # the constant exponent gets no gradient
    assert nodes["v6"]["label"][2] == f"grad {graph.MISSING}"


def test_variables_constants_and_ops_look_different_and_the_output_stands_out():
    explanation = explain_text(LECTURE, **LECTURE_BINDINGS)
    nodes, _ = parse_dot(graph.to_dot(explanation))
    looks = {
        kind: (nodes[node_id]["shape"][0], nodes[node_id]["fillcolor"][0])
        for kind, node_id in ((VAR, "v1"), (CONST, "v6"), ("op", "v3"))
    }
    assert len(set(looks.values())) == 3
    assert "penwidth" in nodes["v7"] and "penwidth" not in nodes["v5"]


def test_inputs_are_ranked_left_and_the_output_right():
    text = graph.to_dot(explain_text(LECTURE, **LECTURE_BINDINGS))
    assert "rankdir=LR" in text
    assert "{ rank=source; v1; v2; v4; }" in text
    assert "{ rank=sink; v7; }" in text


def test_dot_is_deterministic():
    first = graph.to_dot(explain_text(SHARED, x=2.0, w=-3.0))
    second = graph.to_dot(explain_text(SHARED, x=2.0, w=-3.0))
    assert first == second


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("two\nlines", '"two lines"'),
        ("-1e-05", '"-1e-05"'),
        ("\\n is not a break", '"\\\\n is not a break"'),
    ],
)
def test_dot_quote_escapes(text, quoted):
    assert graph.dot_quote(text) == quoted
    assert dot_unquote(quoted) == [" ".join(text.split())]


def test_odd_names_numbers_and_long_labels_survive_in_dot():
    long_name = "a_really_long_variable_name_for_a_weight_" + "w" * 30
    source = f"y_hat_2 = {long_name} * 1e-05; y_hat_2 - -1e-05"
    explanation = explain_text(source, **{long_name: -2.5e-7})
    nodes, edges = parse_dot(graph.to_dot(explanation))
    titles = [attrs["label"][0] for attrs in nodes.values()]
    assert all(len(title) <= graph.MAX_TITLE for title in titles)
    assert titles[0].endswith("…") and titles[0].startswith("a_really_long")
    values = [attrs["label"][1] for attrs in nodes.values()]
    assert "value 1e-05" in values and "value -1e-05" in values
    assert [(s, t) for s, t, _ in edges] == tape_edges(explanation)


# ----------------------------------------------------------------------------- Mermaid
@pytest.mark.parametrize(
    ("name", "source", "bindings", "seed"),
    [
        ("graph_lecture.mmd", LECTURE, LECTURE_BINDINGS, 1.0),
        ("graph_program.mmd", PROGRAM, LECTURE_BINDINGS, 1.0),
        ("graph_shared.mmd", SHARED, {"x": 2.0, "w": -3.0}, 5.0),
        ("graph_odd.mmd", "a_1 = exp(x_) * -1e-05; sigmoid(a_1) + max(a_1, pi)", {"x_": 0.5}, 1.0),
    ],
)
def test_mermaid_matches_golden(request, name, source, bindings, seed):
    text = graph.to_mermaid(explain_text(source, seed, **bindings))
    assert text.startswith("flowchart LR\n")
    assert_golden(request, name, text)


def test_mermaid_edges_are_the_tapes_edges():
    explanation = explain_text(SHARED, x=2.0, w=-3.0)
    pairs = re.findall(r"^  (v\d+) -->(?:\|\"[^\"]*\"\|)? (v\d+)$", graph.to_mermaid(explanation),
                       re.MULTILINE)
    assert pairs == tape_edges(explanation)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ('say "hi"', "say #quot;hi#quot;"),
        ("a#b", "a#35;b"),
        ("<br/> & `x` | y", "#lt;br/#gt; #amp; #96;x#96; #124; y"),
        ("-1e-05", "-1e-05"),
    ],
)
def test_mermaid_escape(text, escaped):
    assert graph.mermaid_escape(text) == escaped


# ----------------------------------------------------------------------------- SVG and PNG
@needs_engine
@pytest.mark.parametrize(
    ("source", "bindings"), [(LECTURE, LECTURE_BINDINGS), (SHARED, {"x": 2.0, "w": -3.0})]
)
def test_svg_has_one_node_group_per_tape_node_with_its_numbers(source, bindings):
    explanation = explain_text(source, **bindings)
    root = ET.fromstring(graph.render_graph(explanation, "svg"))
    namespace = {"svg": "http://www.w3.org/2000/svg"}
    groups = {
        group.get("id"): group for group in root.findall(".//svg:g[@class='node']", namespace)
    }
    assert sorted(groups) == sorted(node.id for node in explanation.tape.nodes)
    for node in explanation.tape.nodes:
        texts = [element.text for element in groups[node.id].findall("svg:text", namespace)]
        assert f"value {number(explanation.values[node.index])}" in texts
        adjoint = explanation.result.adjoints[node.index]
        assert f"grad {graph.MISSING if adjoint is None else number(adjoint)}" in texts
    # Graphviz draws in its own order: compare the edges as a multiset.
    edges = root.findall(".//svg:g[@class='edge']", namespace)
    titles = sorted(edge.find("svg:title", namespace).text for edge in edges)
    assert titles == sorted(f"{s}->{t}" for s, t in tape_edges(explanation))


@needs_engine
def test_png_is_a_png():
    data = graph.render_graph(explain_text(LECTURE, **LECTURE_BINDINGS), "png")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")


def test_no_layout_engine_gives_a_one_line_fix(monkeypatch):
    monkeypatch.setattr(graph, "find_layout_engines", lambda: [])
    with pytest.raises(OutputError) as caught:
        graph.render_graph(explain_text("x*2", x=1.0), "svg")
    assert "pip install graphviz-pure" in caught.value.render()
    assert "apt-get install graphviz" in caught.value.render()


def broken_engine(folder: Path) -> str:
    """A stand-in for a dot built without PNG support."""
    program = folder / "dot"
    program.write_text("#!/bin/sh\necho 'Format: \"png\" not recognized' >&2\nexit 1\n")
    program.chmod(0o755)
    return str(program)


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for dot")
def test_a_failing_engine_is_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(graph, "find_layout_engines", lambda: [broken_engine(tmp_path)])
    with pytest.raises(OutputError, match='dot failed: Format: "png" not recognized'):
        graph.render_graph(explain_text("x*2", x=1.0), "png")


@needs_engine
@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for dot")
def test_when_the_first_engine_fails_the_next_one_draws(monkeypatch, tmp_path):
    engines = [broken_engine(tmp_path), *graph.find_layout_engines()]
    monkeypatch.setattr(graph, "find_layout_engines", lambda: engines)
    assert graph.render_graph(explain_text("x*2", x=1.0), "png").startswith(b"\x89PNG")


# ----------------------------------------------------------------------------- terminal tree
def tree_lines(explanation, width: int = 120) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(graph.to_tree(explanation))
    return console.file.getvalue().splitlines()


def test_tree_runs_from_the_output_back_to_the_inputs():
    lines = tree_lines(explain_text(LECTURE, **LECTURE_BINDINGS))
    assert lines[0] == LECTURE
    assert lines[1] == "z = (x*w - y)**2  value 1  grad 1"
    assert lines[2:8] == [
        "├── v5 = x*w - y  value -1  grad -2",
        "│   ├── v3 = x*w  value 1  grad -2",
        "│   │   ├── x  value 1  grad -2",
        "│   │   └── w  value 1  grad -2",
        "│   └── y  value 2  grad 2",
        f"└── 2  value 2  grad {graph.MISSING}",
    ]


def test_tree_expands_a_shared_node_once_and_marks_the_repeats():
    lines = tree_lines(explain_text(SHARED, x=2.0, w=-3.0))
    shared = [line for line in lines[1:] if "a = x*w" in line]
    assert len(shared) == 3
    assert sum("shared: expanded above" in line for line in shared) == 2
    assert sum(line.strip(" │├└─").startswith("x ") for line in lines) == 1


def test_tree_names_statements_the_output_does_not_use():
    lines = tree_lines(explain_text("b = 2*y; x*3", x=1.0, y=2.0))
    assert any(line.startswith("not used by the output: 2, y, b = 2*y") for line in lines)


def test_a_deep_tree_stops_expanding_with_a_note():
    source = "; ".join(["a = x"] + ["a = a*1.5"] * (graph.MAX_TREE_DEPTH + 5))
    lines = tree_lines(explain_text(source, x=1.0), width=200)
    assert any("deeper inputs not shown" in line for line in lines)


# ----------------------------------------------------------------------------- files
def test_write_atomic_replaces_the_file_whole(tmp_path):
    target = tmp_path / "graph.dot"
    target.write_text("old")
    graph.write_atomic(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.dot"]


def test_write_atomic_into_a_missing_folder_is_an_output_error(tmp_path):
    target = tmp_path / "missing" / "graph.svg"
    with pytest.raises(OutputError, match="does not exist"):
        graph.write_atomic(str(target), b"data")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_onto_a_directory_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        graph.write_atomic(str(tmp_path), b"data")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_leaves_no_temp_file_and_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "graph.mmd"
    target.write_text("old")

    def failing_replace(source, destination):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(graph.os, "replace", failing_replace)
    with pytest.raises(OutputError, match="permission denied"):
        graph.write_atomic(str(target), b"new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.mmd"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("g.svg", "svg"), ("g.PNG", "png"), ("g.dot", "dot"), ("g.gv", "dot"), ("g.mmd", "mermaid"),
     ("g.mermaid", "mermaid"), ("g.txt", "text"), ("g.pdf", None), ("graph", None)],
)
def test_format_for_path(name, expected):
    assert graph.format_for_path(name) == expected


def test_write_graph_file_picks_the_format_from_the_suffix(tmp_path):
    explanation = explain_text(LECTURE, **LECTURE_BINDINGS)
    graph.write_graph_file(explanation, str(tmp_path / "g.mmd"))
    graph.write_graph_file(explanation, str(tmp_path / "g.gv"))
    graph.write_graph_file(explanation, str(tmp_path / "g.txt"))
    assert (tmp_path / "g.mmd").read_text() == graph.to_mermaid(explanation)
    assert (tmp_path / "g.gv").read_text() == graph.to_dot(explanation)
    assert "z = (x*w - y)**2  value 1  grad 1" in (tmp_path / "g.txt").read_text()
    with pytest.raises(OutputError, match="cannot tell the graph format"):
        graph.write_graph_file(explanation, str(tmp_path / "g.pdf"))


# ----------------------------------------------------------------------------- the command
run = functools.partial(invoke, "graph")


LECTURE_ARGS = (LECTURE, "x=1", "w=1", "y=2")


def test_graph_prints_dot_when_stdout_is_not_a_terminal():
    result = run(*LECTURE_ARGS)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == graph.to_dot(explain_text(LECTURE, **LECTURE_BINDINGS))
    assert result.stderr == ""


def test_graph_prints_mermaid():
    result = run(*LECTURE_ARGS, "--format", "mermaid")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == graph.to_mermaid(explain_text(LECTURE, **LECTURE_BINDINGS))


def test_graph_prints_a_text_tree():
    result = run(*LECTURE_ARGS, "--format", "text")
    assert result.exit_code == 0, result.stderr
    assert "z = (x*w - y)**2  value 1  grad 1" in result.stdout
    assert "└── w  value 1  grad -2" in result.stdout


def test_graph_dz_seeds_the_gradient():
    result = run("x*w", "x=2", "w=3", "--dz", "5", "--format", "mermaid")
    assert result.exit_code == 0, result.stderr
    assert "value 6<br/>grad 5" in result.stdout
    assert "w<br/>value 3<br/>grad 10" in result.stdout


@pytest.mark.parametrize(
    ("suffix", "check"),
    [
        (".dot", lambda data: data.startswith(b"digraph backtrace {")),
        (".mmd", lambda data: data.startswith(b"flowchart LR")),
        (".txt", lambda data: b"value 1  grad 1" in data),
        pytest.param(".svg", lambda data: ET.fromstring(data).tag.endswith("svg"),
                     marks=needs_engine),
        pytest.param(".png", lambda data: data.startswith(b"\x89PNG"), marks=needs_engine),
    ],
)
def test_graph_writes_the_format_its_suffix_names(tmp_path, suffix, check):
    target = tmp_path / f"graph{suffix}"
    result = run(*LECTURE_ARGS, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert check(target.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_format_wins_over_the_suffix(tmp_path):
    target = tmp_path / "graph.out"
    result = run(*LECTURE_ARGS, "-o", str(target), "--format", "mermaid")
    assert result.exit_code == 0, result.stderr
    assert target.read_text().startswith("flowchart LR")


@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_a_picture_without_a_file_is_a_usage_error(image_format):
    result = run(*LECTURE_ARGS, "--format", image_format)
    assert result.exit_code == 2
    assert f"-o graph.{image_format}" in result.stderr
    assert result.stdout == ""


def test_an_unknown_format_is_exit_2():
    result = run(*LECTURE_ARGS, "--format", "pdf")
    assert result.exit_code == 2
    assert "pdf" in result.stderr


def test_an_unknown_suffix_is_exit_2(tmp_path):
    result = run(*LECTURE_ARGS, "-o", str(tmp_path / "graph.pdf"))
    assert result.exit_code == 2
    assert "cannot tell the format" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".dot", pytest.param(".svg", marks=needs_engine)])
def test_a_file_that_cannot_be_written_is_exit_2_and_leaves_nothing(tmp_path, suffix):
    target = tmp_path / "no" / "such" / f"graph{suffix}"
    result = run(*LECTURE_ARGS, "-o", str(target))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_engine_is_exit_2_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(graph, "find_layout_engines", lambda: [])
    target = tmp_path / "graph.svg"
    result = run(*LECTURE_ARGS, "-o", str(target))
    assert result.exit_code == 2
    assert "pip install graphviz-pure" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_input_is_exit_2():
    assert run("x*", "x=1").exit_code == 2
    assert run("x*w", "x=1").exit_code == 2
    assert run("x*w", "x=1", "w=2", "q=3").exit_code == 2


def test_odd_names_through_the_command():
    result = run("y_hat_1 = x_*w__b; y_hat_1 - -1e-05", "--x_", "2", "w__b=-1e-05",
                 "--format", "mermaid")
    assert result.exit_code == 0, result.stderr
    assert '(["x_<br/>value 2<br/>grad -1e-05"])' in result.stdout
    assert "y_hat_1 = x_*w__b<br/>value -2e-05" in result.stdout


def test_graph_help_has_examples():
    result = run("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "-o graph.svg" in result.stdout
