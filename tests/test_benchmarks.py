"""The benchmark suite runs on tiny sizes and reports every workload (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
WORKLOADS = ("sgd-row", "full-batch", "big-graph", "startup", "csv", "sympy-1000")


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
