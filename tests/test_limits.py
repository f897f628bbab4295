"""Resource limits: every limit in ``limits.py`` refuses input past it with a clear error that
names its environment variable, raising the variable lets the same input through, and nothing
a user can type makes backtrace hang or build something enormous (exponent towers, giant exact
powers in SymPy, endless files, thousands of variables or kinks).

Time bounds are generous (several times what a slow machine needs): they catch a hang or a
quadratic blow-up, not a slow run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sympy  # noqa: F401  (imported once here, so the SymPy check's forked child starts warm)
from helpers import assert_bad_input as assert_refused
from helpers import cpu_seconds, invoke, run_json, validate

from backtrace_cli.checks import verify as check
from backtrace_cli.checks.symbolic import sympy_power
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.limits import ALL_LIMITS
from backtrace_cli.syntax.parser import parse


# ----------------------------------------------------------------------------- every limit
def _sum(terms: int) -> str:
    return "+".join(["x"] * terms)


# limit name -> (a lowered value, input past it, a raised value that lets it through)
LIMIT_CASES = {
    "BACKTRACE_MAX_LENGTH": ("50", _sum(40), "100"),
    "BACKTRACE_MAX_DEPTH": ("10", "(" * 12 + "x" + ")" * 12, "12"),
    "BACKTRACE_MAX_NODES": ("10", _sum(11), "21"),
    "BACKTRACE_MAX_STATEMENTS": ("3", "a = x; b = a; c = b; d = c", "4"),
    "BACKTRACE_MAX_ARRAY_ELEMENTS": ("2", "sum([x, x, x])", "3"),
}
# Limits whose effect is a skipped check with a note, not a refusal (tested on their own).
CHECK_LIMITS = {"BACKTRACE_SYMPY_MAX_NODES", "BACKTRACE_SYMPY_MAX_ELEMENTS"}
# Limits on derivatives that grow faster than their input (tests/test_work_limits.py), with
# a command that reads them.
WORK_LIMITS = {
    "BACKTRACE_MAX_JACOBIAN_ENTRIES": ("jacobian", "x*x", "x=1"),
    "BACKTRACE_MAX_HESSIAN_ENTRIES": ("hessian", "x*x", "x=1"),
    "BACKTRACE_MAX_SWEEP_NODES": ("hessian", "x*x", "x=1"),
    "BACKTRACE_MAX_DERIVED_NODES": ("grad", "x*x*x", "x=1", "--order", "3"),
}


def test_every_limit_has_a_case():
    assert {limit.env for limit in ALL_LIMITS} == set(LIMIT_CASES) | CHECK_LIMITS | set(
        WORK_LIMITS)


@pytest.mark.parametrize("env", sorted(LIMIT_CASES))
def test_a_limit_names_its_variable_and_raising_it_works(env, monkeypatch):
    lowered, source, raised = LIMIT_CASES[env]
    monkeypatch.setenv(env, lowered)
    stderr = assert_refused(invoke("grad", source, "x=1", "--no-check"), env)
    assert "limit" in stderr or "more than" in stderr
    monkeypatch.setenv(env, raised)
    assert run_json("grad", source, "x=1", "--no-check")["bindings"] == {"x": 1.0}


@pytest.mark.parametrize("env", sorted(LIMIT_CASES))
def test_a_limit_holds_for_train_models_too(env, tmp_path, monkeypatch):
    lowered, source, _ = LIMIT_CASES[env]
    (tmp_path / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    monkeypatch.setenv(env, lowered)
    model = source.replace("x", "x*w", 1)
    assert_refused(invoke("train", str(tmp_path / "data.csv"), "--model", model), env)


def test_the_sympy_size_limit_skips_the_check_with_a_note_naming_it(monkeypatch):
    monkeypatch.setenv("BACKTRACE_SYMPY_MAX_NODES", "3")  # x+x+x+x: x and three additions
    document = run_json("grad", _sum(4), "x=1")
    assert document["check"]["sympy"]["x"]["value"] is None
    assert "BACKTRACE_SYMPY_MAX_NODES" in document["check"]["sympy"]["x"]["note"]
    assert document["check"]["numeric"]["x"]["ok"] is True
    monkeypatch.setenv("BACKTRACE_SYMPY_MAX_NODES", "4")
    document = run_json("grad", _sum(4), "x=1")
    assert document["check"]["sympy"]["x"] == {
        "derivative": "4", "value": 4.0, "ok": True, "note": None}


@pytest.mark.parametrize("value", ["abc", "-5", "0", "1e6", "2.5", "5k"])
@pytest.mark.parametrize("env", [limit.env for limit in ALL_LIMITS])
def test_a_limit_set_to_nonsense_is_an_error_not_ignored(env, value, monkeypatch):
    monkeypatch.setenv(env, value)
    command = WORK_LIMITS.get(env, ("grad", "x*x", "x=1"))
    assert_refused(invoke(*command), f"{env}='{value}' is not a whole number",
                   "hint: for example")


@pytest.mark.parametrize("env", [limit.env for limit in ALL_LIMITS])
def test_a_huge_limit_is_fine(env, monkeypatch):
    monkeypatch.setenv(env, str(10**30))
    assert run_json("grad", "((x*x))", "x=3")["gradients"] == {"x": 6.0}


# ----------------------------------------------------------------------------- depth
OPENERS = {"parentheses": ("(", ")"), "unary": ("-", ""), "calls": ("sin(", ")"),
           "powers": ("x**", ""), "right operands": ("x*(", ")")}


def nested(kind: str, depth: int) -> str:
    opener, closer = OPENERS[kind]
    return opener * depth + "x" + closer * depth


@pytest.mark.parametrize("kind", sorted(OPENERS))
def test_5000_levels_are_refused_cleanly(kind, tmp_path):
    (tmp_path / "deep.txt").write_text(nested(kind, 5_000), encoding="utf-8")
    assert_refused(invoke("grad", f"@{tmp_path / 'deep.txt'}", "x=0.5"),
                   "nested too deeply (limit 200 levels)", "BACKTRACE_MAX_DEPTH")


@pytest.mark.parametrize("kind", ["parentheses", "unary", "calls", "powers"])
def test_with_the_limit_raised_3000_levels_parse_and_evaluate(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_DEPTH", "3000")
    path = tmp_path / "deep.txt"
    path.write_text(nested(kind, 3_000), encoding="utf-8")
    document = run_json("grad", f"@{path}", "x=0.5", "--no-check")
    assert set(document["gradients"]) == {"x"}
    path.write_text(nested(kind, 3_001), encoding="utf-8")
    assert_refused(invoke("grad", f"@{path}", "x=0.5"), "(limit 3000 levels)")


def test_3000_nested_parentheses_with_the_check_and_every_format(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_DEPTH", "3000")
    path = tmp_path / "deep.txt"
    path.write_text(nested("parentheses", 3_000) + "*w", encoding="utf-8")
    document = run_json("grad", f"@{path}", "x=0.5", "w=2")
    assert document["gradients"] == {"x": 2.0, "w": 0.5}
    assert document["check"]["ok"] is True
    for output_format in ("table", "markdown", "latex"):
        result = invoke("grad", f"@{path}", "x=0.5", "w=2", "--no-check", "--format",
                        output_format)
        assert result.exit_code == 0, result.stderr
    assert invoke("graph", f"@{path}", "x=0.5", "w=2", "--format", "dot").exit_code == 0


def test_a_deep_tower_gets_its_sympy_check(monkeypatch):
    # SymPy recurses over the tree: in the check's child the recursion limit is raised, so
    # a 150-level tower is checked instead of "SymPy failed: RecursionError".
    document = run_json("grad", "x**" * 150 + "x", "x=0.5", "--check-timeout", "60")
    assert document["check"]["sympy"]["x"]["ok"] is True, document["check"]


# ----------------------------------------------------------------------------- towers
@pytest.mark.parametrize(
    ("source", "bindings", "message"),
    [
        ("10**10**10", [], "10**10000000000 overflows a float"),
        ("-10**10**10", [], "10**10000000000 overflows a float"),
        ("2**2**2**30", [], "2**1073741824 overflows a float"),
        ("x**10**400", ["x=1"], "10**400 overflows a float"),
        ("x**x**x**x**x", ["x=2"], "2**65536 overflows a float"),
        ("(2/3)**(-2**40)*x", ["x=1"], "overflows a float"),
        ("x**1e400", ["x=1"], "the number 1e400 is too large for a float"),
        ("exp(exp(exp(x)))", ["x=10"], "overflows a float"),
    ],
)
def test_exponent_towers_end_at_once_in_an_overflow_error(source, bindings, message):
    started = cpu_seconds()
    stderr = assert_refused(invoke("grad", source, *bindings), message)
    assert cpu_seconds() - started < 2.0
    assert "^" in stderr


@pytest.mark.parametrize(
    "source",
    ["x*2**(-2**40)", "x*(1/3)**2**40", "x*10**-10**10", "x*(-2)**(-2**40)", "x*2**-1e12",
     "x*(2/3)**(4**25)"],
)
def test_tiny_powers_never_make_sympy_build_a_giant_integer(source):
    # The float forward pass gives 0 (an underflow, not an error); SymPy would build the
    # exact rational, with a denominator of up to a trillion bits, and run into its timeout.
    started = cpu_seconds()
    document = run_json("grad", source, "x=1", "--check-timeout", "30")
    assert cpu_seconds() - started < 10.0
    assert document["output"] == 0.0
    sympy_x = document["check"]["sympy"]["x"]
    assert sympy_x["ok"] is True, sympy_x
    assert sympy_x["value"] == 0.0


def test_sympy_power_keeps_exact_powers_exact():
    import sympy as sp

    assert sympy_power(sp, sp.Integer(2), sp.Integer(10)) == 1024
    assert sympy_power(sp, sp.Rational(1, 3), sp.Integer(-5)) == 243
    assert sympy_power(sp, sp.Integer(-1), sp.Integer(2**60)) == 1
    assert sympy_power(sp, sp.Integer(0), sp.Integer(2**60)) == 0
    x = sp.Symbol("x")
    assert sympy_power(sp, x, sp.Integer(2**40)) == x ** (2**40)
    big = sympy_power(sp, sp.Integer(2), sp.Integer(-(2**40)))
    assert isinstance(big, sp.Float)
    assert big == sp.Float(2, 30) ** sp.Integer(-(2**40))


# ----------------------------------------------------------------------------- no hang
def _process(*args: str, stdin=None, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backtrace_cli", *args], stdin=stdin,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_ends_in_the_length_limit():
    started = cpu_seconds()
    done = _process("grad", "@/dev/zero")
    assert done.returncode == 2, done.stderr
    assert "more than 5,000,000 characters" in done.stderr
    assert "BACKTRACE_MAX_LENGTH" in done.stderr
    with open("/dev/zero", "rb") as endless:
        done = _process("grad", "-", stdin=endless)
    assert done.returncode == 2, done.stderr
    assert "stdin is too long" in done.stderr
    assert cpu_seconds() - started < 30.0


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_init_file_is_refused():
    result = invoke("train", "--init", "/dev/zero")
    assert_refused(result, "--init /dev/zero", "too large for a parameters file")


def test_deeply_nested_init_json_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert_refused(invoke("train", "--init", str(path)), "nested 100,000 levels deep")


@pytest.mark.parametrize("value", ["inf", "nan", "1e308", "1e20", "0", "-1"])
def test_check_timeout_must_be_a_sane_number_of_seconds(value):
    result = invoke("grad", "x*w", "x=1", "w=2", "--check-timeout", value)
    assert result.exit_code == 2
    assert "--check-timeout" in result.stderr


def test_thousands_of_variables_keep_the_checks_within_their_time():
    # Finite differences cost two forward passes per variable: variables x nodes in all.
    variables = 3_000
    source = "+".join(f"x{i}*x{i}" for i in range(variables))
    started = cpu_seconds()
    document = run_json("grad", source, *(f"x{i}=0.5" for i in range(variables)),
                        "--check-timeout", "0.5")
    assert cpu_seconds() - started < 20.0
    notes = [entry["note"] or "" for entry in document["check"]["numeric"].values()]
    assert any("finite differences took longer than 0.5 s" in note for note in notes)
    assert document["check"]["ok"] is True
    assert document["gradients"]["x0"] == 1.0


def test_thousands_of_kinks_keep_their_notes_short():
    kinks = 20_000
    source = "c = x*0\n" + "+".join(["relu(c)"] * kinks)
    started = cpu_seconds()
    document = run_json("grad", source, "x=1", "--no-check")
    tape = compile_program(parse(source))
    from backtrace_cli.explain.gradient import explain

    explanation = explain(tape, {"x": 1.0}, check=False)
    notes = check.kink_notes(tape, explanation.result.kinks)
    assert notes["x"].endswith(f"; and {kinks - 3:,} more kink(s)")
    assert notes["x"].count("relu'(0) = 0") == 3
    assert document["gradients"] == {"x": 0.0}
    assert cpu_seconds() - started < 20.0


# ----------------------------------------------------------------------------- known gaps
# Bugs in files this suite's author may not change (data.py, compiled.py): pinned as strict
# xfails, so that the fix turns them into passing tests (and a forgotten xfail into a failure).
def _limited_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1_000_000_000, 1_000_000_000))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("mode", ["--no-stream", "--stream"])
def test_an_endless_csv_is_refused_not_read_into_memory(mode):
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", "train", "/dev/zero", mode],
        capture_output=True, text=True, timeout=60, preexec_fn=_limited_memory, env=environment,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 2


def test_a_model_of_5000_terms_trains():
    model = "+".join(f"tanh(x*w{i % 3})" for i in range(5_000))
    done = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", "train", "--model", model, "--epochs", "1",
         "--lr", "1e-6", "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 0
    validate("train", done.stdout)
    assert set(json.loads(done.stdout)["params"]) == {"w0", "w1", "w2"}


@pytest.mark.parametrize("document", ["README.md", "docs/cli.md"])
def test_every_limit_is_in_the_documents_limits(document):
    """The README's table and the contract name every limit and its variable."""
    from pathlib import Path

    from backtrace_cli.limits import ALL_LIMITS

    text = (Path(__file__).resolve().parent.parent / document).read_text(encoding="utf-8")
    missing = [limit.env for limit in ALL_LIMITS if f"`{limit.env}`" not in text]
    assert missing == [], f"{document} does not name {missing}"
