"""The training core: build_problem, train, predict and the optimizers, with exact figures.

Every figure the `train` issue names is pinned here bit for bit, and every other path
(mini-batch, shuffle, the losses) is checked against a hand-written loop that does the
engine's operations in the engine's order, so an equality is exact, not approximate.
The PyTorch comparisons skip when torch is not installed (it is not a dependency).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_within_ulps
from hypothesis import given
from hypothesis import strategies as st

from backtrace_cli.errors import BacktraceError, DataError, EvaluationError, UsageError
from backtrace_cli.train.loop import Settings, build_problem, predict, train

LECTURE = {"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]}
HOMEWORK = "w1*x*x + w2*x + b"


def columns_of(table: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {name: np.asarray(values, dtype=np.float64) for name, values in table.items()}


def fit(model="x*w", table=None, loss="mse", target="y", initial=None, **options):
    """Train ``model`` on ``table`` (default: the lecture) and return (problem, result)."""
    table = LECTURE if table is None else table
    problem = build_problem(model, loss, tuple(table), target)
    start = {name: 1.0 for name in problem.params}
    start.update(initial or {})
    result = train(problem, columns_of(table), start, Settings(**options))
    return problem, result


def traced(model="x*w", table=None, loss="mse", **options):
    """Like ``fit``, and also every update that ``on_update`` reported."""
    table = LECTURE if table is None else table
    problem = build_problem(model, loss, tuple(table), "y")
    updates = []
    options.setdefault("trace_limit", 10**9)
    result = train(problem, columns_of(table), {n: 1.0 for n in problem.params},
                   Settings(**options), on_update=updates.append)
    return result, updates


# ----------------------------------------------------------------------------- the problem
def test_build_problem_splits_inputs_target_and_params():
    problem = build_problem("wa*a + wb*b + c", "mse", ("a", "b", "label"), "label")
    assert problem.inputs == ("a", "b")
    assert problem.target == "label"
    assert problem.params == ("wa", "wb", "c")


def test_build_problem_lecture_defaults():
    problem = build_problem("x*w", "mse", ("x", "y"), "y")
    assert problem.inputs == ("x",)
    assert problem.params == ("w",)


def test_target_not_in_columns_lists_them_with_did_you_mean():
    with pytest.raises(DataError) as caught:
        build_problem("x*w", "mse", ("x", "label"), "lable")
    text = caught.value.render()
    assert "'lable'" in text and "x, label" in text
    assert "did you mean 'label'?" in text


def test_target_differing_only_in_case_gets_a_hint():
    with pytest.raises(DataError) as caught:
        build_problem("x*w", "mse", ("x", "y"), "Y")
    assert "did you mean 'y'?" in caught.value.render()


def test_model_using_no_column_gets_one_clean_did_you_mean():
    with pytest.raises(DataError) as caught:
        build_problem("xx*w", "mse", ("x", "y"), "y")
    text = caught.value.render()
    assert "uses no column" in text and "x, y" in text
    assert "did you mean 'x'?" in text
    assert text.count("did you mean") == 1


def test_model_may_not_read_the_target_column():
    # It would fit the label to itself, and predict() has no label to give it.
    with pytest.raises(UsageError) as caught:
        build_problem("x*w + y", "mse", ("x", "y"), "y")
    assert "target" in caught.value.render() and "'y'" in caught.value.render()


def test_column_named_like_a_constant_cannot_be_read():
    # in an expression `e` is 2.718...: the model would silently ignore the column
    with pytest.raises(UsageError, match="constant"):
        build_problem("w*x + v*e", "mse", ("x", "e", "y"), "y")
    assert build_problem("w*x + e", "mse", ("x", "y"), "y").params == ("w",)


@pytest.mark.parametrize("name", ["loss", "y_hat"])
def test_target_may_not_be_named_like_the_trainings_own_names(name):
    with pytest.raises(UsageError, match=name):
        build_problem("x*w", "mse", ("x", name), name)


@pytest.mark.parametrize("name", ["loss", "y_hat"])
def test_model_may_not_use_the_trainings_own_names(name):
    with pytest.raises(UsageError, match=name):
        build_problem(f"x*w + {name}", "mse", ("x", "y"), "y")


def test_loss_using_other_names_is_refused():
    with pytest.raises(UsageError, match="'w'"):
        build_problem("x*w", "(y_hat - y)**2 + w", ("x", "y"), "y")


def test_unparsable_model_raises_with_a_position():
    with pytest.raises(BacktraceError) as caught:
        build_problem("x*w +", "mse", ("x", "y"), "y")
    assert "^" in caught.value.render()


# ----------------------------------------------------------------------------- the lecture
def test_lecture_float64_figures():
    problem, result = fit()
    assert result.params == {"w": 1.9999999999999236}
    assert predict(problem, result.params, {"x": 4.0}) == 7.9999999999996945
    assert predict(problem, result.initial, {"x": 4.0}) == 4.0
    assert len(result.history) == 100
    assert result.updates == 300
    assert result.divergence is None and not result.interrupted


def test_lecture_float32_figures():
    result, updates = traced(dtype="float32")
    epoch_one = [u.gradients["w"] for u in updates if u.epoch == 1]
    assert epoch_one == [-2.0, -7.840000152587891, -16.228801727294922]
    assert result.history[0].last_loss == 7.315943717956543
    problem = build_problem("x*w", "mse", ("x", "y"), "y")
    assert predict(problem, result.params, {"x": 4.0}, "float32") == 7.999998569488525
    assert predict(problem, result.initial, {"x": 4.0}, "float32") == 4.0


def test_lecture_trace_reports_each_rows_values():
    _, updates = traced(epochs=1)
    assert [u.data for u in updates] == [{"x": 1.0, "y": 2.0}, {"x": 2.0, "y": 4.0},
                                         {"x": 3.0, "y": 6.0}]
    assert [u.rows for u in updates] == [(1,), (2,), (3,)]
    assert [u.gradients["w"] for u in updates] == [-2.0, -7.84, -16.2288]


def test_trace_limit_caps_the_reported_updates():
    result, updates = traced(trace_limit=4)
    assert [u.number for u in updates] == [1, 2, 3, 4]
    assert result.updates == 300


def test_homework_float64_and_float32():
    problem, result = fit(HOMEWORK)
    assert problem.params == ("w1", "w2", "b")
    assert predict(problem, result.params, {"x": 4.0}) == 8.544170120967518
    problem, result = fit(HOMEWORK, dtype="float32")
    assert predict(problem, result.params, {"x": 4.0}, "float32") == 8.544172286987305


def test_full_batch_figures():
    problem, result = fit(batch_size=None)
    assert result.params == {"w": 1.9999444396553017}
    assert predict(problem, result.params, {"x": 4.0}) == 7.999777758621207
    assert result.updates == 100


def test_epoch_loss_is_the_mean_of_the_rows_losses():
    _, result = fit(epochs=1)
    w = 1.0
    losses = []
    for x, y in zip(LECTURE["x"], LECTURE["y"]):
        r = x * w - y
        losses.append(r * r)
        w = w - 0.01 * ((2.0 * r) * x)
    assert result.history[0].loss == sum(losses) / 3
    assert result.history[0].last_loss == losses[-1]


# ----------------------------------------------------------------------------- hand loops
LINE = {"x": [0.5, 1.0, 1.5, 2.0, 3.0], "y": [2.1, 2.9, 4.2, 4.8, 7.1]}


def hand_line_sgd(table, epochs, lr, batch, order_of=None, dtype=np.float64):
    """Mini-batch SGD on w*x + b with mse, as the engine computes it: each row's gradient
    ((2*r)*x for w, 2*r for b, r = (w*x + b) - y), then their mean over the batch.

    The sum of a batch is NumPy's (pairwise from 8 rows on, in the batch's order), which is
    the order the engine promises on every path."""
    dtype = np.dtype(dtype)
    number = dtype.type
    xs = [number(v) for v in table["x"]]
    ys = [number(v) for v in table["y"]]
    w, b, rate = number(1.0), number(1.0), number(lr)
    rows = len(xs)
    for epoch in range(epochs):
        order = list(range(rows)) if order_of is None else list(order_of(epoch))
        for start in range(0, rows, batch):
            picked = order[start:start + batch]
            grads_w, grads_b = [], []
            for i in picked:
                r = (w * xs[i] + b) - ys[i]
                upstream = number(2.0) * r
                grads_w.append(upstream * xs[i])
                grads_b.append(upstream)
            count = number(len(picked))
            mean_w = np.sum(np.array(grads_w, dtype=dtype), dtype=dtype) / count
            mean_b = np.sum(np.array(grads_b, dtype=dtype), dtype=dtype) / count
            w, b = w - rate * mean_w, b - rate * mean_b
    return {"w": float(w), "b": float(b)}


def test_hand_loop_sums_small_batches_in_row_order():
    # Below 8 rows NumPy's sum is a plain left-to-right sum: the lecture's batch mean.
    values = np.array([0.1, 0.7, 1e16, -1e16, 0.3, 0.2, 0.9])
    total = 0.0
    for value in values:
        total += value
    assert np.sum(values) == total


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mini_batch_is_the_batch_mean_with_a_smaller_last_batch(batch, dtype):
    _, result = fit("w*x + b", LINE, epochs=7, lr=0.05, batch_size=batch, dtype=dtype)
    assert result.params == hand_line_sgd(LINE, 7, 0.05, batch, dtype=np.dtype(dtype))
    assert result.updates == 7 * math.ceil(5 / batch)


@given(
    rows=st.lists(st.tuples(st.integers(-40, 40), st.integers(-40, 40)), min_size=1,
                  max_size=20),
    batch=st.integers(1, 21),
    epochs=st.integers(1, 3),
    seed=st.one_of(st.none(), st.integers(0, 2**32)),
)
def test_any_batch_size_and_order_is_the_hand_loop(rows, batch, epochs, seed):
    table = {"x": [x / 7 for x, _ in rows], "y": [y / 3 for _, y in rows]}
    orders = None
    if seed is not None:
        generator = np.random.default_rng(seed)
        orders = [generator.permutation(len(rows)) for _ in range(epochs)]
    _, result = fit("w*x + b", table, epochs=epochs, lr=0.01, batch_size=batch,
                    shuffle=seed is not None, seed=seed or 0)
    expected = hand_line_sgd(table, epochs, 0.01, batch,
                             order_of=None if orders is None else lambda e: orders[e])
    assert result.params == expected


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [None, 8, 13])
def test_large_batches_are_numpys_sum_of_the_rows_gradients(dtype, batch):
    generator = np.random.default_rng(3)
    xs = generator.uniform(-2, 2, 40)
    table = {"x": xs.tolist(), "y": (3 * xs - 1 + generator.normal(0, 0.2, 40)).tolist()}
    _, result = fit("w*x + b", table, epochs=5, lr=0.05, batch_size=batch, dtype=dtype)
    assert result.params == hand_line_sgd(table, 5, 0.05, batch or 40, dtype=dtype)


def test_full_batch_equals_batch_size_of_all_rows():
    _, full = fit("w*x + b", LINE, epochs=9, batch_size=None)
    _, five = fit("w*x + b", LINE, epochs=9, batch_size=5)
    _, more = fit("w*x + b", LINE, epochs=9, batch_size=50)
    assert full.params == five.params == more.params
    assert full.params == hand_line_sgd(LINE, 9, 0.01, 5)


@pytest.mark.parametrize("batch", [1, 2])
def test_shuffle_follows_numpy_permutation_each_epoch(batch):
    seed = 7
    generator = np.random.default_rng(seed)
    orders = [generator.permutation(5) for _ in range(6)]
    _, result = fit("w*x + b", LINE, epochs=6, lr=0.05, batch_size=batch, shuffle=True,
                    seed=seed)
    assert result.params == hand_line_sgd(LINE, 6, 0.05, batch, order_of=lambda e: orders[e])


def test_shuffle_is_reproducible_and_the_seed_matters():
    first, first_updates = traced("w*x + b", LINE, epochs=3, shuffle=True, seed=1)
    again, again_updates = traced("w*x + b", LINE, epochs=3, shuffle=True, seed=1)
    other, other_updates = traced("w*x + b", LINE, epochs=3, shuffle=True, seed=2)
    assert first.params == again.params
    assert [u.data for u in first_updates] == [u.data for u in again_updates]
    assert [u.data for u in first_updates] != [u.data for u in other_updates]
    assert first.params != other.params
    # each epoch still visits every row once
    per_epoch = [sorted(u.rows[0] for u in first_updates if u.epoch == e) for e in (1, 2, 3)]
    assert per_epoch == [[1, 2, 3, 4, 5]] * 3


def test_shuffled_batch_reports_the_rows_it_used():
    seed = 3
    order = np.random.default_rng(seed).permutation(5)
    _, updates = traced("w*x + b", LINE, epochs=1, batch_size=2, shuffle=True, seed=seed)
    assert updates[0].rows == tuple(int(i) + 1 for i in order[:2])
    assert updates[0].count == 2


# ----------------------------------------------------------------------------- the losses
def test_loss_expression_equals_mse_bit_for_bit():
    for batch in (1, 2, None):
        _, builtin = fit(HOMEWORK, LINE, epochs=5, batch_size=batch)
        _, written = fit(HOMEWORK, LINE, loss="(y_hat - y)**2", epochs=5, batch_size=batch)
        assert builtin.params == written.params
        assert [r.loss for r in builtin.history] == [r.loss for r in written.history]


def test_mae_is_the_sign_of_the_residual():
    _, result = fit("w*x + b", LINE, loss="mae", epochs=4, lr=0.05)
    w = b = 1.0
    for _ in range(4):
        for x, y in zip(LINE["x"], LINE["y"]):
            r = (w * x + b) - y
            sign = (1.0 if r > 0 else 0.0) - (1.0 if r < 0 else 0.0)
            w, b = w - 0.05 * (sign * x), b - 0.05 * sign
    assert result.params == {"w": w, "b": b}


CLASSES = {"x": [-3.0, -1.0, -0.5, 0.5, 1.5, 3.0], "y": [0.0, 0.0, 1.0, 0.0, 1.0, 1.0]}


def test_bce_gradient_is_sigmoid_minus_label():
    result, updates = traced("sigmoid(w*x + b)", CLASSES, loss="bce", epochs=1, lr=0.1)
    w = b = 1.0
    for update, x, y in zip(updates, CLASSES["x"], CLASSES["y"]):
        z = w * x + b
        s = 1 / (1 + math.exp(-z))
        assert update.loss == pytest.approx(-(y * math.log(s) + (1 - y) * math.log(1 - s)),
                                            rel=1e-12)
        assert update.gradients["w"] == pytest.approx((s - y) * x, rel=1e-12, abs=1e-15)
        assert update.gradients["b"] == pytest.approx(s - y, rel=1e-12, abs=1e-15)
        w, b = w - 0.1 * update.gradients["w"], b - 0.1 * update.gradients["b"]
    assert result.params == {"w": w, "b": b}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [1, 2, None])
def test_bce_is_stable_at_huge_logits(dtype, batch):
    # |z| reaches 1000: sigmoid is 0 or 1 in floating point, so log(y_hat) would be -inf.
    table = {"x": [-1000.0, -2.0, 2.0, 1000.0, -1000.0, 1000.0],
             "y": [0.0, 0.0, 1.0, 1.0, 1.0, 0.0]}
    _, result = fit("sigmoid(w*x + b)", table, loss="bce", epochs=3, batch_size=batch,
                    dtype=dtype)
    assert result.divergence is None
    assert all(math.isfinite(v) for v in result.params.values())
    losses = [r.loss for r in result.history]
    assert all(math.isfinite(v) for v in losses)
    # the wrongly classified rows at |z| = 1000 cost about 1000 each, not inf
    assert max(losses) > 100


def test_bce_logit_name_never_clashes_with_the_models_names():
    problem = build_problem("sigmoid(w*x + logit + logit_)", "bce", ("x", "y"), "y")
    assert problem.params == ("w", "logit", "logit_")
    _, result = fit("sigmoid(w*x + logit + logit_)", CLASSES, loss="bce", epochs=2)
    assert all(math.isfinite(v) for v in result.params.values())


def test_bce_on_a_named_sigmoid_statement():
    _, named = fit("s = sigmoid(w*x + b)", CLASSES, loss="bce", epochs=3)
    _, plain = fit("sigmoid(w*x + b)", CLASSES, loss="bce", epochs=3)
    assert named.params == plain.params


# ----------------------------------------------------------------------------- one engine
PATH_MODELS = [
    ("x*w", "mse"),
    (HOMEWORK, "mse"),
    ("tanh(w*x) + b", "mse"),
    ("w*x + b", "mae"),
    ("relu(w*x + b) + c", "mse"),
    ("sigmoid(w*x + b)", "bce"),
    ("h = w*x; exp(0.1*h) + b", "(y_hat - y)**2/2"),
]


@pytest.mark.parametrize("model,loss", PATH_MODELS)
def test_every_path_gives_the_same_bits(model, loss):
    """Per-row training gives the same numbers traced (reference sweeps) or not (fast path),
    and a batch of one row on NumPy arrays gives the per-row engine's numbers."""
    table = CLASSES if loss == "bce" else LINE
    _, plain = fit(model, table, loss=loss, epochs=6)
    traced_result, _ = traced(model, table, loss=loss, epochs=6)
    _, explained = fit(model, table, loss=loss, epochs=6, explain_step=3)
    assert plain.params == traced_result.params == explained.params
    assert [r.loss for r in plain.history] == [r.loss for r in traced_result.history]
    assert [r.last_loss for r in plain.history] == [r.last_loss for r in explained.history]
    for i in range(len(table["x"])):
        row = {name: [values[i]] for name, values in table.items()}
        _, scalar = fit(model, row, loss=loss, epochs=3, batch_size=1)
        _, array = fit(model, row, loss=loss, epochs=3, batch_size=None)
        if _transcendental(model, loss):
            # Python's math (one row) and NumPy's loops (a batch) may differ in the last bits
            # of exp, log and tanh: the same formulas, within NUMPY_ULPS.
            assert_within_ulps(array.params, scalar.params)
        else:  # + - * / only: the same bits
            assert scalar.params == array.params


