"""docs/schema/*.json: valid schemas, named in docs/cli.md, and able to refuse a document.

Every JSON object the other tests produce through CliRunner is validated by tests/conftest.py;
the tests here pin the validator itself (it can fail, and says where) and the documents of the
cases the contract names: arrays, programs, kinks, --no-check, skipped checks, divergence,
--trace, a program that is not affine.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import helpers
import pytest
from click.testing import CliRunner
from helpers import SCHEMA_COMMANDS, problems, schema, validate
from jsonschema import Draft202012Validator

from backtrace_cli.cli.main import main

DOCS = Path(__file__).parent.parent / "docs" / "cli.md"


def run(*args: str, exit_code: int = 0) -> dict:
    """One invocation, its JSON validated (by the conftest hook) before this returns."""
    result = helpers.invoke(*args)
    assert result.exit_code == exit_code, (result.stdout[-300:], result.stderr)
    helpers.check_pending()
    return json.loads(result.stdout)


def required_keys(node) -> set[str]:
    """Every key some object in the schema requires, at any depth (including $defs)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.update(item.get("required", ()))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


# ----------------------------------------------------------------------------- the schemas
@pytest.mark.parametrize("command", SCHEMA_COMMANDS)
def test_every_schema_is_a_valid_draft_2020_12_schema(command):
    document = schema(command)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)
    assert document["type"] == "object"


