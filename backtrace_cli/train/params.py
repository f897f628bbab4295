"""Parameters of a training run: start values, the parameters file, predictions' inputs.

Messages name fields (``param``, ``init``, ``predict``, ``dtype``), never the CLI's flags;
each error carries its ``field`` so the command line can say ``--param`` where the Python
API says ``param``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from backtrace_cli.engine.values import is_array
from backtrace_cli.errors import DataError, UsageError, did_you_mean, setting_error
from backtrace_cli.i18n import N_, _, translated
from backtrace_cli.limits import MAX_ARRAY_ELEMENTS

# A parameters file holds a name and a number per parameter; reading stops beyond this size,
# so --init /dev/zero (or a mistaken huge file) cannot fill the memory.
INIT_MAX_CHARACTERS = 64 * 1024 * 1024
INIT_EXPECTED = N_('expected a JSON file such as {"params": {"w": 0.5}}, as --save writes it')
INIT_SHAPE = N_('expected {"params": {name: value}}, as --save writes it')
SPEC_KINDS = ("randn", "zeros", "ones")


def shape(text: str, what: str, field: str = "param") -> tuple[int, ...]:
    """'4x2' -> (4, 2), '4' -> (4,); sizes from 1 up to the array size limit."""
    from backtrace_cli.syntax.numbers import MAX_DIMENSIONS, TOO_MANY_SIZES, shortened

    parts = text.strip().lower().split("x")
    if not text.strip() or not all(part.isascii() and part.isdigit() and part.strip("0")
                                   for part in parts):
        raise setting_error(
            field,
            _("{what}: '{text}' is not a shape; write sizes such as 4 or 4x2").format(
                what=what, text=shortened(text)
            ),
        )
    if len(parts) > MAX_DIMENSIONS:
        raise setting_error(field, translated(TOO_MANY_SIZES).format(
            what=what, count=len(parts), limit=MAX_DIMENSIONS))
    if any(len(part.lstrip("0")) > 30 for part in parts):  # past any limit, and past the
        raise setting_error(  # 4,300 digits Python turns into an int
            field,
            _("{what}: the shape {text} has more elements than the limit of {value:,}").format(
                what=what, text=shortened(text), value=MAX_ARRAY_ELEMENTS.value),
            _("raise it with {env}").format(env=MAX_ARRAY_ELEMENTS.env),
        )
    result = tuple(int(part) for part in parts)
    size = math.prod(result)
    if size > MAX_ARRAY_ELEMENTS.value:
        raise setting_error(
            field,
            _("{what}: {size:,} elements is more than the limit of {value:,}").format(
                what=what, size=size, value=MAX_ARRAY_ELEMENTS.value
            ),
            _("raise it with {env}").format(env=MAX_ARRAY_ELEMENTS.env),
        )
    return result


def is_spec(value: Any) -> bool:
    """Whether ``value`` is a start-value recipe such as 'randn:4x2', 'zeros:4' or 'ones:3'."""
    return isinstance(value, str) and value.strip().partition(":")[0] in SPEC_KINDS


def start_values(given: Mapping[str, Any], seed: int = 0) -> dict[str, Any]:
    """Start values from numbers, arrays and recipes (``randn:4x2``, ``zeros:4``,
    ``ones:4``). One generator seeded with ``seed`` draws every randn parameter, in the
    order they are given."""
    import numpy as np

    params: dict[str, Any] = {}
    generator = None
    for name, value in given.items():
        if not isinstance(name, str) or not name.strip():
            raise setting_error("param", _(
                "param '{name}': the parameter's name is missing").format(name=name),
                               _("write NAME=VALUE, e.g. --param w=0.5"))
        if is_spec(value):
            kind, _sep, shape_text = value.strip().partition(":")
            size = shape(shape_text, f"param {name}")
            if kind == "randn":
                if generator is None:
                    generator = np.random.default_rng(seed)
                params[name] = generator.standard_normal(size)
            else:
                params[name] = (np.zeros if kind == "zeros" else np.ones)(size)
            continue
        params[name] = finite_value(value, f"param {name}", "param")
    return params


def finite_value(value: Any, what: str, field: str):
    """A finite number (a float) or a finite array of numbers (float64)."""
    import numpy as np

    from backtrace_cli.syntax.numbers import MAX_DIMENSIONS, NestedTooDeeply, list_depth

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            from backtrace_cli.syntax.numbers import number_text

            raise setting_error(
                field,
                _("{what}: {value!r} is not allowed; values must be finite numbers").format(
                    what=what, value=number_text(value) if isinstance(value, int) else value
                ),
            )
        return number
    depth = list_depth(value)
    if depth > MAX_DIMENSIONS:
        raise setting_error(field, NestedTooDeeply(depth).message(what),
                            _("write a number such as 0.5, or nested lists such as "
                              "[[1, 2], [3, 4]]"))
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise setting_error(field, _(
            "{what}: not a number or a rectangular array of numbers").format(what=what),
                           _("write a number such as 0.5, or nested lists such as [[1, 2], [3, 4]]")
                           ) from None
    if isinstance(value, (str, bytes)) or array.dtype.kind != "f":
        raise setting_error(field, _(
            "{what}: not a number or an array of numbers").format(what=what))
    if array.size > MAX_ARRAY_ELEMENTS.value:
        raise setting_error(
            field,
            _("{what}: the array has more than {value:,} elements").format(
                what=what, value=MAX_ARRAY_ELEMENTS.value
            ),
            _("raise the limit with {env}").format(env=MAX_ARRAY_ELEMENTS.env),
        )
    if array.size == 0:
        raise setting_error(field, _("{what}: an empty list has no elements").format(what=what))
    if not np.all(np.isfinite(array)):
        raise setting_error(field, _("{what}: values must be finite numbers").format(what=what))
    return array if array.ndim else float(array)


def read_init(path: str) -> dict[str, Any]:
    """The parameters file (``--init``): ``{"params": {name: number or nested lists}}``,
    as ``--save`` writes it; ``-`` reads standard input."""
    from backtrace_cli.files import read_text
    from backtrace_cli.syntax.numbers import NestedTooDeeply, loads

    label = f"init {path}"
    try:
        text = read_text(path, label, INIT_MAX_CHARACTERS, translated(INIT_EXPECTED))
    except UsageError as error:
        error.field = "init"
        raise
    try:
        if len(text) > INIT_MAX_CHARACTERS:
            raise setting_error(
                "init",
                _(
                    "{label}: the file is larger than {limit:,} characters, too large "
                    "for a parameters file"
                ).format(label=label, limit=INIT_MAX_CHARACTERS),
                translated(INIT_EXPECTED),
            )
        # NaN, 1e999 and huge integers are read as floats and refused below as not finite
        document = loads(text, parse_constant=float, strict=False)
    except NestedTooDeeply as error:
        raise setting_error("init", error.message(label), translated(INIT_SHAPE)) from None
    except json.JSONDecodeError as exc:
        raise setting_error(
            "init",
            _("{label}: not valid JSON (line {lineno}, column {colno}: {msg})").format(
                label=label, lineno=exc.lineno, colno=exc.colno, msg=exc.msg
            ),
            translated(INIT_SHAPE),
        ) from None
    except RecursionError:  # [[[[...]]]] nested thousands deep
        raise setting_error(
            "init",
            _("{label}: the JSON is nested too deeply to read").format(label=label),
            translated(INIT_SHAPE),
        ) from None
    params = document.get("params", document) if isinstance(document, dict) else None
    if not isinstance(params, dict):
        raise setting_error(
            "init",
            _('{label}: expected an object {{"params": {{name: value}}}}').format(label=label),
        )
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, list):  # an array parameter, as --save writes it
            out[str(name)] = finite_value(value, f"{label}: '{name}'", "init")
            continue
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)  # an int beyond float's range overflows here
            except OverflowError:
                number = None
        if number is None or not math.isfinite(number):
            raise setting_error(
                "init",
                _("{label}: the value of '{name}' is not a finite number").format(
                    label=label, name=name
                ),
                _("write a number such as 0.5"),
            )
        out[str(name)] = number
    return out


def initial_values(problem, given: Mapping[str, Any], init: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's start value: ``given`` (param) wins over ``init``, else 1.0."""
    for field, values in (("param", given), ("init", init)):
        for name in values:
            if name in problem.params:
                continue
            if name in problem.inputs or name == problem.target:
                raise setting_error(
                    field,
                    _("{field}: '{name}' is a column of the data, not a parameter").format(
                        field=field, name=name
                    ),
                    _("columns are read from the CSV; only parameters take start values"),
                )
            raise setting_error(
                field,
                _("{field}: the model has no parameter '{name}' (its parameters: {value})").format(
                    field=field, name=name, value=", ".join(problem.params)
                ),
                did_you_mean(name, problem.params),
            )
    return {name: given.get(name, init.get(name, 1.0)) for name in problem.params}


