"""Named steps as what a gradient is taken with respect to: ``--wrt y_hat`` gives dloss/dy_hat.

A named step is a node an assignment named (``y_hat = x*w``), written by its label (a name
given again is primed: ``c``, ``c'``). Its derivative is its adjoint in the reverse sweep,
and in forward mode the sweep seeded at it. The checks take it as an input of its own: on
the tape cut there (``engine.cut``), bound to its value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from backtrace_cli.engine.cut import cut_at
from backtrace_cli.engine.nodes import VAR, Tape
from backtrace_cli.explain.labels import node_labels

if TYPE_CHECKING:
    from backtrace_cli.checks.verify import CheckReport


def named_steps(tape: Tape) -> dict[str, int]:
    """{label: node index} of every named node that is not a variable, in tape order."""
    labels = node_labels(tape)
    return {labels[node.index]: node.index for node in tape.nodes
            if node.name is not None and node.kind != VAR}


def wrt_nodes(tape: Tape, names: Sequence[str]) -> dict[str, int]:
    """{name: node index} for resolved ``wrt`` names: variables, then named steps."""
    steps = named_steps(tape) if any(n not in tape.variable_nodes for n in names) else {}
    return {name: tape.variable_nodes[name] if name in tape.variable_nodes else steps[name]
            for name in names}


def check_with_steps(
    tape: Tape, bindings: Mapping, values: list, seed, gradients: Mapping, steps: Mapping,
    kinks: Sequence[int], timeout: float, m, shapes,
) -> CheckReport:
    """``run_checks`` for variables and named steps alike: a step is checked on the tape cut
    at it (one cut per step: cutting two would hide one's path through the other)."""
    from backtrace_cli.checks.verify import CheckReport, run_checks  # only when checking

    variables = {name: value for name, value in gradients.items() if name not in steps}
    report = CheckReport()
    if variables:
        report = run_checks(tape, bindings, seed, variables, kinks, timeout=timeout, m=m,
                            shapes=shapes)
    for name, index in steps.items():
        cut = cut_at(tape, index, name)
        at = {**bindings, name: values[index]}
        part = run_checks(cut, at, seed, {name: gradients[name]}, kinks, timeout=timeout,
                          m=m, shapes=shapes)
        report.variables[name] = part.variables[name]
        report.sympy_note = report.sympy_note or part.sympy_note
        report.interrupted = report.interrupted or part.interrupted
    report.variables = {name: report.variables[name] for name in gradients}
    return report
