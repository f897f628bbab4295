"""``graph()`` and ``affine()``: the computation graph, and the collapse of linear layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backtrace_cli.api.grad import explanation_of
from backtrace_cli.i18n import _


def graph(expression: str, bindings: Mapping[str, Any] | None = None, *, seed: Any = 1.0,
          format: str = "svg") -> str | bytes:
    """The computation graph with values and gradients: ``svg``, ``dot``, ``mermaid`` or
    ``text`` as a string, ``png`` as bytes."""
    from backtrace_cli.formats.graph import render_graph

    explanation = explanation_of(expression, bindings, seed=seed, cross_check=False)
    data = render_graph(explanation, format)
    return data if format == "png" else data.decode("utf-8")


def affine(expression: str, bindings: Mapping[str, Any] | None = None, *,
           input: str | None = None, timeout: float = 5.0):
    """Whether the program is affine in ``input`` (default ``x``), and the one map ``W x + b``
    when it is: the analysis ``backtrace simplify`` prints (a ``Collapse``)."""
    import numpy

    from backtrace_cli.api.values import as_bindings
    from backtrace_cli.checks.timeout import Timeout
    from backtrace_cli.engine.tape import check_bindings, compile_program
    from backtrace_cli.engine.values import numeric_setting
    from backtrace_cli.errors import UsageError
    from backtrace_cli.explain.affine import analyse
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
        return analyse(tape, values, input, shapes, m, seconds)
