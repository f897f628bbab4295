"""What a training run records: its epochs, its traced updates, where it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    loss: float  # mean of the per-row losses seen in the epoch's updates
    last_loss: float  # the loss of the epoch's last update (what the lecture prints)


@dataclass
class Update:
    """One update, as --trace prints it."""

    number: int  # 1-based
    epoch: int
    rows: tuple[int, ...]  # the batch's data rows (1-based), if it has at most TRACE_ROWS
    count: int  # rows in the batch
    data: dict[str, float]  # the row's values (first row of a batch)
    loss: float
    gradients: dict[str, float]
    before: dict[str, float] | None = None  # the parameters before the update
    after: dict[str, float] | None = None  # and after it (None: the update diverged)


@dataclass
class Divergence:
    epoch: int
    update: int
    row: int
    reason: str


@dataclass
class Captured:
    """What --explain-step needs: the row and the parameters before that update."""

    number: int
    epoch: int
    row: int
    batch_rows: int
    bindings: dict[str, float]
    gradients: dict[str, float] | None = None  # the update's (a batch's mean) gradients
    before: dict[str, float] | None = None  # the parameters before the update
    after: dict[str, float] | None = None  # and after it (None: it diverged)


@dataclass
class TrainResult:
    initial: dict[str, float]
    params: dict[str, float]  # after the last finished epoch (or the last finite update)
    history: list[EpochRecord] = field(default_factory=list)
    updates: int = 0
    rows: int = 0
    divergence: Divergence | None = None
    interrupted: bool = False
    captured: Captured | None = None