def _transcendental(model: str, loss: str) -> bool:
    """Whether training the model calls exp, log, tanh, ... (bce is a log)."""
    names = ("exp", "log", "tanh", "sigmoid", "softplus", "sin", "cos", "tan")
    return loss == "bce" or any(f"{name}(" in model for name in names)


def test_the_paths_of_arithmetic_models_are_compared_bit_for_bit():
    assert [model for model, loss in PATH_MODELS if not _transcendental(model, loss)] == [
        "x*w", HOMEWORK, "w*x + b", "relu(w*x + b) + c"]


def test_explain_step_captures_the_row_and_the_parameters_before_it():
    _, result = fit(explain_step=2)
    captured = result.captured
    assert (captured.number, captured.epoch, captured.row, captured.batch_rows) == (2, 1, 2, 1)
    assert captured.bindings == {"x": 2.0, "y": 4.0, "w": 1.02}


def test_explain_step_in_a_later_epoch():
    _, result = fit(explain_step=5, batch_size=2)
    captured = result.captured
    # two updates per epoch (rows 1-2, row 3): update 5 is epoch 3's first
    assert (captured.number, captured.epoch, captured.row, captured.batch_rows) == (5, 3, 1, 2)


def test_param_start_values():
    _, result = fit(initial={"w": 0.5}, epochs=1)
    assert result.initial == {"w": 0.5}
    w = 0.5
    for x, y in zip(LECTURE["x"], LECTURE["y"]):
        w = w - 0.01 * ((2.0 * (x * w - y)) * x)
    assert result.params == {"w": w}


