"""The report model and its writers: a view gets every format by adding sections; the grad
report's JSON has the same keys for scalars and arrays; colour only where asked for."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backtrace_cli.cli import parsing
from backtrace_cli.cli.main import main
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.gradient import explain
from backtrace_cli.formats import registry
from backtrace_cli.report.grad import build
from backtrace_cli.report.grad_text import rule_text
from backtrace_cli.report.model import Column, Lines, Report, Table, Text, joined
from backtrace_cli.syntax.parser import parse


def grad_report(source: str, seed=1.0, check: bool = True, **bindings):
    explanation = explain(compile_program(parse(source)), bindings, seed, None, check)
    return explanation, build(explanation)


# ----------------------------------------------------------------------------- a new view
def hand_made() -> Report:
    """A view nobody has written a writer for: one table, one block of equations."""
    table = Table(
        title=joined("Step sizes", ": ", Text("lr*g", code=True)),
        columns=(Column(Text("step")), Column(Text("rate", r"\eta"), "right")),
        rows=((Text("1"), Text("0.5", "0.5")), (Text("2"), Text("1e-05", r"10^{-5}"))),
        after=(Text("two steps"),),
        notes=(Text("halved when the loss grows", tone="bad"),),
        key="steps",
    )
    lines = Lines(title=Text("Update"), lines=(Text("w = w - lr*g", r"w &= w - \eta g",
                                                   code=True),), equations=True, key="update")
    return Report("demo", Text("a demo"), (table, lines), data={"steps": [0.5, 1e-05]})


EXPECTED = {
    "table": (
        "Step sizes: lr*g\n"
        "┏━━━━━━┳━━━━━━━┓\n"
        "┃ step ┃  rate ┃\n"
        "┡━━━━━━╇━━━━━━━┩\n"
        "│ 1    │   0.5 │\n"
        "│ 2    │ 1e-05 │\n"
        "└──────┴───────┘\n"
        "two steps\n"
        "  halved when the loss grows\n"
        "\n"
        "Update\n"
        "  w = w - lr*g\n"
    ),
    "markdown": (
        "## Step sizes: `lr*g`\n\n"
        "| step | rate |\n| --- | --- |\n| 1 | 0.5 |\n| 2 | 1e-05 |\n\n"
        "Two steps\n\n"
        "- halved when the loss grows\n\n"
        "## Update\n\n"
        "- `w = w - lr*g`\n"
    ),
    "json": '{\n  "steps": [\n    0.5,\n    1e-05\n  ]\n}\n',
}


@pytest.mark.parametrize("name", ["table", "markdown", "json"])
def test_a_new_view_gets_every_format_by_adding_sections(name):
    assert registry.render(hand_made(), name) == EXPECTED[name]


def test_a_new_view_in_latex():
    text = registry.render(hand_made(), "latex")
    assert text == "\n".join([
        "% a demo",
        r"% needs \usepackage{booktabs, amsmath, amssymb, array, longtable}",
        "",
        r"\paragraph{Step sizes} {\raggedright \texttt{lr*\allowbreak{}g}\par}",
        "",
        r"\begin{center}",
        r"\begin{tabular}{@{}lr@{}}",
        r"\toprule",
        r"step & $\eta$ \\",
        r"\midrule",
        r"1 & $0.5$ \\",
        r"2 & $10^{-5}$ \\",
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{center}",
        "",
        "Two steps.",
        "",
        r"\begin{itemize}",
        r"\item halved when the loss grows",
        r"\end{itemize}",
        "",
        r"\paragraph{Update}",
        "",
        r"\begin{align*}",
        r"w &= w - \eta g",
        r"\end{align*}",
        "",
    ])


def test_every_registered_format_of_grad_writes_the_grad_report():
    assert registry.names("grad") == ["table", "json", "markdown", "latex", "html"]
    _, report = grad_report("x*w", 5.0, x=2.0, w=3.0)
    for name in registry.names("grad"):
        text = registry.render(report, name)
        assert "15" in text and "10" in text, name
    assert registry.for_path("notes.md", "grad").name == "markdown"
    assert registry.for_path("notes.tex", "grad").name == "latex"
    assert registry.for_path("page.html", "grad").name == "html"


def test_sections_are_keyed():
    _, report = grad_report("x*w", x=2.0, w=3.0)
    assert [section.key for section in report.sections] == [
        "forward", "backward", "chain_rule", "gradients"]
    backward = report.section("backward")
    assert [column.header.plain for column in backward.columns] == [
        "node", "input", "upstream dL/dnode", "local dnode/dinput", "local value", "product"]
    assert backward.rows[0][3].plain == "dz/dx = w"
    assert report.section("gradients").rows[0][0].math == "x"


# ----------------------------------------------------------------------------- JSON
def _keys(document: dict) -> dict:
    return {
        "top": sorted(document),
        "forward": sorted(document["forward"][0]),
        "backward": sorted(document["backward"][0]),
        "chain_rule": sorted(document["chain_rule"][0]),
    }


def test_scalar_and_array_json_have_the_same_keys():
    _, scalar = grad_report("sum(x*w)", x=2.0, w=3.0)
    import numpy

    _, array = grad_report("sum(x*w)", x=numpy.array([1.0, 2.0]), w=numpy.array([3.0, 4.0]))
    scalar_document = json.loads(registry.render(scalar, "json"))
    array_document = json.loads(registry.render(array, "json"))
    assert _keys(scalar_document) == _keys(array_document)
    assert scalar_document["shapes"] == {"x": [], "w": []}
    assert array_document["shapes"] == {"x": [2], "w": [2]}
    assert [row["shape"] for row in scalar_document["forward"]] == [[], [], [], []]
    assert [row["rule"] for row in scalar_document["backward"]] == ["1 (each element)", "w",
                                                                    "x"]


@pytest.mark.parametrize("source", [
    "y_hat = x*w; r = y_hat - y; loss = r**2", "x*x + x", "sin(x) / (x - y) + pi*2",
    "max(x, y) - min(x, 2) + relu(x) + abs(y)", "sigmoid(x)**y + tanh(x) + exp(-x) + log(y)",
    "c = x + 1; c = c*c; c - e",
])
def test_the_fast_json_rules_are_rule_text(source):
    values = {"x": 0.5, "y": 1.5, "w": 2.0}
    tape = compile_program(parse(source))
    explanation = explain(tape, {name: values[name] for name in tape.variables}, 1.0, None,
                          False)
    report = build(explanation)
    document = json.loads(report.json_text())
    assert [row["rule"] for row in document["backward"]] == [
        rule_text(explanation, edge.node, edge.input) for edge in explanation.edges]
    assert dict(report.data) == document


def test_huge_json_is_compact_small_json_is_indented():
    _, small = grad_report("x*w", x=2.0, w=3.0)
    assert registry.render(small, "json").startswith('{\n  "expression": "x*w"')
    source = " + ".join(f"x*{i}" for i in range(1, 700))  # 2,097 nodes
    _, big = grad_report(source, check=False, x=1.0)
    text = registry.render(big, "json")
    assert text.startswith('{"expression":') and text.endswith("}\n")
    assert text.count("\n") == 1


def test_json_alone_does_not_build_the_tables():
    explanation, report = grad_report("x*w", check=False, x=2.0, w=3.0)
    registry.render(report, "json")
    assert report.sections._items is None
    assert len(report.sections) == 4


# ----------------------------------------------------------------------------- colour
def test_check_marks_are_green_and_red_only_with_colour():
    _, report = grad_report("x*w", x=2.0, w=3.0)
    coloured = registry.render(report, "table", registry.Options(color=True))
    assert "\x1b[32m  ✓  \x1b[0m" in coloured
    plain = registry.render(report, "table")
    assert "\x1b[" not in plain and "✓" in plain
    bad = Table(Text("t"), (Column(Text("check")),), ((Text("✗", tone="bad"),),))
    assert "\x1b[31m✗    \x1b[0m" in registry.render(Report("x", Text("x"), (bad,)), "table",
                                                 registry.Options(color=True))


def test_colour_on_a_terminal_but_not_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(parsing, "_stdout_is_terminal", lambda: True)
    assert parsing.output_options().color is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert parsing.output_options().color is False


def test_piped_table_has_no_escape_codes_and_one_line_per_row():
    result = CliRunner().invoke(main, ["grad", "x*w", "x=2", "w=3"])
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    assert "│ x        │            3 │ w                │           3 │" in result.stdout


def test_markdown_heading_has_no_nested_parentheses():
    result = CliRunner().invoke(main, ["grad", "x*w", "x=2", "w=3", "--dz", "5", "--format",
                                       "markdown"])
    heading = next(line for line in result.stdout.splitlines()
                   if line.startswith("## Backward"))
    assert heading == "## Backward pass: seed dL/dz = 5 (the seed, `--dz`)"


def test_markdown_and_latex_are_registered_with_their_suffixes():
    assert registry.get("markdown").suffixes == (".md",)
    assert registry.get("latex").suffixes == (".tex",)
