"""Tapes recorded op by op (engine/recording.py): the same reports as ``backtrace grad``.

``y_hat = x*w; r = y_hat - y; loss = r**2`` is recorded by API calls, one op at a time, with
the names and source text attached by the caller; ``grad``'s report of that tape is byte for
byte the command's, in every format. ``grad`` has no float32 mode: in float32 the recorded
values and adjoints are checked against the engine's own float32 sweeps of the parsed program.
"""

from __future__ import annotations

import numpy
import pytest

from backtrace_cli.engine import recording
from backtrace_cli.engine.backends import FLOAT64, numpy_backend
from backtrace_cli.errors import Span
from backtrace_cli.ops.table import BY_NAME
from tests.helpers import invoke

SOURCE = "y_hat = x*w; r = y_hat - y; loss = r**2"
BINDINGS = {"x": 1.0, "y": 2.0, "w": 1.0}
FORMATS = ("table", "json", "markdown", "latex", "html")


def _span(text: str, start: int = 0) -> Span:
    at = SOURCE.index(text, start)
    return Span(at, at + len(text))


def record(m, convert=float):
    """The program, recorded as a running program would record it."""
    x = recording.variable(convert(BINDINGS["x"]), m, "x", span=_span("x", 8))
    w = recording.variable(convert(BINDINGS["w"]), m, "w", span=_span("w", 8))
    y_hat = recording.apply(BY_NAME["mul"], (x, w), m, name="y_hat", span=_span("x*w"))
    y = recording.variable(convert(BINDINGS["y"]), m, "y", span=_span("y", 20))
    r = recording.apply(BY_NAME["sub"], (y_hat, y), m, name="r", span=_span("y_hat - y"))
    two = recording.constant(convert(2.0), m, text="2", span=_span("2"))
    loss = recording.apply(BY_NAME["pow"], (r, two), m, name="loss", span=_span("r**2"))
    return {"x": x, "w": w, "y": y, "y_hat": y_hat, "r": r, "loss": loss}


def _report_of_tape(tape, bindings, output_format):
    from backtrace_cli.cli.parsing import output_options
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.formats import registry
    from backtrace_cli.report.grad import build

    explanation = explain(tape, bindings)
    options = output_options() if output_format == "table" else registry.PLAIN
    return registry.render(build(explanation), output_format, options)  # as grad prints it


def test_the_recorded_tape_is_the_parsed_tape():
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.syntax.parser import parse

    tape, bindings = recording.to_tape(record(FLOAT64)["loss"], SOURCE)
    assert tape == compile_program(parse(SOURCE))
    assert bindings == {"x": 1.0, "w": 1.0, "y": 2.0}


@pytest.mark.parametrize("output_format", FORMATS)
def test_every_format_is_byte_for_byte_grads(output_format):
    tape, bindings = recording.to_tape(record(FLOAT64)["loss"], SOURCE)
    bindings = {name: bindings[name] for name in ("x", "y", "w")}  # as the command got them
    ours = _report_of_tape(tape, bindings, output_format)
    result = invoke("grad", SOURCE, "x=1", "y=2", "w=1", "--format", output_format)
    assert result.exit_code == 0, result.output
    assert ours == result.stdout


def test_float64_adjoints_are_the_reports_gradients():
    nodes = record(FLOAT64)
    adjoints = recording.reverse(nodes["loss"], 1.0)
    assert nodes["loss"].value == 1.0
    assert [adjoints[nodes[name]] for name in ("x", "w", "y")] == [-2.0, -2.0, 2.0]
    assert adjoints[nodes["y_hat"]] == -2.0


def test_float32_values_and_adjoints_are_the_engines_float32_sweeps():
    from backtrace_cli.engine.sweeps import backward, forward
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.syntax.parser import parse

    m = numpy_backend("float32")
    bindings = {"x": 1.1, "y": 2.3, "w": 0.7}
    globals()["BINDINGS"], saved = bindings, BINDINGS
    try:
        nodes = record(m, numpy.float32)
    finally:
        globals()["BINDINGS"] = saved
    tape = compile_program(parse(SOURCE))
    values = forward(tape, {k: numpy.float32(v) for k, v in bindings.items()}, m)
    sweep = backward(tape, values, numpy.float32(1.0), m=m)
    recorded = recording.reverse(nodes["loss"], numpy.float32(1.0))
    for name in ("y_hat", "r", "loss"):
        index = tape.nodes.index(next(n for n in tape.nodes if n.name == name))
        assert nodes[name].value.dtype == numpy.float32
        assert nodes[name].value == values[index]
    for name in ("x", "w", "y"):
        adjoint = recorded[nodes[name]]
        assert adjoint.dtype == numpy.float32
        assert adjoint == sweep.adjoints[tape.variable_nodes[name]]
    # float32 really differs from float64 here, so the check has teeth
    assert float(nodes["loss"].value) != (1.1 * 0.7 - 2.3) ** 2


def test_reverse_from_any_node_with_any_seed():
    nodes = record(FLOAT64)
    adjoints = recording.reverse(nodes["r"], 3.0)
    assert adjoints[nodes["x"]] == 3.0 and adjoints[nodes["y"]] == -3.0
    assert nodes["loss"] not in adjoints


def test_a_variable_used_twice_accumulates_both_edges():
    x = recording.variable(3.0, FLOAT64, "x")
    square = recording.apply(BY_NAME["mul"], (x, x), FLOAT64)
    edges: list = []
    adjoints = recording.reverse(square, 1.0, edges=edges)
    assert adjoints[x] == 6.0
    assert [(position, product) for _, position, _, product in edges] == [(0, 3.0), (1, 3.0)]


def test_a_deep_graph_needs_no_recursion():
    x = recording.variable(1.0, FLOAT64, "x")
    node = x
    for _ in range(50_000):
        node = recording.apply(BY_NAME["neg"], (node,), FLOAT64)
    assert recording.reverse(node, 1.0)[x] == 1.0
    tape, _ = recording.to_tape(node)
    assert len(tape) == 50_001


def test_quiz_and_grade_from_the_recorded_tape_are_the_parsed_programs():
    """quiz's worksheet and grade's marks need only the explanation: from a recorded tape
    they are those of the text."""
    from backtrace_cli.api.quiz import grade, quiz
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.explain.grading import grade as mark
    from backtrace_cli.formats import registry
    from backtrace_cli.report.grade import build as grade_report
    from backtrace_cli.report.quiz import build as quiz_report

    tape, bindings = recording.to_tape(record(FLOAT64)["loss"], SOURCE)
    bindings = {name: bindings[name] for name in ("x", "y", "w")}
    explanation = explain(tape, bindings, check=False)
    kinds = ("forward", "local", "product", "gradient")
    for output_format in ("markdown", "json"):
        ours = registry.render(quiz_report(explanation, kinds), output_format, registry.PLAIN)
        assert ours == quiz(SOURCE, BINDINGS).render(output_format)
    answers = {"gradients": {"x": -2, "w": -2, "y": 3}}
    import json

    from backtrace_cli.data.answers import read_json

    marks = mark(explanation, read_json(json.dumps(answers)))
    expected = grade(SOURCE, BINDINGS, answers=answers)
    assert registry.render(grade_report(marks), "json", registry.PLAIN) == expected.render("json")
    assert expected.score["wrong"] == 1
