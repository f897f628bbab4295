"""``backtrace minimize``: train's update rules and Newton's method over an expression's tape,
started from the bindings. Exact numbers, exit codes and messages."""

from __future__ import annotations

import json
import math

import pytest
from helpers import invoke, run_json

from backtrace_cli import minimize
from backtrace_cli.train import newton, optimizers

ROSENBROCK = "100*(x1 - x0**2)**2 + (1 - x0)**2"
DEZERO_NEWTON = [2.0, 1.4545454545454546, 1.1510467893775467, 1.0253259289766978,
                 1.0009084519430513, 1.0000012353089454, 1.000000000002289, 1.0]


# ----------------------------------------------------------------------------- gd
def test_rosenbrock_gd_matches_a_plain_python_loop_over_10000_steps():
    # DeZero step 28: the same update written by hand, x <- x - lr * (its derivative).
    result = minimize(ROSENBROCK, {"x0": 0.0, "x1": 2.0}, lr=0.001, steps=10_000)
    history = result.outcome.result.history
    assert len(history) == 10_001
    x0, x1 = 0.0, 2.0
    for point in history[1:]:
        g0 = -400 * x0 * (x1 - x0 ** 2) - 2 * (1 - x0)
        g1 = 200 * (x1 - x0 ** 2)
        x0, x1 = x0 - 0.001 * g0, x1 - 0.001 * g1
        assert point.params["x0"] == pytest.approx(x0, rel=1e-12, abs=0)
        assert point.params["x1"] == pytest.approx(x1, rel=1e-12, abs=0)
    # DeZero prints the parameters before each update: its last line is after 9,999.
    assert history[9_999].params["x0"] == pytest.approx(0.99449622, abs=5e-9)
    assert history[9_999].params["x1"] == pytest.approx(0.98900063, abs=5e-9)
    assert result.params == {"x1": 0.9890050527419593, "x0": 0.9944984367782456}


def test_gd_exact_numbers_and_the_json_document():
    document = run_json("minimize", "x**2 + (y - 1)**2", "x=3", "y=0", "--lr", "0.25",
                        "--steps", "3")
    assert document["method"] == "gd"
    assert document["settings"] == {"method": "gd", "lr": 0.25, "steps": 3}
    assert document["variables"] == ["x", "y"]
    assert document["initial"] == {"x": 3.0, "y": 0.0}
    assert document["params"] == {"x": 0.375, "y": 0.875}
    assert document["history"] == [
        {"step": 0, "value": 10.0, "params": {"x": 3.0, "y": 0.0}},
        {"step": 1, "value": 2.5, "params": {"x": 1.5, "y": 0.5}},
        {"step": 2, "value": 0.625, "params": {"x": 0.75, "y": 0.75}},
        {"step": 3, "value": 0.15625, "params": {"x": 0.375, "y": 0.875}},
    ]
    assert document["initial_value"] == 10.0 and document["value"] == 0.15625
    assert document["steps"] == 3
    assert document["diverged"] is None and document["blocked"] is None
    assert document["interrupted"] is False
    assert "trace" not in document and "explain" not in document


def test_the_default_lr_is_trains():
    document = run_json("minimize", "x**2", "x=1", "--steps", "1")
    assert document["settings"]["lr"] == 0.01
    assert document["params"] == {"x": 1 - 0.01 * 2.0}


def test_the_steps_table_and_the_parameters():
    result = invoke("minimize", "x**2 + (y - 1)**2", "x=3", "y=0", "--lr", "0.25",
                    "--steps", "3")
    assert result.exit_code == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[:4] == ["Minimising z = x**2 + (y - 1)**2 from x=3, y=0",
                         "method gd, lr 0.25, 3 steps", "", "Steps"]
    assert "│    3 │ 0.15625 │ 0.375 │ 0.875 │" in result.stdout
    assert "│ x    │       3 │ 0.375 │" in result.stdout
    assert "At the start z = 10; after 3 steps z = 0.15625" in lines
    assert result.stderr == ""


def test_a_long_run_shows_a_sample_of_steps_as_train_shows_epochs():
    result = invoke("minimize", "x**2", "x=1", "--steps", "1000")
    assert result.exit_code == 0
    assert "12 of 1001 steps shown (--format json lists all)" in result.stdout
    table = result.stdout.split("Steps\n", 1)[1].split("Parameters", 1)[0]
    steps = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]
    assert steps == ["0", "1", "100", "200", "300", "400", "500", "600", "700", "800", "900",
                     "1000"]


