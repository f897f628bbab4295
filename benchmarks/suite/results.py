"""The workload sizes and the rows of the two tables, with their goals and verdicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEED = 20240605


@dataclass(frozen=True)
class Sizes:
    """The workload sizes: the issue's for a real run, tiny ones for --quick."""

    sgd_rows: int = 200_000
    sgd_epochs: int = 20
    torch_sgd_fraction: int = 100  # PyTorch's per-row loop runs on 1/fraction of the rows
    batch_rows: int = 1_000_000
    batch_epochs: int = 100
    stream_epochs: int = 30  # the stream workload's epochs (on batch_rows rows)
    memory_small_rows: int = 1_000  # the fixed overhead of a process, subtracted from its peak
    graph_nodes: tuple[int, int] = (10_000, 100_000)
    csv_rows: int = 1_000_000
    sympy_nodes: int = 1_000


QUICK = Sizes(
    sgd_rows=2_000,
    sgd_epochs=2,
    batch_rows=5_000,
    batch_epochs=10,
    stream_epochs=4,
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
