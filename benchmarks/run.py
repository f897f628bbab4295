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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

# Run as a script, this file's folder is first on sys.path, so `suite` is benchmarks/suite.
from suite.context import Context
from suite.csv_load import csv_load
from suite.gradients import big_graph, sympy_check
from suite.hessian import hessian
from suite.processes import PYTHON, Runner, module_version
from suite.results import QUICK, SEED, Report, Row, Sizes
from suite.running import run_programs
from suite.startup import startup
from suite.streaming import stream
from suite.table import render
from suite.training import full_batch, sgd_row

# The workloads in the order they run and appear in the table.
WORKLOADS: dict[str, Callable[[Context, Report], None]] = {
    "sgd-row": sgd_row,
    "full-batch": full_batch,
    "stream": stream,
    "big-graph": big_graph,
    "startup": startup,
    "csv": csv_load,
    "sympy-1000": sympy_check,
    "hessian": hessian,
    "run": run_programs,
}


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
