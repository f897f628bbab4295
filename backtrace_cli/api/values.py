"""Values a caller binds to variables: numbers, nested lists or NumPy arrays, checked once.

The CLI reads JSON text into lists and hands them here too, so the API and the command line
refuse the same values with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from backtrace_cli.engine.values import is_array
from backtrace_cli.errors import BindingError
from backtrace_cli.i18n import N_, _, translated
from backtrace_cli.limits import MAX_ARRAY_ELEMENTS
from backtrace_cli.syntax.numbers import MAX_DIMENSIONS, NestedTooDeeply, list_depth, number_text

EXAMPLE = N_("write nested lists of numbers, e.g. '[1, 2]' or '[[0.1, 0.2], [0.3, 0.4]]'")


def _is_number(item: Any) -> bool:
    if isinstance(item, bool):
        return False
    if isinstance(item, int | float):
        return True
    return type(item).__module__ == "numpy" and getattr(item, "ndim", None) == 0 \
        and getattr(item, "dtype", None) is not None and item.dtype.kind in "iuf"


def as_number(value: Any, what: str) -> float:
    """A finite float, or a BindingError naming ``what``."""
    if not _is_number(value):
        raise BindingError(_("{what}: {value!r} is not a number").format(what=what, value=value),
                           _("give a number such as -1.5 or 2e-3, or nested lists of numbers"))
    try:
        number = float(value)
    except OverflowError:
        raise BindingError(_(
            "{what}: {value} is too large for a float").format(what=what, value=number_text(value))
        ) from None
    if math.isnan(number):
        raise BindingError(_(
            "{what}: 'nan' is not allowed; values must be finite numbers").format(what=what))
    if math.isinf(number):
        if isinstance(value, float) or type(value).__module__ == "numpy":
            raise BindingError(
                _("{what}: '{value}' is not allowed; values must be finite numbers").format(
                    what=what, value=value
                )
            )
        raise BindingError(_(
            "{what}: {value} is too large for a float").format(what=what, value=number_text(value)))
    return number



def as_value(value: Any, what: str):
    """A number as a float; nested lists (or an array) as a float64 NumPy array, checked to be
    rectangular, numeric, finite and within BACKTRACE_MAX_ARRAY_ELEMENTS. Walked level by
    level, so no nesting depth needs recursion."""
    if hasattr(value, "tolist") and is_array(value):
        value = value.tolist()  # a NumPy array (or alike): checked as the lists it holds
    if not isinstance(value, list | tuple):
        return as_number(value, what)
    limit = MAX_ARRAY_ELEMENTS.value
    shape: list[int] = []
    level = [value]
    while isinstance(level[0], list | tuple):
        length = len(level[0])
        if length == 0:
            raise BindingError(_(
                "{what}: an empty list has no elements").format(what=what), translated(EXAMPLE))
        for row, item in enumerate(level):
            if not isinstance(item, list | tuple) or len(item) != length:
                found = f"{len(item)} elements" if isinstance(item, list | tuple) else "a number"
                raise BindingError(
                    _(
                        "{what}: the array is ragged: at depth {value}, item {value2} has "
                        "{found} where {length} elements were expected"
                    ).format(
                        what=what, value=len(shape) + 1, value2=row + 1, found=found, length=length
                    ),
                    _("every row of a matrix needs the same number of elements"),
                )
        shape.append(length)
        if len(shape) > MAX_DIMENSIONS:
            raise BindingError(NestedTooDeeply(len(shape) - 1 + list_depth(level[0])).message(
                what), translated(EXAMPLE))
        if len(level) * length > limit:
            raise BindingError(
                _("{what}: the array has more than {limit:,} elements").format(
                    what=what, limit=limit
                ),
                _("raise the limit with {env}").format(env=MAX_ARRAY_ELEMENTS.env),
            )
        level = [element for item in level for element in item]
    for item in level:
        if isinstance(item, list | tuple):
            raise BindingError(_(
                "{what}: {value} is not a number").format(what=what, value=_shown(item)),
                               _("the array is ragged: every row needs the same depth"))
        if not _is_number(item):
            raise BindingError(_(
                "{what}: {value} is not a number").format(what=what, value=_shown(item)),
                               _("every element must be a number"))
        if isinstance(item, float) and not math.isfinite(item):
            raise BindingError(f"{what}: {item} is too large for a float"
                               if not math.isnan(item) else
                               f"{what}: 'nan' is not allowed; values must be finite numbers")
    import numpy

    try:
        values = numpy.array(level, dtype=numpy.float64)
    except OverflowError:  # an integer beyond the float range
        raise BindingError(_(
            "{what}: a number is too large for a float").format(what=what)) from None
    if not numpy.isfinite(values).all():
        raise BindingError(_("{what}: a number is too large for a float").format(what=what))
    return values.reshape(shape)


def _shown(item: Any) -> str:
    import json

    try:
        return json.dumps(item)[:40]
    except (TypeError, ValueError):
        return repr(item)[:40]


def as_bindings(bindings: Mapping[str, Any] | None) -> dict[str, Any]:
    """{name: value} with every value checked; names are checked against the program later."""
    if bindings is None:
        return {}
    if not isinstance(bindings, Mapping):
        raise BindingError(_("bindings must be a mapping of variable names to values"),
                           _("e.g. {'x': 2, 'w': 3}"))
    result = {}
    for name, value in bindings.items():
        if not isinstance(name, str):
            raise BindingError(_("the binding name {name!r} is not a string").format(name=name))
        result[name] = as_value(value, name)
    return result


def dz_given(dz: Any, renamed: dict[str, Any], function: str) -> Any:
    """The gradient's seed dL/d(output) a caller gave: ``dz`` (1.0 when not given), or the
    old keyword ``seed``, still taken with a DeprecationWarning (``seed`` now names only the
    random draw of ``quiz``). Any other unknown keyword is Python's TypeError."""
    unknown = [name for name in renamed if name != "seed"]
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    if "seed" not in renamed:
        return 1.0 if dz is None else dz
    if dz is not None:
        raise TypeError(f"{function}() got both dz and seed; give dz (seed is its old name)")
    import warnings

    warnings.warn(f"{function}(seed=...) is now {function}(dz=...): dz is dL/d(output), the "
                  "gradient's seed (as the command line's --dz); seed names only quiz's random "
                  "draw", DeprecationWarning, stacklevel=3)
    return renamed["seed"]
