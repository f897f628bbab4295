"""What a value is: the one answer to "is this an array?" for every layer above the engine.

A program's values are Python floats (scalar programs, as they always were) or NumPy arrays
of at least one dimension; a NumPy 0-d array or scalar counts as a number.
"""

from __future__ import annotations


def is_array(value) -> bool:
    """True for an array of one or more dimensions; False for a number (float, 0-d array)."""
    return getattr(value, "ndim", 0) > 0
