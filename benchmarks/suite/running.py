"""The run workloads: `backtrace run` on the course's own PyTorch programs against `python`
running the same file with real PyTorch 2.13 (issue 23's two ratios).

Both sides are whole processes (start-up and imports included: PyTorch's import alone takes
about a second), interleaved, medians of N runs. The PyTorch side is skipped when ``import
torch`` fails; the row then has no ratio. A note says whether the two printed the same.
"""

from __future__ import annotations

from pathlib import Path

from .context import Context, collect_errors
from .processes import PYTHON
from .results import Goal, Report, Row

# The programs themselves, kept once: the lecture's own (the README runs it too) and lecture 05
# as the tests run it against PyTorch's captured output.
REPOSITORY = Path(__file__).resolve().parents[2]
LECTURE_04 = REPOSITORY / "samples" / "lecture04.py"
LECTURE_05 = REPOSITORY / "tests" / "data" / "run" / "lecture05_seed.py"


PROGRAMS = (
    ("lecture04.py", LECTURE_04, "run lecture 04 (100 epochs, 300 backward())"),
    ("lecture05.py", LECTURE_05, "run lecture 05 (nn.Linear, MSELoss, SGD, 100 epochs)"),
)


def run_programs(context: Context, report: Report) -> None:
    for name, source, label in PROGRAMS:
        script = context.write_script(name, source.read_text(encoding="utf-8"))
        commands = {"backtrace": [*context.backtrace, "run", "--quiet", str(script)]}
        if context.torch:
            commands["torch"] = [PYTHON, str(script)]
        timings = context.runner.measure(commands)
        error = collect_errors(report, "run", timings)
        mine = timings["backtrace"].seconds
        theirs = timings["torch"].seconds if "torch" in timings else None
        report.rows.append(Row("run", label, mine, theirs, theirs, Goal("ratio <= 0.3", 0.3),
                               error=error, against="python + PyTorch, same file"))
        if theirs is None:
            report.notes.append(f"run {name}: PyTorch is not importable here; only backtrace "
                                "was timed.")
            continue
        ours, pytorch = timings["backtrace"].outputs, timings["torch"].outputs
        same = bool(ours) and bool(pytorch) and ours[-1] == pytorch[-1]
        lines = len(ours[-1].splitlines()) if ours else 0
        report.notes.append(f"run {name}: backtrace's stdout ({lines} lines) is "
                            f"{'identical to' if same else 'NOT identical to'} PyTorch's.")
