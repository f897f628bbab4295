"""The cross-checks: SymPy's derivative and central differences agree with our gradients, kinks
are explained instead of failing, a pathological expression ends in "skipped", and a wrong
gradient is caught.
"""

from __future__ import annotations

import time

import pytest
import sympy
from helpers import cpu_seconds
from worked_examples import NEURON, NEURON_BINDINGS, WORKED_EXAMPLES

from backtrace_cli.checks import verify as check
from backtrace_cli.checks.verify import (
    CheckReport,
    finite_difference,
    kink_notes,
    run_checks,
    run_sympy,
    sympy_expression,
)
from backtrace_cli.engine.tape import compile_program
from backtrace_cli.errors import EvaluationError
from backtrace_cli.explain.gradient import explain
from backtrace_cli.syntax.parser import parse


def tape_of(source: str):
    return compile_program(parse(source))


def checked(source: str, seed: float = 1.0, **bindings: float):
    return explain(tape_of(source), bindings, seed, check=True)


# ----------------------------------------------------------------------------- agreement
@pytest.mark.parametrize(
    ("source", "bindings", "seed"),
    [case[1:4] for case in WORKED_EXAMPLES] + [(NEURON, NEURON_BINDINGS, 1.0)],
    ids=[case[0] for case in WORKED_EXAMPLES] + ["neuron"],
)
def test_worked_examples_pass_both_checks(source, bindings, seed):
    report = explain(tape_of(source), bindings, seed, check=True).check
    assert report.ok
    assert report.sympy_note is None
    for name, variable in report.variables.items():
        assert variable.sympy_ok is True, name
        assert variable.numeric_ok is True, name
        assert variable.kink_note is None
        assert variable.sympy_value == pytest.approx(variable.gradient, rel=1e-12, abs=1e-12)


def test_the_slide_shows_sympys_derivative_text():
    report = checked("x*w", 5.0, x=2.0, w=3.0).check
    assert report.variables["x"].sympy_derivative == "5*w"
    assert report.variables["w"].sympy_derivative == "5*x"
    assert report.variables["x"].sympy_value == 15.0
    assert report.variables["x"].numeric_value == pytest.approx(15.0, rel=1e-9)


def test_sympy_expression_in_process():
    tape = tape_of("log(x1) + x1*x2 - sin(x2)")
    expression, symbols = sympy_expression(tape, 1.0)
    x1, x2 = symbols["x1"], symbols["x2"]
    assert x1.is_real and x2.is_real
    assert sympy.simplify(expression - (sympy.log(x1) + x1 * x2 - sympy.sin(x2))) == 0
    at = {x1: 2, x2: 5}
    assert float(sympy.diff(expression, x1).subs(at)) == 5.5
    assert float(sympy.diff(expression, x2).subs(at)) == pytest.approx(1.7163378145367738)


def test_sympy_expression_uses_exact_constants():
    expression, _ = sympy_expression(tape_of("pi*e*x + 0.5"), 2.0)
    assert expression.has(sympy.pi) and expression.has(sympy.E)


def test_finite_difference_step_and_value():
    tape = tape_of("x**3")
    value, rounding, note = finite_difference(tape, {"x": 2.0}, "x", 1.0)
    assert note is None
    assert value == pytest.approx(12.0, rel=1e-9)
    assert 0 < rounding < 1e-6


def test_finite_difference_near_a_singularity_is_skipped_not_failed():
    tape = tape_of("sqrt(x)")
    value, _, note = finite_difference(tape, {"x": 1e-12}, "x", 1.0)
    assert value is None
    assert note.startswith("skipped: the expression is undefined within")


# ----------------------------------------------------------------------------- kinks
def test_relu_at_zero_passes_with_a_note():
    explanation = checked("relu(x)", x=0.0)
    variable = explanation.check.variables["x"]
    assert explanation.gradients == {"x": 0.0}
    assert explanation.check.ok
    assert variable.kink_note == "relu'(0) = 0 (PyTorch's convention) at v2 (relu(x))"
    # Central differences see 1/2, which the kink explains; SymPy's relu (a Piecewise)
    # differentiates to the same convention, relu'(0) = 0, so it agrees outright.
    assert variable.numeric_value == pytest.approx(0.5)
    assert variable.numeric_note.startswith("differs at a kink: relu'(0) = 0")
    assert variable.sympy_value == 0.0
    assert variable.sympy_ok is True
    assert variable.sympy_note is None
    assert variable.ok


def test_abs_and_min_max_ties_pass_with_a_note():
    report = checked("abs(x) + max(x, y)", x=0.0, y=0.0).check
    assert report.ok
    assert "abs'(0) = 0" in report.variables["x"].kink_note
    assert "at a tie max passes half the gradient" in report.variables["x"].kink_note
    assert "abs" not in report.variables["y"].kink_note


def test_kink_notes_reach_only_upstream_variables():
    tape = tape_of("relu(x) + y")
    notes = kink_notes(tape, [1])
    assert list(notes) == ["x"]
    assert kink_notes(tape, []) == {}


def test_away_from_a_kink_there_is_no_note():
    report = checked("relu(x) * abs(y)", x=0.5, y=-2.0).check
    assert report.ok
    assert all(v.kink_note is None for v in report.variables.values())


