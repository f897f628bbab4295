"""`backtrace train` on the command line: figures, every option, every bad input, exit codes.

The CLI runs in-process with Click's CliRunner (stdout and stderr read separately); Ctrl-C
is tested on a real subprocess. CSV files are written to tmp_path, so nothing here depends on
samples/. The PyTorch comparisons skip when torch is not installed (it is not a dependency).
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import helpers
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import assert_bad_input, validate

from backtrace_cli.cli.main import main

LECTURE_CSV = "x,y\n1,2\n2,4\n3,6\n"
HOMEWORK = "w1*x*x + w2*x + b"
CONTRACT_KEYS = {"model", "loss", "params", "initial", "history", "predictions"}


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    """No colour forced from outside: the tests check what a pipe gets."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


invoke = functools.partial(helpers.invoke, "train")
run_json = functools.partial(helpers.run_json, "train")


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def prediction(document: dict, index: int = 0) -> float:
    return document["predictions"][index]["y_hat"]


# ----------------------------------------------------------------------------- the lecture
def test_lecture_table_shows_the_figures():
    result = invoke()
    assert result.exit_code == 0, result.stderr
    assert "predict (before training): x=4 -> y_hat = 4\n" in result.stdout
    assert "1.9999999999999236" in result.stdout
    assert "7.9999999999996945" in result.stdout
    assert "Loss per epoch" in result.stdout and "Parameters" in result.stdout
    assert result.stderr == ""


def test_lecture_json_float64():
    document = run_json()
    assert document["params"] == {"w": 1.9999999999999236}
    assert document["initial"] == {"w": 1.0}
    assert document["predictions"] == [{"input": {"x": 4.0}, "y_hat": 7.9999999999996945}]
    assert document["predictions_before"] == [{"input": {"x": 4.0}, "y_hat": 4.0}]
    assert len(document["history"]) == 100
    assert document["diverged"] is None and document["interrupted"] is False


def test_lecture_float32_trace_and_json():
    result = invoke("--dtype", "float32", "--trace")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("grad:")]
    assert len(lines) == 300
    assert "dloss/dw=-2 " in lines[0] and "x=1 y=2" in lines[0]
    assert "dloss/dw=-7.840000152587891 " in lines[1]
    assert "dloss/dw=-16.228801727294922 " in lines[2]
    assert "7.999998569488525" in result.stdout

    document = run_json("--dtype", "float32", "--trace")
    assert [u["gradients"]["w"] for u in document["trace"][:3]] == [
        -2.0, -7.840000152587891, -16.228801727294922]
    assert [u["epoch"] for u in document["trace"][:4]] == [1, 1, 1, 2]
    assert document["history"][0]["last_loss"] == 7.315943717956543
    assert prediction(document) == 7.999998569488525
    assert document["predictions_before"][0]["y_hat"] == 4.0
    assert document["settings"]["dtype"] == "float32"


def test_homework_on_the_lecture_csv(tmp_path):
    csv = write(tmp_path, LECTURE_CSV)
    document = run_json(csv, "--model", HOMEWORK, "--predict", "4")
    assert document["initial"] == {"w1": 1.0, "w2": 1.0, "b": 1.0}
    assert prediction(document) == 8.544170120967518
    document = run_json(csv, "--model", HOMEWORK, "--predict", "4", "--dtype", "float32")
    assert prediction(document) == 8.544172286987305


def test_full_batch_figures():
    document = run_json("--batch-size", "full")
    assert document["params"] == {"w": 1.9999444396553017}
    assert prediction(document) == 7.999777758621207
    assert document["updates"] == 100
    assert document["settings"]["batch_size"] == "full"


