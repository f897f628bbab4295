"""The report of ``backtrace simplify``: whether the program is one affine map of its input
(the collapse), with the single W and b; ``data`` is the JSON document."""

from __future__ import annotations

from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.explain.affine import REASONS
from backtrace_cli.explain.affine_numbers import BIAS_AT_GIVEN
from backtrace_cli.i18n import _, from_template, translated
from backtrace_cli.ops.table import shape_text
from backtrace_cli.report.model import Lines, Report, text
from backtrace_cli.report.text import number, one_line


def document(collapse, source: str) -> dict:
    """``backtrace simplify --format json``: the verdict, the expanded form, W and b."""

    def part(symbolic, value):
        return {"symbolic": symbolic, "value": None if value is None else plain(value)}

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
        "decided_by": collapse.decided_by,
        "stacked_layers": collapse.stacked_layers,
    }


def _decided(collapse) -> str:
    """Which way the verdict was reached, when the fast tape rule was not enough."""
    if collapse.decided_by == "sympy expansion" and not collapse.affine:
        return _(" (SymPy's expansion agrees)")
    return ""  # an affine verdict of SymPy's says so in its note


def lines(collapse, source: str) -> list[str]:
    """The collapse for a person: the verdict, then the expanded form and the single W and b."""
    x = collapse.input
    out = [_("Expression: {source}").format(source=one_line(source))]
    if not collapse.affine:
        out.append(_("Not affine in {x}: {reason}{decided}.").format(
            x=x, reason=from_template(collapse.reason, REASONS), decided=_decided(collapse)))
        if collapse.stacked_layers:
            out.append(_("A nonlinearity between the layers keeps them from collapsing into one "
                         "map W {x} + b.").format(x=x))
        return out
    out.append(
        _("Affine in {x}: the whole program is one map  output = W {x} + b"
          "  (input {input_shape}, output {output_shape}).").format(
            x=x, input_shape=translated(shape_text(collapse.input_shape)),
            output_shape=translated(shape_text(collapse.output_shape)))
    )
    if collapse.expanded is not None:
        out.append(_("Expanded (SymPy): {expanded}").format(expanded=collapse.expanded))
    weight_shape = shape_text(getattr(collapse.weight, "shape", ()))
    weight = f"{collapse.weight_text} = " if collapse.weight_text else ""
    bias = f"{collapse.bias_text} = " if collapse.bias_text else ""
    out.append(f"  W = {weight}{number(collapse.weight)}   ({weight_shape})")
    out.append(f"  b = {bias}{number(collapse.bias)}   "
               f"({shape_text(getattr(collapse.bias, 'shape', ()))})")
    if collapse.residual is not None:  # None: b was taken at the given x (see the note)
        out.append(
            _("Check: W {x} + b gives the output at the given {x} "
              "(largest difference {residual}).").format(x=x,
                                                         residual=f"{collapse.residual:.3g}")
        )
    if collapse.stacked_layers:
        out.append(_("Stacked linear layers add nothing: a nonlinearity (sigmoid, tanh, relu) "
                     "between them is what keeps them apart."))
    if collapse.note:
        note = translated(collapse.note)
        if note == collapse.note:  # parts joined by "; ", one of them with values
            note = "; ".join(from_template(part, (BIAS_AT_GIVEN,))
                             for part in collapse.note.split("; "))
        out.append(_("Note: {note}").format(note=note))
    return out


def build(collapse, source: str) -> Report:
    """The collapse as a report: one section of lines (the verdict, W and b), and the data.

    The lines are prose, printed unindented and never cut."""
    shown = tuple(text(line) for line in lines(collapse, source))
    verdict = _("Affine in {x}") if collapse.affine else _("Not affine in {x}")
    section = Lines(None, shown, cut=False, key="collapse", indent="")
    return Report("simplify", text(verdict.format(x=collapse.input)), (section,),
                  document(collapse, source))