# ----------------------------------------------------------------------------- never hang
def test_a_tower_of_powers_ends_quickly():
    started = cpu_seconds()
    with pytest.raises(EvaluationError, match=r"2\*\*1073741824 overflows a float"):
        checked("2**2**2**30")
    assert cpu_seconds() - started < 2.0


def test_sympy_on_a_tower_of_powers_is_skipped_within_its_timeout():
    tape = tape_of("x * 2**2**2**30")
    started = cpu_seconds()
    rows, note = run_sympy(tape, {"x": 1.0}, 1.0, ["x"], timeout=0.5)
    assert rows is None
    assert note == "skipped: SymPy took longer than 0.5 s"
    assert cpu_seconds() - started < 3.0


def test_a_slow_sympy_is_skipped_and_the_numeric_check_still_runs(monkeypatch):
    def slow(*args):
        time.sleep(30)

    # The child is forked, so it runs the patched function.
    monkeypatch.setattr(check, "_sympy_derivatives", slow)
    tape = tape_of("x*w")
    started = cpu_seconds()
    report = run_checks(tape, {"x": 2.0, "w": 3.0}, 1.0, {"x": 3.0, "w": 2.0}, timeout=0.2)
    assert cpu_seconds() - started < 3.0
    assert report.sympy_note == "skipped: SymPy took longer than 0.2 s"
    assert all(v.sympy_ok is None and v.sympy_value is None for v in report.variables.values())
    assert report.variables["x"].numeric_ok is True
    assert report.variables["x"].numeric_value == pytest.approx(3.0)
    assert report.ok


def test_a_failing_sympy_is_skipped_with_the_reason(monkeypatch):
    def broken(*args):
        raise RuntimeError("no")

    monkeypatch.setattr(check, "_sympy_derivatives", broken)
    report = run_checks(tape_of("x*2"), {"x": 1.0}, 1.0, {"x": 2.0})
    assert report.sympy_note == "skipped: SymPy failed: RuntimeError: no"
    assert report.variables["x"].numeric_ok is True


def test_a_big_expression_skips_sympy(monkeypatch):
    monkeypatch.setenv("BACKTRACE_SYMPY_MAX_NODES", "3")
    report = run_checks(tape_of("x*x + 2*x"), {"x": 2.0}, 1.0, {"x": 6.0})
    assert report.sympy_note == (
        "skipped: the expression has 5 nodes, more than the SymPy check takes "
        "(3; raise with BACKTRACE_SYMPY_MAX_NODES)"
    )
    assert report.variables["x"].numeric_ok is True


def test_sympy_without_a_number_is_skipped_per_variable():
    # At x = 0, d/dx sqrt(x)*y = y/(2*sqrt(x)) has no finite value; d/dy = sqrt(0) = 0 has.
    rows, note = run_sympy(tape_of("sqrt(x)*y"), {"x": 0.0, "y": 2.0}, 1.0, ["x", "y"], 5.0)
    assert note is None
    (x_name, _, x_value, x_note), (y_name, y_text, y_value, y_note) = rows
    assert (x_name, x_value) == ("x", None)
    assert x_note == "skipped: SymPy's derivative is undefined here"
    assert (y_name, y_text, y_value, y_note) == ("y", "sqrt(x)", 0.0, None)


# ----------------------------------------------------------------------------- wrong answers
def test_a_wrong_gradient_is_caught():
    tape = tape_of("sin(x)*y")
    bindings = {"x": 1.0, "y": 2.0}
    right_y = 0.8414709848078965
    report = run_checks(tape, bindings, 1.0, {"x": 2 * 0.5403023058681398 + 0.01, "y": right_y})
    assert isinstance(report, CheckReport)
    assert not report.ok
    wrong = report.variables["x"]
    assert wrong.sympy_ok is False and wrong.numeric_ok is False and not wrong.ok
    assert wrong.sympy_value == pytest.approx(2 * 0.5403023058681398, rel=1e-15)
    assert report.variables["y"].ok


def test_a_gradient_off_by_a_sign_is_caught_by_both():
    tape = tape_of("x*x - 3*x")
    report = run_checks(tape, {"x": 2.0}, 1.0, {"x": -1.0})
    variable = report.variables["x"]
    assert (variable.sympy_ok, variable.numeric_ok) == (False, False)


def test_a_wrong_seed_is_caught():
    tape = tape_of("x*w")
    # Gradients for seed 1 reported as if for seed 5.
    report = run_checks(tape, {"x": 2.0, "w": 3.0}, 5.0, {"x": 3.0, "w": 2.0})
    assert not report.ok


def test_checks_are_deterministic():
    first = checked("tanh(x)*exp(y)", x=0.3, y=-1.0).check
    second = checked("tanh(x)*exp(y)", x=0.3, y=-1.0).check
    assert first == second


def test_a_wrong_gradient_at_a_kink_is_caught():
    tape = tape_of("relu(x) + 3*x")
    report = run_checks(tape, {"x": 0.0}, 1.0, {"x": 42.0}, kink_nodes=[1])
    assert not report.ok