def torch_lecture_loop(torch, dtype, model, names, table, epochs=100, lr=0.01):
    """The lecture's own loop: per sample, p.data = p.data - lr * p.grad.data, grad.zero_()."""
    params = {name: torch.tensor(1.0, dtype=dtype, requires_grad=True) for name in names}
    xs = torch.tensor(table[0], dtype=dtype)
    ys = torch.tensor(table[1], dtype=dtype)
    gradients = []
    last_losses = []
    for _ in range(epochs):
        for i in range(len(table[0])):
            loss = (model(xs[i], params) - ys[i]) ** 2
            loss.backward()
            gradients.append({name: p.grad.item() for name, p in params.items()})
            for p in params.values():
                p.data = p.data - lr * p.grad.data
                p.grad.data.zero_()
        last_losses.append(loss.item())
    with torch.no_grad():
        predicted = model(torch.tensor(4.0, dtype=dtype), params).item()
    return {name: p.item() for name, p in params.items()}, predicted, gradients, last_losses


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("model", ["x*w", HOMEWORK])
def test_lecture_and_homework_equal_pytorch_bit_for_bit(tmp_path, dtype, model):
    torch = pytest.importorskip("torch")
    functions = {
        "x*w": (lambda x, p: x * p["w"], ("w",)),
        HOMEWORK: (lambda x, p: p["w1"] * x * x + p["w2"] * x + p["b"], ("w1", "w2", "b")),
    }
    function, names = functions[model]
    params, predicted, gradients, last_losses = torch_lecture_loop(
        torch, getattr(torch, dtype), function, names, ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]))
    csv = write(tmp_path, LECTURE_CSV)
    fast = run_json(csv, "--model", model, "--predict", "4", "--dtype", dtype)
    traced = run_json(csv, "--model", model, "--predict", "4", "--dtype", dtype, "--trace")
    for document in (fast, traced):
        assert document["params"] == params
        assert prediction(document) == predicted
        assert [record["last_loss"] for record in document["history"]] == last_losses
    assert [update["gradients"] for update in traced["trace"]] == gradients


# ----------------------------------------------------------------------------- batches
def hand_sgd_xw(xs, ys, epochs, lr, batch, orders=None):
    """x*w with mse: per-row gradient (2*r)*x, batch mean, w -= lr*mean (float64)."""
    w = 1.0
    for epoch in range(epochs):
        order = list(range(len(xs))) if orders is None else [int(i) for i in orders[epoch]]
        for start in range(0, len(xs), batch):
            picked = order[start:start + batch]
            total = 0.0
            for i in picked:
                total = total + (2.0 * (xs[i] * w - ys[i])) * xs[i]
            w = w - lr * (total / len(picked))
    return w


LINE_XS = [0.5, 1.0, 1.5, 2.0, 3.0]
LINE_YS = [1.1, 1.9, 3.2, 3.8, 6.1]
LINE_CSV = "x,y\n" + "".join(f"{x},{y}\n" for x, y in zip(LINE_XS, LINE_YS))


