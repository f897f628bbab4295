"""A block of rows on arrays is swept by a function generated from the tape
(engine/compiled_blocks.py): the same sums as the reference sweeps, bit for bit, and the
reference sweeps' errors when a value is not finite."""

from __future__ import annotations

import numpy as np
import pytest

from backtrace_cli.engine.compiled_blocks import block_sweep_source
from backtrace_cli.errors import EvaluationError
from backtrace_cli.train.loop import Settings, _Run, build_problem, train

MODELS = [
    ("w*x + b", "mse"),
    ("w*x + b", "mae"),
    ("sigmoid(w*x + b)", "bce"),
    ("w*x*x + v*sin(x) - b/(1 + x*x)", "mse"),
    ("tanh(w*x) * exp(-b*x) + w**3", "(y_hat - y)**2 + 0.1*abs(y_hat)"),
    ("max(w*x, b) + relu(x - w) + abs(b*x)", "mse"),
]


def data(rows: int = 3000):
    generator = np.random.default_rng(5)
    x = generator.uniform(-2, 2, rows)
    y = (x > 0.3).astype(float) if rows else x
    return {"x": x, "y": np.where(generator.uniform(size=rows) < 0.5, y, 0.7)}


def run_of(model: str, loss: str, dtype: str):
    problem = build_problem(model, loss, ("x", "y"), "y")
    initial = {name: 0.5 for name in problem.params}
    return _Run(problem, data(), initial, Settings(lr=0.05, epochs=1, batch_size=None,
                                                   dtype=dtype), None)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("model", "loss"), MODELS)
def test_a_compiled_block_is_the_reference_sweep_bit_for_bit(model, loss, dtype):
    run = run_of(model, loss, dtype)
    assert run.block_sweep is not None
    bindings = {name: np.asarray(values, dtype=dtype) for name, values in data().items()}
    bindings.update(run.params)
    compiled_loss, compiled_grads = run._block_sweep(bindings)
    run.block_sweep = None  # the reference sweeps
    reference_loss, reference_grads = run._block_sweep(bindings)
    assert compiled_loss.dtype == reference_loss.dtype == np.dtype(dtype)
    assert compiled_loss.tobytes() == reference_loss.tobytes()
    assert compiled_grads.keys() == reference_grads.keys()
    for name, value in reference_grads.items():
        assert np.asarray(compiled_grads[name]).tobytes() == np.asarray(value).tobytes(), name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_with_compiled_blocks_is_training_without(dtype, monkeypatch):
    problem = build_problem("w*x*x + v*sin(x) - b", "mse", ("x", "y"), "y")
    settings = Settings(lr=0.05, epochs=4, batch_size=700, dtype=dtype)
    initial = {"w": 0.5, "v": -0.25, "b": 1.0}
    compiled = train(problem, data(), initial, settings)
    from backtrace_cli.engine import compiled_blocks

    monkeypatch.setattr(compiled_blocks, "block_sweep_source", lambda *args: None)
    reference = train(problem, data(), initial, settings)
    assert compiled.params == reference.params
    assert [r.loss for r in compiled.history] == [r.loss for r in reference.history]


def test_a_hidden_infinity_is_named_by_the_reference_sweep():
    """exp(x*1000) overflows to inf and min(0, inf) is 0, with no gradient through it: the
    sums stay finite, yet the node that overflowed is reported as the reference sweep does."""
    problem = build_problem("w*x + min(0, exp(x*1000))", "mse", ("x", "y"), "y")
    source = block_sweep_source(problem.tape, problem.data_names, problem.params)
    assert "finite = finite and isfinite(" in source
    with pytest.raises(EvaluationError) as caught:
        train(problem, {"x": np.array([1.0, 800.0]), "y": np.array([0.0, 0.0])}, {"w": 1.0},
              Settings(lr=0.01, epochs=1, batch_size=None))
    assert "exp" in caught.value.message


def test_the_source_lets_go_of_each_array_after_its_last_use():
    problem = build_problem("w*x + b", "mse", ("x", "y"), "y")
    source = block_sweep_source(problem.tape, problem.data_names, problem.params)
    assert source.splitlines() == [
        "def sweep(d0, d1, p0, p1):",
        "    finite = True",
        "    v2 = p0 * d0",
        "    v4 = v2 + p1",
        "    del v2",
        "    v6 = v4 - d1",
        "    del v4",
        "    v8 = m.pow(v6, c7)",
        "    loss_sum = np.sum(v8, dtype=dtype)",
        "    del v8",
        "    g6 = _product(one, m.where(c7 == 0, 0.0, lambda: c7 * m.pow(v6, c7 - 1)))",
        "    del v6",
        "    g4 = g6",
        "    del g6",
        "    g2 = g4",
        "    g3 = g4",
        "    del g4",
        "    g0 = _product(g2, d0)",
        "    del g2",
        "    sums = (np.sum(g0, dtype=dtype), np.sum(g3, dtype=dtype), )",
        "    del g0, g3",
        "    return loss_sum, sums, finite",
    ]


def test_array_models_keep_the_reference_sweeps():
    problem = build_problem("sum(W @ x)", "mse", ("x", "y"), "y")
    assert block_sweep_source(problem.tape, problem.data_names, problem.params) is None
