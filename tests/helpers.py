"""Assertions that many test files share: golden files, refused input, and the JSON schemas."""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
SCHEMAS = Path(__file__).parent.parent / "docs" / "schema"
# The commands whose --format json has a schema, docs/schema/COMMAND.json.
SCHEMA_COMMANDS = ("grad", "train", "simplify")

# TEST-ONLY SWITCH, to be removed once engineer h1's branch is merged: scalar grad JSON does not
# have `shape` (forward rows), `rule` (backward rows) and `shapes` yet, which the schema
# requires. While this is True, a grad document without `shapes` (today's scalar output) is
# validated with those three keys optional; every other document, strictly.
SCALAR_KEYS_PENDING = True


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
def _test_schema(command: str, relaxed: bool) -> dict:
    """The schema the tests apply: closed (see ``_closed``), and with the SCALAR_KEYS_PENDING
    relaxation when asked."""
    strict = _closed(schema(command))
    if relaxed:  # the SCALAR_KEYS_PENDING switch: the three keys h1 adds become optional
        definitions = strict["$defs"]
        strict["required"].remove("shapes")
        definitions["forwardRow"]["required"].remove("shape")
        definitions["backwardRow"]["required"].remove("rule")
    return strict


@functools.cache
def _validator(command: str, relaxed: bool):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_test_schema(command, relaxed))


# Past this many rows (the items of the top-level lists: forward, backward, history, ...) a
# document is validated by the compiled checker below: jsonschema takes about 0.4 ms a row,
# 100 s for the 120,000 rows of a 20,000-kink program. The two agree (tests/test_schemas.py).
JSONSCHEMA_ROWS = 500


def problems(command: str, document, engine: str = "auto") -> list[tuple[str, str]]:
    """(JSON path, message) for every way DOCUMENT breaks docs/schema/COMMAND.json, in path
    order; ENGINE is "jsonschema", "compiled", or "auto" (by size)."""
    relaxed = (SCALAR_KEYS_PENDING and command == "grad" and isinstance(document, dict)
               and "shapes" not in document)
    if engine == "auto":
        rows = sum(len(v) for v in document.values() if isinstance(v, list)) if isinstance(
            document, dict) else 0
        engine = "compiled" if rows > JSONSCHEMA_ROWS else "jsonschema"
    if engine == "jsonschema":
        found = [(error.json_path, error.message)
                 for error in _validator(command, relaxed).iter_errors(document)]
    else:
        found = []
        _compiled(command, relaxed)(document, (), found)
        found = [(_json_path(path), message) for path, message in found]
    return sorted(found)


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


# ----------------------------------------------------------------------------- compiled checker
# The part of draft 2020-12 that docs/schema/ uses, compiled once into closures: fast enough
# for documents of 100,000 rows. A keyword outside this part is refused when compiling, so a
# schema cannot quietly use one the checker ignores.
_ANNOTATIONS = {"$schema", "$defs", "title", "description"}
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


def _json_path(path: tuple) -> str:
    """A path kept as nested pairs (parent, key), written as jsonschema's ``json_path``."""
    keys = []
    while path:
        path, key = path
        keys.append(key)
    text = "$"
    for key in reversed(keys):
        if isinstance(key, int):
            text += f"[{key}]"
        elif re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", key):
            text += f".{key}"
        else:
            text += "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return text


@functools.cache
def _compiled(command: str, relaxed: bool):
    root = _test_schema(command, relaxed)
    definitions = root.get("$defs", {})
    compiled_definitions: dict = {}

    def reference(name: str):
        def check(value, path, errors):
            compiled_definitions[name](value, path, errors)

        if name not in compiled_definitions:
            compiled_definitions[name] = None  # recursion (value) resolves at run time
            compiled_definitions[name] = compile_node(definitions[name])
        return check

    def compile_node(node: dict):
        unknown = set(node) - _ANNOTATIONS - {
            "$ref", "type", "properties", "required", "additionalProperties", "propertyNames",
            "items", "anyOf", "oneOf", "const", "enum", "pattern", "minimum"}
        if unknown:
            raise ValueError(f"the compiled checker does not know {sorted(unknown)}")
        checks = []
        if "$ref" in node:
            checks.append(reference(node["$ref"].removeprefix("#/$defs/")))
        if "type" in node:
            names = node["type"] if isinstance(node["type"], list) else [node["type"]]
            tests = tuple(_TYPES[name] for name in names)
            wanted = ", ".join(repr(name) for name in names)

            def type_check(value, path, errors):
                for test in tests:
                    if test(value):
                        return
                errors.append((path, f"{value!r} is not of type {wanted}"))
            checks.append(type_check)
        if "const" in node or "enum" in node:
            allowed = [node["const"]] if "const" in node else node["enum"]

            def member(value, path, errors):
                if not any(value == a and type(value) is type(a) for a in allowed):
                    errors.append((path, f"{value!r} is not one of {allowed!r}"))
            checks.append(member)
        if "minimum" in node:
            low = node["minimum"]

            def minimum(value, path, errors):
                if _TYPES["number"](value) and value < low:
                    errors.append((path, f"{value!r} is less than the minimum of {low!r}"))
            checks.append(minimum)
        if "pattern" in node:
            pattern = re.compile(node["pattern"])

            def matches(value, path, errors):
                if isinstance(value, str) and not pattern.search(value):
                    errors.append((path, f"{value!r} does not match {pattern.pattern!r}"))
            checks.append(matches)
        for keyword in ("anyOf", "oneOf"):
            if keyword in node:
                options = [compile_node(option) for option in node[keyword]]
                exactly_one = keyword == "oneOf"

                def alternatives(value, path, errors, options=options, exactly_one=exactly_one):
                    passed = 0
                    for option in options:
                        trial: list = []
                        option(value, path, trial)
                        passed += not trial
                    if passed == 0 or (exactly_one and passed > 1):
                        errors.append((path, f"{value!r} is not valid under any of the given "
                                       "schemas" if passed == 0 else f"{value!r} is valid "
                                       "under each of several schemas"))
                checks.append(alternatives)
        if "items" in node:
            item = compile_node(node["items"])

            def items(value, path, errors):
                if isinstance(value, list):
                    for index, element in enumerate(value):
                        item(element, (path, index), errors)
            checks.append(items)
        object_checks = {key: node[key] for key in (
            "properties", "required", "additionalProperties", "propertyNames") if key in node}
        if object_checks:
            checks.append(compile_object(object_checks))

        if len(checks) == 1:
            return checks[0]

        def check(value, path, errors):
            for part in checks:
                part(value, path, errors)
        return check

    def compile_object(node: dict):
        properties = {key: compile_node(sub) for key, sub in node.get("properties", {}).items()}
        required = node.get("required", [])
        others = node.get("additionalProperties", True)
        other = compile_node(others) if isinstance(others, dict) else None
        names = compile_node(node["propertyNames"]) if "propertyNames" in node else None

        def check(value, path, errors):
            if not isinstance(value, dict):
                return
            for key in required:
                if key not in value:
                    errors.append((path, f"{key!r} is a required property"))
            unexpected = []
            for key, element in value.items():
                if names is not None:
                    names(key, path, errors)
                if key in properties:
                    properties[key](element, (path, key), errors)
                elif other is not None:
                    other(element, (path, key), errors)
                elif others is False:
                    unexpected.append(key)
            if unexpected:
                listed = ", ".join(repr(key) for key in unexpected)
                errors.append((path, f"Additional properties are not allowed ({listed} "
                               f"{'was' if len(unexpected) == 1 else 'were'} unexpected)"))
        return check

    return compile_node(root)