def test_mini_batch_uses_the_batch_mean_and_a_smaller_last_batch(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    document = run_json(csv, "--batch-size", "2", "--epochs", "6", "--lr", "0.05")
    assert document["updates"] == 18  # 3 updates an epoch: rows 1-2, 3-4, 5
    assert document["params"] == {"w": hand_sgd_xw(LINE_XS, LINE_YS, 6, 0.05, 2)}
    traced = run_json(csv, "--batch-size", "2", "--epochs", "1", "--trace")
    assert [u["rows"] for u in traced["trace"]] == [[1, 2], [3, 4], [5]]


def test_mini_batch_trace_line_names_the_rows(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    result = invoke(csv, "--batch-size", "2", "--epochs", "1", "--trace")
    lines = [line for line in result.stdout.splitlines() if line.startswith("grad:")]
    assert [line.split(" dloss")[0] for line in lines] == [
        "grad: rows 1-2", "grad: rows 3-4", "grad: x=3 y=6.1"]


def test_shuffle_with_seed_is_reproducible_and_follows_numpy(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    args = (csv, "--shuffle", "--seed", "5", "--epochs", "4", "--trace")
    first = invoke(*args)
    second = invoke(*args)
    assert first.exit_code == 0
    assert first.stdout == second.stdout
    generator = np.random.default_rng(5)
    orders = [generator.permutation(5) for _ in range(4)]
    document = run_json(*args)
    visited = [u["rows"][0] for u in document["trace"]]
    assert visited == [int(i) + 1 for order in orders for i in order]
    assert document["params"] == {"w": hand_sgd_xw(LINE_XS, LINE_YS, 4, 0.01, 1, orders)}
    other = run_json(csv, "--shuffle", "--seed", "6", "--epochs", "4", "--trace")
    assert [u["rows"][0] for u in other["trace"]] != visited
    assert document["settings"]["shuffle"] is True and document["settings"]["seed"] == 5


def test_shuffled_mini_batches_follow_numpy(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    generator = np.random.default_rng(11)
    orders = [generator.permutation(5) for _ in range(3)]
    document = run_json(csv, "--shuffle", "--seed", "11", "--epochs", "3", "--batch-size", "2")
    assert document["params"] == {"w": hand_sgd_xw(LINE_XS, LINE_YS, 3, 0.01, 2, orders)}


def test_no_shuffle_is_file_order(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    document = run_json(csv, "--no-shuffle", "--epochs", "2", "--trace")
    assert [u["rows"][0] for u in document["trace"]] == [1, 2, 3, 4, 5] * 2


# ----------------------------------------------------------------------------- optimizers
def test_momentum_options_reach_the_rule():
    document = run_json("--optimizer", "momentum", "--momentum", "0.5", "--epochs", "3")
    w, buffer = 1.0, None
    for _ in range(3):
        for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            grad = (2.0 * (x * w - y)) * x
            buffer = grad if buffer is None else buffer * 0.5 + grad
            w = w - 0.01 * buffer
    assert document["params"] == {"w": w}
    assert document["settings"]["optimizer"] == "momentum"


def test_adam_options_reach_the_rule():
    default = run_json("--optimizer", "adam", "--epochs", "3", "--lr", "0.1")
    changed = run_json("--optimizer", "adam", "--epochs", "3", "--lr", "0.1",
                       "--beta1", "0.5", "--beta2", "0.9", "--eps", "1e-3")
    assert default["params"] != changed["params"]
    assert default["settings"]["optimizer"] == "adam"


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("batch", ["1", "full"])
def test_optimizers_against_torch_optim(tmp_path, optimizer, batch):
    torch = pytest.importorskip("torch")
    csv = write(tmp_path, LINE_CSV)
    for dtype_name in ("float64", "float32"):
        dtype = getattr(torch, dtype_name)
        w = torch.tensor(1.0, dtype=dtype, requires_grad=True)
        b = torch.tensor(1.0, dtype=dtype, requires_grad=True)
        chosen = (torch.optim.SGD([w, b], lr=0.01, momentum=0.9) if optimizer == "momentum"
                  else torch.optim.Adam([w, b], lr=0.01))
        xs = torch.tensor(LINE_XS, dtype=dtype)
        ys = torch.tensor(LINE_YS, dtype=dtype)
        for _ in range(4):
            batches = [(xs, ys)] if batch == "full" else list(zip(xs, ys))
            for x, y in batches:
                loss = ((w * x + b - y) ** 2).mean()
                chosen.zero_grad()
                loss.backward()
                chosen.step()
        document = run_json(csv, "--model", "w*x + b", "--optimizer", optimizer, "--epochs", "4",
                            "--batch-size", batch, "--dtype", dtype_name)
        # See test_train.test_optimizers_match_torch_optim: torch fuses a multiply-add.
        tolerance = 1e-12 if dtype_name == "float64" else 1e-6
        assert document["params"]["w"] == pytest.approx(w.item(), rel=tolerance)
        assert document["params"]["b"] == pytest.approx(b.item(), rel=tolerance)


# ----------------------------------------------------------------------------- losses
def test_loss_expression_equals_mse(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    mse = run_json(csv, "--model", "w*x + b", "--epochs", "5")
    written = run_json(csv, "--model", "w*x + b", "--epochs", "5", "--loss", "(y_hat - y)**2")
    assert mse["params"] == written["params"]
    assert mse["history"] == written["history"]
    assert written["loss"] == "(y_hat - y)**2"


def test_mae(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    document = run_json(csv, "--loss", "mae", "--epochs", "3")
    w = 1.0
    for _ in range(3):
        for x, y in zip(LINE_XS, LINE_YS):
            r = x * w - y
            w = w - 0.01 * (((1.0 if r > 0 else 0.0) - (1.0 if r < 0 else 0.0)) * x)
    assert document["params"] == {"w": w}
    assert document["loss"] == "mae"


BINARY_CSV = "x,y\n-3,0\n-1,0\n-0.5,1\n0.5,0\n1.5,1\n3,1\n"


def test_bce_learns_a_boundary(tmp_path):
    csv = write(tmp_path, BINARY_CSV)
    document = run_json(csv, "--model", "sigmoid(w*x + b)", "--loss", "bce", "--epochs", "200",
                        "--lr", "0.5", "--predict", "3", "--predict", "-3")
    losses = [record["loss"] for record in document["history"]]
    assert losses[-1] < losses[0]
    assert prediction(document, 0) > 0.8 and prediction(document, 1) < 0.2


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", ["1", "full"])
def test_bce_stays_finite_at_huge_logits(tmp_path, dtype, batch):
    csv = write(tmp_path, "x,y\n-1000,1\n1000,0\n-1000,0\n1000,1\n")
    document = run_json(csv, "--model", "sigmoid(w*x + b)", "--loss", "bce", "--epochs", "5",
                        "--dtype", dtype, "--batch-size", batch)
    assert document["diverged"] is None
    assert all(math.isfinite(v) for v in document["params"].values())
    assert all(math.isfinite(r["loss"]) for r in document["history"])
    assert "nan" not in json.dumps(document["history"]).lower()


@pytest.mark.parametrize("loss,name", [("y_hat - z", "'z'"), ("(y_hat - y)**2 + w", "'w'")])
def test_loss_with_other_names_is_bad_input(loss, name):
    assert_bad_input(invoke("--loss", loss), "--loss", name)


def test_unparsable_loss_is_bad_input():
    assert_bad_input(invoke("--loss", "(y_hat - y"), "^")


# ----------------------------------------------------------------------------- columns
def test_target_and_several_inputs(tmp_path):
    csv = write(tmp_path, "a,b,label\n1,2,5\n2,1,4\n3,3,9\n0,1,2\n")
    document = run_json(csv, "--model", "wa*a + wb*b + c", "--target", "label",
                        "--param", "wa=0.5", "--predict", "a=1,b=1", "--epochs", "3")
    assert document["target"] == "label"
    assert document["inputs"] == ["a", "b"]
    assert document["initial"] == {"wa": 0.5, "wb": 1.0, "c": 1.0}
    p = document["params"]
    assert document["predictions"] == [
        {"input": {"a": 1.0, "b": 1.0}, "y_hat": p["wa"] * 1.0 + p["wb"] * 1.0 + p["c"]}]


def test_predict_needs_every_input_when_there_are_several(tmp_path):
    csv = write(tmp_path, "a,b,y\n1,2,5\n2,1,4\n")
    assert_bad_input(invoke(csv, "--model", "wa*a + wb*b", "--predict", "4"), "a=VALUE")
    assert_bad_input(invoke(csv, "--model", "wa*a + wb*b", "--predict", "a=1"),
                     "no value for b")


def test_param_start_value():
    document = run_json("--param", "w=0.5", "--epochs", "1")
    assert document["initial"] == {"w": 0.5}
    assert document["predictions_before"][0]["y_hat"] == 2.0


def test_delimiter_option(tmp_path):
    csv = write(tmp_path, "x;y\n1;2\n2;4\n3;6\n")
    assert run_json(csv, "--delimiter", ";")["params"] == {"w": 1.9999999999999236}


@pytest.mark.parametrize("written", ["\t", "\\t", "tab"])
def test_tab_delimiter_as_a_shell_passes_it(tmp_path, written):
    csv = write(tmp_path, "x\ty\r\n1\t2\r\n2\t4\r\n3\t6\r\n")
    assert run_json(csv, "--delimiter", written)["params"] == {"w": 1.9999999999999236}


def test_crlf_bom_quotes_and_blank_lines(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b'\xef\xbb\xbfx,y\r\n"1",2\r\n\r\n2, 4\r\n3,"6"\r\n\r\n')
    assert run_json(str(path))["params"] == {"w": 1.9999999999999236}


# ----------------------------------------------------------------------------- files
def test_save_then_init_round_trip(tmp_path):
    csv = write(tmp_path, LECTURE_CSV)
    saved = tmp_path / "params.json"
    first = run_json(csv, "--model", HOMEWORK, "--epochs", "10", "--save", str(saved))
    content = json.loads(saved.read_text(encoding="utf-8"))
    assert content["params"] == first["params"]
    assert content["model"] == HOMEWORK and content["loss"] == "mse"
    assert content["dtype"] == "float64"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    second = run_json(csv, "--model", HOMEWORK, "--epochs", "10", "--init", str(saved))
    assert second["initial"] == first["params"]
    # ten more epochs from where the first run stopped = twenty epochs in one run
    assert second["params"] == run_json(csv, "--model", HOMEWORK, "--epochs", "20")["params"]


def test_param_overrides_init(tmp_path):
    saved = tmp_path / "w.json"
    saved.write_text('{"params": {"w": 3.0}}', encoding="utf-8")
    assert run_json("--init", str(saved), "--epochs", "1")["initial"] == {"w": 3.0}
    both = run_json("--init", str(saved), "--param", "w=0.25", "--epochs", "1")
    assert both["initial"] == {"w": 0.25}


def test_save_failure_keeps_the_previous_file(tmp_path, monkeypatch):
    saved = tmp_path / "params.json"
    saved.write_text('{"params": {"w": 42.0}}\n', encoding="utf-8")

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = invoke("--save", str(saved), "--epochs", "2")
    # The finished run is still reported on stdout; the error (exit 2) names path and reason.
    assert result.exit_code == 2, result.stderr
    assert "Parameters" in result.stdout and "Traceback" not in result.stderr
    assert "cannot write" in result.stderr and str(saved) in result.stderr
    assert "No space left on device" in result.stderr
    assert saved.read_text(encoding="utf-8") == '{"params": {"w": 42.0}}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json"]


def test_save_into_a_missing_folder_fails_before_training(tmp_path):
    target = tmp_path / "missing" / "params.json"
    result = invoke("--save", str(target))
    assert_bad_input(result, "--save", "does not exist")
    assert not (tmp_path / "missing").exists()


def test_save_onto_a_directory_is_bad_input(tmp_path):
    assert_bad_input(invoke("--save", str(tmp_path)), "directory")


def test_plot_svg_is_valid(tmp_path):
    target = tmp_path / "loss.svg"
    result = invoke("--plot", str(target), "--epochs", "30")
    assert result.exit_code == 0, result.stderr
    root = ElementTree.parse(target).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    polyline = root.find("{http://www.w3.org/2000/svg}polyline")
    points = polyline.get("points").split()
    assert len(points) == 30
    assert all(math.isfinite(float(c)) for point in points for c in point.split(","))
    assert [p.name for p in tmp_path.iterdir()] == ["loss.svg"]


def test_svg_escapes_its_title_and_survives_flat_and_single_curves():
    from backtrace_cli.formats.plot import svg_curve

    for losses in ([3.0, 2.0, 1.0], [1.0], [0.0, 0.0], [1e6, 1.0, 1e-6], [-1.0, 2.0]):
        root = ElementTree.fromstring(svg_curve(losses, "a < b & c"))
        title = root.find("{http://www.w3.org/2000/svg}text")
        assert title.text == "a < b & c"
        points = root.find("{http://www.w3.org/2000/svg}polyline").get("points").split()
        assert len(points) == len(losses)
        assert all(math.isfinite(float(c)) for point in points for c in point.split(","))


def test_plot_png_without_matplotlib_says_how_to_install(tmp_path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("matplotlib is installed")
    target = tmp_path / "loss.png"
    result = invoke("--plot", str(target))
    assert_bad_input(result, "matplotlib", "pip install", "--plot loss.svg")
    assert not target.exists()


def test_plot_with_no_finished_epoch_still_reports_the_divergence(tmp_path):
    target = tmp_path / "loss.svg"
    args = ("--lr", "1e30", "--dtype", "float32", "--plot", str(target))
    result = invoke(*args)
    assert result.exit_code == 1
    assert "no finished epoch to plot" in result.stderr and "diverged" in result.stderr
    document = run_json(*args, exit_code=1)
    assert document["history"] == [] and document["diverged"]["epoch"] == 1
    assert not target.exists()


def test_plot_into_a_missing_folder_fails_before_training(tmp_path):
    assert_bad_input(invoke("--plot", str(tmp_path / "no" / "loss.svg")), "does not exist")


def test_plot_needs_a_known_suffix(tmp_path):
    assert_bad_input(invoke("--plot", str(tmp_path / "loss.txt")), ".svg or .png")


# ----------------------------------------------------------------------------- explain, trace
def test_explain_step_shows_that_updates_tables():
    result = invoke("--explain-step", "2", "--epochs", "1")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Update 2 (epoch 1, data row 2) with the parameters before it:" in out
    explanation = out[out.index("Update 2"):]
    forward = explanation[explanation.index("Forward pass"):explanation.index("Backward pass")]
    rows = {line.split("│")[2].strip(): line for line in forward.splitlines()
            if line.startswith("│ v")}
    assert rows["x"].rstrip(" │").endswith(" 2")
    assert rows["w"].rstrip(" │").endswith(" 1.02")
    assert rows["y"].rstrip(" │").endswith(" 4")
    assert "Backward pass" in explanation and "Chain rule" in explanation
    assert "dloss/dw = dloss/dy_hat · dy_hat/dw = -3.92 · 2 = -7.84" in explanation


def test_explain_step_of_a_batch_says_so(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    result = invoke(csv, "--batch-size", "2", "--explain-step", "3", "--epochs", "2")
    assert result.exit_code == 0, result.stderr
    assert ("Update 3 (epoch 1, data row 5) with the parameters before it:" in result.stdout)
    result = invoke(csv, "--batch-size", "2", "--explain-step", "4", "--epochs", "2")
    assert "Update 4 (epoch 2, data row 1, first of a batch of 2" in result.stdout


def test_explain_step_beyond_the_last_update_is_bad_input():
    assert_bad_input(invoke("--explain-step", "301"), "--explain-step 301", "300 updates")
    assert invoke("--explain-step", "300").exit_code == 0


def test_explain_step_zero_is_refused():
    result = invoke("--explain-step", "0")
    assert result.exit_code == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_trace_is_capped_with_a_note(tmp_path):
    csv = write(tmp_path, "x,y\n" + "".join(f"{i / 10},{i / 5}\n" for i in range(50)))
    result = invoke(csv, "--trace", "--trace-limit", "7", "--epochs", "2")
    lines = result.stdout.splitlines()
    assert sum(line.startswith("grad:") for line in lines) == 7
    assert "(--trace stopped after 7 of 100 updates; --trace-limit N shows more)" in lines
    document = run_json(csv, "--trace", "--trace-limit", "7", "--epochs", "2")
    assert len(document["trace"]) == 7


def test_trace_within_the_limit_has_no_note():
    result = invoke("--trace", "--epochs", "1")
    assert "stopped after" not in result.stdout


# ----------------------------------------------------------------------------- output
def test_json_has_every_contract_key_and_nothing_else_on_stdout():
    result = invoke("--format", "json", "--epochs", "3")
    assert result.exit_code == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert isinstance(document, dict)
    assert CONTRACT_KEYS <= set(document)
    assert document["model"] == "x*w" and document["loss"] == "mse"
    assert document["params"] == {"w": document["params"]["w"]}
    assert [set(r) >= {"epoch", "loss"} for r in document["history"]] == [True] * 3
    assert [r["epoch"] for r in document["history"]] == [1, 2, 3]
    assert all(isinstance(r["loss"], float) for r in document["history"])
    assert document["predictions"][0].keys() == {"input", "y_hat"}
    assert "trace" not in document


@pytest.mark.parametrize("args", [
    (),
    ("--trace", "--epochs", "2"),
    ("--explain-step", "1", "--epochs", "1"),
    ("--lr", "1", "--epochs", "2000"),
    ("--target", "z"),
])
def test_no_ansi_escapes_off_a_terminal(args):
    result = invoke(*args)
    assert "\x1b[" not in result.stdout
    assert "\x1b[" not in result.stderr


def test_table_output_is_deterministic(tmp_path):
    csv = write(tmp_path, LINE_CSV)
    args = (csv, "--model", "w*x + b", "--epochs", "40", "--trace", "--explain-step", "3")
    first = invoke(*args)
    second = invoke(*args)
    assert first.exit_code == 0
    assert first.stdout.encode() == second.stdout.encode()
    assert invoke().stdout.encode() == invoke().stdout.encode()


def test_many_epochs_show_a_sample_with_first_and_last():
    result = invoke("--epochs", "500")
    epochs = [int(line.split("│")[1]) for line in result.stdout.splitlines()
              if line.startswith("│") and line.split("│")[1].strip().isdigit()]
    assert epochs[0] == 1 and epochs[-1] == 500 and len(epochs) <= 25
    assert "of 500 epochs shown" in result.stdout


def test_help_has_examples():
    result = CliRunner().invoke(main, ["train", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "backtrace train" in result.stdout


# ----------------------------------------------------------------------------- bad input
BAD_CSV = {
    "empty": ("", ("empty",)),
    "blank lines only": ("\n  \n\n", ("empty", "only blank lines")),
    "no header": ("1,2\n2,4\n", ("line 1, column 1", "header")),
    "header only": ("x,y\n", ("no data rows",)),
    "ragged": ("x,y\n1,2\n2\n", ("line 3", "expected 2 fields, found 1")),
    "non-numeric": ("x,y\n1,2\n2,abc\n", ("line 3, column 2", "'abc' is not a number")),
    "nan": ("x,y\n1,2\n2,nan\n", ("line 3, column 2", "'nan'", "finite")),
    "inf": ("x,y\n1,inf\n", ("line 2, column 2", "'inf'", "finite")),
    "-inf": ("x,y\n1,2\n-inf,2\n", ("line 3, column 1", "'-inf'")),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv(tmp_path, case):
    text, fragments = BAD_CSV[case]
    csv = write(tmp_path, text)
    assert_bad_input(invoke(csv), csv, *fragments)


def test_missing_csv(tmp_path):
    missing = str(tmp_path / "nope.csv")
    assert_bad_input(invoke(missing), missing, "no such file")


def test_target_not_in_the_csv(tmp_path):
    csv = write(tmp_path, "x,label\n1,2\n2,4\n")
    assert_bad_input(invoke(csv, "--target", "lable"), "'lable'", "columns: x, label",
                     "did you mean 'label'?")
    assert_bad_input(invoke(csv), "'y'", "columns: x, label")


def test_model_using_no_column(tmp_path):
    csv = write(tmp_path, LECTURE_CSV)
    result = invoke(csv, "--model", "xx*w")
    assert_bad_input(result, "uses no column", "columns: x, y", "did you mean 'x'?")
    assert result.stderr.count("did you mean") == 1


def test_model_reading_the_target_is_bad_input(tmp_path):
    csv = write(tmp_path, LECTURE_CSV)
    assert_bad_input(invoke(csv, "--model", "x*w + y", "--predict", "4"), "target", "'y'")
    assert_bad_input(invoke("--model", "x*w + y"), "target")


def test_column_named_like_a_constant_is_refused(tmp_path):
    csv = write(tmp_path, "e,y\n1,2\n2,4\n")
    assert_bad_input(invoke(csv, "--model", "w*e"), "'e'", "constant")


def test_target_named_like_the_trainings_own_names(tmp_path):
    csv = write(tmp_path, "x,y_hat\n1,2\n2,4\n")
    assert_bad_input(invoke(csv, "--target", "y_hat"), "'y_hat'")


def test_float32_data_out_of_range(tmp_path):
    csv = write(tmp_path, "x,y\n1,2\n1e39,4\n")
    assert_bad_input(invoke(csv, "--dtype", "float32"), csv, "'x'", "data row 2", "float32")
    assert run_json(csv, "--epochs", "1")["diverged"] is None  # float64 holds it


def test_unparsable_model_has_a_caret():
    result = invoke("--model", "x*w +")
    assert_bad_input(result, "x*w +", "^", "column 6")


@pytest.mark.parametrize("args,fragments", [
    (("--param", "w=1", "--param", "w=2"), ("'w'", "twice")),
    (("--param", "q=1"), ("no parameter 'q'", "its parameters: w")),
    (("--param", "ww=1"), ("'ww'", "did you mean 'w'?")),
    (("--param", "x=1"), ("'x'", "column")),
    (("--param", "w"), ("NAME=VALUE",)),
    (("--param", "w=abc"), ("'abc' is not a number",)),
    (("--param", "w=nan"), ("finite",)),
    (("--lr", "0"), ("--lr", "above 0")),
    (("--lr", "-1"), ("--lr", "above 0")),
    (("--lr", "nan"), ("--lr",)),
    (("--lr", "inf"), ("--lr",)),
    (("--epochs", "0"), ("--epochs",)),
    (("--epochs", "-3"), ("--epochs",)),
    (("--batch-size", "0"), ("--batch-size", "at least 1")),
    (("--batch-size", "abc"), ("--batch-size", "'abc'")),
    (("--batch-size", "-2"), ("--batch-size",)),
    (("--predict", "z=4"), ("'z'", "not an input", "inputs: x")),
    (("--predict", "abc"), ("--predict", "'abc'")),
    (("--momentum", "1"), ("--momentum",)),
    (("--beta2", "1.5"), ("--beta2",)),
    (("--eps", "0"), ("--eps",)),
    (("--optimizer", "rmsprop"), ("rmsprop",)),
    (("--dtype", "float16"), ("float16",)),
    (("--format", "xml"), ("xml",)),
    (("--shuffle", "--seed", "-1"), ("--seed",)),
    (("--predict", "xx=3"), ("'xx'", "did you mean 'x'?")),
    (("--dtype", "float32", "--param", "w=1e39"), ("float32", "'w'", "1e+39")),
    (("--dtype", "float32", "--predict", "-1e39"), ("float32", "--predict x", "-1e+39")),
])
def test_bad_options(args, fragments):
    assert_bad_input(invoke(*args), *fragments)


def test_init_missing_file(tmp_path):
    missing = str(tmp_path / "none.json")
    assert_bad_input(invoke("--init", missing), "--init", missing, "no such file")


@pytest.mark.parametrize("content,fragments", [
    ("{bad", ("not valid JSON", "line 1, column 2")),
    ("[1, 2]", ("expected an object",)),
    ('{"params": {"w": "one"}}', ("'w'", "not a finite number")),
    ('{"params": {"q": 1.0}}', ("no parameter 'q'",)),
    ('{"params": {"w": NaN}}', ("'w'", "not a finite number")),
    ('{"params": {"w": 1e999}}', ("'w'", "not a finite number")),
    ('{"params": {"w": 1' + "0" * 400 + '}}', ("'w'", "not a finite number")),
    ('{"params": {"w": true}}', ("'w'", "not a finite number")),
])
def test_init_bad_content(tmp_path, content, fragments):
    path = tmp_path / "init.json"
    path.write_text(content, encoding="utf-8")
    assert_bad_input(invoke("--init", str(path)), "--init", *fragments)


def test_math_error_at_the_first_update_is_bad_input(tmp_path):
    csv = write(tmp_path, "x,y\n1,0\n3,1\n")
    for batch in ("1", "full"):
        for dtype in ("float64", "float32"):
            result = invoke(csv, "--model", "log(x - 2)*w", "--batch-size", batch,
                            "--dtype", dtype)
            assert_bad_input(result, "log", "^")


# ----------------------------------------------------------------------------- divergence
def test_divergence_exits_1_and_says_where():
    result = invoke("--lr", "1", "--epochs", "2000")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "diverged at epoch 75, update 225 (data row 3)" in result.stderr
    assert "the last finite parameters: w=" in result.stderr
    assert "--lr" in result.stderr  # the hint
    assert "Parameters" in result.stdout  # what was finished is still shown

    document = run_json("--lr", "1", "--epochs", "2000", exit_code=1)
    diverged = document["diverged"]
    assert isinstance(diverged, dict)
    assert (diverged["epoch"], diverged["update"], diverged["row"]) == (75, 225, 3)
    assert "overflow" in diverged["reason"]
    assert len(document["history"]) == 74
    assert all(math.isfinite(v) for v in document["params"].values())
    assert f"w={document['params']['w']!r}" in result.stderr


@pytest.mark.parametrize("args", [
    ("--dtype", "float32"),
    ("--batch-size", "full"),
    ("--batch-size", "2"),
    ("--optimizer", "momentum"),
])
def test_divergence_on_every_path_exits_1(args):
    document = run_json("--lr", "1", "--epochs", "3000", *args, exit_code=1)
    assert isinstance(document["diverged"], dict)
    assert all(math.isfinite(v) for v in document["params"].values())
    result = invoke("--lr", "1", "--epochs", "3000", *args)
    assert result.exit_code == 1
    assert "diverged" in result.stderr and "Traceback" not in result.stderr


def test_divergence_saves_the_last_finite_parameters(tmp_path):
    saved = tmp_path / "p.json"
    result = invoke("--lr", "1", "--epochs", "2000", "--save", str(saved))
    assert result.exit_code == 1
    assert all(math.isfinite(v) for v in json.loads(saved.read_text())["params"].values())


# ----------------------------------------------------------------------------- Ctrl-C
def interrupt_after(tmp_path: Path, delay: float):
    process = subprocess.Popen(
        [sys.executable, "-m", "backtrace_cli", "train", "big.csv", "--model", "w*x + b",
         "--epochs", "100000", "--format", "json"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, out, err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_reports_what_was_finished(tmp_path):
    generator = np.random.default_rng(0)
    xs = generator.uniform(-1, 1, 3000)
    rows = "".join(f"{x:.17g},{2 * x + 0.5 + generator.normal(0, 0.1):.17g}\n" for x in xs)
    (tmp_path / "big.csv").write_text("x,y\n" + rows, encoding="utf-8")
    code, out, err = interrupt_after(tmp_path, 1.5)
    if not out and code == 130:  # a slow machine: still starting up at 1.5 s; once more
        code, out, err = interrupt_after(tmp_path, 5.0)
    assert code == 130, err
    document = json.loads(out)
    validate("train", document)
    assert document["interrupted"] is True
    assert len(document["history"]) >= 1
    assert document["diverged"] is None
    assert all(math.isfinite(v) for v in document["params"].values())
    assert [r["epoch"] for r in document["history"]] == list(
        range(1, len(document["history"]) + 1))
    assert "Traceback" not in err
    assert "Interrupted" in err
