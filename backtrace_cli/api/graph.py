"""``graph()`` and ``affine()``: the computation graph, and the collapse of linear layers.

Both show themselves in a notebook: the graph as its picture (SVG or PNG) or, for the text
formats, as a code block of its format; the collapse as ``backtrace simplify``'s report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.grad import explanation_of
from backtrace_cli.api.result import Rendered
from backtrace_cli.api.values import dz_given
from backtrace_cli.i18n import _
from backtrace_cli.report.model import Report

# The language a Markdown code block of each text format is marked with.
_FENCE_LANGUAGE = {"dot": "dot", "mermaid": "mermaid", "text": "text"}


class GraphText(str):
    """``graph()``'s text: a ``str`` (the SVG, DOT, Mermaid or text tree itself) that a
    notebook shows as the picture (``svg``) or as a code block of its format."""

    format: str

    def __new__(cls, text: str, format: str) -> GraphText:
        made = super().__new__(cls, text)
        made.format = format
        return made

    def _repr_svg_(self) -> str | None:
        return str(self) if self.format == "svg" else None

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's plain text: the text itself, as ``print`` shows it (not a quoted str)."""
        printer.text(str(self).rstrip("\n"))

    def _repr_markdown_(self) -> str | None:
        if self.format == "svg":
            return None
        from backtrace_cli.formats.markdown import fenced

        block = fenced(str(self).splitlines())
        block[0] = block[0].removesuffix("text") + _FENCE_LANGUAGE.get(self.format, "text")
        return "\n".join(block) + "\n"


class GraphImage(bytes):
    """``graph(format="png")``: the PNG's bytes, shown as the picture in a notebook."""

    def _repr_png_(self) -> bytes:
        return bytes(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(f"<PNG image, {len(self):,} bytes>")


def graph(expression: str, bindings: Mapping[str, Any] | None = None, *, dz: Any = None,
          format: str = "svg", **renamed: Any) -> GraphText | GraphImage:
    """The computation graph with values and gradients (from ``dz`` = dL/d(output), default
    1): ``svg``, ``dot``, ``mermaid`` or ``text`` as a string, ``png`` as bytes. A notebook
    shows the picture itself."""
    from backtrace_cli.formats.graph import render_graph

    dz = dz_given(dz, renamed, "graph")
    explanation = explanation_of(expression, bindings, dz=dz, cross_check=False)
    data = render_graph(explanation, format)
    if format == "png":
        return GraphImage(data)
    return GraphText(data.decode("utf-8"), format)


@dataclass(frozen=True, eq=False)
class AffineResult(Rendered):
    """What ``affine()`` found: the ``collapse`` (``explain.affine.Collapse``: ``affine``,
    ``weight``, ``bias``, ``reason``... read here as attributes of the result too) and
    ``backtrace simplify``'s report of it (``render(format)``, ``to_dict()``, and the
    notebook's display)."""

    collapse: Any
    report: Report

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("collapse", "report"):
            raise AttributeError(name)
        return getattr(self.collapse, name)

    def __repr__(self) -> str:
        from backtrace_cli.report.text import plain

        if not self.collapse.affine:
            return f"AffineResult(affine=False, reason={self.collapse.reason!r})"
        return (f"AffineResult(affine=True, weight={plain(self.collapse.weight)!r}, "
                f"bias={plain(self.collapse.bias)!r})")


def affine(expression: str, bindings: Mapping[str, Any] | None = None, *,
           input: str | None = None, timeout: float = 5.0) -> AffineResult:
    """Whether the program is affine in ``input`` (default ``x``), and the one map ``W x + b``
    when it is: the analysis ``backtrace simplify`` prints."""
    import numpy

    from backtrace_cli.api.values import as_bindings
    from backtrace_cli.checks.timeout import Timeout
    from backtrace_cli.engine.tape import check_bindings, compile_program
    from backtrace_cli.errors import UsageError
    from backtrace_cli.explain.affine import analyse
    from backtrace_cli.explain.gradient import numeric_setting
    from backtrace_cli.report.affine import build
    from backtrace_cli.syntax.parser import parse

    values = as_bindings(bindings)
    seconds = Timeout(timeout, "timeout").seconds
    tape = compile_program(parse(expression))
    check_bindings(tape, values)
    if input is None:
        if "x" not in tape.variable_nodes:
            error = UsageError(
                _("input is not given and the expression has no x: name the input variable"),
                _("the expression's variables: {value}").format(
                    value=", ".join(tape.variables) or "none"
                ),
            )
            error.field = "input"
            raise error
        input = "x"
    values, shapes, m = numeric_setting(tape, values)
    with numpy.errstate(all="ignore"):
        collapse = analyse(tape, values, input, shapes, m, seconds)
    return AffineResult(collapse, build(collapse, expression))
