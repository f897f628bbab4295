"""``backtrace minimize`` on the command line: refused input (exit 2, one message naming the
flag), --trace, --explain-step, the formats, divergence (exit 1), Ctrl-C (exit 130) and the
Python API against the CLI."""

from __future__ import annotations

import json
import math
import signal
import sys

import pytest
from helpers import PhaseRun, assert_bad_input, invoke, run_json, validate

from backtrace_cli import minimize

ROSENBROCK = "100*(x1 - x0**2)**2 + (1 - x0)**2"


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("options, message", [
    (("--lr", "0"), "Error: --lr must be a finite number above 0, not 0"),
    (("--lr", "-1"), "Error: --lr must be a finite number above 0, not -1"),
    (("--lr", "nan"), "Error: --lr must be a finite number above 0, not nan"),
    (("--lr", "inf"), "Error: --lr must be a finite number above 0, not inf"),
    (("--lr", "abc"), "Invalid value for '--lr': 'abc' is not a valid float."),
    (("--method", "newton", "--lr", "0.1"),
     "Error: --lr is not used by newton: it takes the full Newton step d = -H⁻¹·g, which has "
     "no learning rate\n  hint: drop --lr, or use --method gd, momentum or adam, which take one"),
    (("--method", "bogus"),
     "Invalid value for '--method': 'bogus' is not one of 'gd', 'momentum', 'adam', 'newton'."),
    (("--steps", "0"), "Error: --steps must be a whole number between 1 and 1,000,000, not 0"),
    (("--steps", "-5"), "Error: --steps must be a whole number between 1 and 1,000,000, not -5"),
    (("--steps", "2000000"),
     "Error: --steps must be a whole number between 1 and 1,000,000, not 2000000"),
    (("--steps", "abc"), "Invalid value for '--steps': 'abc' is not a valid integer."),
    (("--steps", "1.5"), "Invalid value for '--steps': '1.5' is not a valid integer."),
    (("--momentum", "1"), "Error: --momentum must be at least 0 and below 1, not 1"),
    (("--momentum", "-0.1"), "Error: --momentum must be at least 0 and below 1, not -0.1"),
    (("--momentum", "nan"), "Error: --momentum must be at least 0 and below 1, not nan"),
    (("--beta1", "1"), "Error: --beta1 must be at least 0 and below 1, not 1"),
    (("--beta2", "1.5"), "Error: --beta2 must be at least 0 and below 1, not 1.5"),
    (("--eps", "0"), "Error: --eps must be a finite number above 0, not 0"),
    (("--eps", "nan"), "Error: --eps must be a finite number above 0, not nan"),
    (("--trace-limit", "0"), "Invalid value for '--trace-limit': 0 is not in the range x>=1."),
    (("--explain-step", "0"), "Invalid value for '--explain-step': 0 is not in the range x>=1."),
    (("--explain-step", "101"),
     "Error: --explain-step 101: the run takes only 100 step(s)\n"
     "  hint: pick a step between 1 and 100"),
    (("--format", "pdf"),
     "Invalid value for '--format': 'pdf' is not one of 'table', 'json', 'markdown', 'latex'."),
    (("--width", "5"), "Invalid value for '--width': 5 is not in the range 20<=x<=10000."),
])
def test_every_option_refuses_bad_values(options, message):
    assert_bad_input(invoke("minimize", "x**2", "x=1", *options), message)


