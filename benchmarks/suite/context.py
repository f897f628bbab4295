"""What every workload gets: the runner, the sizes, the work folder and the generated data."""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .processes import Runner, Timing
from .results import SEED, Report, Sizes


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


def collect_errors(report: Report, workload: str, timings: dict[str, Timing]) -> str | None:
    """Record the errors of a measurement; return the first as the row's error, if any."""
    first = None
    for timing in timings.values():
        if timing.error:
            report.errors.append(f"{workload}: {timing.error}")
            first = first or timing.error.splitlines()[0]
    return first