def test_predict_with_several_inputs():
    problem = build_problem("wa*a + wb*b + c", "mse", ("a", "b", "label"), "label")
    assert predict(problem, {"wa": 2.0, "wb": 3.0, "c": 0.5}, {"a": 1.0, "b": 2.0}) == 8.5


# ----------------------------------------------------------------------------- divergence
def test_divergence_stops_and_says_where():
    _, result = fit(lr=1.0, epochs=2000)
    divergence = result.divergence
    assert divergence is not None
    assert (divergence.epoch, divergence.update, divergence.row) == (75, 225, 3)
    assert "overflow" in divergence.reason
    assert len(result.history) == 74
    assert all(math.isfinite(v) for v in result.params.values())


@pytest.mark.parametrize("options", [
    {"dtype": "float32"},
    {"batch_size": None},
    {"batch_size": 2},
    {"optimizer": "momentum"},
])
def test_divergence_on_every_path(options):
    options = {"lr": 1.0, "epochs": 3000, **options}
    _, result = fit(**options)
    assert result.divergence is not None
    assert all(math.isfinite(v) for v in result.params.values())
    assert len(result.history) == result.divergence.epoch - 1


def hand_lecture_until_overflow(lr):
    """The lecture loop until the forward pass overflows; the parameters before that update."""
    w = 1.0
    for _ in range(10_000):
        for x, y in zip(LECTURE["x"], LECTURE["y"]):
            r = x * w - y
            try:
                math.pow(r, 2.0)
            except OverflowError:
                return w
            w = w - lr * ((2.0 * r) * x)
    raise AssertionError("did not diverge")