@pytest.mark.parametrize("args, message", [
    (("x**2", "x=1", "q=2"),
     "Error: the binding 'q' is not used by the expression (its variables: x)"),
    (("x**2 + y", "x=1"), "Error: the variable 'y' has no value (at column 8)"),
    (("x**2",), "Error: the variable 'x' has no value"),
    (("x**2", "x=abc"), "Error: x: 'abc' is not a number"),
    (("x**2", "x=1", "x=2"), "Error: the variable 'x' is given twice"),
    (("x**2", "x=1", "pi=3"), "Error: 'pi' is a constant"),
    (("[x, 2*x]", "x=1"),
     "Error: the expression is an array (2), not a number: only a scalar can be minimised "
     "(at column 1)"),
    (("sum(W*W)", "W=[[1, 2]]", "--dz", "2"),
     "Error: the binding 'dz' is not used by the expression (its variables: W)"),
    (("3 + 4",), "Error: the expression has no variables to minimise over\n"
                 "  hint: give it a variable, e.g. (x - 3)**2 x=0"),
    (("log(x)", "x=-1"), "Error: log(-1) is undefined at node v2: log(x) (at column 1)"),
    (("sqrt(x)", "x=0"),
     "Error: the derivative of sqrt(0) with respect to x is undefined or infinite"),
    (("x**",), "Error: expected a value after '**'"),
])
def test_bad_expressions_and_bindings(args, message):
    assert_bad_input(invoke("minimize", *args), message)


def test_newton_refuses_a_hessian_too_large():
    values = json.dumps([0.0] * 1001)
    assert_bad_input(
        invoke("minimize", "sum(W*W)", f"W={values}", "--method", "newton"),
        "Error: --method newton: 1,001 variables (array elements) need a Hessian of 1,002,001 "
        "entries; newton takes at most 1,000\n"
        "  hint: use --method gd, momentum or adam for large arrays")


def test_the_history_is_bounded():
    values = json.dumps([0.0] * 10_000)
    assert_bad_input(
        invoke("minimize", "sum(W*W)", f"W={values}", "--steps", "2000"),
        "Error: --steps 2,000: keeping every step's 10,000 parameter value(s) needs more than "
        "20,000,000 numbers\n  hint: take fewer --steps")


def test_the_api_refuses_with_the_fields_names():
    from backtrace_cli import BacktraceError

    with pytest.raises(BacktraceError, match="^steps must be a whole number between 1 and "
                                             "1,000,000, not 0$"):
        minimize("x**2", {"x": 1}, steps=0)
    with pytest.raises(BacktraceError, match="^method must be one of gd, momentum, adam, "
                                             "newton, not 'sgd'$"):
        minimize("x**2", {"x": 1}, method="sgd")
    with pytest.raises(BacktraceError, match="^lr is not used by newton"):
        minimize("x**2", {"x": 1}, method="newton", lr=0.1)


# ----------------------------------------------------------------------------- output
def test_trace_prints_every_step_live():
    result = invoke("minimize", "x**2 + (y - 1)**2", "x=3", "y=0", "--lr", "0.25", "--steps",
                    "2", "--trace")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "Minimising z = x**2 + (y - 1)**2 from x=3, y=0",
        "method gd, lr 0.25, 2 steps",
        "",
        "step 1: x=3 y=0 z=10 dz/dx=6 dz/dy=-2  [x ← x − lr·dz/dx = 3 − 0.25·6 = 1.5; "
        "y ← y − lr·dz/dy = 0 − 0.25·(-2) = 0.5]",
        "step 2: x=1.5 y=0.5 z=2.5 dz/dx=3 dz/dy=-1  [x ← x − lr·dz/dx = 1.5 − 0.25·3 = 0.75; "
        "y ← y − lr·dz/dy = 0.5 − 0.25·(-1) = 0.75]",
    ]
    assert lines[5] == "Steps"
    assert result.stdout.count("Minimising z") == 1  # the header is not printed twice


def test_trace_limit():
    document = run_json("minimize", "x**2", "x=1", "--steps", "5", "--trace",
                        "--trace-limit", "2")
    assert [step["step"] for step in document["trace"]] == [1, 2]
    assert document["trace"][0] == {
        "step": 1, "value": 1.0, "params": {"x": 1.0}, "gradients": {"x": 2.0},
        "after": {"x": 0.98}, "update_text": "x ← x − lr·dz/dx = 1 − 0.01·2 = 0.98",
    }


