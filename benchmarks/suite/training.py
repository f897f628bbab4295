"""The training workloads: sgd-row (per-row SGD) and full-batch (with its peak memory)."""

from __future__ import annotations

import json
import statistics

from .context import Context, collect_errors
from .processes import PYTHON
from .results import Goal, MemoryRow, Report, Row, relative_difference, seconds_text

# ============================================================================ sgd-row
SGD_BASELINE = """\
    # Per-row SGD on w*x + b by hand: csv module, then the hand-derived gradient of (r)**2.
    # The loop is in a function so its variables are fast locals, as a careful user writes it.
    import csv, json, sys


    def train(rows, epochs, lr):
        w = 1.0
        b = 1.0
        for _ in range(epochs):
            for x, y in rows:
                r = w * x + b - y
                w -= lr * 2 * r * x
                b -= lr * 2 * r
        return w, b


    path, epochs, lr = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    with open(path, newline="") as file:
        reader = csv.reader(file)
        next(reader)
        rows = [(float(x), float(y)) for x, y in reader]
    w, b = train(rows, epochs, lr)
    print(json.dumps({"w": w, "b": b}))
"""

SGD_TORCH = """\
    # The lecture's loop: autograd on every row, on the first 1/fraction of the rows.
    import csv, json, sys, time

    import torch

    path, epochs, lr, fraction = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    with open(path, newline="") as file:
        reader = csv.reader(file)
        next(reader)
        rows = [(float(x), float(y)) for x, y in reader]
    rows = rows[: max(1, len(rows) // fraction)]
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)


    def train(rows, epochs, lr):
        for _ in range(epochs):
            for x, y in rows:
                y_hat = w * x + b
                loss = (y_hat - y) ** 2
                loss.backward()
                w.data = w.data - lr * w.grad.data
                b.data = b.data - lr * b.grad.data
                w.grad.data.zero_()
                b.grad.data.zero_()


    start = time.perf_counter()
    train(rows, epochs, lr)
    loop = time.perf_counter() - start
    print(json.dumps({"w": w.item(), "b": b.item(), "loop_seconds": loop, "rows": len(rows)}))
"""


def sgd_row(context: Context, report: Report) -> None:
    sizes = context.sizes
    data = str(context.line_csv(sizes.sgd_rows))
    epochs, lr = str(sizes.sgd_epochs), "0.001"
    baseline = context.write_script("sgd_baseline.py", SGD_BASELINE)
    commands = {
        "backtrace": [*context.backtrace, "train", data, "--model", "w*x + b",
                      "--epochs", epochs, "--lr", lr, "--format", "json"],
        "baseline": [PYTHON, str(baseline), data, epochs, lr],
    }
    fraction = sizes.torch_sgd_fraction
    if context.torch:
        script = context.write_script("sgd_torch.py", SGD_TORCH)
        commands["torch"] = [PYTHON, str(script), data, epochs, lr, str(fraction)]
    timings = context.runner.measure(commands)
    error = collect_errors(report, "sgd-row", timings)

    torch_estimate = None
    torch_timing = timings.get("torch")
    if torch_timing is not None and torch_timing.seconds is not None:
        # Scale only the loop: import and CSV reading are paid once whatever the row count.
        estimates = []
        for whole, output in zip(torch_timing.runs, torch_timing.outputs, strict=False):
            measured = json.loads(output)
            scale = sizes.sgd_rows / measured["rows"]
            estimates.append(whole + (scale - 1) * measured["loop_seconds"])
        torch_estimate = statistics.median(estimates) if estimates else None
        report.notes.append(
            f"sgd-row: the PyTorch figure is the lecture's per-row autograd loop run on "
            f"1/{fraction} of the rows, its loop time scaled x{fraction}, plus one import and "
            f"CSV read (whole process measured: {seconds_text(torch_timing.seconds)} s)."
        )
    name = f"sgd-row {sizes.sgd_rows:,} x {sizes.sgd_epochs}"
    row = Row("sgd-row", name, timings["backtrace"].seconds, timings["baseline"].seconds,
              torch_estimate, Goal("ratio <= 1.5", 1.5), error=error,
              against="plain Python loop")
    report.rows.append(row)

    ours, theirs = timings["backtrace"].last_json(), timings["baseline"].last_json()
    if ours and theirs:
        difference = relative_difference(ours.get("params", {}), theirs)
        report.notes.append(f"sgd-row: final w, b agree with the baseline to {difference:.1e} "
                            "(relative).")
    if row.backtrace is not None:
        updates = sizes.sgd_rows * sizes.sgd_epochs
        per_row = ", ".join(
            f"{label} {seconds * 1e6 / updates:.3f}"
            for label, seconds in (("backtrace", row.backtrace), ("baseline", row.baseline),
                                   ("PyTorch", torch_estimate))
            if seconds is not None
        )
        report.notes.append(f"sgd-row: µs per row update, whole process: {per_row}.")


# ============================================================================ full-batch
BATCH_BASELINE = """\
    # Full-batch gradient descent on w*x + b, vectorised by hand with NumPy.
    import json, sys

    import numpy as np

    path, epochs, lr, dtype = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=dtype)
    x = np.ascontiguousarray(data[:, 0])
    y = np.ascontiguousarray(data[:, 1])
    n = len(x)
    lr = x.dtype.type(lr)
    w = x.dtype.type(1.0)
    b = x.dtype.type(1.0)
    for _ in range(epochs):
        err = 2 * (w * x + b - y)
        w -= lr * (err @ x) / n
        b -= lr * err.sum() / n
    print(json.dumps({"w": float(w), "b": float(b)}))
"""

