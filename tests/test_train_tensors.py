"""`train` with array parameters: the batched sweep (a batch axis in front of every value)
against the unbatched array engine of `grad`, row by row, and against PyTorch; parameter
specs; the XOR sample that a linear model cannot fit and a two-layer network can.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import helpers
import numpy as np
import pytest

from backtrace_cli.explain.gradient import explain
from backtrace_cli.train.loop import Settings, build_problem, predict, train

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
XOR = str(SAMPLES / "xor.csv")
NETWORK = "W2 @ sigmoid(W1 @ [x1, x2] + b1) + b2"
LINEAR = "w @ [x1, x2] + b"
TABLE = {"x1": [0.5, -1.0, 2.0, 0.25], "x2": [1.0, 0.5, -0.5, -2.0], "y": [1.0, 0.0, 1.0, 0.0]}
START = {
    "W1": np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]),
    "b1": np.array([0.1, 0.2, 0.3]),
    "W2": np.array([1.0, -1.0, 0.5]),
    "b2": 0.25,
}


def columns_of(table):
    return {name: np.asarray(values, dtype=np.float64) for name, values in table.items()}


def run(model=NETWORK, start=None, **options):
    problem = build_problem(model, "mse", tuple(TABLE), "y")
    start = dict(START if start is None else start)
    return problem, train(problem, columns_of(TABLE), start, Settings(**options))


def by_hand(problem, start, rows, lr, batch):
    """SGD with each row's gradient from `grad`'s (unbatched) array engine, batch means."""
    params = {name: np.array(value, dtype=float) for name, value in start.items()}
    for first in range(0, len(rows), batch):
        grads = {name: np.zeros_like(value) for name, value in params.items()}
        chunk = rows[first:first + batch]
        for row in chunk:
            bindings = {name: value for name, value in {**row, **params}.items()
                        if name in problem.tape.variable_nodes}
            explanation = explain(problem.tape, bindings, 1.0, problem.params, check=False)
            for name in params:
                grads[name] = grads[name] + explanation.gradients[name]
        for name in params:
            params[name] = params[name] - lr * (grads[name] / len(chunk))
    return params


ROWS = [{"x1": a, "x2": b, "y": c} for a, b, c in zip(*TABLE.values())]


@pytest.mark.parametrize("batch", [1, 2, None])
def test_batched_sweep_matches_the_unbatched_engine_row_by_row(batch):
    problem, result = run(lr=0.1, epochs=1, batch_size=batch)
    expected = by_hand(problem, START, ROWS, 0.1, batch or len(ROWS))
    for name, value in expected.items():
        assert np.asarray(result.params[name]) == pytest.approx(value, rel=1e-13, abs=1e-15)
    assert np.shape(result.params["W1"]) == (3, 2)


@pytest.mark.parametrize("model,start", [
    ("sum(x1 * v) + b", {"v": np.array([1.0, -2.0, 0.5]), "b": 0.0}),  # row scalar * vector
    ("v @ [x1, x2 * x2, 1]", {"v": np.array([0.5, -0.25, 1.0])}),  # a constant in a literal
    ("mean(transpose(M) @ [x1, x2]) * c", {"M": np.array([[1.0, 2.0], [3.0, -4.0]]), "c": 0.5}),
    ("sum(u * transpose([[x1, x2]]) * v)", {"u": np.array([[1.0], [2.0]]),
                                            "v": np.array([0.5, -1.0, 2.0])}),
])
def test_axes_line_up_under_the_batch_axis(model, start):
    problem, result = run(model, start, lr=0.05, epochs=2, batch_size=3)
    # Two epochs of batches of 3 (the last batch has 1 row), by hand:
    params = {name: np.array(value, dtype=float) for name, value in start.items()}
    for _ in range(2):
        params = by_hand(problem, params, ROWS, 0.05, 3)
    for name, value in params.items():
        assert np.asarray(result.params[name]) == pytest.approx(value, rel=1e-12, abs=1e-15)


def test_torch_float64_full_batch_agrees():
    torch = pytest.importorskip("torch")
    problem, result = run(lr=0.1, epochs=3, batch_size=None)
    t = {name: torch.tensor(np.asarray(value, dtype=float), requires_grad=True)
         for name, value in START.items()}
    x = torch.tensor(np.stack([TABLE["x1"], TABLE["x2"]], axis=1))
    y = torch.tensor(TABLE["y"])
    optimizer = torch.optim.SGD(list(t.values()), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        hidden = torch.sigmoid(x @ t["W1"].T + t["b1"])
        loss = ((hidden @ t["W2"] + t["b2"] - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    for name, tensor in t.items():
        assert np.asarray(result.params[name]) == pytest.approx(tensor.detach().numpy(),
                                                                rel=1e-12, abs=1e-14), name


def test_predict_with_array_parameters():
    problem, _ = run(epochs=1)
    value = predict(problem, START, {"x1": 1.0, "x2": 2.0})
    w1, b1, w2, b2 = START["W1"], START["b1"], START["W2"], START["b2"]
    expected = w2 @ (1 / (1 + np.exp(-(w1 @ np.array([1.0, 2.0]) + b1)))) + b2
    assert value == pytest.approx(expected, rel=1e-14)


invoke = functools.partial(helpers.invoke, "train")
train_json = functools.partial(helpers.run_json, "train")


NETWORK_PARAMS = ("--param", "W1=randn:4x2", "--param", "b1=zeros:4", "--param", "W2=randn:4",
                  "--param", "b2=0")


def test_a_linear_model_plateaus_on_xor_and_the_network_fits_it():
    common = ("--batch-size", "full", "--optimizer", "adam", "--lr", "0.1", "--epochs", "400")
    linear = train_json(XOR, "--model", LINEAR, "--param", "w=zeros:2", "--param", "b=0",
                        *common)
    network = train_json(XOR, "--model", NETWORK, *NETWORK_PARAMS, *common)
    assert linear["history"][-1]["loss"] > 0.24  # no line separates XOR
    assert abs(linear["history"][-1]["loss"] - linear["history"][199]["loss"]) < 1e-6
    assert network["history"][-1]["loss"] < 0.05
    assert np.shape(network["params"]["W1"]) == (4, 2)
    assert network["initial"]["b1"] == [0.0, 0.0, 0.0, 0.0]


def test_randn_is_seeded():
    first = train_json(XOR, "--model", NETWORK, *NETWORK_PARAMS, "--epochs", "1", "--seed", "3")
    again = train_json(XOR, "--model", NETWORK, *NETWORK_PARAMS, "--epochs", "1", "--seed", "3")
    other = train_json(XOR, "--model", NETWORK, *NETWORK_PARAMS, "--epochs", "1", "--seed", "4")
    assert first["initial"] == again["initial"] != other["initial"]
    expected = np.random.default_rng(3).standard_normal((4, 2))
    assert first["initial"]["W1"] == expected.tolist()


def test_explicit_nested_lists_and_save_then_init(tmp_path):
    saved = tmp_path / "params.json"
    first = train_json(XOR, "--model", LINEAR, "--param", "w=[0.5, -0.5]", "--epochs", "2",
                       "--save", str(saved))
    assert first["initial"]["w"] == [0.5, -0.5]
    document = json.loads(saved.read_text())
    assert document["params"]["w"] == first["params"]["w"]
    resumed = train_json(XOR, "--model", LINEAR, "--init", str(saved), "--epochs", "1")
    assert resumed["initial"]["w"] == first["params"]["w"]


def test_float32_and_trace_and_explain_step_with_arrays():
    document = train_json(XOR, "--model", NETWORK, *NETWORK_PARAMS, "--epochs", "1",
                          "--dtype", "float32", "--trace", "--trace-limit", "2")
    assert np.shape(document["trace"][0]["gradients"]["W1"]) == (4, 2)
    result = invoke(XOR, "--model", NETWORK, *NETWORK_PARAMS, "--epochs", "1",
                    "--explain-step", "2")
    assert result.exit_code == 0, result.stderr
    assert "upstream ⊗" in result.stdout


@pytest.mark.parametrize("args,fragment", [
    (("--model", "W @ [x1, x2]", "--param", "W=ones:2x2"), "y_hat must be one number"),
    (("--model", LINEAR, "--param", "w=randn:2y"), "'2y' is not a shape"),
    (("--model", LINEAR, "--param", "w=zeros:0"), "is not a shape"),
    (("--model", LINEAR, "--param", "w=[[1], [2, 3]]"), "ragged"),
    (("--model", LINEAR, "--param", "w=ones:3"), "inner sizes to match: 3 @ 2"),
])
def test_bad_array_parameters_exit_2(args, fragment):
    result = invoke(XOR, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr
