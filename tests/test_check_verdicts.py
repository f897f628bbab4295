"""The verdict of the cross-checks: ok, inconclusive or disagree.

A central difference whose step is far wider than the function's bend (softplus(x*1e10) at
x = 1e-12 with a step of 6.1e-06) keeps moving as the step shrinks: it is no evidence
against the engine, and the run is "inconclusive" (exit 0). A SymPy disagreement, or a
difference that settles away from the engine, is still a disagreement (exit 1).
"""

from __future__ import annotations

import json

import pytest
import sympy  # noqa: F401  (imported once, so the SymPy check's forked child starts warm)
from click.testing import CliRunner
from helpers import invoke

from backtrace_cli.checks.verify import CheckReport, VariableCheck, run_checks
from backtrace_cli.cli.main import main
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.ops.table import BY_NAME
from backtrace_cli.syntax.parser import parse

INCONCLUSIVE_NOTE = ("inconclusive: the difference quotient changes as the step shrinks from "
                     "{step}, so it neither confirms nor refutes the gradient")


def grad_json(*args: str):
    result = invoke("grad", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout) if result.stdout else None, result


# Ill-conditioned at the point: the step of the central difference spans the whole bend.
ILL_CONDITIONED = [
    ("softplus(x*1e10)", "x=1e-12", 5024999791.66875, "6.1e-06"),
    ("sigmoid(x*1e10)", "x=1e-12", 2499937501.0416517, "6.1e-06"),
    ("tanh(x*1e8)", "x=1e-10", 99990000.66662888, "6.1e-06"),
    ("sin(x*1e8)", "x=1e-9", 99500416.52780259, "6.1e-06"),
    ("sin(x)", "x=1e308", -0.8913089376870335, "6.1e+302"),
]


@pytest.mark.parametrize(("source", "binding", "gradient", "step"), ILL_CONDITIONED,
                         ids=[case[0] for case in ILL_CONDITIONED])
def test_an_unsettled_difference_is_inconclusive_not_a_disagreement(
    source, binding, gradient, step
):
    code, document, result = grad_json(source, binding)
    assert code == 0, result.stderr
    check = document["check"]
    assert document["gradients"] == {"x": gradient}
    assert check["ok"] is True
    assert check["status"] == "inconclusive"
    assert check["sympy"]["x"]["ok"] is True
    numeric = check["numeric"]["x"]
    assert (numeric["ok"], numeric["status"]) == (None, "inconclusive")
    assert numeric["note"] == INCONCLUSIVE_NOTE.format(step=step)


def test_the_table_says_inconclusive_and_exits_0():
    result = CliRunner().invoke(main, ["grad", "softplus(x*1e10)", "x=1e-12"])
    assert result.exit_code == 0, result.stderr
    assert "the checks disagree" not in result.stdout
    assert "x: finite differences inconclusive: the difference quotient changes" in " ".join(
        result.stdout.split()
    )


def test_only_the_ill_conditioned_variable_is_inconclusive():
    code, document, _ = grad_json("softplus(x*w)", "x=1e-12", "w=1e10")
    assert code == 0
    numeric = document["check"]["numeric"]
    assert (numeric["x"]["status"], numeric["w"]["status"]) == ("inconclusive", "ok")
    assert document["check"]["status"] == "inconclusive"


def test_agreeing_checks_say_ok():
    code, document, _ = grad_json("x*w", "x=2", "w=3")
    assert code == 0
    assert document["check"]["status"] == "ok"
    assert {entry["status"] for entry in document["check"]["numeric"].values()} == {"ok"}


def _wrong_softplus_derivative(monkeypatch):
    """The engine's softplus' made twice what it is: a real bug for the checks to find."""
    op = BY_NAME["softplus"]
    wrong = (lambda m, args, out: 2 * m.sigmoid(args[0]),)
    monkeypatch.setitem(op.__dict__, "derivatives", wrong)