BATCH_TORCH = """\
    # Full-batch gradient descent on w*x + b with PyTorch autograd.
    import json, sys, time

    import numpy as np
    import torch

    path, epochs, lr, dtype = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=dtype)
    x = torch.from_numpy(np.ascontiguousarray(data[:, 0]))
    y = torch.from_numpy(np.ascontiguousarray(data[:, 1]))
    w = torch.tensor(1.0, dtype=x.dtype, requires_grad=True)
    b = torch.tensor(1.0, dtype=x.dtype, requires_grad=True)
    start = time.perf_counter()
    for _ in range(epochs):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    loop = time.perf_counter() - start
    print(json.dumps({"w": w.item(), "b": b.item(), "loop_seconds": loop}))
"""


def full_batch(context: Context, report: Report) -> None:
    sizes = context.sizes
    data = str(context.line_csv(sizes.batch_rows))
    epochs, lr = str(sizes.batch_epochs), "0.1"
    baseline = context.write_script("batch_baseline.py", BATCH_BASELINE)
    torch_script = context.write_script("batch_torch.py", BATCH_TORCH) if context.torch else None

    def backtrace_command(path: str, dtype: str) -> list[str]:
        return [*context.backtrace, "train", path, "--model", "w*x + b", "--batch-size", "full",
                "--epochs", epochs, "--lr", lr, "--dtype", dtype, "--format", "json"]

    commands = {}
    for dtype in ("float64", "float32"):
        commands[f"backtrace-{dtype}"] = backtrace_command(data, dtype)
        commands[f"baseline-{dtype}"] = [PYTHON, str(baseline), data, epochs, lr, dtype]
        if torch_script is not None:
            commands[f"torch-{dtype}"] = [PYTHON, str(torch_script), data, epochs, lr, dtype]
    timings = context.runner.measure(commands)
    error = collect_errors(report, "full-batch", timings)

    def seconds(key: str) -> float | None:
        timing = timings.get(key)
        return None if timing is None else timing.seconds

    label = f"{sizes.batch_rows:,} rows x {sizes.batch_epochs} epochs"
    report.rows.append(Row("full-batch", f"full-batch float64 {label}",
                           seconds("backtrace-float64"), seconds("baseline-float64"),
                           seconds("torch-float64"), Goal("ratio <= 1.3", 1.3), error=error,
                           against="NumPy float64"))
    report.rows.append(Row("full-batch", f"full-batch float32 {label}",
                           seconds("backtrace-float32"), seconds("baseline-float32"),
                           seconds("torch-float32"), None, error=error,
                           against="NumPy float32"))
    report.rows.append(Row("full-batch", "full-batch float32 / float64",
                           seconds("backtrace-float32"), seconds("backtrace-float64"),
                           None, Goal("ratio <= 1.0", 1.0), error=error,
                           against="backtrace float64"))

    for dtype in ("float64", "float32"):
        ours = timings[f"backtrace-{dtype}"].last_json()
        theirs = timings[f"baseline-{dtype}"].last_json()
        if ours and theirs:
            difference = relative_difference(ours.get("params", {}), theirs)
            report.notes.append(f"full-batch: {dtype} final w, b agree with NumPy to "
                                f"{difference:.1e} (relative).")
    for dtype in ("float64", "float32"):
        timing = timings.get(f"torch-{dtype}")
        if timing is not None and timing.outputs:
            loops = [json.loads(output)["loop_seconds"] for output in timing.outputs]
            report.notes.append(
                f"full-batch: PyTorch {dtype} is the whole process (import torch included); "
                f"its autograd loop alone takes {seconds_text(statistics.median(loops))} s."
            )

    # Peak memory: the whole process's peak, less the same command's peak on a tiny file
    # (the interpreter and its libraries), against the data's size as float64 pairs.
    small = str(context.line_csv(sizes.memory_small_rows))
    data_mb = sizes.batch_rows * 2 * 8 / 1e6
    measured = (
        ("backtrace train float64", backtrace_command(data, "float64"),
         backtrace_command(small, "float64"), 2.0),
        ("backtrace train float32", backtrace_command(data, "float32"),
         backtrace_command(small, "float32"), 2.0),
        ("backtrace train --stream float64", [*backtrace_command(data, "float64"), "--stream"],
         [*backtrace_command(small, "float64"), "--stream"], 2.0),
        ("NumPy baseline float64", [PYTHON, str(baseline), data, epochs, lr, "float64"],
         [PYTHON, str(baseline), small, epochs, lr, "float64"], None),
    )
    for name, command, small_command, goal in measured:
        peak, peak_error = context.runner.peak_rss_mb(command)
        small_peak, small_error = context.runner.peak_rss_mb(small_command)
        memory_error = peak_error or small_error
        if memory_error:
            report.errors.append(f"full-batch memory: {memory_error}")
        first_line = memory_error.splitlines()[0] if memory_error else None
        report.memory.append(MemoryRow(name, peak, small_peak, data_mb, goal, error=first_line))
