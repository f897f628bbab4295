"""`backtrace grad` from the command line: numbers, exit codes, JSON keys, error text, golden
tables. Every error test asserts exit code 2, the message on stderr, no traceback, and nothing
on stdout, as the contract fixes.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_bad_input, assert_golden, invoke, run_json, validate
from rich.console import Console
from worked_examples import (
    MICROGRAD_README,
    NEURON,
    NEURON_BINDINGS,
    NEURON_OUTPUT,
    WORKED_EXAMPLES,
    tanh_rounding,
)

from backtrace_cli import __version__
from backtrace_cli.cli.main import main
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.gradient import explain
from backtrace_cli.formats import registry
from backtrace_cli.formats.table import print_report
from backtrace_cli.report.grad import build
from backtrace_cli.report.grad import build as grad_report
from backtrace_cli.syntax.parser import parse

GOLDEN = Path(__file__).parent / "golden"
SLIDE = ["grad", "x*w", "--x", "2", "--w", "3", "--dz", "5"]
LECTURE = "y_hat = x*w; r = y_hat - y; loss = r**2"


def bindings_args(bindings: dict[str, float]) -> list[str]:
    return [f"{name}={value!r}" for name, value in bindings.items()]


# ----------------------------------------------------------------------------- the slide
def test_slide_json():
    document = run_json(*SLIDE)
    assert document["output"] == 6.0
    assert document["seed"] == 5.0
    assert document["gradients"] == {"x": 15.0, "w": 10.0}
    assert document["bindings"] == {"x": 2.0, "w": 3.0}
    assert document["expression"] == "x*w"
    assert document["check"]["ok"] is True


def test_slide_table():
    result = invoke(*SLIDE)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "dL/dx = dL/dz · dz/dx = 5 · 3 = 15" in result.stdout
    assert "dL/dw = dL/dz · dz/dw = 5 · 2 = 10" in result.stdout
    assert "dL/dz = 5 (the seed, --dz)" in result.stdout
    assert "output z = 6" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes off a terminal


def test_slide_backward_rows():
    document = run_json(*SLIDE)
    assert document["backward"] == [
        {"node": "v3", "input": "v1", "upstream": 5.0, "local": 3.0, "product": 15.0,
         "rule": "w"},
        {"node": "v3", "input": "v2", "upstream": 5.0, "local": 2.0, "product": 10.0,
         "rule": "x"},
    ]
    assert document["forward"] == [
        {"id": "v1", "op": "var", "inputs": [], "value": 2.0, "text": "x", "name": "x",
         "shape": []},
        {"id": "v2", "op": "var", "inputs": [], "value": 3.0, "text": "w", "name": "w",
         "shape": []},
        {"id": "v3", "op": "mul", "inputs": ["v1", "v2"], "value": 6.0, "text": "x*w",
         "name": None, "shape": []},
    ]
    assert document["shapes"] == {"x": [], "w": []}
    assert document["check"]["sympy"]["x"] == {
        "derivative": "5*w", "value": 15.0, "ok": True, "note": None,
    }


# ----------------------------------------------------------------------------- the lecture
def test_lecture_program_table():
    result = invoke("grad", LECTURE, "x=1", "y=2", "w=1")
    assert result.exit_code == 0
    out = result.stdout
    rows = {line.split("│")[2].strip() for line in out.splitlines() if line.startswith("│ v")}
    assert {"y_hat", "r", "loss", "x", "y", "w"} <= rows
    assert "output loss = 1" in out
    assert "dloss/dloss = 1" in out
    assert "dloss/dr = dloss/dloss · dloss/dr = 1 · -2 = -2" in out
    assert "dloss/dy_hat = dloss/dr · dr/dy_hat = -2 · 1 = -2" in out
    assert "dloss/dw = dloss/dy_hat · dy_hat/dw = -2 · 1 = -2" in out


def test_lecture_program_json():
    document = run_json("grad", LECTURE, "x=1", "y=2", "w=1")
    names = [node["name"] for node in document["forward"]]
    assert names == ["x", "w", "y_hat", "y", "r", None, "loss"]
    assert document["output"] == 1.0
    assert document["gradients"] == {"x": -2.0, "w": -2.0, "y": 2.0}
    adjoints = {rule["name"]: rule["adjoint"] for rule in document["chain_rule"]}
    assert adjoints == {"r": -2.0, "y_hat": -2.0, "y": 2.0, "x": -2.0, "w": -2.0}


# ----------------------------------------------------------------------------- worked examples
CONTRACT_NODE_KEYS = {"id", "op", "inputs", "value", "text", "name"}
CONTRACT_EDGE_KEYS = {"node", "input", "upstream", "local", "product"}


def assert_contract_keys(document: dict) -> None:
    assert {"expression", "bindings", "seed", "output", "forward", "backward", "gradients",
            "check"} <= set(document)
    assert all(CONTRACT_NODE_KEYS <= set(node) for node in document["forward"])
    assert all(CONTRACT_EDGE_KEYS <= set(edge) for edge in document["backward"])
    ids = [node["id"] for node in document["forward"]]
    assert all(set(node["inputs"]) <= set(ids) for node in document["forward"])
    assert all(edge["node"] in ids and edge["input"] in ids for edge in document["backward"])
    check = document["check"]
    assert {"ok", "sympy", "numeric"} <= set(check)
    assert set(check["sympy"]) == set(check["numeric"]) == set(document["gradients"])
    for name in document["gradients"]:
        assert {"derivative", "value", "ok"} <= set(check["sympy"][name])
        assert {"value", "ok"} <= set(check["numeric"][name])


@pytest.mark.parametrize(
    ("source", "bindings", "seed", "output", "gradients"),
    [case[1:] for case in WORKED_EXAMPLES],
    ids=[case[0] for case in WORKED_EXAMPLES],
)
def test_worked_example_json(source, bindings, seed, output, gradients):
    document = run_json("grad", source, *bindings_args(bindings), "--dz", repr(seed))
    assert_contract_keys(document)
    assert document["output"] == output
    assert document["gradients"] == gradients
    assert document["check"]["ok"] is True
    assert document["bindings"] == bindings


@tanh_rounding
def test_neuron_json_output_is_the_stated_figure():
    document = run_json("grad", NEURON, *bindings_args(NEURON_BINDINGS), "--no-check")
    assert document["output"] == NEURON_OUTPUT


def test_neuron_json():
    document = run_json("grad", NEURON, *bindings_args(NEURON_BINDINGS))
    assert_contract_keys(document)
    assert document["check"]["ok"] is True
    assert document["gradients"]["w2"] == 0.0
    assert document["gradients"]["x1"] == pytest.approx(-1.5, rel=1e-15)


def test_micrograd_readme_program_as_one_program():
    result = invoke("grad", MICROGRAD_README, "a=-4", "b=2")
    assert result.exit_code == 0, result.stderr
    # A name given again is primed; the loss is the last g, so the seed line is dg'/dg'.
    assert "output g' = 24.70408163265306" in result.stdout
    assert "dg'/dg' = 1" in result.stdout
    assert "dg'/dg = dg'/dg' · dg'/dg = 1 · 1 = 1" in result.stdout
    assert "= 138.83381924198252" in result.stdout
    assert "= 645.5772594752186" in result.stdout
    document = run_json("grad", MICROGRAD_README, "a=-4", "b=2")
    assert document["output"] == 24.70408163265306
    assert document["gradients"] == {"a": 138.83381924198252, "b": 645.5772594752186}


# ----------------------------------------------------------------------------- bindings
@pytest.mark.parametrize(
    "arguments",
    [
        ["--x", "2", "--w", "-3"],
        ["--x=2", "--w=-3"],
        ["x=2", "w=-3"],
        ["x=2", "--w", "-3"],
        ["--x", "2e0", "w=-3.0"],
        ["x = 2", "w=-.3e1"],
    ],
)
def test_binding_forms(arguments):
    document = run_json("grad", "x*w", *arguments, "--no-check")
    assert document["bindings"] == {"x": 2.0, "w": -3.0}
    assert document["gradients"] == {"x": -3.0, "w": 2.0}


def test_negative_values():
    for arguments in (["--x", "-2"], ["x=-2"], ["--x=-2"]):
        document = run_json("grad", "x**2", *arguments, "--no-check")
        assert document["gradients"] == {"x": -4.0}


@pytest.mark.parametrize("name", ["format", "check", "wrt", "dz", "help", "version"])
def test_a_variable_named_like_an_option(name):
    document = run_json("grad", f"{name}*x", f"{name}=2", "x=3", "--no-check")
    assert document["bindings"] == {name: 2.0, "x": 3.0}
    assert document["gradients"] == {name: 3.0, "x": 2.0}


def test_wrt():
    document = run_json("grad", "x*w + y", "x=2", "w=3", "y=1", "--wrt", "w")
    assert document["gradients"] == {"w": 2.0}
    assert list(document["check"]["sympy"]) == ["w"]
    document = run_json("grad", "x*w + y", "x=2", "w=3", "y=1", "--wrt", "y,x", "--no-check")
    assert list(document["gradients"].items()) == [("y", 1.0), ("x", 3.0)]


def test_default_order_is_first_appearance():
    document = run_json("grad", "b*a + c*a", "a=1", "b=2", "c=3", "--no-check")
    assert list(document["gradients"]) == ["b", "a", "c"]


def test_no_check_gives_null():
    document = run_json("grad", "x*w", "x=2", "w=3", "--no-check")
    assert document["check"] is None


def test_json_is_the_only_thing_on_stdout():
    result = invoke(*SLIDE, "--format", "json")
    json.loads(result.stdout)  # one object, nothing else
    assert result.stdout.lstrip().startswith("{")


def test_markdown():
    result = invoke(*SLIDE, "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("## Forward pass: `x*w`\n")
    assert "| v3 | z | mul | v1, v2 | `x*w` | 6 |" in result.stdout
    assert "- `dL/dx = dL/dz · dz/dx = 5 · 3 = 15`" in result.stdout
    assert "| x | 15 | `5*w` | 15 | 15 | ✓ |" in result.stdout


def test_expression_from_stdin():
    document = run_json("grad", "-", "x=2", "w=3", "--no-check",
                        input="# from a pipe\ny = x*w\ny + 1\n")
    assert document["output"] == 7.0
    assert document["gradients"] == {"x": 3.0, "w": 2.0}


def test_expression_from_a_file(tmp_path):
    program = tmp_path / "program.txt"
    program.write_text(MICROGRAD_README.replace("; ", "\n") + "\n", encoding="utf-8")
    document = run_json("grad", f"@{program}", "a=-4", "b=2")
    assert document["output"] == 24.70408163265306
    assert document["gradients"] == {"a": 138.83381924198252, "b": 645.5772594752186}


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"backtrace, version {__version__}\n"


@pytest.mark.parametrize("command", [None, *sorted(main.commands)])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_on_every_command(command, flag):
    result = invoke(*([command] if command else []), flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")
    assert "Examples:" in result.stdout
    assert "backtrace " in result.stdout.split("Examples:")[1]


def test_grad_help_explains_bindings_and_exit_codes():
    out = invoke("grad", "-h").stdout
    assert "--dz" in out and "--wrt" in out and "--format" in out
    assert "Exit codes:" in out


def test_python_dash_m():
    completed = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", *SLIDE, "--format", "json", "--no-check"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    validate("grad", completed.stdout)
    assert json.loads(completed.stdout)["gradients"] == {"x": 15.0, "w": 10.0}
    completed = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", "grad", "x +* w"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr


def test_a_disagreeing_check_exits_1_and_still_reports(monkeypatch):
    # explain/gradient.py imports run_checks when it checks (start-up), so it is patched where
    # it lives
    from backtrace_cli.checks import verify

    real = verify.run_checks

    def off_by_one(tape, bindings, seed, gradients, *args, **kwargs):
        wrong = {name: value + 1.0 for name, value in gradients.items()}
        return real(tape, bindings, seed, wrong, *args, **kwargs)

    monkeypatch.setattr(verify, "run_checks", off_by_one)
    result = invoke(*SLIDE, "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["check"]["ok"] is False
    assert document["check"]["sympy"]["x"]["ok"] is False
    assert document["check"]["numeric"]["x"]["ok"] is False
    result = invoke(*SLIDE)
    assert result.exit_code == 1
    assert "✗ the checks disagree for: x, w" in result.stdout


def test_check_timeout_option(monkeypatch):
    from backtrace_cli.checks import verify as check

    monkeypatch.setattr(check, "_sympy_derivatives", lambda *args: __import__("time").sleep(30))
    document = run_json(*SLIDE, "--check-timeout", "0.2")
    assert document["check"]["ok"] is True
    assert document["check"]["sympy"]["x"]["note"] == "skipped: SymPy took longer than 0.2 s"
    assert document["check"]["numeric"]["x"]["ok"] is True


def test_the_fast_path_imports_neither_sympy_nor_numpy():
    script = (
        "import sys\n"
        "from backtrace_cli.cli.main import main\n"
        "try:\n"
        "    main(['grad', 'x*w', 'x=2', 'w=3', '--no-check', '--format', 'json'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "print(sorted(m for m in ('sympy', 'numpy') if m in sys.modules), file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    validate("grad", completed.stdout)
    assert completed.stderr.strip() == "[]"


# ----------------------------------------------------------------------------- bad input
def test_unbound_variable():
    stderr = assert_bad_input(invoke("grad", "x*w", "x=2"), "the variable 'w' has no value")
    assert stderr == (
        "Error: the variable 'w' has no value (at column 3)\n"
        "  x*w\n"
        "    ^\n"
        "  hint: give it one: w=VALUE (or --w VALUE)\n"
    )


def test_unused_binding_with_did_you_mean():
    stderr = assert_bad_input(invoke("grad", "x*w", "x=2", "w=3", "ww=1"))
    assert stderr == (
        "Error: the binding 'ww' is not used by the expression (its variables: x, w)\n"
        "  hint: did you mean 'w'?\n"
    )


def test_unused_binding_without_a_close_name():
    stderr = assert_bad_input(invoke("grad", "x*w", "x=2", "w=3", "q=1"), "'q' is not used")
    assert "hint" not in stderr


@pytest.mark.parametrize(
    "arguments", [["x=1", "x=2"], ["--x", "1", "x=2"], ["--x=1", "--x", "2"]]
)
def test_duplicate_binding(arguments):
    assert_bad_input(invoke("grad", "x*2", *arguments), "the variable 'x' is given twice")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nan", "x: 'nan' is not allowed; values must be finite numbers"),
        ("NaN", "x: 'NaN' is not allowed; values must be finite numbers"),
        ("inf", "x: 'inf' is not allowed; values must be finite numbers"),
        ("-inf", "x: '-inf' is not allowed; values must be finite numbers"),
        ("Infinity", "x: 'Infinity' is not allowed; values must be finite numbers"),
        ("1e400", "x: 1e400 is too large for a float"),
        ("abc", "x: 'abc' is not a number"),
        ("", "x: '' is not a number"),
        ("0x10", "x: '0x10' is not a number"),
        ("1_000", "x: '1_000' is not a number"),
        ("\u0663", "x: '\u0663' is not a number"),  # an Arabic-Indic digit three
        ("\uff11", "x: '\uff11' is not a number"),  # a full-width digit one
    ],
)
def test_values_must_be_finite_decimal_numbers(value, message):
    assert_bad_input(invoke("grad", "x*2", f"x={value}"), message)


def test_dz_must_be_a_number():
    assert_bad_input(invoke("grad", "x*2", "x=1", "--dz", "nan"), "--dz: 'nan' is not allowed")


def test_a_binding_needs_a_value():
    assert_bad_input(invoke("grad", "x*2", "--x"), "--x needs a value")


def test_junk_argument():
    assert_bad_input(invoke("grad", "x*2", "x=1", "oops"), "unexpected argument 'oops'")


def test_parse_error_with_caret_line():
    stderr = assert_bad_input(invoke("grad", "x +* w", "x=1", "w=2"))
    assert stderr == "Error: expected a value, found '*' (at column 4)\n  x +* w\n     ^\n"


def test_parse_error_in_a_file_names_the_line(tmp_path):
    program = tmp_path / "bad.txt"
    program.write_text("a = x*2\nb = sinn(a)\nb\n", encoding="utf-8")
    stderr = assert_bad_input(invoke("grad", f"@{program}", "x=1"))
    assert stderr == (
        "Error: unknown function 'sinn' (at line 2, column 5)\n"
        "  b = sinn(a)\n"
        "      ^^^^\n"
        "  hint: did you mean 'sin'?\n"
    )


@pytest.mark.parametrize(
    "source", ["__import__('os').system('ls')", "(1).__class__", "x.real", "lambda: 1", "'x'"]
)
def test_code_like_input_is_refused(source):
    assert_bad_input(invoke("grad", source))


@pytest.mark.parametrize(
    ("source", "binding", "message"),
    [
        ("log(x)", "x=-1", "log(-1) is undefined at node v2: log(x)"),
        ("1/x", "x=0", "1/0 is undefined at node v3: 1/x"),
        ("sqrt(x)", "x=-4", "sqrt(-4) is undefined at node v2: sqrt(x)"),
        ("exp(x)", "x=1000", "exp(1000) overflows a float at node v2: exp(x)"),
        ("sqrt(x)", "x=0", "the derivative of sqrt(0) with respect to x is undefined"),
    ],
)
def test_domain_errors(source, binding, message):
    stderr = assert_bad_input(invoke("grad", source, binding), message)
    assert "^" in stderr
    assert "hint: " in stderr


def test_gradient_overflow_is_a_domain_error():
    assert_bad_input(
        invoke("grad", "x*w", "x=1", "w=1e10", "--dz", "1e300"),
        "the gradient with respect to x overflows a float",
    )


def test_tower_of_powers_is_a_domain_error_not_a_hang():
    assert_bad_input(invoke("grad", "2**2**2**30"), "overflows a float")


def test_missing_file(tmp_path):
    missing = tmp_path / "missing.txt"
    stderr = assert_bad_input(invoke("grad", f"@{missing}", "x=1"))
    assert stderr == (
        f"Error: cannot read {missing}: no such file\n"
        "  hint: an EXPR that starts with '@' names a file to read the expression from\n"
    )


def test_a_directory_is_not_a_file(tmp_path):
    assert_bad_input(invoke("grad", f"@{tmp_path}"), "it is a directory")


def test_wrt_unknown_name():
    stderr = assert_bad_input(invoke("grad", "x*w", "x=1", "w=2", "--wrt", "ww"))
    assert stderr == (
        "Error: --wrt names 'ww', which is not a variable of the expression "
        "(its variables: x, w)\n"
        "  hint: did you mean 'w'?\n"
    )


def test_bad_format_choice_is_a_usage_error():
    result = invoke("grad", "x", "x=1", "--format", "yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Invalid value for '--format'" in result.stderr


def test_empty_expression():
    assert_bad_input(invoke("grad", ""), "the expression is empty")
    assert_bad_input(invoke("grad", "-", input=""), "the expression is empty")


# ----------------------------------------------------------------------------- odd shapes
def test_output_is_a_variable():
    result = invoke("grad", "x", "x=2", "--no-check")
    assert result.exit_code == 0
    assert "no variable reaches the output" not in result.stdout
    assert run_json("grad", "x", "x=2", "--no-check")["gradients"] == {"x": 1.0}


def test_no_variables():
    document = run_json("grad", "2*3")
    assert document["output"] == 6.0
    assert document["gradients"] == {}
    assert document["check"]["ok"] is True


def test_kink_is_reported_not_failed():
    result = invoke("grad", "relu(x)", "x=0")
    assert result.exit_code == 0
    assert "relu'(0) = 0 (PyTorch's convention)" in result.stdout
    document = run_json("grad", "relu(x)", "x=0")
    assert document["check"]["ok"] is True
    assert "relu'(0) = 0" in document["check"]["kinks"]["x"]


# ----------------------------------------------------------------------------- golden files
def rendered_table(source: str, seed: float = 1.0, **bindings: float) -> str:
    explanation = explain(compile_program(parse(source)), bindings, seed, check=True)
    console = Console(width=100, file=io.StringIO(), color_system=None, legacy_windows=False)
    print_report(grad_report(explanation), console)
    return console.file.getvalue()


def markdown(source: str, seed: float = 1.0, **bindings: float) -> str:
    explanation = explain(compile_program(parse(source)), bindings, seed, check=True)
    return registry.render(build(explanation), "markdown")


GOLDEN_CASES = [
    ("grad_slide.txt", rendered_table, "x*w", 5.0, {"x": 2.0, "w": 3.0}),
    ("grad_lecture.txt", rendered_table, LECTURE, 1.0, {"x": 1.0, "y": 2.0, "w": 1.0}),
    ("grad_shared.txt", rendered_table, "x*x + x", 1.0, {"x": 2.0}),
    ("grad_slide.md", markdown, "x*w", 5.0, {"x": 2.0, "w": 3.0}),
]


@pytest.mark.parametrize(
    ("name", "render", "source", "seed", "bindings"), GOLDEN_CASES,
    ids=[case[0] for case in GOLDEN_CASES],
)
def test_golden(request, name, render, source, seed, bindings):
    text = render(source, seed, **bindings)
    assert text == render(source, seed, **bindings)  # deterministic
    assert_golden(request, name, text)


def test_cli_markdown_matches_the_golden_file(request):
    if request.config.getoption("--update-golden", default=False):
        pytest.skip("golden files are being rewritten")
    result = invoke(*SLIDE, "--format", "markdown")
    assert result.stdout.encode("utf-8") == (GOLDEN / "grad_slide.md").read_bytes()


def test_an_input_used_twice_by_one_node_gets_each_positions_rule():
    # x/x: the edge from the numerator is 1/x, the one from the denominator -x/x² (both
    # edges join the same two nodes, so the rule comes from the edge's position).
    document = run_json("grad", "x/x", "x=2", "--no-check", "--format", "json")
    assert [(e["rule"], e["local"]) for e in document["backward"]] == [
        ("1/x", 0.5), ("-x/x²", -0.5)]
    table = invoke("grad", "x/x", "x=2", "--no-check").stdout
    assert "dz/dx = 1/x " in table and "dz/dx = -x/x² " in table
