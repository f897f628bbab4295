"""The benchmark suite runs on tiny sizes and reports every workload (no timing assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
WORKLOADS = ("sgd-row", "full-batch", "stream", "big-graph", "startup", "csv", "sympy-1000",
             "hessian", "run")


def test_quick_benchmark_reports_every_workload(tmp_path: Path) -> None:
    output = tmp_path / "out.json"
    completed = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--repeat", "1", "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "| workload" in completed.stdout
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["errors"] == [], document["errors"]
    rows = document["rows"]
    for workload in WORKLOADS:
        measured = [row for row in rows if row["workload"] == workload]
        assert measured, f"no row for {workload}"
        assert any(row["backtrace"] for row in measured), f"backtrace not timed for {workload}"
    for row in rows:
        assert row["error"] is None, row
        if row["workload"] == "run" and document["meta"]["torch"] is None:
            assert row["baseline"] is None, row  # its baseline is PyTorch itself
            continue
        assert row["baseline"] is not None and row["baseline"] > 0, row
        for column in ("backtrace", "torch"):
            assert row[column] is None or row[column] > 0, row
        assert row["verdict"] in ("meets goal", "misses goal", "–"), row
    assert document["memory"], "no peak-memory rows"
    for row in document["memory"]:
        assert row["peak_mb"] > 0, row


def test_unknown_workload_is_a_usage_error() -> None:
    completed = subprocess.run(
        [sys.executable, str(RUN), "--only", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "unknown workload" in completed.stderr


def test_the_script_runs_from_any_folder(tmp_path: Path) -> None:
    """run.py finds its own modules (benchmarks/suite) whatever the working folder."""
    completed = subprocess.run(
        [sys.executable, str(RUN), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert completed.returncode == 0, completed.stderr
    assert f"Workloads: {', '.join(WORKLOADS)}." in completed.stdout


def test_repeat_below_one_is_a_usage_error() -> None:
    completed = subprocess.run(
        [sys.executable, str(RUN), "--repeat", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "--repeat must be at least 1" in completed.stderr


def test_rows_and_the_table(monkeypatch) -> None:
    """The verdicts and the table's layout, without running a process."""
    monkeypatch.syspath_prepend(str(RUN.parent))
    from suite.results import Goal, MemoryRow, Row
    from suite.table import markdown_table

    slow = Row("csv", "csv 10 x 2", 0.5, 0.25, None, Goal("ratio <= 1.0", 1.0))
    assert (slow.ratio, slow.verdict) == (2.0, "misses goal")
    skipped = Row("sympy-1000", "s", 4.0, 1.0, goal=Goal("<= 3 s", 3.0, measure="seconds"),
                  met_otherwise=True)
    assert skipped.verdict == "meets goal"
    assert Row("csv", "c", 4.0, 1.0, goal=Goal("<= 3 s", 3.0, "seconds")).verdict == "misses goal"
    assert Row("csv", "c", None, 1.0, error="exit 2: x").verdict == "failed"
    assert Row("startup", "reference", None, 0.2).verdict == "–"
    memory = MemoryRow("train", peak_mb=70.0, small_mb=40.0, data_mb=16.0, goal=2.0)
    assert (memory.growth_mb, memory.growth_ratio, memory.verdict) == (30.0, 1.875, "meets goal")
    assert markdown_table(("a", "bb"), [("x", "1")], (False, True)) == (
        "| a | bb |\n|---|---:|\n| x |  1 |"
    )
