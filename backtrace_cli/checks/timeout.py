"""The time a cross-check (SymPy in its child process, the finite differences) may take."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from backtrace_cli.errors import setting_error
from backtrace_cli.i18n import _

MIN_SECONDS = 0.1
MAX_SECONDS = 86_400.0  # a day: longer is a mistake, and poll() would overflow its timer


def work_clock() -> float:
    """Seconds of CPU time this thread has used: the clock of the checks' deadlines. A busy
    machine stretches the wall clock, not the work, so it never changes a check's verdict
    (the SymPy child's deadline is its own CPU time too: checks/sandbox.py)."""
    try:
        return time.thread_time()
    except (AttributeError, OSError):  # pragma: no cover - a platform without it
        return time.process_time()


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed for one check, validated: a finite number from 0.1 to 86,400.
    ``field`` is the setting's name in messages (``timeout``, ``check_timeout``)."""

    seconds: float = 5.0
    field: str = "timeout"

    def __post_init__(self) -> None:
        value = self.seconds
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or not MIN_SECONDS <= value <= MAX_SECONDS):
            raise setting_error(
                self.field,
                _(
                    "{field} must be a finite number of seconds from {MIN_SECONDS:g} to "
                    "{MAX_SECONDS:,.0f}, not {value!r}"
                ).format(
                    field=self.field, MIN_SECONDS=MIN_SECONDS, MAX_SECONDS=MAX_SECONDS, value=value
                ),
            )
