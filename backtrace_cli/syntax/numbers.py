"""Numbers and arrays as users write them, read the same way wherever they are read.

Bindings, ``--dz``, ``--param``, ``--init``, answers files and worksheet cells all hold
numbers and JSON nested lists. Two limits of the tools underneath must never show through:

- an array has at most ``MAX_DIMENSIONS`` (32) dimensions (limits.py says why): deeper
  nesting is refused here, before NumPy or the JSON reader (whose recursion ends near 1,000
  levels) sees it;
- Python converts at most 4,300 digits between text and ``int``: a longer integer is read
  as the float it is (too large for one: ``NumberTooLarge``), never as an ``int``.
"""

from __future__ import annotations

import json
import math
import re

from backtrace_cli.i18n import N_, _, translated
from backtrace_cli.limits import MAX_DIMENSIONS

TOO_DEEP = N_("{what}: the array is nested {depth:,} levels deep; an array has at most "
              "{limit} dimensions")
TOO_MANY_SIZES = N_("{what}: the shape has {count:,} sizes; an array has at most {limit} "
                    "dimensions")
TOO_LARGE = N_("{what}: {text} is too large for a float")
TOO_LARGE_HINT = N_("values must be at most about 1.8e308 in size")

# A number as users write it: decimal or scientific, ASCII digits (no nan, inf, 1_000, 0x1f).
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_LONG_NUMBER = re.compile(r"[0-9]{40,}")


def shortened(text: str) -> str:
    """``text`` with every run of 40 digits or more cut to its ends and its length
    (``1111111111…11111 (5,000 digits)``), so a message quoting it stays one line."""
    return _LONG_NUMBER.sub(
        lambda match: _("{start}…{end} ({count:,} digits)").format(
            start=match.group()[:10], end=match.group()[-5:], count=len(match.group())),
        text)


def number_text(value) -> str:
    """A number as a message shows it: a huge integer by its ends and its digit count (Python
    refuses to write an int of more than 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > 14_000:  # > 4,214 digits
        return _("an integer of about {count:,} digits").format(
            count=int(value.bit_length() * 0.30103) + 1)
    return shortened(str(value))


class NumberTooLarge(ValueError):
    """A number beyond the float range met while reading JSON; ``text`` is how it was
    written."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def message(self, what: str) -> str:
        return translated(TOO_LARGE).format(what=what, text=shortened(self.text))


def _json_int(text: str):
    if len(text) > 300:  # beyond the float range (about 1.8e308) and maybe the int limit
        raise NumberTooLarge(text)
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NumberTooLarge(text)
    return value


def _refuse_constant(name: str):
    raise ValueError(_("{name} is not a number here; values must be finite").format(name=name))


def loads(text: str, parse_constant=_refuse_constant, strict: bool = True, parse_float=None):
    """JSON text from a user: ``NaN`` and ``Infinity`` refused (by ``parse_constant``), a
    number beyond the float range a ``NumberTooLarge`` (with ``strict`` False: ±inf, for a
    caller that refuses what is not finite in its own words), nesting deeper than
    MAX_DIMENSIONS a ``NestedTooDeeply``; otherwise ``json.loads``."""
    depth, offset = deepest(text)
    if depth > MAX_DIMENSIONS:
        raise NestedTooDeeply(depth, offset)
    return decoder(parse_constant, strict, parse_float).decode(text)


def decoder(parse_constant=_refuse_constant, strict: bool = True,
            parse_float=None) -> json.JSONDecoder:
    """A JSON decoder that reads numbers as ``loads`` does (for ``raw_decode``); a caller
    that refuses what is not finite in place gives its own ``parse_float``."""
    if not strict:  # float() reads any number of digits; past the range it is ±inf
        return json.JSONDecoder(parse_int=_lenient_int, parse_float=float,
                                parse_constant=parse_constant)
    return json.JSONDecoder(parse_int=_json_int, parse_float=parse_float or _json_float,
                            parse_constant=parse_constant)


def _lenient_int(text: str):
    return int(text) if len(text) <= 300 else float(text)


class NestedTooDeeply(ValueError):
    """Lists nested deeper than an array can be; ``offset`` is the bracket that goes one
    level too deep (from 0), when the value was text."""

    def __init__(self, depth: int, offset: int | None = None) -> None:
        super().__init__(depth)
        self.depth = depth
        self.offset = offset

    def message(self, what: str) -> str:
        return translated(TOO_DEEP).format(what=what, depth=self.depth, limit=MAX_DIMENSIONS)


def deepest(text: str) -> tuple[int, int | None]:
    """The deepest nesting of ``[`` in JSON text (strings skipped; objects do not count)
    and the offset of the first bracket past MAX_DIMENSIONS (None when none is). One pass,
    no recursion."""
    depth = deepest_depth = 0
    offset = None
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "[":
            depth += 1
            if depth > deepest_depth:
                deepest_depth = depth
                if depth == MAX_DIMENSIONS + 1:
                    offset = index
        elif char == "]":
            depth -= 1
    return deepest_depth, offset


def list_depth(value) -> int:
    """How deep the first elements of nested lists go (``[[1, 2]]`` is 2), without
    recursion."""
    depth = 0
    while isinstance(value, list | tuple) and value:
        depth += 1
        value = value[0]
    return depth