def test_newton_trace_writes_the_division():
    document = run_json("minimize", "x**4 - 2*x**2", "x=2", "--method", "newton", "--steps",
                        "1", "--trace")
    assert document["trace"] == [{
        "step": 1, "value": 8.0, "params": {"x": 2.0}, "gradients": {"x": 24.0},
        "after": {"x": 1.4545454545454546}, "hessian": [[44.0]],
        "direction": [-0.5454545454545454],
        "update_text": "x ← x − dz/dx / d²z/dx² = 2 − 24/44 = 1.4545454545454546",
    }]


def test_explain_step_shows_grads_tables_at_that_step():
    result = invoke("minimize", "(x - 3)**2", "x=0", "--lr", "0.1", "--steps", "3",
                    "--explain-step", "2")
    assert result.exit_code == 0
    out = result.stdout
    assert "Step 2 explained" in out
    assert "Step 2 starts from x=0.6000000000000001; its gradient, as backtrace grad " \
           "computes it:" in out
    assert "Forward pass: (x - 3)**2" in out and "Backward pass" in out and "Chain rule" in out
    assert "The update: x ← x − lr·dz/dx = 0.6000000000000001 − 0.1·(-4.8) = 1.08" in out


def test_explain_step_in_json_holds_grads_document():
    document = run_json("minimize", "x**4 - 2*x**2", "x=2", "--method", "newton", "--steps",
                        "3", "--explain-step", "1")
    explain = document["explain"]
    assert explain["step"] == 1 and explain["params"] == {"x": 2.0}
    assert explain["hessian"] == [[44.0]]
    assert explain["grad"]["gradients"] == {"x": 24.0}
    assert explain["grad"] == run_json("grad", "x**4 - 2*x**2", "x=2")


def test_newton_explain_step_shows_the_hessian():
    result = invoke("minimize", ROSENBROCK, "x0=0.5", "x1=0", "--method", "newton",
                    "--steps", "2", "--explain-step", "1")
    assert result.exit_code == 0
    assert "Hessian of z at step 1 (second derivatives by double backprop)" in result.stdout
    assert "│ x1    │  200 │ -200 │\n│ x0    │ -200 │  302 │" in result.stdout


@pytest.mark.parametrize("output_format, expected", [
    ("markdown", "| 3 | 0.15625 | 0.375 | 0.875 |"),
    ("latex", "3 & 0.15625 & 0.375 & 0.875"),
])
def test_markdown_and_latex(output_format, expected):
    result = invoke("minimize", "x**2 + (y - 1)**2", "x=3", "y=0", "--lr", "0.25", "--steps",
                    "3", "--format", output_format)
    assert result.exit_code == 0, result.stderr
    assert expected in result.stdout


def test_a_leading_minus_in_the_expression_and_the_values():
    document = run_json("minimize", "-x + x**2", "x=-1", "--lr", "0.5", "--steps", "1")
    assert document["params"] == {"x": 0.5}
    document = run_json("minimize", "(x + 1)**2", "--x", "-2", "--lr", "0.5", "--steps", "1")
    assert document["params"] == {"x": -1.0}


def test_the_api_gives_the_clis_document():
    result = minimize("x**4 - 2*x**2", {"x": 2}, method="newton", steps=3, trace=True)
    assert result.to_dict() == run_json("minimize", "x**4 - 2*x**2", "x=2", "--method",
                                        "newton", "--steps", "3", "--trace")
    assert result.params == {"x": 1.0253259289766978}
    assert result.value == -0.9973690014137448
    assert not result.diverged and result.blocked is None and not result.interrupted
    assert repr(result) == "MinimizeResult(params={'x': 1.0253259289766978}, " \
                           "value=-0.9973690014137448)"
    validate("minimize", result.to_dict())


# ----------------------------------------------------------------------------- exit 1
def test_divergence_reports_the_finished_steps_then_exits_1():
    result = invoke("minimize", "x**2", "x=3", "--lr", "2", "--steps", "2000", "--format",
                    "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["diverged"] == {
        "step": 323,
        "reason": "(-3.8662196978715646e+154)**2 overflows a float at node v3: x**2"}
    assert document["steps"] == 322 and len(document["history"]) == 323
    assert document["params"] == {"x": 1.2887398992905214e+154}
    assert result.stderr == (
        "Warning: z grew 322 times in a row, from 9 (step 0) to 1.66e+308 (step 322), each "
        "time by more than 1%: the growth began with update 1, and the run is diverging; try "
        "a smaller lr: at the start d²z/dx² = 2, and gradient descent on a quadratic is stable "
        "only for lr < 2/2 = 1\n"
        "Error: minimize diverged at step 323: (-3.8662196978715646e+154)**2 overflows a float "
        "at node v3: x**2\n  the last finite parameters: x=1.2887398992905214e+154\n"
        "  hint: try a smaller --lr\n")


