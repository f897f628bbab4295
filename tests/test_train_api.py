"""The training core without the CLI: settings that validate themselves, the optimizer
registry, ``train.run.fit`` (what the CLI and the Python API both call), the epoch sample,
the warnings of a run that finished but looks wrong, and simplify's validated timeout."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from backtrace_cli.checks.timeout import Timeout
from backtrace_cli.cli.main import main
from backtrace_cli.errors import UsageError
from backtrace_cli.report.train import epoch_sample
from backtrace_cli.train.advice import loss_warnings
from backtrace_cli.train.optimizers import OPTIMIZERS
from backtrace_cli.train.run import fit
from backtrace_cli.train.settings import Settings, parse_batch_size


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"lr": math.nan}, "lr", "lr must be a finite number above 0, not nan"),
        ({"lr": math.inf}, "lr", "lr must be a finite number above 0, not inf"),
        ({"lr": -0.1}, "lr", "lr must be a finite number above 0, not -0.1"),
        ({"epochs": 0}, "epochs", "epochs must be between 1 and 10,000,000, not 0"),
        ({"batch_size": 0}, "batch_size", "batch_size must be at least 1, not 0"),
        ({"momentum": 1.0}, "momentum", "momentum must be at least 0 and below 1, not 1"),
        ({"beta2": math.nan}, "beta2", "beta2 must be at least 0 and below 1, not nan"),
        ({"eps": 0.0}, "eps", "eps must be a finite number above 0, not 0"),
        ({"optimizer": "rmsprop"}, "optimizer",
         "optimizer must be one of sgd, momentum, adam, not 'rmsprop'"),
        ({"dtype": "float16"}, "dtype", "dtype must be one of float64, float32, not 'float16'"),
        ({"seed": -1}, "seed", "seed must be a whole number >= 0, not -1"),
    ],
)
def test_settings_refuse_bad_values_naming_the_field(changes, field, message):
    with pytest.raises(UsageError) as caught:
        Settings(**changes)
    assert caught.value.field == field
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lr", "nan"), "Error: --lr must be a finite number above 0, not nan\n"),
        (("--beta1", "inf"), "Error: --beta1 must be at least 0 and below 1, not inf\n"),
        (("--batch-size", "0"), "Error: --batch-size must be at least 1, not 0\n"),
        (("--batch-size", "two"),
         "Error: --batch-size: 'two' is not a whole number or 'full'\n"),
    ],
)
def test_the_cli_says_the_same_with_the_flag(args, message):
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message


def test_batch_size_text():
    assert parse_batch_size("full") is None
    assert parse_batch_size(" FULL ") is None
    assert parse_batch_size("32") == 32


def test_the_optimizer_registry_names_its_hyper_parameters():
    assert list(OPTIMIZERS) == ["sgd", "momentum", "adam"]
    assert OPTIMIZERS["sgd"].hyper == ()
    assert OPTIMIZERS["momentum"].hyper == ("momentum",)
    assert OPTIMIZERS["adam"].hyper == ("beta1", "beta2", "eps")


def test_fit_reproduces_the_lecture():
    outcome = fit("x*w", None, Settings())
    assert outcome.result.params == {"w": 1.9999999999999236}
    assert outcome.predictions_in == [{"x": 4.0}]
    assert outcome.before == [4.0]
    assert outcome.after == [7.9999999999996945]
    assert outcome.planned_updates == 300
    assert outcome.warnings == []


def test_fit_in_float32_gives_the_course_figure():
    outcome = fit("x*w", None, Settings(dtype="float32"))
    assert outcome.after == [7.999998569488525]


def test_fit_takes_start_values_and_recipes():
    outcome = fit("x*w", None, Settings(epochs=1), params={"w": 0.5})
    assert outcome.result.initial == {"w": 0.5}
    outcome = fit("sum(x*w)", None, Settings(epochs=1), params={"w": "zeros:2"}, predict=[])
    assert outcome.result.initial["w"].tolist() == [0.0, 0.0]
    assert outcome.predictions_in == []


def test_fit_errors_name_fields_not_flags():
    with pytest.raises(UsageError) as caught:
        fit("x*w", None, Settings(), params={"v": 1.0})
    assert caught.value.field == "param"
    assert caught.value.message == "param: the model has no parameter 'v' (its parameters: w)"
    with pytest.raises(UsageError) as caught:
        fit("x*w", None, Settings(epochs=1), explain_step=4)
    assert caught.value.field == "explain_step"
    assert caught.value.message.startswith("explain_step 4: training makes only 3 updates")


def test_fit_traces_and_writes_the_update_out():
    outcome = fit("x*w", None, Settings(epochs=1), trace=True)
    first = outcome.traced[0]
    assert first.gradients == {"w": -2.0}
    assert first.before == {"w": 1.0}
    assert first.after == {"w": 1.02}


@pytest.mark.parametrize(
    ("count", "epochs"),
    [
        (7, list(range(1, 8))),
        (20, list(range(1, 21))),
        (100, [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
        (101, [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 101]),
        (500, [1, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500]),
        (37, [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 37]),
    ],
)
def test_the_epoch_sample_is_evenly_spaced_and_ends_at_the_last(count, epochs):
    assert [i + 1 for i in epoch_sample(count)] == epochs


def test_a_growing_loss_is_warned_about():
    assert loss_warnings([18.5, 5.9e23, 2.0e46]) == [
        "the loss grew from 18.5 (epoch 1) to 2e+46 (epoch 3): the learning rate (lr) is "
        "likely too large; try one 10 or 100 times smaller (the final loss is 2e+46)"
    ]
    assert loss_warnings([18.5, 100.0, 2.0]) == []
    assert loss_warnings([0.0, 5.0]) == []
    assert loss_warnings([1.0]) == []


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0.0, 1e9, "5"])
def test_the_timeout_setting_validates_itself(value):
    with pytest.raises(UsageError) as caught:
        Timeout(value)
    assert caught.value.field == "timeout"
    assert caught.value.message.startswith("timeout must be a finite number of seconds")
    assert Timeout(2.5).seconds == 2.5


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0.01"])
def test_simplify_refuses_a_bad_timeout_without_a_traceback(value):
    result = CliRunner().invoke(main, ["simplify", "w*x", "w=2", "x=1", "--timeout", value])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "Error: --timeout must be a finite number of seconds from 0.1 to 86,400, not ")


def test_simplify_json_still_comes_from_the_report():
    result = CliRunner().invoke(main, ["simplify", "w*x + b", "w=2", "b=1", "x=3",
                                       "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["affine"] is True
    assert document["W"]["value"] == 2.0 and document["b"]["value"] == 1.0