def test_divergence_reports_the_last_finite_parameters():
    _, result = fit(lr=1.0, epochs=2000)
    assert result.params == {"w": hand_lecture_until_overflow(1.0)}


def test_math_error_at_the_first_update_is_an_input_error():
    table = {"x": [1.0, 3.0], "y": [0.0, 1.0]}
    for batch in (1, None):
        with pytest.raises(EvaluationError) as caught:
            fit("log(x - 2)*w", table, batch_size=batch)
        assert caught.value.exit_code == 2
        assert "log" in caught.value.render()


# ----------------------------------------------------------------------------- optimizers
def hand_momentum(lr, momentum, epochs):
    w, buffer = 1.0, None
    for _ in range(epochs):
        for x, y in zip(LECTURE["x"], LECTURE["y"]):
            grad = (2.0 * (x * w - y)) * x
            buffer = grad if buffer is None else buffer * momentum + grad
            w = w - lr * buffer
    return w


def test_momentum_rule():
    _, result = fit(optimizer="momentum", epochs=4, momentum=0.5)
    assert result.params == {"w": hand_momentum(0.01, 0.5, 4)}


def hand_adam(lr, epochs, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam's documented rule, in its single-tensor loop's order."""
    w, first, second, step = 1.0, 0.0, 0.0, 0
    for _ in range(epochs):
        for x, y in zip(LECTURE["x"], LECTURE["y"]):
            grad = (2.0 * (x * w - y)) * x
            step += 1
            first = first + (grad - first) * (1 - beta1)
            second = second * beta2 + (grad * grad) * (1 - beta2)
            step_size = lr / (1 - beta1**step)
            denominator = math.sqrt(second) / math.sqrt(1 - beta2**step) + eps
            w = w - step_size * (first / denominator)
    return w


def test_adam_rule():
    _, result = fit(optimizer="adam", epochs=3, lr=0.1)
    assert result.params == {"w": hand_adam(0.1, 3)}
    _, result = fit(optimizer="adam", epochs=2, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    assert result.params == {"w": hand_adam(0.05, 2, 0.8, 0.99, 1e-6)}


def torch_loop(torch, model, names, table, epochs, dtype, optimizer, full_batch, lr=0.01):
    params = {n: torch.tensor(1.0, dtype=dtype, requires_grad=True) for n in names}
    if optimizer == "momentum":
        chosen = torch.optim.SGD(list(params.values()), lr=lr, momentum=0.9)
    else:
        chosen = torch.optim.Adam(list(params.values()), lr=lr)
    xs = torch.tensor(table["x"], dtype=dtype)
    ys = torch.tensor(table["y"], dtype=dtype)
    for _ in range(epochs):
        if full_batch:
            batches = [(xs, ys)]
        else:
            batches = [(xs[i], ys[i]) for i in range(len(table["x"]))]
        for x, y in batches:
            loss = ((model(x, params) - y) ** 2).mean()
            chosen.zero_grad()
            loss.backward()
            chosen.step()
    return {n: p.item() for n, p in params.items()}


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("full_batch", [False, True])
@pytest.mark.parametrize("model", ["x*w", HOMEWORK])
def test_optimizers_match_torch_optim(optimizer, dtype, full_batch, model):
    """torch.optim.SGD(momentum=0.9) and torch.optim.Adam, a few epochs.

    Not bit for bit: torch 2.x on the CPU computes `param.add_(buf, alpha=-lr)` (SGD) as
    fma(buf, -lr, param) and `exp_avg_sq.addcmul_(grad, grad, value=1-beta2)` (Adam) as
    fma((1-beta2)*grad, grad, exp_avg_sq), each rounded once, where our engine rounds the
    product first; `param.addcdiv_(exp_avg, denom, value=-step_size)` is
    param + (-step_size*exp_avg)/denom where we compute param - step_size*(exp_avg/denom);
    and torch's full-batch mean scales each row by 1/n before summing, where we sum and then
    divide. The difference is a few units in the last place (float64 about 1e-15 relative,
    float32 about 4e-7).
    """
    torch = pytest.importorskip("torch")
    functions = {
        "x*w": (lambda x, p: x * p["w"], ("w",)),
        HOMEWORK: (lambda x, p: p["w1"] * x * x + p["w2"] * x + p["b"], ("w1", "w2", "b")),
    }
    function, names = functions[model]
    expected = torch_loop(torch, function, names, LECTURE, 5, getattr(torch, dtype), optimizer,
                          full_batch)
    _, result = fit(model, optimizer=optimizer, epochs=5, dtype=dtype,
                    batch_size=None if full_batch else 1)
    tolerance = 1e-12 if dtype == "float64" else 1e-6
    for name in names:
        assert result.params[name] == pytest.approx(expected[name], rel=tolerance)
