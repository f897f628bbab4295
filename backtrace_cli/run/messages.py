"""What ``backtrace run`` says about a run: the diagnoses' sentences and the backward() titles.

Each sentence is one template with fields (translated through the catalogue); the numbers
are the script's own, written as PyTorch writes a float32 (``-7.84``: the shortest text that
reads back to the same float32) or a float64 (Python's repr).
"""

from __future__ import annotations

import numpy

from backtrace_cli.i18n import N_, translated

TEMPLATES = {
    "grad-not-zeroed": N_(
        "{name}.grad was {before} from the last step; this backward added {added}, so the "
        "update uses {after}. Call {name}.grad.zero_() (or optimizer.zero_grad()) after each "
        "update."),
    "non-leaf-update": N_(
        "{name} held a leaf that requires grad and now holds a tensor computed from it: "
        "{name} is no longer a leaf, so {name}.grad is None and the graph grows each step. "
        "Update it without building a graph: {name}.data = {name}.data - lr * "
        "{name}.grad.data, or under torch.no_grad()."),
    "backward-twice": N_(
        "backward() ran through a graph already freed by the backward() of line {first}. "
        "retain_graph=True in that first call would keep the graph (and add its gradients "
        "again); usually compute the loss again before each backward()."),
    "in-place-leaf": N_(
        "an in-place operation on {name}, a leaf that requires grad, outside torch.no_grad(): "
        "PyTorch refuses it. Update it under torch.no_grad() or through {name}.data."),
    "graph-kept": N_(
        "{name} accumulates tensors that carry a graph across backward() calls, so every "
        "iteration's graph stays alive (memory grows each step): use l.item() to add the "
        "number."),
}
# The fields that hold the script's numbers (the others are names and line numbers).
NUMBER_FIELDS = ("before", "added", "after")
LINE = N_("line {line}: {kind}: {message}")
TITLE = N_("backward() {index} of {count}, line {line}: {text}")


def number_text(value) -> str:
    """A number as PyTorch's ``.item()`` would print it rounded to its dtype: -7.84, not
    -7.840000152587891 (a list for several elements)."""
    array = numpy.asarray(value)
    if array.size == 1:
        scalar = array.reshape(())[()]
        if array.dtype == numpy.float32:
            return str(numpy.float32(scalar))
        return repr(float(scalar))
    return "[" + ", ".join(number_text(item) for item in array.reshape(-1)) + "]"


def message(kind: str, fields: dict, first_line=None) -> str:
    """The sentence of a diagnosis in the reader's language."""
    values = {key: (number_text(value) if key in NUMBER_FIELDS else value)
              for key, value in fields.items()}
    if kind == "backward-twice" and values.get("first") is None:
        values["first"] = "?"
    return translated(TEMPLATES[kind]).format(**values)


def line_text(kind: str, line, text: str) -> str:
    return translated(LINE).format(line=line if line is not None else "?", kind=kind,
                                   message=text)


def diagnosis_lines(diagnoses) -> list[str]:
    """One line per diagnosis: ``line 23: grad-not-zeroed: w.grad was ...``."""
    return [line_text(d.kind, d.line, message(d.kind, d.fields)) for d in diagnoses]