def test_a_wrong_derivative_still_exits_1(monkeypatch):
    _wrong_softplus_derivative(monkeypatch)
    code, document, _ = grad_json("softplus(x)", "x=0.5")
    assert code == 1
    assert document["gradients"] == {"x": 2 * 0.6224593312018546}
    check = document["check"]
    assert (check["ok"], check["status"]) == (False, "disagree")
    assert check["sympy"]["x"]["ok"] is False
    # Here the difference settles (at 0.6224...), away from the engine: a disagreement too.
    assert (check["numeric"]["x"]["ok"], check["numeric"]["x"]["status"]) == (False, "disagree")
    assert check["numeric"]["x"]["value"] == pytest.approx(0.6224593312018546, rel=1e-8)


def test_a_wrong_derivative_at_an_ill_conditioned_point_still_exits_1(monkeypatch):
    # The difference is inconclusive there, but SymPy's disagreement decides.
    _wrong_softplus_derivative(monkeypatch)
    code, document, _ = grad_json("softplus(x*1e10)", "x=1e-12")
    assert code == 1
    assert document["check"]["status"] == "disagree"
    assert document["check"]["sympy"]["x"]["ok"] is False
    assert document["check"]["numeric"]["x"]["status"] == "inconclusive"


def test_a_difference_that_settles_away_from_the_engine_disagrees_without_sympy():
    tape = compile_program(parse("x*x"))
    report = run_checks(tape, {"x": 3.0}, 1.0, {"x": 7.0}, use_sympy=False)
    assert report.status == "disagree" and not report.ok
    variable = report.variables["x"]
    assert variable.numeric_value == pytest.approx(6.0, rel=1e-9)
    assert (variable.numeric_ok, variable.numeric_status, variable.status) == (
        False, "disagree", "disagree"
    )


def test_an_unsettled_difference_without_sympy_is_inconclusive():
    tape = compile_program(parse("softplus(x*1e10)"))
    report = run_checks(tape, {"x": 1e-12}, 1.0, {"x": 5024999791.66875}, use_sympy=False)
    assert (report.ok, report.status) == (True, "inconclusive")
    assert report.variables["x"].numeric_value == pytest.approx(5000000825.701859, rel=1e-9)


def test_statuses_combine_worst_first():
    ok = VariableCheck("a", 1.0, sympy_ok=True, numeric_ok=True)
    unsure = VariableCheck("b", 1.0, sympy_ok=True, numeric_inconclusive=True)
    wrong = VariableCheck("c", 1.0, sympy_ok=False, numeric_inconclusive=True)
    skipped = VariableCheck("d", 1.0)
    assert [v.status for v in (ok, unsure, wrong, skipped)] == [
        "ok", "inconclusive", "disagree", "ok"]
    assert [v.numeric_status for v in (ok, unsure, wrong, skipped)] == [
        "ok", "inconclusive", "inconclusive", "skipped"]
    assert CheckReport({"a": ok, "b": unsure}).status == "inconclusive"
    assert CheckReport({"a": ok, "b": unsure, "c": wrong}).status == "disagree"
    assert CheckReport({"a": ok, "d": skipped}).status == "ok"


# ----------------------------------------------------------------------------- arrays
def test_an_unsettled_array_difference_is_inconclusive():
    code, document, result = grad_json("sum(softplus(x*1e10))", "x=[1e-12, 2e-12]")
    assert code == 0, result.stderr
    assert document["gradients"] == {"x": [5024999791.66875, 5049998333.399998]}
    check = document["check"]
    assert (check["ok"], check["status"]) == (True, "inconclusive")
    assert check["numeric"]["x"]["status"] == "inconclusive"
    assert check["numeric"]["x"]["note"] == INCONCLUSIVE_NOTE.format(step="6.1e-06")


def test_a_wrong_array_gradient_that_settles_still_disagrees():
    import numpy

    tape = compile_program(parse("sum(W @ x)"))
    from backtrace_cli.explain.gradient import numeric_setting

    bindings, shapes, m = numeric_setting(
        tape, {"W": numpy.array([[1.0, 2.0], [3.0, 4.0]]), "x": numpy.array([1.0, 1.0])})
    wrong = {"W": numpy.array([[1.0, 1.0], [1.0, 1.5]]), "x": numpy.array([4.0, 6.0])}
    report = run_checks(tape, bindings, 1.0, wrong, use_sympy=False, m=m, shapes=shapes)
    assert report.status == "disagree"
    assert (report.variables["W"].numeric_status, report.variables["x"].numeric_status) == (
        "disagree", "ok")
