"""The time a cross-check may take: one validated setting for grad, simplify and the API."""

from __future__ import annotations

import math

from backtrace_cli.errors import UsageError

MIN_SECONDS = 0.1
MAX_SECONDS = 86_400.0  # a day


def checked_timeout(value, field: str = "check_timeout") -> float:
    """``value`` as seconds, refused with a message naming ``field`` unless it is a finite
    number from 0.1 to 86400 (NaN and infinity are refused here, not only by a CLI option)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{field}: {value!r} is not a number of seconds", "give e.g. 5")
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise UsageError(f"{field}: {value} is not a number of seconds",
                         f"give a finite number from {MIN_SECONDS:g} to {MAX_SECONDS:g}, e.g. 5")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise UsageError(f"{field}: {value:g} seconds is out of range",
                         f"give a number from {MIN_SECONDS:g} to {MAX_SECONDS:g} (a day)")
    return seconds
