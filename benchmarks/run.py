#!/usr/bin/env python3
"""Benchmarks for backtrace: every workload of the performance issue, in one command.

    python benchmarks/run.py [--quick] [--repeat N] [--only NAME,...] [--json FILE]

Each workload times whole processes (wall clock, ``time.perf_counter``, median of N runs)
of backtrace and of a baseline written by this script in the same run, on data generated
here with a fixed seed. The runs of the commands that are compared are interleaved, so a
slow moment of the machine hurts both sides alike. PyTorch is timed too when ``import torch``
works. The script reports; it does not judge: it always exits 0, and marks each row
"meets goal" or "misses goal".

Only the standard library is imported here; NumPy, SymPy and PyTorch are imported by the
child processes that need them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

SEED = 20240605
PYTHON = sys.executable
RUN_TIMEOUT = 900.0  # seconds for one run of one command; a hung run becomes a failed row


# ----------------------------------------------------------------------------- sizes
@dataclass(frozen=True)
class Sizes:
    """The workload sizes: the issue's for a real run, tiny ones for --quick."""

    sgd_rows: int = 200_000
    sgd_epochs: int = 20
    torch_sgd_fraction: int = 100  # PyTorch's per-row loop runs on 1/fraction of the rows
    batch_rows: int = 1_000_000
    batch_epochs: int = 100
    memory_small_rows: int = 1_000  # the fixed overhead of a process, subtracted from its peak
    graph_nodes: tuple[int, int] = (10_000, 100_000)
    csv_rows: int = 1_000_000
    sympy_nodes: int = 1_000


QUICK = Sizes(
    sgd_rows=2_000,
    sgd_epochs=2,
    batch_rows=5_000,
    batch_epochs=10,
    memory_small_rows=100,
    graph_nodes=(300, 3_000),
    csv_rows=5_000,
    sympy_nodes=100,
)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Goal:
    """What a row must reach: a ratio (backtrace / baseline) or backtrace's own seconds."""

    text: str
    limit: float
    measure: str = "ratio"  # "ratio" or "seconds"


@dataclass
class Row:
    workload: str
    name: str
    backtrace: float | None
    baseline: float | None
    torch: float | None = None
    goal: Goal | None = None
    met_otherwise: bool = False  # e.g. the SymPy check was skipped, which the goal allows
    error: str | None = None
    against: str = "–"  # what the baseline column times

    @property
    def ratio(self) -> float | None:
        if self.backtrace is None or self.baseline is None or self.baseline <= 0:
            return None
        return self.backtrace / self.baseline

    @property
    def verdict(self) -> str:
        if self.error:
            return "failed"
        if self.goal is None:
            return "–"
        value = self.ratio if self.goal.measure == "ratio" else self.backtrace
        if value is None:
            return "–"
        return "meets goal" if value <= self.goal.limit or self.met_otherwise else "misses goal"

    def document(self) -> dict:
        document = asdict(self)
        document["ratio"] = self.ratio
        document["verdict"] = self.verdict
        return document