def test_array_parameters():
    document = run_json("minimize", "sum((W - [[1, 2], [3, 4]])**2)", "W=[[0, 0], [0, 0]]",
                        "--lr", "0.25", "--steps", "2")
    assert document["params"] == {"W": [[0.75, 1.5], [2.25, 3.0]]}
    assert document["history"][1]["params"] == {"W": [[0.5, 1.0], [1.5, 2.0]]}
    assert document["value"] == 1.875


# ----------------------------------------------------------------------------- momentum, adam
def test_momentum_is_trains_rule():
    document = run_json("minimize", "(x - 3)**2", "x=0", "--method", "momentum", "--lr",
                        "0.1", "--momentum", "0.5", "--steps", "3")
    x, buffer = 0.0, None
    for _ in range(3):  # torch.optim.SGD with momentum, as train documents it
        grad = 2 * (x - 3)
        buffer = grad if buffer is None else buffer * 0.5 + grad
        x = x - 0.1 * buffer
    assert document["params"] == {"x": x}
    assert document["settings"] == {"method": "momentum", "lr": 0.1, "steps": 3,
                                    "momentum": 0.5}


def test_adam_is_trains_rule():
    document = run_json("minimize", "(x - 3)**2", "x=0", "--method", "adam", "--lr", "0.1",
                        "--steps", "3")
    x, first, second = 0.0, 0.0, 0.0
    for step in range(1, 4):  # torch.optim.Adam's single-tensor loop
        grad = 2 * (x - 3)
        first = first + (grad - first) * (1 - 0.9)
        second = second * 0.999 + grad * grad * (1 - 0.999)
        denominator = math.sqrt(second) / math.sqrt(1 - 0.999 ** step) + 1e-8
        x = x - (0.1 / (1 - 0.9 ** step)) * (first / denominator)
    assert document["params"]["x"] == pytest.approx(x, rel=1e-15)
    assert document["settings"] == {"method": "adam", "lr": 0.1, "steps": 3, "beta1": 0.9,
                                    "beta2": 0.999, "eps": 1e-8}


def test_the_rules_come_from_trains_registry(monkeypatch):
    calls = []
    rule = optimizers.OPTIMIZERS["sgd"]

    def spy(state, params, grads):
        calls.append(dict(grads))
        rule.update(state, params, grads)

    monkeypatch.setitem(optimizers.OPTIMIZERS, "sgd",
                        optimizers.Rule("sgd", (), rule.init, spy, rule.description))
    result = minimize("x*x", {"x": 1.0}, steps=2, lr=0.5)
    assert calls == [{"x": 2.0}, {"x": 0.0}]
    assert result.params == {"x": 0.0}


# ----------------------------------------------------------------------------- newton
def test_newton_gives_dezeros_iterates_bit_for_bit():
    document = run_json("minimize", "x**4 - 2*x**2", "x=2", "--method", "newton",
                        "--steps", "7")
    assert [point["params"]["x"] for point in document["history"]] == DEZERO_NEWTON
    assert document["settings"] == {"method": "newton", "lr": None, "steps": 7}
    assert document["value"] == -1.0


def test_newton_one_variable_is_one_division():
    # A 1x1 system is solved by -g/h, one rounding, never by a reciprocal times g.
    for g, h in ((24.0, 44.0), (6.491359879789632, 21.388429752066116), (1.0, 3.0),
                 (0.1, 0.3), (7.0, 49.0)):
        assert newton.newton_direction([g], [[h]]).tolist() == [-(g / h)]


def test_newton_several_variables_solves_the_system():
    import numpy as np

    direction = newton.newton_direction([1.0, 2.0], [[4.0, 1.0], [1.0, 3.0]])
    assert np.allclose(np.array([[4.0, 1.0], [1.0, 3.0]]) @ direction, [-1.0, -2.0],
                       rtol=0, atol=1e-15)


def test_newton_on_rosenbrock_reaches_the_minimum():
    document = run_json("minimize", ROSENBROCK, "x0=0.5", "x1=0", "--method", "newton",
                        "--steps", "7")
    assert document["params"] == {"x1": 1.0, "x0": 1.0}
    assert document["value"] == 0.0
    assert document["history"][1]["params"] == {"x1": 0.25980392156862747,
                                                 "x0": 0.5098039215686274}