def prediction_inputs(items: Sequence[Any], inputs: Sequence[str]) -> list[dict[str, float]]:
    """Inputs to predict for: a number (a model of one input) or {input: number} each."""
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            if len(inputs) != 1:
                raise setting_error(
                    "predict", _("predict {item!r}: the model reads {count} columns ({columns}); "
                                 "give {pairs}").format(
                        item=item, count=len(inputs), columns=", ".join(inputs),
                        pairs=",".join(f"{n}=VALUE" for n in inputs)))
            out.append({inputs[0]: finite_value(item, "predict", "predict")})
            continue
        values = {}
        for name, value in item.items():
            if name not in inputs:
                raise setting_error(
                    "predict",
                    _("predict: '{name}' is not an input of the model (inputs: {value})").format(
                        name=name, value=", ".join(inputs)
                    ),
                    did_you_mean(name, inputs),
                )
            values[name] = finite_value(value, f"predict {name}", "predict")
        missing = [name for name in inputs if name not in values]
        if missing:
            raise setting_error("predict", _(
                "predict: no value for {value}").format(value=', '.join(missing)))
        out.append({name: values[name] for name in inputs})
    return out


def check_float32(columns, initial: Mapping[str, Any], predictions_in: list, path: str) -> None:
    """Every value must fit in float32, or the first operation would see an infinity."""
    import numpy as np

    largest = float(np.finfo(np.float32).max)
    given = [(f"the start value of '{name}'", value) for name, value in initial.items()]
    given += [(f"predict {name}", value)
              for values in predictions_in for name, value in values.items()]
    for what, value in given:
        if float(np.max(np.abs(value))) > largest:
            raise setting_error(
                "dtype", _(
                    "dtype float32: {what}, {value!r}, does not fit in float32 (at most about "
                    "{largest:.4g} in size)").format(what=what, value=value, largest=largest))
    for name, values in columns.items():
        outside = np.flatnonzero(np.abs(values) > largest)
        if outside.size:
            row = int(outside[0])
            error = DataError(
                _(
                    "dtype float32: the value {value!r} of column '{name}' (data row {value2}) "
                    "does not fit in float32 (at most about {largest:.4g})"
                ).format(value=float(values[row]), name=name, value2=row + 1, largest=largest),
                path=path,
                hint=_("use --dtype float64, or scale the column"),
            )
            error.field = "dtype"
            raise error


def listed(value):
    """An array parameter as nested lists (for JSON); a number as it is."""
    return value.tolist() if hasattr(value, "tolist") and is_array(value) else value


def saved_document(model: str, loss: str, dtype: str, params: Mapping[str, Any]) -> str:
    """The parameters file ``--save`` writes and ``--init`` reads."""
    document = {"model": model, "loss": loss, "dtype": dtype,
                "params": {name: listed(value) for name, value in params.items()}}
    return json.dumps(document, indent=2) + "\n"
