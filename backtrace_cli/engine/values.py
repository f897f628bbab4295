"""What a value is: the one place that knows how a value is stored.

A value has a shape (``()`` for a scalar). It is stored by one of two back ends: Python floats
(the *speed* back end of a program whose values are all scalars) or NumPy arrays of one dtype
(a NumPy 0-d array or scalar counts as a scalar). Every layer above the engine asks these
functions (``shape_of``, ``to_plain``, ``all_finite``, ``as_float64``, ``json_text``, ...) and
never which back end holds a value. NumPy is imported only when a value is an array, so a
scalar program never pays for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from backtrace_cli.engine.backends import FLOAT64, numpy_backend
from backtrace_cli.engine.shapes import infer_shapes


def is_array(value) -> bool:
    """True for an array of one or more dimensions; False for a number (float, 0-d array).
    (The engine's own question; layers above ask for a shape, plain data or finiteness.)"""
    return getattr(value, "ndim", 0) > 0


def shape_of(value) -> tuple:
    """The shape of a value: ``()`` for a scalar (a float, a 0-d array), else the array's."""
    return getattr(value, "shape", ())


def holds_arrays(shapes: Iterable[tuple] | None) -> bool:
    """Whether any of these shapes is an array's (a program that needs the array back end)."""
    return bool(shapes) and any(shapes)  # () is the only falsy shape


def to_plain(value):
    """A value as plain data for ``json.dumps``: a float, or nested lists of floats."""
    if is_array(value):
        return value.tolist()
    return float(value)


def from_plain(value):
    """Plain data as a value: nested lists as a float64 NumPy array, a number as a float (the
    inverse of ``to_plain``)."""
    if isinstance(value, list):
        import numpy

        return numpy.asarray(value, dtype=numpy.float64)
    return float(value)


def to_plain_or_same(value):
    """A NumPy value (a scalar or an array) as plain data, a float or nested lists; anything
    else (a Python number, a list already, None) as it is."""
    if hasattr(value, "tolist"):
        return value.tolist() if is_array(value) else float(value)
    return value


def as_float64(value):
    """A value for a report: a float, or a NumPy float64 array (a copy) of its shape."""
    if is_array(value):
        import numpy

        return numpy.array(value, dtype=numpy.float64)
    return float(value)


def as_number_or_array(value):
    """A value as the engine stores it: a float for a scalar (a 0-d array or a NumPy scalar
    too), the array itself otherwise."""
    return value if is_array(value) else float(value)


def all_finite(value) -> bool:
    """Whether a number, or every element of an array, is finite."""
    if is_array(value):
        import numpy

        return bool(numpy.isfinite(value).all())
    return math.isfinite(value)


def with_shape(value, shape: tuple):
    """A value brought to ``shape``: as it is if it has that shape, else a scalar spread over
    an array of that shape, or a float for ``()``."""
    if shape_of(value) == tuple(shape):
        return value
    if not shape:
        return float(value)
    import numpy

    return numpy.zeros(shape) + value


def json_text(value) -> str:
    """A value as compact JSON text: a number by ``repr`` (shortest round trip), an array as
    nested lists."""
    if is_array(value):
        import json

        return json.dumps(value.tolist(), separators=(",", ":"))
    return _number_json_text(value)


# repr's words for the numbers that are not finite, as json.dumps writes them (NaN is no JSON
# of the standard, but Python's json reads it back; a writer of strict JSON turns it to null).
_NOT_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _number_json_text(value, text=repr, number=float) -> str:
    written = text(number(value))
    return _NOT_FINITE.get(written, written)


def json_writer(scalars: bool) -> Callable[[Any], str]:
    """``json_text``, or for values known to be numbers (``scalars``: the float back end) the
    same text without asking each value for its shape: a 100,000-node gradient writes fast."""
    return _number_json_text if scalars else json_text


def numeric_setting(tape, bindings: Mapping[str, Any]) -> tuple[dict, list, Any]:
    """(bindings, shapes, back end) for a program: every node's shape (``()`` for a scalar,
    checked before anything is evaluated); the bindings as they are and the float back end
    when every value is a scalar, else the bindings as NumPy float64 and the NumPy back end."""
    shapes = infer_shapes(tape, {name: shape_of(value) for name, value in bindings.items()})
    if not holds_arrays(shapes):
        return dict(bindings), shapes, FLOAT64
    import numpy

    arrays = {name: numpy.asarray(value, dtype=numpy.float64)[()]
              for name, value in bindings.items()}
    return arrays, shapes, backend_for(shapes)


def backend_for(shapes: Sequence[tuple] | None):
    """The float64 back end of a program with these shapes: Python floats when every value is
    a scalar, else NumPy."""
    return numpy_backend("float64") if holds_arrays(shapes) else FLOAT64


def quiet_arithmetic(shapes: Sequence[tuple] | None):
    """A context with NumPy's warnings off for a program with arrays (an inf or nan is
    reported by the engine, by node); nothing for the float back end."""
    if not holds_arrays(shapes):
        import contextlib

        return contextlib.nullcontext()
    import numpy

    return numpy.errstate(all="ignore")


def engine_shapes(shapes: Sequence[tuple] | None) -> Sequence[tuple] | None:
    """The shapes the sweeps want: None (the scalar rules) when every value is a scalar."""
    return shapes if holds_arrays(shapes) else None
