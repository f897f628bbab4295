"""The csv workload: backtrace's CSV reader against NumPy (and pandas when installed)."""

from __future__ import annotations

from .context import Context, collect_errors
from .processes import PYTHON, has_module
from .results import Goal, Report, Row


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