def test_an_expression_undefined_after_a_step_is_a_divergence():
    result = invoke("minimize", "log(x) + x*x", "x=1", "--lr", "1")
    assert result.exit_code == 1
    assert "│    0 │ 1 │ 1 │" in result.stdout
    assert result.stderr == (
        "Error: minimize diverged at step 1: log(-2) is undefined at node v2: log(x)\n"
        "  the last finite parameters: x=1.0\n  hint: try a smaller --lr\n")


# ----------------------------------------------------------------------------- Ctrl-C
@pytest.mark.skipif(sys.platform == "win32", reason="signals to a child need POSIX")
@pytest.mark.parametrize("number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)], ids=["INT", "TERM", "HUP"])
def test_a_signal_reports_the_finished_steps(tmp_path, number, code):
    # Stopped after the first step (backtrace_cli/phases.py), whatever the machine's load.
    run = PhaseRun(tmp_path, "train-update", "minimize", ROSENBROCK, "x0=0", "x1=2", "--lr",
                   "0.001", "--steps", "1000000", "--format", "json")
    run.wait_for_phase()
    run.signal(number)
    exit_code, out, err = run.finish()
    assert exit_code == code, err
    document = json.loads(out)
    validate("minimize", document)
    assert document["interrupted"] is True
    assert document["diverged"] is None and document["blocked"] is None
    assert document["steps"] == 1
    assert [point["step"] for point in document["history"]] == [0, 1]
    assert document["params"] == document["history"][-1]["params"]
    assert all(math.isfinite(v) for v in document["params"].values())
    assert err == "Interrupted after 1 finished step(s); the results above are for those.\n"


# ----------------------------------------------------------------------------- progress
class _Terminal:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_a_progress_bar_only_for_a_table_on_a_terminal(monkeypatch):
    from rich.progress import Progress

    from backtrace_cli.cli import minimize as command

    assert command._progress("table") is None  # stderr is not a terminal here
    monkeypatch.setattr(command.sys, "stderr", _Terminal())
    assert isinstance(command._progress("table"), Progress)
    assert command._progress("json") is None


def test_the_progress_bar_advances_once_a_step(monkeypatch):
    import io

    from rich.console import Console
    from rich.progress import Progress

    from backtrace_cli.cli import minimize as command

    made = []

    def progress(output_format):
        made.append(Progress(console=Console(file=io.StringIO()), auto_refresh=False))
        return made[-1]

    monkeypatch.setattr(command, "_progress", progress)
    result = invoke("minimize", "x**2", "x=1", "--steps", "7")
    assert result.exit_code == 0
    (task,) = made[0].tasks
    assert (task.total, task.completed) == (7, 7)
    assert task.fields["value"] == run_json("minimize", "x**2", "x=1", "--steps", "7")["value"]


def test_the_written_updates_are_math_in_latex_and_plain_elsewhere():
    args = ("minimize", "x**2", "x=1", "--steps", "1", "--trace", "--explain-step", "1")
    latex = invoke(*args, "--format", "latex").stdout
    assert (r"The update: x $\leftarrow$ x $-$ lr$\cdot$dz/dx = 1 $-$ 0.01$\cdot$2 = 0.98"
            in latex)
    assert "U+" not in latex
    markdown = invoke(*args, "--format", "markdown").stdout
    assert "- The update: x ← x − lr·dz/dx = 1 − 0.01·2 = 0.98" in markdown
    assert "At the start z = 1; after 1 step z = 0.9603999999999999" in markdown
