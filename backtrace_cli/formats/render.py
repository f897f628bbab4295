"""What is left of the old writers: ``backtrace simplify``'s text and JSON, and names other
modules still import from here.

``backtrace grad`` is a report (``backtrace_cli.report.grad``) written by the formats of the
registry; ``print_grad`` prints that report's tables on a given Rich console (``train
--explain-step`` uses it), and the re-exported names keep formats/graph.py and the tests
importing from here working.
"""

from __future__ import annotations

import json

from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.report.grad_text import (  # noqa: F401  (re-exported: formats/graph.py)
    check_cells,
    input_ids,
    rule_text,
    seed_line,
)
from backtrace_cli.report.text import (  # noqa: F401  (re-exported: formats/graph.py, tests)
    number,
    one_line,
    plain,
)


def print_grad(explanation: Explanation, console) -> None:
    """The four parts of ``backtrace grad`` for a person, on a Rich console."""
    from backtrace_cli.formats.table import print_report
    from backtrace_cli.report.grad import build

    print_report(build(explanation), console)


# ----------------------------------------------------------------------------- the collapse
def collapse_document(collapse, source: str) -> dict:
    """``backtrace simplify --format json``: the verdict, the expanded form, W and b."""
    from backtrace_cli.ops.table import shape_text

    def part(text, value):
        return {"symbolic": text, "value": None if value is None else plain(value)}

    return {
        "expression": source,
        "input": collapse.input,
        "affine": collapse.affine,
        "reason": collapse.reason,
        "input_shape": list(collapse.input_shape),
        "output_shape": list(collapse.output_shape),
        "shapes": {"input": shape_text(collapse.input_shape),
                   "output": shape_text(collapse.output_shape)},
        "expanded": collapse.expanded,
        "W": part(collapse.weight_text, collapse.weight),
        "b": part(collapse.bias_text, collapse.bias),
        "residual": collapse.residual,
        "note": collapse.note,
    }


def collapse_json(collapse, source: str) -> str:
    return json.dumps(collapse_document(collapse, source), ensure_ascii=False, indent=2)


def collapse_lines(collapse, source: str) -> list[str]:
    """The collapse for a person: the verdict, then the expanded form and the single W and b."""
    from backtrace_cli.ops.table import shape_text

    x = collapse.input
    lines = [f"Expression: {one_line(source)}"]
    if not collapse.affine:
        lines += [
            f"Not affine in {x}: {collapse.reason}.",
            "A nonlinearity between the layers keeps them from collapsing into one map "
            f"W {x} + b.",
        ]
        return lines
    lines.append(
        f"Affine in {x}: the whole program is one map  output = W {x} + b"
        f"  (input {shape_text(collapse.input_shape)}, output "
        f"{shape_text(collapse.output_shape)})."
    )
    if collapse.expanded is not None:
        lines.append(f"Expanded (SymPy): {collapse.expanded}")
    weight_shape = shape_text(getattr(collapse.weight, "shape", ()))
    weight = f"{collapse.weight_text} = " if collapse.weight_text else ""
    bias = f"{collapse.bias_text} = " if collapse.bias_text else ""
    lines.append(f"  W = {weight}{number(collapse.weight)}   ({weight_shape})")
    lines.append(f"  b = {bias}{number(collapse.bias)}   "
                 f"({shape_text(getattr(collapse.bias, 'shape', ()))})")
    lines.append(
        f"Check: W {x} + b gives the output at the given {x} "
        f"(largest difference {collapse.residual:.3g})."
    )
    lines.append("Stacked linear layers add nothing: a nonlinearity (sigmoid, tanh, relu) "
                 "between them is what keeps them apart.")
    if collapse.note:
        lines.append(f"Note: {collapse.note}")
    return lines