@pytest.mark.parametrize("command", SCHEMA_COMMANDS)
def test_docs_cli_md_names_every_key_the_schema_requires(command):
    # A key counts as named when it is written in backticks, alone or in a path such as
    # `check.kinks` or `history[].last_loss`.
    text = DOCS.read_text(encoding="utf-8")
    named = set()
    for span in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*(?:(?:\[\])?\.[A-Za-z_][A-Za-z0-9_]*)*)`",
                           text):
        named.update(re.split(r"(?:\[\])?\.", span))
    missing = sorted(required_keys(schema(command)) - named)
    assert missing == [], f"docs/cli.md does not name {missing} (required by {command}.json)"


def test_docs_cli_md_points_at_the_schemas():
    text = DOCS.read_text(encoding="utf-8")
    assert "## Schemas" in text and "## Python API" in text
    for command in SCHEMA_COMMANDS:
        assert f"`{command}.json`" in text


def test_an_array_value_is_a_number_or_nested_lists_of_numbers():
    value = Draft202012Validator({"$defs": schema("grad")["$defs"], "$ref": "#/$defs/value"})
    for good in (1.5, 0, [], [1.0, 2.0], [[1, 2], [3, 4]], [[[0.5]]]):
        assert value.is_valid(good), good
    for bad in ("1", None, True, [1, "2"], [[1], [None]], {"x": 1}):
        assert not value.is_valid(bad), bad


# ----------------------------------------------------------------------------- the validator
def test_a_wrong_type_is_refused_with_its_json_path():
    document = run("grad", "x*w", "x=2", "w=3", "--no-check", "--format", "json")
    document["gradients"]["x"] = "6"
    with pytest.raises(AssertionError) as refused:
        validate("grad", document)
    message = str(refused.value)
    assert "does not match docs/schema/grad.json" in message
    assert "at $.gradients.x: '6' is not valid under any of the given schemas" in message


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("output_id"), "at $: 'output_id' is a required property"),
        (lambda d: d["forward"][0].pop("id"), "at $.forward[0]: 'id' is a required property"),
        (lambda d: d["forward"][2].update(op=3), "at $.forward[2].op: 3 is not of type 'string'"),
        (lambda d: d["backward"][1].update(node="node 3"), "at $.backward[1].node: 'node 3' does"
         " not match"),
        (lambda d: d.update(surprise=1), "Additional properties are not allowed ('surprise'"),
        (lambda d: d.update(check={"ok": "yes"}), "at $.check: {'ok': 'yes'} is not valid"),
    ],
    ids=["missing key", "missing row key", "wrong row type", "bad id", "undescribed key",
         "bad check"],
)
def test_the_validator_refuses(change, where):
    document = run("grad", "x*w", "x=2", "w=3", "--no-check", "--format", "json")
    change(document)
    with pytest.raises(AssertionError, match=re.escape(where)):
        validate("grad", document)


def test_text_that_is_not_json_is_refused():
    with pytest.raises(AssertionError, match="train --format json printed no JSON object"):
        validate("train", "Training y_hat = x*w on the lecture's data")


def test_an_array_document_needs_shape_rule_and_shapes():
    document = run("grad", "sum(W @ x)", "W=[[1, 2], [3, 4]]", "x=[1, 2]", "--no-check",
                   "--format", "json")
    assert document["forward"][0]["shape"] == [2, 2]
    assert document["backward"][1]["rule"] == "upstream ⊗ x"
    assert document["shapes"] == {"W": [2, 2], "x": [2]}
    for remove, where in ((lambda d: d["forward"][0].pop("shape"), "$.forward[0]"),
                          (lambda d: d["backward"][1].pop("rule"), "$.backward[1]")):
        broken = copy.deepcopy(document)
        remove(broken)
        with pytest.raises(AssertionError, match=re.escape(f"at {where}: ")):
            validate("grad", broken)


def test_a_long_list_is_validated_on_a_sample_of_its_rows():
    document = run("grad", "x*w + sin(x)", "x=2", "w=3", "--format", "json")
    rows = document["forward"] * 400
    broken = [dict(row) for row in rows]
    broken[-1]["value"] = "six"  # the last row is in the sample
    assert problems("grad", {**document, "forward": rows}) == []
    assert problems("grad", {**document, "forward": broken}) == [
        ("$.forward[499].value", "'six' is not valid under any of the given schemas")]


# ----------------------------------------------------------------------------- the CliRunner hook
def test_every_cli_runner_json_is_validated(monkeypatch):
    from backtrace_cli.report import grad

    real = grad.grad_json_text
    monkeypatch.setattr(grad, "grad_json_text", lambda explanation: real(explanation).replace(
        '"expression":"x*w"', '"expression":1', 1))
    for form in (["--format", "json"], ["--format=json"], ["--format", "table", "--format=json"]):
        CliRunner().invoke(main, ["grad", "x*w", "x=2", "w=3", "--no-check", *form])
        assert [command for command, _, _ in helpers.PENDING] == ["grad"]
        with pytest.raises(AssertionError) as refused:
            helpers.check_pending()
        assert str(refused.value).startswith(f"backtrace grad x*w x=2 w=3 --no-check {form[0]}")
        assert "  at $.expression: 1 is not of type 'string'" in str(refused.value)
    # Not JSON (the last --format wins), or not a command with a schema: not collected.
    for args in (["grad", "x*w", "x=2", "w=3", "--no-check", "--format", "json", "--format",
                  "markdown"], ["graph", "x*w", "x=2", "w=3", "--format", "dot"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0 and result.stdout
        assert helpers.PENDING == []


# ----------------------------------------------------------------------------- real documents
def test_a_program_with_a_kink():
    document = run("grad", "y_hat = relu(x)*w; loss = (y_hat - y)**2", "x=0", "w=3", "y=1",
                   "--format", "json")
    assert [row["name"] for row in document["forward"]] == [
        "x", None, "w", "y_hat", "y", None, None, "loss"]
    assert document["check"]["ok"] is True
    assert document["check"]["kinks"] == {
        "x": "relu'(0) = 0 (PyTorch's convention) at v2 (relu(x))"}


def test_a_skipped_sympy_check(monkeypatch):
    from backtrace_cli.checks import verify as check

    monkeypatch.setattr(check, "_sympy_derivatives", lambda *args: __import__("time").sleep(30))
    document = run("grad", "x*w", "x=2", "w=3", "--check-timeout", "0.2", "--format", "json")
    assert document["check"]["sympy"]["x"] == {
        "derivative": None, "value": None, "ok": None,
        "note": "skipped: SymPy took longer than 0.2 s"}


def test_an_array_seed_and_output():
    document = run("grad", "W @ x", "W=[[1, 2], [3, 4]]", "x=[1, 2]", "--dz", "[1, -1]",
                   "--no-check", "--format", "json")
    assert document["seed"] == [1.0, -1.0]
    assert document["output"] == [5.0, 11.0]
    assert document["check"] is None


def test_train_with_trace_and_divergence():
    document = run("train", "--epochs", "2", "--trace", "--predict", "4", "--format", "json")
    assert [entry["update"] for entry in document["trace"]] == [1, 2, 3, 4, 5, 6]
    assert document["predictions"] == [{"input": {"x": 4.0}, "y_hat": 5.813671066624}]
    document = run("train", "--lr", "100", "--epochs", "30", "--format", "json", exit_code=1)
    assert document["diverged"]["epoch"] == 19
    assert document["diverged"]["row"] == 2


def test_train_with_array_parameters_and_a_full_batch():
    xor = str(Path(__file__).parent.parent / "samples" / "xor.csv")
    document = run("train", xor, "--model", "W2 @ sigmoid(W1 @ [x1, x2] + b1) + b2",
                   "--param", "W1=randn:4x2", "--param", "b1=zeros:4", "--param", "W2=randn:4",
                   "--param", "b2=0", "--batch-size", "full", "--optimizer", "adam",
                   "--lr", "0.05", "--epochs", "2", "--trace", "--predict", "x1=1,x2=0",
                   "--format", "json")
    assert document["settings"]["batch_size"] == "full"
    assert document["trace"][0]["rows"] == []
    assert len(document["params"]["W1"]) == 4


def test_simplify_affine_and_not():
    matrices = ["W1=[[1, 2], [3, 4]]", "b1=[0, 1]", "W2=[[1, -1]]", "b2=[0.5]", "x=[1, 2]"]
    document = run("simplify", "W2 @ (W1 @ x + b1) + b2", *matrices, "--format", "json")
    assert document["W"] == {"symbolic": "W2*W1", "value": [[-2.0, -2.0]]}
    document = run("simplify", "W2 @ sigmoid(W1 @ x + b1) + b2", *matrices, "--format", "json")
    assert document["affine"] is False
    assert document["W"] == {"symbolic": None, "value": None}
