"""Work that grows faster than its input is bounded before it starts (issue 21, item 11): a
Jacobian's entries, a Hessian's entries and its sweeps, the tapes of ``grad --order K`` and
``graph --order K``. Each refusal is exit 2 with the size, the limit and the variable that
raises it, and comes before the work: the commands run in a child under an address-space
limit (RLIMIT_AS), so a regression that builds the enormous thing fails with a MemoryError
instead of eating the machine. The states asserted are messages and exit codes, never times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import assert_bad_input, invoke, run_json

from backtrace_cli.engine.higher import derivative_tapes
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.errors import UsageError
from backtrace_cli.syntax.parser import parse

resource = pytest.importorskip("resource")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMORY = 1 << 30  # 1 GiB of address space: the refusals need a few tens of MB


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def bounded(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m backtrace_cli ARGS`` in a child whose address space is capped."""
    environment = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1",
                   "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "backtrace_cli", *args], capture_output=True,
                          text=True, env=environment, preexec_fn=_limited, timeout=600)


def refused(process: subprocess.CompletedProcess, *fragments: str) -> None:
    assert process.returncode == 2, (process.returncode, process.stderr[-2000:])
    assert process.stdout == ""
    assert process.stderr.startswith("Error: ")
    assert "Traceback" not in process.stderr and "MemoryError" not in process.stderr
    for fragment in fragments:
        assert fragment in process.stderr, (fragment, process.stderr)


def matrix(rows: int, columns: int) -> str:
    return json.dumps([[0.5] * columns] * rows)


def product(factors: int) -> str:
    return "*".join(f"(x+{i})" for i in range(1, factors + 1))


def test_the_child_can_run_a_command_under_the_cap():
    process = bounded("grad", "x*w", "x=2", "w=3", "--no-check", "--format", "json")
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["gradients"] == {"x": 3.0, "w": 2.0}


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_a_jacobian_of_100_million_entries(output_format):
    process = bounded("jacobian", "W*2", f"W={matrix(100, 100)}", "--format", output_format)
    refused(process, "the Jacobian of 10,000 output elements by 10,000 input elements has "
                     "100,000,000 entries, more than 1,000,000",
            "raise the limit with BACKTRACE_MAX_JACOBIAN_ENTRIES=100000000")


@pytest.mark.parametrize("args", [(), ("--no-check",), ("--explain", "--format", "json")])
def test_a_hessian_of_3025_variables(args):
    process = bounded("hessian", "sum(W*W*W)", f"W={matrix(55, 55)}", *args)
    refused(process, "the Hessian in 3,025 variables (array elements) has 9,150,625 entries, "
                     "more than 100,000", "BACKTRACE_MAX_HESSIAN_ENTRIES=9150625")


def test_a_hessian_whose_sweeps_would_visit_too_many_nodes():
    process = bounded("hessian", "sum(W*W*W)", f"W={matrix(10, 10)}", "--no-check",
                      env={"BACKTRACE_MAX_SWEEP_NODES": "1000"})
    refused(process, "the Hessian needs 100 sweeps of the gradient's tape of ",
            "node visits), more than 1,000", "BACKTRACE_MAX_SWEEP_NODES=")


@pytest.mark.parametrize("command", ["grad", "graph"])
def test_order_10_of_a_400_factor_product(command):
    extra = ("--no-check",) if command == "grad" else ("--format", "dot")
    process = bounded(command, product(400), "x=0.5", "--order", "10", *extra)
    last = 10 if command == "grad" else 9  # graph draws the tape whose sweep gives order 10
    refused(process, f"the tapes of the derivatives up to order {last} would have about ",
            f"nodes in all (order {last} alone ", "more than 500,000",
            "BACKTRACE_MAX_DERIVED_NODES=")


def test_minimize_newton_is_bounded_too():
    process = bounded("minimize", "sum(W*W*W*W)", f"W={matrix(55, 55)}", "--method", "newton")
    refused(process, "newton takes at most 1,000")


# ----------------------------------------------------------------------------- in-process
def test_raising_the_limits_lets_the_same_request_through(monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_JACOBIAN_ENTRIES", "3")
    assert_bad_input(invoke("jacobian", "W*2", "W=[1, 2]"),
                     "has 4 entries, more than 3", "BACKTRACE_MAX_JACOBIAN_ENTRIES=4")
    monkeypatch.setenv("BACKTRACE_MAX_JACOBIAN_ENTRIES", "4")
    assert run_json("jacobian", "W*2", "W=[1, 2]")["jacobian"] == {"W": [[2.0, 0.0],
                                                                        [0.0, 2.0]]}
    monkeypatch.setenv("BACKTRACE_MAX_HESSIAN_ENTRIES", "3")
    assert_bad_input(invoke("hessian", "x*y", "x=1", "y=2"),
                     "the Hessian in 2 variables (array elements) has 4 entries, more than 3")
    # --wrt asks for less
    assert run_json("hessian", "x*y", "x=1", "y=2", "--wrt", "x")["hessian"] == [[0.0]]
    monkeypatch.setenv("BACKTRACE_MAX_HESSIAN_ENTRIES", "4")
    assert run_json("hessian", "x*y", "x=1", "y=2")["hessian"] == [[0.0, 1.0], [1.0, 0.0]]


def test_the_derived_tapes_are_foreseen_and_capped(monkeypatch):
    tape = compile_program(parse("tanh(x)"))  # sizes 2, 5, 9, 20, 47, 118, ...
    assert [len(t) for t in derivative_tapes(tape, "x", 5)] == [2, 5, 9, 20, 47, 118]
    monkeypatch.setenv("BACKTRACE_MAX_DERIVED_NODES", "150")
    with pytest.raises(UsageError, match="up to order 5 would have about"):
        derivative_tapes(tape, "x", 5)
    monkeypatch.setenv("BACKTRACE_MAX_DERIVED_NODES", "400")  # the forecast: 322 in all
    assert [len(t) for t in derivative_tapes(tape, "x", 5)][-1] == 118


def test_a_growth_faster_than_foreseen_still_stops_at_the_limit(monkeypatch):
    tape = compile_program(parse("x**x"))  # sizes 2, 4, 26: order 2 grows past its forecast
    monkeypatch.setenv("BACKTRACE_MAX_DERIVED_NODES", "20")
    with pytest.raises(UsageError, match="grow past 20 nodes in all"):
        derivative_tapes(tape, "x", 2)
    monkeypatch.setenv("BACKTRACE_MAX_DERIVED_NODES", "100")
    assert [len(t) for t in derivative_tapes(tape, "x", 2)] == [2, 4, 26]


def test_a_memory_error_no_limit_foresaw_is_one_line(monkeypatch):
    from backtrace_cli.api import grad as api_grad

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(api_grad, "explanation_of", exhausted)
    monkeypatch.setattr(api_grad, "explained_in_mode", exhausted)
    assert_bad_input(invoke("grad", "x*w", "x=1", "w=2"),
                     "out of memory: the request needs more memory than this machine gives it",
                     "hint: ask for less")
