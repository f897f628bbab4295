"""What many test files share: running the CLI (``invoke``, ``run_json``), golden files,
refused input, and the JSON schemas."""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
SCHEMAS = Path(__file__).parent.parent / "docs" / "schema"
# The commands whose --format json has a schema, docs/schema/COMMAND.json.
SCHEMA_COMMANDS = ("grad", "train", "simplify", "minimize", "quiz", "grade", "jacobian", "hessian")

def invoke(*args: str, input: str | bytes | None = None, env: dict | None = None):
    """Run ``backtrace ARGS...`` in-process (stdout and stderr kept apart), with INPUT on
    stdin and ENV added to the environment. The command must end in an exit code: any other
    exception that escaped it fails the test, whatever the exit code."""
    from click.testing import CliRunner

    from backtrace_cli.cli.main import main

    result = CliRunner().invoke(main, list(args), input=input, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stderr)
    return result


def run_json(*args: str, input: str | bytes | None = None, exit_code: int = 0) -> dict:
    """``backtrace ARGS... --format json``: the JSON object it printed. It must exit with
    EXIT_CODE (0 unless told), and a run that succeeds prints nothing on stderr."""
    result = invoke(*args, "--format", "json", input=input)
    assert result.exit_code == exit_code, result.stderr
    if exit_code == 0:
        assert result.stderr == ""
    return json.loads(result.stdout)


def assert_golden(request, name: str, text: str) -> None:
    """Compare byte for byte with tests/golden/NAME; ``pytest --update-golden`` (or the
    environment variable BACKTRACE_UPDATE_GOLDEN=1) rewrites it instead."""
    path = GOLDEN / name
    data = text.encode("utf-8")
    update = request.config.getoption("--update-golden", default=False) or os.environ.get(
        "BACKTRACE_UPDATE_GOLDEN"
    )
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
    assert data == path.read_bytes(), f"{name} differs; review, then pytest --update-golden"


def assert_bad_input(result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one clear message on stderr holding every fragment, never a
    traceback. Returns stderr."""
    assert result.exit_code == 2, (result.stdout[-300:], result.stderr)
    assert result.stdout == ""
    # Ours start with "Error: "; Click's own usage errors put the usage line first.
    assert result.stderr.startswith("Error: ") or "\nError: " in result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


def _closed(schema):
    """The schema with ``additionalProperties: false`` on every object that lists its
    properties and says nothing about others: the published schemas let later releases add
    keys, the tests insist that every key printed today is described."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema


@functools.cache
def schema(command: str) -> dict:
    """docs/schema/COMMAND.json as published."""
    return json.loads((SCHEMAS / f"{command}.json").read_text(encoding="utf-8"))


@functools.cache
def _validator(command: str):
    """jsonschema's validator of the closed schema the tests apply (see ``_closed``)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_closed(schema(command)))


# jsonschema takes about 0.4 ms a row (100 s for the 120,000 rows of a 20,000-kink program).
# Past this many rows in a top-level list, the first and last SAMPLE_ROWS // 2 rows of it are
# validated: every row of a list is made by the same code, so a sample finds a wrong row shape.
SAMPLE_ROWS = 500


def _sampled(document):
    if not isinstance(document, dict):
        return document
    half = SAMPLE_ROWS // 2
    return {key: value[:half] + value[-half:]
            if isinstance(value, list) and len(value) > SAMPLE_ROWS else value
            for key, value in document.items()}


def problems(command: str, document) -> list[tuple[str, str]]:
    """(JSON path, message) for every way DOCUMENT breaks docs/schema/COMMAND.json, in path
    order (long lists are validated on a sample of their rows)."""
    return sorted((error.json_path, error.message)
                  for error in _validator(command).iter_errors(_sampled(document)))


# The JSON that CliRunner invocations printed in the running test, (command, what ran, stdout):
# tests/conftest.py collects it and calls check_pending when the test function returns.
PENDING: list[tuple[str, str, str]] = []


def check_pending() -> None:
    """Validate, and forget, every JSON document collected in PENDING."""
    pending = PENDING[:]
    PENDING.clear()
    for command, ran, text in pending:
        try:
            validate(command, text)
        except AssertionError as error:
            raise AssertionError(f"{ran}\n{error}") from None


def validate(command: str, document) -> None:
    """Fail (AssertionError) unless DOCUMENT, parsed JSON or its text, matches
    docs/schema/COMMAND.json; the message names the JSON path of every problem."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise AssertionError(f"{command} --format json printed no JSON object: {error}\n"
                                 f"{document[:300]!r}") from None
    found = problems(command, document)
    if found:
        lines = "\n".join(f"  at {path}: {message[:300]}" for path, message in found[:10])
        more = f"\n  ... and {len(found) - 10} more" if len(found) > 10 else ""
        raise AssertionError(
            f"{command} JSON does not match docs/schema/{command}.json:\n{lines}{more}")
