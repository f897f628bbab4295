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


# ----------------------------------------------------------------------------- last bits
# docs/numerics.md, "Which digits are fixed": a number that went through NumPy's exp, log,
# log1p, tanh, sin, cos, tan or power (arrays, batches, float32, --stream) may differ in its
# last bits between CPUs and NumPy versions; such numbers are compared within NUMPY_ULPS ulp
# (measured in their own dtype), never bit for bit. Our own arithmetic (+ - * /, sqrt) and
# Python's math on scalars are compared exactly.
NUMPY_ULPS = 64


def ulps_apart(actual: float, expected: float, dtype: str = "float64",
               scale: float = 0.0) -> float:
    """How many units in the last place (of ``dtype``, at ``expected``, or at ``scale`` if
    that is larger: the size of the terms a result was cancelled from, as 1 in 1 - tanh²)
    separate the two."""
    import math

    import numpy

    if actual == expected or (math.isnan(actual) and math.isnan(expected)):
        return 0.0
    if not (math.isfinite(actual) and math.isfinite(expected)):
        return math.inf
    size = max(abs(expected), scale)
    spacing = float(numpy.spacing(numpy.array(size, dtype=dtype)))
    return abs(actual - expected) / spacing


def assert_within_ulps(actual, expected, ulps: float = NUMPY_ULPS, dtype: str = "float64",
                       where: str = "", scale: float = 0.0) -> None:
    """``actual == expected`` but for floats, which may be ``ulps`` apart (see ulps_apart
    for ``scale``): through dicts, lists and tuples (their keys, lengths and every other
    value compared exactly)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (where, actual)
        for key in expected:
            assert_within_ulps(actual[key], expected[key], ulps, dtype, f"{where}[{key!r}]",
                               scale)
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (
            where, actual)
        for index, (mine, theirs) in enumerate(zip(actual, expected)):
            assert_within_ulps(mine, theirs, ulps, dtype, f"{where}[{index}]", scale)
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, (float, int)) and not isinstance(actual, bool), (where, actual)
        apart = ulps_apart(float(actual), expected, dtype, scale)
        assert apart <= ulps, f"{where}: {actual!r} is {apart:g} ulp from {expected!r}"
    else:
        assert actual == expected, (where, actual, expected)


# ----------------------------------------------------------------------------- signals
# Tests of Ctrl-C, SIGTERM and SIGHUP stop a real process at a named phase of its work
# (backtrace_cli/phases.py): it writes its pid to a marker file there and waits for the
# signal. The test waits for that file (a state), never for a time; the limit below only
# keeps a broken run from hanging the suite.
FAILSAFE_SECONDS = 600


class PhaseRun:
    """``python -m backtrace_cli ARGS`` that stops at ``phase`` until a signal comes."""

    def __init__(self, tmp_path, phase: str, *args: str, new_session: bool = False,
                 cwd=None) -> None:
        import subprocess
        import sys

        self.marker = Path(tmp_path) / f"phase-{phase}.pid"
        environment = dict(os.environ, BACKTRACE_TEST_PHASE=phase,
                           BACKTRACE_TEST_PHASE_FILE=str(self.marker))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backtrace_cli", *args], cwd=cwd or tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
            start_new_session=new_session, preexec_fn=_default_signals)

    def wait_for_phase(self) -> int:
        """The pid of the process that reached the phase (the SymPy child's for
        sympy-child), once it is there."""
        import time

        deadline = time.monotonic() + FAILSAFE_SECONDS
        while not self.marker.exists():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the run ended (exit {self.process.returncode}) before its phase: "
                    f"{self.process.stderr.read()[-500:]}")
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError("the phase was never reached")
            time.sleep(0.005)  # polling for the file: a state, not a time
        return int(self.marker.read_text(encoding="utf-8"))

    def signal(self, number: int, group: bool = False) -> None:
        if group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)

    def finish(self) -> tuple[int, str, str]:
        import subprocess

        try:
            out, err = self.process.communicate(timeout=FAILSAFE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return self.process.returncode, out, err


def _default_signals() -> None:
    """In the child before it starts: Ctrl-C, SIGTERM and SIGHUP as a terminal gives them. A
    test run from a script in the background inherits SIGINT ignored (POSIX shells ignore it
    for background jobs), and nohup ignores SIGHUP; a user at a terminal has neither."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def process_gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting for its reaper has ended too; Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def wait_until(condition, what: str) -> None:
    """Poll ``condition`` until it holds (a state); fail after FAILSAFE_SECONDS."""
    import time

    deadline = time.monotonic() + FAILSAFE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.005)


def cpu_seconds() -> float:
    """The CPU time this process and its finished children have used. A test that bounds the
    cost of some work ("ends quickly", "within its timeout") measures this, not the clock: a
    busy machine stretches the clock, not the work (and a wall-clock timeout inside the
    program only gives the work less CPU time, never more)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
