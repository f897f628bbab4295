"""Issue 26, item 4: a run whose loss grows GROWTH_UPDATES (5) times in a row, each time by more
than 1%, and stays above where the growth began, is warned about: one line on stderr in the
reader's language and the JSON ``warnings`` list, with the update where the growth began and
what to do (a smaller lr; for minimize's gd, 2/h from the Hessian at the start). The exit code
is unchanged. Item 6: simplify of a program affine where it is defined but undefined at 0."""

from __future__ import annotations

import json

import pytest
from helpers import invoke, problems, run_json

from backtrace_cli import minimize
from backtrace_cli.api.train import fit
from backtrace_cli.train.advice import growth, train_growth_warning

QUADRATIC_MODEL = "a*x**2 + b*x + c"
ROSENBROCK = "100*(x1 - x0**2)**2 + (1 - x0)**2"

MINIMIZE_WARNING = (
    "z grew 50 times in a row, from 9 (step 0) to 1.14e+31 (step 50), each time by more "
    "than 1%: the growth began with update 1, and the run is diverging; try a smaller lr: "
    "at the start d²z/dx² = 2, and gradient descent on a quadratic is stable only for "
    "lr < 2/2 = 1")


# ----------------------------------------------------------------------------- the rule
def test_the_rule_needs_five_increases_each_over_one_percent():
    assert growth([1, 2, 4, 8, 16, 32]) == (0, 5)
    assert growth([1, 2, 4, 8, 16]) is None  # four increases
    assert growth([1.0, 1.02, 1.0404, 1.0612, 1.0824, 1.1041]) == (0, 5)
    assert growth([1.0, 1.005, 1.010, 1.015, 1.020, 1.025]) is None  # under 1% each time
    assert growth([5, 4, 3, 6, 12, 24, 48, 96, 100]) == (2, 6)


def test_growth_that_a_later_descent_undoes_is_not_divergence():
    assert growth([10, 11, 12.2, 13.5, 15, 16.6, 9, 5]) is None
    assert growth([10, 11, 12.2, 13.5, 15, 16.6, 12]) is None  # back below the 5th increase
    assert growth([10, 11, 12.2, 13.5, 15, 16.6, 16.7]) == (0, 5)  # not back: still at 16.6+
    assert growth([10, 11, 12.2, 13.5, 15, 16.6, 30, 16.6]) == (0, 6)


# ----------------------------------------------------------------------------- minimize
def test_minimize_with_a_step_past_the_curvature_warns_and_exits_0():
    result = invoke("minimize", "(x-3)**2", "x=0", "--lr", "1.5", "--steps", "50")
    assert result.exit_code == 0
    assert result.stderr == f"Warning: {MINIMIZE_WARNING}\n"