def test_newton_with_an_array_takes_the_hessian_element_by_element():
    document = run_json("minimize", "sum((W - [[1, 2], [3, 4]])**2) + sum(W*W)",
                        "W=[[0, 0], [0, 0]]", "--method", "newton", "--steps", "1",
                        "--trace")
    assert document["params"] == {"W": [[0.5, 1.0], [1.5, 2.0]]}
    step = document["trace"][0]
    assert step["hessian"] == [[4.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0],
                               [0.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 4.0]]
    assert step["direction"] == [0.5, 1.0, 1.5, 2.0]


def test_an_indefinite_hessian_stops_newton_with_exit_1():
    result = invoke("minimize", ROSENBROCK, "x0=0", "x1=2", "--method", "newton",
                    "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["steps"] == 0 and document["params"] == {"x1": 2.0, "x0": 0.0}
    assert document["blocked"] == {
        "step": 1,
        "reason": "newton cannot take step 1: the Hessian is indefinite (eigenvalues -798, "
                  "200), so the Newton step heads for a saddle point, not a minimum",
        "hint": "use method gd (or momentum, adam), or start where the Hessian is positive "
                "definite, nearer a minimum",
        "eigenvalues": [-798.0, 200.0],
    }
    assert result.stderr == (
        "Error: newton cannot take step 1: the Hessian is indefinite (eigenvalues -798, 200), "
        "so the Newton step heads for a saddle point, not a minimum\n"
        "  the parameters then: x1=2.0, x0=0.0\n"
        "  hint: use --method gd (or momentum, adam), or start where the Hessian is positive "
        "definite, nearer a minimum\n")


def test_a_concave_point_stops_newton_after_the_finished_steps():
    # x**4 - 2*x**2 has f'' = 12x² - 4 < 0 for |x| < 0.577: a maximum lies that way.
    result = invoke("minimize", "x**4 - 2*x**2", "x=0.5", "--method", "newton")
    assert result.exit_code == 1
    assert "Steps" in result.stdout and "│    0 │" in result.stdout
    assert ("Error: newton cannot take step 1: the second derivative is negative (-1), so the "
            "Newton step heads for a maximum, not a minimum") in result.stderr
    assert "hint: use --method gd" in result.stderr


def test_a_singular_hessian_stops_newton():
    result = invoke("minimize", "x + y**2", "x=1", "y=1", "--method", "newton",
                    "--format", "json")
    assert result.exit_code == 1
    blocked = json.loads(result.stdout)["blocked"]
    assert blocked["reason"].startswith("newton cannot take step 1: the Hessian is singular "
                                        "(eigenvalues 0, 2), so the Newton step H·d = −g has "
                                        "no unique solution")
    assert blocked["eigenvalues"] == [0.0, 2.0]


def test_a_later_step_that_is_blocked_keeps_the_steps_before_it():
    # cos from x = -1.9: the first step lands at -4.83, where cos'' = -cos < 0.
    result = invoke("minimize", "cos(x)", "x=-1.9", "--method", "newton", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["history"] == [
        {"step": 0, "value": -0.32328956686350335, "params": {"x": -1.9}},
        {"step": 1, "value": 0.11445714301071014, "params": {"x": -4.827097514677773}},
    ]
    assert document["params"] == {"x": -4.827097514677773}
    assert document["blocked"]["step"] == 2
    assert document["blocked"]["reason"] == (
        "newton cannot take step 2: the second derivative is negative (-0.114457), so the "
        "Newton step heads for a maximum, not a minimum")


def test_a_stationary_point_takes_the_zero_step():
    # f'(0) = 0: d = 0 solves H d = -g whatever H is (here f'' = -4).
    stopped = minimize("x**4 - 2*x**2", {"x": 0.0}, method="newton", steps=3)
    assert stopped.blocked is None and not stopped.diverged
    assert stopped.params == {"x": 0.0}
    assert [point["params"]["x"] for point in stopped.history] == [0.0, 0.0, 0.0, 0.0]


def test_definiteness_in_words():
    assert newton.definiteness([1.0, 2.0]) == "positive definite"
    assert newton.definiteness([-1.0, -2.0]) == "negative definite"
    assert newton.definiteness([-1.0, 2.0]) == "indefinite"
    assert newton.definiteness([0.0, 2.0]) == "singular"
    assert newton.definiteness([1e-17, 2.0]) == "singular"
    assert newton.definiteness([0.0]) == "singular"
