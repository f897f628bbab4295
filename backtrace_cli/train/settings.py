"""The settings of a training run, validated when they are made.

``Settings(lr=float("nan"))`` is refused in ``__post_init__`` with the words the CLI prints
(with the field's name, ``lr``, where the CLI says ``--lr``): the Python API and the command
line refuse the same input the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backtrace_cli.errors import setting_error
from backtrace_cli.i18n import _
from backtrace_cli.train.optimizers import OPTIMIZERS

DTYPES = ("float64", "float32")
MAX_EPOCHS = 10_000_000


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive(value, field: str, upper: float | None = None) -> float:
    """A finite number above 0 (and below ``upper``), or a UsageError naming ``field``."""
    if (not _is_number(value) or not math.isfinite(value) or value <= 0
            or (upper is not None and value >= upper)):
        bound = _(" and below {upper:g}").format(upper=upper) if upper is not None else ""
        shown = f"{value:g}" if _is_number(value) else repr(value)
        raise setting_error(
            field,
            _("{field} must be a finite number above 0{bound}, not {shown}").format(
                field=field, bound=bound, shown=shown
            ),
        )
    return value


def fraction(value, field: str) -> float:
    """A number from 0 up to (not including) 1: momentum, Adam's betas."""
    if not _is_number(value) or not 0 <= value < 1:
        shown = f"{value:g}" if _is_number(value) else repr(value)
        raise setting_error(field, _(
            "{field} must be at least 0 and below 1, not {shown}").format(field=field, shown=shown))
    return value


def parse_batch_size(text: str) -> int | None:
    """'full' -> None (the full batch), '32' -> 32."""
    if text.strip().lower() == "full":
        return None
    try:
        size = int(text)
    except ValueError:
        raise setting_error(
            "batch_size",
            _("batch_size: '{text}' is not a whole number or 'full'").format(text=text),
        ) from None
    return size


@dataclass(frozen=True)
class Settings:
    """How to train. ``batch_size`` None is the full batch; ``trace_limit`` is how many
    updates are reported through ``on_update`` (0: none); ``explain_step`` is the 1-based
    update whose row and parameters are captured for an explanation."""

    lr: float = 0.01
    epochs: int = 100
    batch_size: int | None = 1
    shuffle: bool = False
    seed: int = 0
    dtype: str = "float64"
    optimizer: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    trace_limit: int = 0
    explain_step: int | None = None

    def __post_init__(self) -> None:
        positive(self.lr, "lr")
        if not _is_whole(self.epochs) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise setting_error(
                "epochs",
                _("epochs must be between 1 and {MAX_EPOCHS:,}, not {epochs}").format(
                    MAX_EPOCHS=MAX_EPOCHS, epochs=self.epochs
                ),
            )
        if self.batch_size is not None and (not _is_whole(self.batch_size)
                                            or self.batch_size < 1):
            raise setting_error(
                "batch_size",
                _("batch_size must be at least 1, not {batch_size}").format(
                    batch_size=self.batch_size
                ),
            )
        if not _is_whole(self.seed) or self.seed < 0:
            raise setting_error("seed", _(
                "seed must be a whole number >= 0, not {seed!r}").format(seed=self.seed))
        if self.dtype not in DTYPES:
            raise setting_error(
                "dtype",
                _("dtype must be one of {value}, not {dtype!r}").format(
                    value=", ".join(DTYPES), dtype=self.dtype
                ),
            )
        if self.optimizer not in OPTIMIZERS:
            raise setting_error(
                "optimizer",
                _("optimizer must be one of {value}, not {optimizer!r}").format(
                    value=", ".join(OPTIMIZERS), optimizer=self.optimizer
                ),
            )
        fraction(self.momentum, "momentum")
        fraction(self.beta1, "beta1")
        fraction(self.beta2, "beta2")
        positive(self.eps, "eps")
        if not _is_whole(self.trace_limit) or self.trace_limit < 0:
            raise setting_error(
                "trace_limit",
                _("trace_limit must be a whole number >= 0, not {trace_limit!r}").format(
                    trace_limit=self.trace_limit
                ),
            )
        if self.explain_step is not None and (not _is_whole(self.explain_step)
                                              or self.explain_step < 1):
            raise setting_error(
                "explain_step",
                _("explain_step must be at least 1, not {explain_step!r}").format(
                    explain_step=self.explain_step
                ),
            )