def test_minimize_json_lists_the_warning_and_matches_its_schema():
    result = invoke("minimize", "(x-3)**2", "x=0", "--lr", "1.5", "--steps", "50",
                    "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["warnings"] == [MINIMIZE_WARNING]
    assert document["value"] == 9 * 2.0 ** 100  # x - 3 doubles (times -2) each step: exact
    assert problems("minimize", document) == []
    del document["warnings"]
    assert problems("minimize", document) == [("$", "'warnings' is a required property")]


def test_minimize_warning_in_chinese():
    result = invoke("minimize", "(x-3)**2", "x=0", "--lr", "1.5", "--steps", "50",
                    env={"BACKTRACE_LANG": "zh"})
    assert result.exit_code == 0
    assert result.stderr == (
        "警告：z 连续增长了 50 次，从 9（第 0 步）增至 1.14e+31（第 50 步），每次增幅都超过 1%："
        "增长始于第 1 次更新，运行正在发散；请尝试更小的 lr：起点处 d²z/dx² = 2，而梯度下降在"
        "二次函数上只有当 lr < 2/2 = 1 时才稳定\n")


def test_minimize_api_has_the_warnings():
    result = minimize("(x-3)**2", {"x": 0.0}, lr=1.5, steps=50)
    assert result.warnings == [MINIMIZE_WARNING]
    assert not result.diverged


def test_minimize_of_several_variables_names_the_largest_eigenvalue_and_keeps_exit_1():
    result = invoke("minimize", ROSENBROCK, "x0=0", "x1=2", "--lr", "0.01", "--steps", "50")
    assert result.exit_code == 1  # it overflows at step 8: diverged, as before
    first = result.stderr.splitlines()[0]
    assert first == (
        "Warning: z grew 5 times in a row, from 396 (step 2) to 2.37e+149 (step 7), each time "
        "by more than 1%: the growth began with update 3, and the run is diverging; try a "
        "smaller lr: at the start the Hessian's largest eigenvalue is 200, and gradient "
        "descent on a quadratic is stable only for lr < 2/200 = 0.01")
    assert result.stderr.splitlines()[1].startswith("Error: minimize diverged at step 8: ")


def test_momentum_gets_no_gd_bound():
    result = minimize("(x-3)**2", {"x": 0.0}, lr=3.0, steps=30, method="momentum")
    assert len(result.warnings) == 1
    assert result.warnings[0].endswith("and the run is diverging; try a smaller lr")


@pytest.mark.parametrize("args", [
    ("minimize", ROSENBROCK, "x0=0", "x1=2", "--lr", "0.001", "--steps", "10000"),  # DeZero's
    ("minimize", "(x-3)**2", "x=0", "--lr", "0.5", "--steps", "50"),
    ("minimize", "(x-3)**2", "x=0", "--lr", "0.99", "--steps", "50"),  # oscillates, shrinking
    ("minimize", "x**2 + y**2", "x=1", "y=1", "--lr", "0.5", "--method", "momentum"),
    ("minimize", ROSENBROCK, "x0=0", "x1=2", "--lr", "0.01", "--method", "adam",
     "--steps", "2000"),
    ("train",),  # the lecture's default run
    ("train", "samples/quadratic.csv", "--model", QUADRATIC_MODEL, "--lr", "0.0005"),
    # Adam's loss bursts up 11 epochs in a row (0.059 to 19.5) and comes back to 0.0728:
    # a burst that the run undoes, not a divergence
    ("train", "samples/quadratic.csv", "--model", QUADRATIC_MODEL, "--optimizer", "adam",
     "--lr", "0.1"),
])
def test_runs_that_converge_have_no_warning(args):
    document = run_json(*args)  # exit 0 and nothing on stderr
    assert document["warnings"] == []


# ----------------------------------------------------------------------------- train
TRAIN_WARNING = (
    "the loss per epoch grew {count} times in a row, from 387 (epoch 1) to {after} (epoch "
    "{last}), each time by more than 1%: the growth began with update 1, and the run is "
    "diverging; try a smaller lr (e.g. 0.0005)")


def test_train_warns_at_the_start_of_growth_and_exits_0():
    result = invoke("train", "samples/quadratic.csv", "--model", QUADRATIC_MODEL,
                    "--lr", "0.005", "--format", "json")
    assert result.exit_code == 0
    warning = TRAIN_WARNING.format(count=99, after="1.21e+58", last=100)
    assert result.stderr == f"Warning: {warning}\n"
    document = json.loads(result.stdout)
    assert document["warnings"] == [warning]
    assert problems("train", document) == []


def test_train_warns_before_a_divergence_too_and_exits_1():
    result = invoke("train", "samples/quadratic.csv", "--model", QUADRATIC_MODEL,
                    "--lr", "0.005", "--epochs", "1000", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["diverged"]["epoch"] == 543
    warning = TRAIN_WARNING.format(count=541, after="4.52e+306", last=542)
    assert document["warnings"] == [warning]
    assert result.stderr.splitlines()[0] == f"Warning: {warning}"
    assert result.stderr.splitlines()[1].startswith("Error: training diverged at epoch 543")


def test_train_growth_names_the_first_update_of_its_epoch():
    # Epoch e's loss is the mean over its updates, each taken before the update: growth from
    # epoch 3's loss on was made by epoch 3's updates, the first of which is update 7 with 3
    # updates an epoch.
    warning = train_growth_warning([5, 4, 3, 6, 12, 24, 48, 96], 3, 0.1)
    assert warning == (
        "the loss per epoch grew 5 times in a row, from 3 (epoch 3) to 96 (epoch 8), each "
        "time by more than 1%: the growth began with update 7, and the run is diverging; "
        "try a smaller lr (e.g. 0.01)")


def test_train_api_full_batch_past_the_curvature_warns():
    outcome = fit(QUADRATIC_MODEL, "samples/quadratic.csv", lr=0.05, epochs=20,
                  batch_size="full")
    assert len(outcome.warnings) == 1
    assert "(epoch 1)" in outcome.warnings[0]
    assert "the growth began with update 1," in outcome.warnings[0]


def test_train_warning_in_chinese():
    result = invoke("train", "samples/quadratic.csv", "--model", QUADRATIC_MODEL,
                    "--lr", "0.005", env={"BACKTRACE_LANG": "zh"})
    assert result.exit_code == 0
    assert result.stderr == (
        "警告：每轮损失连续增长了 99 次，从 387（第 1 轮）增至 1.21e+58（第 100 轮），每次增幅都"
        "超过 1%：增长始于第 1 次更新，训练正在发散；请尝试更小的 lr（例如 0.0005）\n")


# ----------------------------------------------------------------------------- simplify
def test_simplify_of_a_program_undefined_at_zero_takes_b_at_the_given_input():
    document = run_json("simplify", "exp(log(x))", "x=2")
    assert document["affine"] is True
    assert document["W"] == {"symbolic": "1", "value": 1.0}
    assert document["b"] == {"symbolic": "0", "value": 0.0}
    assert document["residual"] is None
    assert document["note"].endswith(
        "; b = f(x) - W x at the given x, not f(0): the program is undefined at x = 0 "
        "(log(0) is undefined at node v2: log(x))")


def test_simplify_text_says_where_b_was_taken():
    result = invoke("simplify", "x*x/x + 1", "x=3")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "  b = 1 = 1   (scalar)" in lines
    assert not any(line.startswith("Check:") for line in lines)
    assert lines[-1].endswith("b = f(x) - W x at the given x, not f(0): the program is "
                              "undefined at x = 0 (0/0 is undefined at node v3: x*x/x)")


def test_simplify_defined_at_zero_is_unchanged():
    document = run_json("simplify", "2*x + 3", "x=5")
    assert document["b"]["value"] == 3.0 and document["residual"] == 0.0


def test_simplify_undefined_at_the_given_input_is_still_bad_input():
    result = invoke("simplify", "exp(log(x))", "x=-2")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: log(-2) is undefined at node v2: log(x)")
