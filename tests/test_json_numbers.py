"""Every number in the JSON output is written exactly as Python's ``repr`` writes the float:
the shortest text that reads back to the same bits (``1e-05``, ``1e+16``, ``5e-324``,
``-0.0``, ``0.30000000000000004``), in grad's fast row-by-row writer, in its array writer and
in the documents of the other commands. A JSON encoder with another layout for exponents
(orjson writes ``1e-5`` as ``0.00001``) would fail here."""

from __future__ import annotations

import json
import random
import struct

import pytest
from helpers import invoke

from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.gradient import explain
from backtrace_cli.formats import registry
from backtrace_cli.report.grad import build
from backtrace_cli.syntax.parser import parse

# The numbers a different encoder is most likely to write differently.
AWKWARD = [1e16, 1e22, 5e-324, -0.0, 0.1 + 0.2, 1e-05, 1.234e-07, 9.999999999999999e-05,
           0.0001, 2.0**53, 123456789012345680.0, 8.98846567431158e307,
           2.2250738585072014e-308, 1 / 3, 100.0, 1e15, 0.1]


def number_texts(text: str) -> list[str]:
    """Every float in a JSON text, as written."""
    found: list[str] = []

    def keep(written: str) -> float:
        found.append(written)
        return float(written)

    json.loads(text, parse_float=keep)
    return found


def assert_written_by_repr(text: str) -> list[str]:
    texts = number_texts(text)
    assert texts, "no float in the document"
    wrong = [written for written in texts if repr(float(written)) != written]
    assert wrong == []
    return texts


def test_the_check_catches_another_layout():
    """What orjson 3.13 writes for 1e-05 and 1.234e-07: the same value, not repr's text."""
    with pytest.raises(AssertionError):
        assert_written_by_repr('{"a": 0.00001}')
    with pytest.raises(AssertionError):
        assert_written_by_repr('{"a": [1.0, 1.234e-7]}')
    assert assert_written_by_repr('{"a": [1e-05, 1.234e-07, 1e+16]}') == [
        "1e-05", "1.234e-07", "1e+16"]


def grad_json(source: str, bindings: dict, compact: bool | None = None) -> str:
    tape = compile_program(parse(source))
    report = build(explain(tape, bindings, 1.0, None, False))
    if compact is not None:
        report = type(report)(report.command, report.title, report.sections, report.data,
                              report.json_text, compact)
    return registry.render(report, "json")


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("value", AWKWARD)
def test_grad_scalar_json_writes_every_value_as_repr(value, compact):
    text = grad_json("x*w + x", {"x": value, "w": 0.5}, compact)
    texts = assert_written_by_repr(text)
    assert repr(value) in texts  # the binding, the forward value of x and its gradient rows


@pytest.mark.parametrize("value", AWKWARD)
def test_grad_array_json_writes_every_value_as_repr(value):
    import numpy

    text = grad_json("sum(x*w)", {"x": numpy.array([value, 2.0]),
                                  "w": numpy.array([0.5, 0.25])})
    texts = assert_written_by_repr(text)
    assert repr(value) in texts


def test_many_random_floats_as_repr():
    """5,000 floats of every magnitude through grad's fast writer, bit patterns at random."""
    generator = random.Random(16)
    values = []
    while len(values) < 5_000:
        value = struct.unpack("<d", struct.pack("<Q", generator.getrandbits(64)))[0]
        if value == value and abs(value) < 1e300:  # finite, and x*1 stays finite
            values.append(value)
    source = " + ".join(f"x{i}*1" for i in range(len(values)))
    text = grad_json(source, {f"x{i}": value for i, value in enumerate(values)}, True)
    texts = assert_written_by_repr(text)
    assert set(map(repr, values)) <= set(texts)


def test_cli_grad_json_texts_of_awkward_bindings():
    result = invoke("grad", "x*w", "x=1e16", "w=1e-05", "--no-check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"x": 1e+16' in result.stdout and '"w": 1e-05' in result.stdout
    assert_written_by_repr(result.stdout)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_train_history_is_written_as_repr(tmp_path, dtype):
    """float32 losses are written as the float64 of the float32 (0.10000000149011612)."""
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1e-05,0.1\n0.2,0.30000000000000004\n3,1e16\n")
    result = invoke("train", str(path), "--model", "w*x", "--epochs", "3", "--lr", "1e-33",
                    "--dtype", dtype, "--format", "json")
    assert result.exit_code == 0, result.stderr
    texts = assert_written_by_repr(result.stdout)
    document = json.loads(result.stdout)
    for record in document["history"]:
        assert repr(record["loss"]) in texts
    if dtype == "float32":
        import numpy

        losses = [record["loss"] for record in document["history"]]
        assert all(float(numpy.float32(loss)) == loss for loss in losses)
