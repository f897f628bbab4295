"""How PyTorch 2.13 prints a tensor (the rules of ``torch/_tensor_str.py``, ported).

A tensor prints as ``tensor(`` + its data + suffixes + ``)``. One formatter is chosen per
tensor from its finite non-zero values (widened to double): all integral -> ``1.``; else
``{:.4e}`` when max/min > 1000, max > 1e8 or min < 1e-4, else ``{:.4f}``; every element is
right-aligned to the widest. Rows break at 80 columns; more than 1000 elements are summarised
with ``...`` (3 at each edge). The suffixes follow in order: ``dtype=`` for a dtype other than
float32, int64 or bool, then ``grad_fn=<...>`` or ``requires_grad=True``.
"""

from __future__ import annotations

import math

import numpy

PRECISION = 4
THRESHOLD = 1000
EDGE_ITEMS = 3
LINE_WIDTH = 80


class _Formatter:
    """The number format of one tensor (``_Formatter`` of PyTorch)."""

    def __init__(self, values: numpy.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(str(value)))
            return
        finite = flat[numpy.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        wide = finite.astype(numpy.float64)
        magnitudes = numpy.abs(wide)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool((finite == numpy.ceil(finite)).all())
        self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        numbers = wide.tolist()
        if self.int_mode and not self.sci_mode:
            widths = [len(f"{value:.0f}") + 1 for value in numbers]
        elif self.sci_mode:
            widths = [len(f"{value:.{PRECISION}e}") for value in numbers]
        else:
            widths = [len(f"{value:.{PRECISION}f}") for value in numbers]
        self.max_width = max(self.max_width, *widths)

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{PRECISION}f}"
        elif isinstance(value, bool):
            text = str(value)
        else:
            text = f"{value}"
        return " " * (self.max_width - len(text)) + text


def _summarized(values: numpy.ndarray) -> numpy.ndarray:
    """The values a summarised tensor shows: EDGE_ITEMS at each edge of every axis."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * EDGE_ITEMS:
        values = numpy.concatenate((values[:EDGE_ITEMS], values[-EDGE_ITEMS:]))
    if values.ndim == 1:
        return values
    return numpy.stack([_summarized(row) for row in values])


def _vector(values: numpy.ndarray, indent: int, summarize: bool, formatter) -> str:
    element_length = formatter.max_width + 2
    per_line = max(1, math.floor((LINE_WIDTH - indent) / element_length))
    if summarize and values.shape[0] > 2 * EDGE_ITEMS:
        data = ([formatter.format(v) for v in values[:EDGE_ITEMS].tolist()] + [" ..."]
                + [formatter.format(v) for v in values[-EDGE_ITEMS:].tolist()])
    else:
        data = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: numpy.ndarray, indent: int, summarize: bool, formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.tolist())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    if summarize and values.shape[0] > 2 * EDGE_ITEMS:
        rows = ([_nested(values[i], indent + 1, summarize, formatter) for i in range(EDGE_ITEMS)]
                + ["..."]
                + [_nested(values[i], indent + 1, summarize, formatter)
                   for i in range(values.shape[0] - EDGE_ITEMS, values.shape[0])])
    else:
        rows = [_nested(values[i], indent + 1, summarize, formatter)
                for i in range(values.shape[0])]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def data_text(values: numpy.ndarray, floating: bool, indent: int) -> str:
    """The data part of a tensor's text (``_tensor_str``)."""
    if values.size == 0:
        return "[]"
    summarize = values.size > THRESHOLD
    formatter = _Formatter(_summarized(values) if summarize else values, floating)
    return _nested(values, indent, summarize, formatter)


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_length + len(suffix) + 2 > LINE_WIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_text(tensor) -> str:
    """``repr(tensor)`` as PyTorch writes it."""
    import backtrace_cli.torchlike._dtypes as _dtypes

    prefix = "tensor("
    indent = len(prefix)
    values = tensor._value
    kind = tensor._dtype
    suffixes = []
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append("size=" + str(tuple(values.shape)))
        if kind is not _dtypes.DEFAULT:
            suffixes.append(f"dtype={kind!r}")
        text = "[]"
    else:
        if kind not in (_dtypes.DEFAULT, _dtypes.int64, _dtypes.bool_):
            suffixes.append(f"dtype={kind!r}")
        text = data_text(values, kind.is_floating_point, indent)
    grad_fn = tensor._grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(grad_fn).__name__}>")
    elif tensor._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + text, suffixes, indent)
