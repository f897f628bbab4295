"""How numbers and text look in a report: one place for every writer.

Numbers are written as the shortest text that reads back to the same float (``repr``);
arrays compactly for people (4 significant digits, cut in the middle), in full for JSON.
"""

from __future__ import annotations

from backtrace_cli.engine.values import shape_of
from backtrace_cli.syntax.parser import format_array, format_number


def number(value) -> str:
    """Shortest round-trip text of a number: 6, 0.7071067811865476, 1e-05; an array compactly."""
    if shape_of(value):
        return compact_array(value)
    return format_number(float(value))


# An array in a table shows 4 significant digits, and at most this many elements per axis
# (the first and last ones around "…"); JSON always has every element in full.
ARRAY_EDGE_ITEMS = 3
ARRAY_THRESHOLD = 36


def compact_array(value) -> str:
    """[[0.1966, 0.3932], [0.2288, 0.4576]]: nested lists, rounded, cut in the middle."""
    return format_array(value, 4, ARRAY_THRESHOLD, ARRAY_EDGE_ITEMS)


def approx(value) -> str:
    """Ten significant digits, for values that are estimates (finite differences)."""
    if shape_of(value):
        return compact_array(value)
    return f"{float(value):.10g}"


def one_line(text: str, limit: int = 70) -> str:
    flat = "; ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK) characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
