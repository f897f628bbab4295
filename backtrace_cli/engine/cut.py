"""A tape cut at a named step: the step becomes an input of its own.

dL/dy_hat asks how the output moves with y_hat alone, whatever computed it. The checks
(finite differences, SymPy) answer that on the tape where y_hat is a variable bound to its
value; the nodes that computed it stay on the tape, unread by anything after the cut.
"""

from __future__ import annotations

from backtrace_cli.engine.nodes import VAR, Tape
from backtrace_cli.ops.table import PREC_ATOM


def cut_at(tape: Tape, index: int, name: str) -> Tape:
    """The tape with node ``index`` replaced by the variable ``name``."""
    nodes = list(tape.nodes)
    node = nodes[index]
    nodes[index] = node._replace(kind=VAR, op=None, inputs=(), name=name, text=name,
                                 precedence=PREC_ATOM, value=None)
    variable_nodes = dict(tape.variable_nodes)
    variable_nodes[name] = index
    return Tape(
        nodes=tuple(nodes),
        output=tape.output,
        variables=(*tape.variables, name),
        variable_nodes=variable_nodes,
        source=tape.source,
    )