@dataclass
class MemoryRow:
    name: str
    peak_mb: float | None
    small_mb: float | None  # the same command on a tiny file: the process's fixed overhead
    data_mb: float
    goal: float | None = None  # growth / data at most this
    error: str | None = None

    @property
    def growth_mb(self) -> float | None:
        if self.peak_mb is None or self.small_mb is None:
            return None
        return self.peak_mb - self.small_mb

    @property
    def growth_ratio(self) -> float | None:
        growth = self.growth_mb
        return None if growth is None else growth / self.data_mb

    @property
    def verdict(self) -> str:
        if self.error:
            return "failed"
        if self.goal is None or self.growth_ratio is None:
            return "–"
        return "meets goal" if self.growth_ratio <= self.goal else "misses goal"

    def document(self) -> dict:
        document = asdict(self)
        document.update(
            growth_mb=self.growth_mb, growth_ratio=self.growth_ratio, verdict=self.verdict
        )
        return document


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    memory: list[MemoryRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- running
@dataclass
class Timing:
    """The runs of one command: median seconds, or the error that stopped it."""

    command: list[str]
    runs: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # stdout of each run (small ones only)
    last_stdout: Path | None = None
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.error or not self.runs:
            return None
        return statistics.median(self.runs)

    def last_json(self) -> dict | None:
        """The last run's stdout parsed as JSON, or None."""
        if self.last_stdout is None:
            return None
        try:
            return json.loads(self.last_stdout.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def shell_text(command: Sequence[str]) -> str:
    """The command as one could paste it into a shell."""
    import shlex

    return " ".join(shlex.quote(part) for part in command)


class Runner:
    """Times whole processes; every command's output goes to files in the work folder."""

    def __init__(self, workdir: Path, repeat: int) -> None:
        self.workdir = workdir
        self.repeat = repeat
        self.counter = 0
        self.time_binary = self._find_gnu_time()
        self.launcher = workdir / "peak_rss.py"
        self.launcher.write_text(PEAK_RSS_LAUNCHER, encoding="utf-8")

    def measure(
        self,
        commands: dict[str, list[str]],
        repeat: int | None = None,
        env: dict[str, str] | None = None,
    ) -> dict[str, Timing]:
        """Run each command ``repeat`` times, interleaved, and keep the wall-clock times.

        The environment is this process's own unless ``env`` replaces it.
        """
        timings = {key: Timing(command) for key, command in commands.items()}
        for _ in range(repeat or self.repeat):
            for key, timing in timings.items():
                if timing.error is None:
                    self._run_once(key, timing, env)
        return timings

    def _run_once(self, key: str, timing: Timing, env: dict[str, str] | None) -> None:
        self.counter += 1
        stem = f"{self.counter:04d}-{re.sub(r'[^A-Za-z0-9]+', '-', key)}"
        stdout_path = self.workdir / f"{stem}.out"
        stderr_path = self.workdir / f"{stem}.err"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            start = time.perf_counter()
            try:
                completed = subprocess.run(
                    timing.command,
                    stdout=stdout,
                    stderr=stderr,
                    env=env,
                    timeout=RUN_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                timing.error = f"{shell_text(timing.command)}\n  {exc}"
                return
            elapsed = time.perf_counter() - start
        if completed.returncode != 0:
            tail = stderr_path.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
            timing.error = (
                f"exit {completed.returncode}: {shell_text(timing.command)}\n"
                + textwrap.indent(tail or "(no stderr)", "  ")
            )
            return
        timing.runs.append(elapsed)
        if timing.last_stdout is not None and timing.last_stdout != stdout_path:
            timing.last_stdout.unlink(missing_ok=True)  # big outputs: keep only the last run's
        timing.last_stdout = stdout_path
        if stdout_path.stat().st_size <= 1_000_000:
            timing.outputs.append(stdout_path.read_text(encoding="utf-8", errors="replace"))
        stderr_path.unlink(missing_ok=True)

    # --- peak memory -----------------------------------------------------------------
    @staticmethod
    def _find_gnu_time() -> str | None:
        """/usr/bin/time if it is GNU time (it understands -v and -o)."""
        binary = "/usr/bin/time"
        if not os.access(binary, os.X_OK):
            return None
        try:
            probe = subprocess.run(
                [binary, "-v", "true"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return binary if "Maximum resident set size" in probe.stderr else None

    @property
    def memory_method(self) -> str:
        if self.time_binary:
            return f"{self.time_binary} -v"
        return "a Python launcher reporting ru_maxrss of its child"

    def peak_rss_mb(self, command: list[str]) -> tuple[float | None, str | None]:
        """Peak resident set size of one run of ``command`` in MB, or (None, error)."""
        self.counter += 1
        report = self.workdir / f"{self.counter:04d}-rss.txt"
        if self.time_binary:
            wrapped = [self.time_binary, "-v", "-o", str(report), *command]
        else:
            wrapped = [PYTHON, str(self.launcher), str(report), *command]
        try:
            completed = subprocess.run(
                wrapped,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=RUN_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{shell_text(command)}\n  {exc}"
        if completed.returncode != 0:
            tail = completed.stderr.decode("utf-8", "replace").strip()[-2000:]
            return None, f"exit {completed.returncode}: {shell_text(command)}\n  {tail}"
        text = report.read_text(encoding="utf-8", errors="replace") if report.exists() else ""
        match = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
        if match is None:
            return None, f"no peak memory reported for {shell_text(command)}"
        return int(match.group(1)) * 1024 / 1e6, None


# Used when GNU time is absent: runs the command and writes the child's peak RSS like GNU time.
PEAK_RSS_LAUNCHER = '''\
import resource, subprocess, sys

report, command = sys.argv[1], sys.argv[2:]
code = subprocess.call(command)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if sys.platform == "darwin":  # bytes there, kilobytes on Linux
    peak //= 1024
with open(report, "w") as file:
    file.write(f"Maximum resident set size (kbytes): {peak}\\n")
sys.exit(code)
'''


# ----------------------------------------------------------------------------- context
@dataclass
class Context:
    runner: Runner
    sizes: Sizes
    workdir: Path
    backtrace: list[str]  # how to start backtrace
    torch: bool  # whether `import torch` works here
    files: dict[str, Path] = field(default_factory=dict)  # generated data, by description

    def write_script(self, name: str, source: str) -> Path:
        path = self.workdir / name
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        return path

    def line_csv(self, rows: int) -> Path:
        """x,y with y = 3x - 1 + noise, x uniform in [-1, 1]; fixed seed, plain Python."""
        key = f"line-{rows}"
        if key not in self.files:
            rng = random.Random(SEED + rows)
            path = self.workdir / f"line-{rows}.csv"
            with open(path, "w", encoding="utf-8", newline="") as file:
                file.write("x,y\n")
                lines = []
                for _ in range(rows):
                    x = rng.uniform(-1.0, 1.0)
                    y = 3.0 * x - 1.0 + rng.gauss(0.0, 0.1)
                    lines.append(f"{x:.6f},{y:.6f}\n")
                file.writelines(lines)
            self.files[key] = path
        return self.files[key]


def seconds_text(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value >= 0.1 else f"{value:.4f}"


def relative_difference(first: dict, second: dict) -> float:
    """Largest relative difference between two {name: number} maps on their common names."""
    worst = 0.0
    for name in first.keys() & second.keys():
        a, b = float(first[name]), float(second[name])
        worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-300))
    return worst


def collect_errors(report: Report, workload: str, timings: dict[str, Timing]) -> str | None:
    """Record the errors of a measurement; return the first as the row's error, if any."""
    first = None
    for timing in timings.values():
        if timing.error:
            report.errors.append(f"{workload}: {timing.error}")
            first = first or timing.error.splitlines()[0]
    return first


# ============================================================================ 1. sgd-row
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


# ============================================================================ 2. full-batch
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


# ============================================================================ 3. big-graph
def graph_constants(terms: int) -> list[str]:
    rng = random.Random(SEED + terms)
    return [f"{rng.uniform(0.5, 1.5):.6f}" for _ in range(terms)]


def graph_expression(constants: Sequence[str]) -> str:
    """x*c1 + x*c2 + ...: per term a constant and a product, and an add between terms."""
    return " + ".join(f"x*{constant}" for constant in constants)


def graph_terms(nodes: int) -> int:
    # Nodes on the tape: x once, then per term a constant and a product, and terms - 1 adds:
    # 1 + 2k + (k - 1) = 3k.
    return max(2, round(nodes / 3))


def graph_straight_line(constants: Sequence[str], torch: bool) -> str:
    """Generated straight-line Python: forward, then (without torch) the reverse sweep by hand.

    Every constant is one we formatted ourselves, so the generated text is only numbers and
    our own names.
    """
    lines = ["import json, sys, time"]
    lines += ["import torch"] if torch else []
    lines += ["", "", "def gradient(x):"]
    lines.append(f"    p1 = x * {constants[0]}")
    lines.append("    s1 = p1")
    for index, constant in enumerate(constants[1:], start=2):
        lines.append(f"    p{index} = x * {constant}")
        lines.append(f"    s{index} = s{index - 1} + p{index}")
    last = f"s{len(constants)}"
    if torch:
        lines.append(f"    {last}.backward()")
        lines.append(f"    return {last}.item(), x.grad.item()")
    else:
        # Reverse sweep: an add passes its adjoint through unchanged (copy-propagated), so each
        # product x*c adds upstream * c to x's adjoint.
        lines.append("    upstream = 1.0")
        lines.append(f"    adjoint_x = upstream * {constants[0]}")
        for constant in constants[1:]:
            lines.append(f"    adjoint_x += upstream * {constant}")
        lines.append(f"    return {last}, adjoint_x")
    if torch:
        make_x = "torch.tensor(float(sys.argv[1]), dtype=torch.float64, requires_grad=True)"
    else:
        make_x = "float(sys.argv[1])"
    lines += [
        "",
        "",
        "times = []",
        "for _ in range(int(sys.argv[2])):",
        f"    x = {make_x}",
        "    start = time.perf_counter()",
        "    value, derivative = gradient(x)",
        "    times.append(time.perf_counter() - start)",
        'print(json.dumps({"value": value, "gradient": derivative, "seconds": sorted(times)}))',
        "",
    ]
    return "\n".join(lines)


def big_graph(context: Context, report: Report) -> None:
    results = {}
    for nodes in context.sizes.graph_nodes:
        constants = graph_constants(graph_terms(nodes))
        expression = context.workdir / f"graph-{nodes}.txt"
        expression.write_text(graph_expression(constants) + "\n", encoding="utf-8")
        baseline = context.workdir / f"graph_{nodes}_baseline.py"
        baseline.write_text(graph_straight_line(constants, torch=False), encoding="utf-8")
        commands = {
            "backtrace": [*context.backtrace, "grad", f"@{expression}", "x=1.5", "--no-check",
                          "--format", "json"],
            "baseline": [PYTHON, str(baseline), "1.5", "5"],
        }
        if context.torch:
            script = context.workdir / f"graph_{nodes}_torch.py"
            script.write_text(graph_straight_line(constants, torch=True), encoding="utf-8")
            commands["torch"] = [PYTHON, str(script), "1.5", "5"]
        timings = context.runner.measure(commands)
        error = collect_errors(report, "big-graph", timings)
        document = timings["backtrace"].last_json() or {}
        counted = len(document.get("forward", [])) or 3 * len(constants)
        results[nodes] = (timings, counted, error)

        def in_process(key: str, timings=timings) -> float | None:
            timing = timings.get(key)
            if timing is None or not timing.outputs:
                return None
            return statistics.median(json.loads(output)["seconds"][0] for output in timing.outputs)

        goal = None
        if nodes == max(context.sizes.graph_nodes):
            goal = Goal("<= 1 s (backtrace)", 1.0, measure="seconds")
        report.rows.append(Row("big-graph", f"big-graph {counted:,} nodes",
                               timings["backtrace"].seconds, timings["baseline"].seconds,
                               timings["torch"].seconds if "torch" in timings else None,
                               goal, error=error, against="straight-line Python"))
        per_op = []
        for label, seconds in (("straight-line Python", in_process("baseline")),
                               ("PyTorch", in_process("torch"))):
            if seconds is not None:
                per_op.append(f"{label} {seconds * 1e6 / counted:.3f}")
        if per_op:
            report.notes.append(f"big-graph {counted:,} nodes: µs per node for one gradient, "
                                f"in process (best of 5 calls): {', '.join(per_op)}.")
        baseline_value = timings["baseline"].last_json()
        if document and baseline_value:
            difference = relative_difference(document.get("gradients", {}),
                                             {"x": baseline_value["gradient"]})
            report.notes.append(f"big-graph {counted:,} nodes: gradient agrees with the "
                                f"straight-line code to {difference:.1e} (relative).")

    small, large = sorted(results)
    (small_timings, small_nodes, small_error) = results[small]
    (large_timings, large_nodes, large_error) = results[large]
    report.rows.append(Row(
        "big-graph",
        "big-graph growth",
        large_timings["backtrace"].seconds, small_timings["backtrace"].seconds, None,
        Goal("ratio <= 12", 12.0),  # the sizes are 10x apart: linear growth would be 10
        error=small_error or large_error,
        against=f"backtrace, {small_nodes:,} nodes",
    ))
    large_seconds = large_timings["backtrace"].seconds
    small_seconds = small_timings["backtrace"].seconds
    if large_seconds is not None and small_seconds is not None:
        marginal = (large_seconds - small_seconds) / (large_nodes - small_nodes)
        report.notes.append(f"big-graph: backtrace's marginal cost, whole process, "
                            f"{marginal * 1e6:.3f} µs per node (difference of the two sizes).")
    report.notes.append("big-graph: the baseline column is the generated straight-line "
                        "script's whole process (compiling it included); PyTorch runs the "
                        "same straight-line forward on a tensor, then backward().")


# ============================================================================ 4. startup
def imported_modules(context: Context, arguments: list[str]) -> set[str] | None:
    """Top-level modules a backtrace command imports, from ``python -X importtime``."""
    command = [PYTHON, "-X", "importtime", "-m", "backtrace_cli", *arguments]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                   check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = set()
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def startup(context: Context, report: Report) -> None:
    small_grad = ["grad", "x*w", "x=2", "w=3", "--format", "json"]
    commands = {
        "pass": [PYTHON, "-c", "pass"],
        "click-rich": [PYTHON, "-c", "import click, rich.console"],
        "sympy": [PYTHON, "-c", "import sympy"],
        "help": [*context.backtrace, "--help"],
        "grad-no-check": [*context.backtrace, *small_grad, "--no-check"],
        "grad-check": [*context.backtrace, *small_grad],
    }
    if context.torch:
        commands["torch"] = [PYTHON, "-c", "import torch"]
    timings = context.runner.measure(commands)
    error = collect_errors(report, "startup", timings)

    def seconds(key: str) -> float | None:
        return timings[key].seconds if key in timings else None

    report.rows += [
        Row("startup", "startup reference", None, seconds("pass"), error=error,
            against="python -c pass"),
        Row("startup", "startup --help", seconds("help"), seconds("click-rich"),
            seconds("torch"), Goal("ratio <= 2", 2.0), error=error,
            against="import click, rich.console"),
        Row("startup", "startup grad --no-check", seconds("grad-no-check"),
            seconds("click-rich"), None, Goal("ratio <= 2", 2.0), error=error,
            against="import click, rich.console"),
        Row("startup", "startup grad (check)", seconds("grad-check"), seconds("sympy"), None,
            Goal("ratio <= 1.5", 1.5), error=error, against="import sympy"),
    ]
    for label, arguments in (("--help", ["--help"]),
                             ("grad --no-check", [*small_grad, "--no-check"])):
        modules = imported_modules(context, arguments)
        if modules is None:
            continue
        found = ", ".join(f"{name} {'yes' if name in modules else 'no'}"
                          for name in ("numpy", "sympy", "torch"))
        report.notes.append(f"startup: `backtrace {label}` imports: {found}.")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        bytecode_note(context, report, {key: commands[key] for key in ("help", "grad-no-check")})


def bytecode_note(context: Context, report: Report, commands: dict[str, list[str]]) -> None:
    """Startup with a bytecode cache, for reference, when this environment disables writing it.

    With PYTHONDONTWRITEBYTECODE set, modules without a .pyc (an editable install's own) are
    compiled from source at every start, while installed libraries ship theirs. The table keeps
    the environment as it is; this note shows what a cache would change.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE")
    env["PYTHONPYCACHEPREFIX"] = str(context.workdir / "pycache")
    context.runner.measure(commands, repeat=1, env=env)  # fills the cache
    timings = context.runner.measure(commands, env=env)
    if any(timing.error for timing in timings.values()):
        return
    figures = ", ".join(f"{key} {seconds_text(timing.seconds)} s"
                        for key, timing in timings.items())
    report.notes.append(
        "startup: PYTHONDONTWRITEBYTECODE is set here, so backtrace's own modules are compiled "
        f"at every start; with a bytecode cache: {figures}."
    )


# ============================================================================ 5. csv
def csv_load(context: Context, report: Report) -> None:
    rows = context.sizes.csv_rows
    data = str(context.line_csv(rows))
    commands = {
        "backtrace": [PYTHON, "-c",
                      "import sys; from backtrace_cli.data.reader import load_csv; "
                      "load_csv(sys.argv[1])",
                      data],
        "numpy": [PYTHON, "-c",
                  "import sys, numpy; numpy.loadtxt(sys.argv[1], delimiter=',', skiprows=1)",
                  data],
    }
    pandas = has_module("pandas")
    if pandas:
        commands["pandas"] = [PYTHON, "-c", "import sys, pandas; pandas.read_csv(sys.argv[1])",
                              data]
    timings = context.runner.measure(commands)
    error = collect_errors(report, "csv", timings)
    report.rows.append(Row("csv", f"csv {rows:,} x 2", timings["backtrace"].seconds,
                           timings["numpy"].seconds, None, Goal("ratio <= 1.0", 1.0),
                           error=error, against="numpy.loadtxt"))
    if pandas:
        report.rows.append(Row("csv", f"csv {rows:,} x 2 (the aim)",
                               timings["backtrace"].seconds, timings["pandas"].seconds, None,
                               None, error=error, against="pandas.read_csv"))
    else:
        report.notes.append("csv: pandas is not installed, so its read_csv row is left out.")


# ============================================================================ 6. sympy-1000
SYMPY_TERMS = (
    # (template, nodes it adds besides the shared x and y)
    ("{a}*sin({b}*x + {c}*y)", 8),
    ("tanh({a}*x - y*{b})*{c}", 8),
    ("{b}*exp(-x*y*{a})", 7),
    ("cos(x*y + {a})*({b} + x)", 7),
)

SYMPY_BASELINE = """\
    # SymPy by itself: parse the expression, differentiate for x and y, evaluate.
    import json, sys

    import sympy

    x, y = sympy.symbols("x y")
    with open(sys.argv[1]) as file:
        expression = sympy.sympify(file.read(), locals={"x": x, "y": y})
    values = {}
    for name, symbol in (("x", x), ("y", y)):
        derivative = sympy.diff(expression, symbol)
        values[name] = float(sympy.lambdify((x, y), derivative, "math")(0.5, 1.5))
    print(json.dumps(values))
"""


def sympy_expression(nodes: int) -> str:
    """A sum of varied terms in x and y with about ``nodes`` nodes on backtrace's tape."""
    rng = random.Random(SEED + nodes)
    terms, count = [], 2  # x and y
    while count < nodes:
        template, added = SYMPY_TERMS[len(terms) % len(SYMPY_TERMS)]
        numbers = {key: f"{rng.uniform(0.2, 2.0):.3f}" for key in "abc"}
        terms.append(template.format(**numbers))
        count += added + (1 if len(terms) > 1 else 0)  # the add that joins the term
    return " + ".join(terms)


def sympy_check(context: Context, report: Report) -> None:
    expression = context.workdir / f"sympy-{context.sizes.sympy_nodes}.txt"
    expression.write_text(sympy_expression(context.sizes.sympy_nodes) + "\n", encoding="utf-8")
    baseline = context.write_script("sympy_baseline.py", SYMPY_BASELINE)
    commands = {
        "backtrace": [*context.backtrace, "grad", f"@{expression}", "x=0.5", "y=1.5",
                      "--format", "json"],
        "baseline": [PYTHON, str(baseline), str(expression)],
    }
    timings = context.runner.measure(commands)
    error = collect_errors(report, "sympy-1000", timings)
    document = timings["backtrace"].last_json() or {}
    nodes = len(document.get("forward", []))
    check = document.get("check") or {}
    notes = [entry.get("note") for entry in (check.get("sympy") or {}).values()]
    skipped = [note for note in notes if note and note.startswith("skipped")]
    if not document:
        outcome = "no JSON output"
    elif skipped:
        outcome = f"the SymPy check was {skipped[0]}"
    else:
        outcome = f"the SymPy check ran (ok: {check.get('ok')})"
    report.notes.append(f"sympy-1000: {outcome}.")
    report.notes.append("sympy-1000: the baseline is SymPy alone: sympify, diff for x and y, "
                        "lambdify and evaluate.")
    report.rows.append(Row("sympy-1000", f"sympy-1000 {nodes:,} nodes, check on",
                           timings["backtrace"].seconds, timings["baseline"].seconds, None,
                           Goal("<= 3 s or skipped", 3.0, measure="seconds"),
                           met_otherwise=bool(skipped), error=error,
                           against="SymPy diff + lambdify"))


# ----------------------------------------------------------------------------- the table
WORKLOADS: dict[str, Callable[[Context, Report], None]] = {
    "sgd-row": sgd_row,
    "full-batch": full_batch,
    "big-graph": big_graph,
    "startup": startup,
    "csv": csv_load,
    "sympy-1000": sympy_check,
}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   right: Sequence[bool]) -> str:
    widths = [max(len(cells[index]) for cells in (header, *rows)) for index in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.rjust(width) if align else cell.ljust(width)
                  for cell, width, align in zip(cells, widths, right, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (width + 1) + ":") if align else ("-" * (width + 2))
                          for width, align in zip(widths, right, strict=True)) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in rows)])


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def render(report: Report, meta: dict) -> str:
    timing_rows = [
        (row.name, seconds_text(row.backtrace), row.against, seconds_text(row.baseline),
         ratio(row.ratio),
         row.goal.text if row.goal else "–", seconds_text(row.torch), row.verdict)
        for row in report.rows
    ]
    parts = [
        f"backtrace benchmarks: {meta['date']}, {meta['platform']}, {meta['cpus']} CPUs, "
        f"Python {meta['python']}",
        f"backtrace {meta['backtrace_version']}, NumPy {meta['numpy']}, PyTorch "
        f"{meta['torch'] or 'not installed'}; median of {meta['repeat']} runs of whole "
        f"processes{' (--quick sizes)' if meta['quick'] else ''}; load average "
        f"{meta['load_before']} before, {meta['load_after']} after",
        "",
        markdown_table(
            ("workload", "backtrace (s)", "baseline", "baseline (s)", "ratio", "goal",
             "PyTorch (s)", "verdict"),
            timing_rows,
            (False, True, False, True, True, False, True, False),
        ),
    ]
    if report.memory:
        memory_rows = [
            (row.name, f"{row.peak_mb:.1f}" if row.peak_mb is not None else "–",
             f"{row.small_mb:.1f}" if row.small_mb is not None else "–",
             f"{row.growth_mb:.1f}" if row.growth_mb is not None else "–",
             f"{row.data_mb:.1f}", ratio(row.growth_ratio),
             f"<= {row.goal:g}" if row.goal is not None else "–", row.verdict)
            for row in report.memory
        ]
        parts += [
            "",
            f"Peak memory of full-batch ({meta['memory_method']}); growth = peak - the same "
            "command's peak on a tiny file; data = rows x 2 x 8 bytes",
            "",
            markdown_table(
                ("process", "peak (MB)", "tiny file (MB)", "growth (MB)", "data (MB)",
                 "growth / data", "goal", "verdict"),
                memory_rows,
                (False, True, True, True, True, True, False, False),
            ),
        ]
    if report.notes:
        parts += ["", "Notes:", *(f"- {note}" for note in report.notes)]
    if report.errors:
        parts += ["", "Failures (exact command and its stderr):",
                  *(f"- {error}" for error in report.errors)]
    return "\n".join(parts)


# ----------------------------------------------------------------------------- main
def has_module(name: str) -> bool:
    """Whether ``import name`` works in a fresh interpreter (never imported here)."""
    try:
        completed = subprocess.run([PYTHON, "-c", f"import {name}"], capture_output=True,
                                   timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0


def module_version(name: str) -> str | None:
    try:
        completed = subprocess.run([PYTHON, "-c", f"import {name}; print({name}.__version__)"],
                                   capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine slows both sides of a ratio."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def backtrace_command() -> list[str]:
    """The installed ``backtrace`` script, else ``python -m backtrace_cli``."""
    found = shutil.which("backtrace")
    return [found] if found else [PYTHON, "-m", "backtrace_cli"]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time backtrace against hand-written baselines (and PyTorch, if installed).",
        epilog=f"Workloads: {', '.join(WORKLOADS)}.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and one run each: finishes in seconds")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help="runs per command; the median is reported (default 5, 1 with "
                             "--quick)")
    parser.add_argument("--only", default=None, metavar="NAME,...",
                        help="run only these workloads")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the results as JSON")
    arguments = parser.parse_args(argv)
    if arguments.repeat is not None and arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    if arguments.only:
        names = [name.strip() for name in arguments.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload(s): {', '.join(unknown)}; "
                         f"choose from {', '.join(WORKLOADS)}")
        arguments.only = names
    else:
        arguments.only = list(WORKLOADS)
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    repeat = arguments.repeat or (1 if arguments.quick else 5)
    sizes = QUICK if arguments.quick else Sizes()
    backtrace = backtrace_command()
    version = subprocess.run([*backtrace, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    torch_version = module_version("torch")
    with tempfile.TemporaryDirectory(prefix="backtrace-bench-") as folder:
        workdir = Path(folder)
        runner = Runner(workdir, repeat)
        context = Context(runner, sizes, workdir, backtrace, torch=torch_version is not None)
        meta = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "backtrace_version": version.split()[-1] if version else "?",
            "backtrace_command": backtrace,
            "numpy": module_version("numpy"),
            "torch": torch_version,
            "repeat": repeat,
            "quick": arguments.quick,
            "sizes": asdict(sizes),
            "memory_method": runner.memory_method,
            "seed": SEED,
            "load_before": load_average(),
        }
        report = Report()
        for name in arguments.only:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            start = time.perf_counter()
            try:
                WORKLOADS[name](context, report)
            except Exception as exc:  # report and go on: one broken workload hides no other
                report.errors.append(f"{name}: the benchmark script failed: {exc!r}")
                report.rows.append(Row(name, f"{name}: not measured", None, None,
                                       error=repr(exc)))
            print(f"  {name} took {time.perf_counter() - start:.1f} s", file=sys.stderr,
                  flush=True)
        meta["load_after"] = load_average()
    print(render(report, meta))
    if arguments.json:
        document = {
            "meta": meta,
            "rows": [row.document() for row in report.rows],
            "memory": [row.document() for row in report.memory],
            "notes": report.notes,
            "errors": report.errors,
        }
        Path(arguments.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
