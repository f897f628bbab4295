"""Forward mode, explained: one tangent sweep per input element, beside the reverse sweep.

``forward_mode`` seeds each reported name in turn (a variable, or a named step), one element
at a time for an array, reads the gradient of seed * output from the output's tangent, and
counts what each mode costs on this tape (``explain.cost``). Renderers read the result and
compute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.forward_mode import Tangents, tangent_sweep, unit_seeds, weighted
from backtrace_cli.engine.nodes import CONST
from backtrace_cli.explain.cost import Cost, sweep_costs
from backtrace_cli.explain.gradient import Explanation

MODES = ("reverse", "forward", "both")
# Forward mode runs a sweep per input element over every node, and keeps each sweep's
# tangents for its table: past this many tangents in all it is refused (reverse mode is one
# sweep, whatever the number of inputs).
MAX_TANGENTS = 2_000_000


@dataclass(frozen=True)
class Sweep:
    wrt: str  # the seeded name
    element: tuple  # () for a scalar, else the seeded element's index
    tangents: Tangents
    gradient: float  # seed · (the output's tangent)

    @property
    def label(self) -> str:
        """x1, or W[0,1] for one element of an array."""
        if not self.element:
            return self.wrt
        return f"{self.wrt}[{','.join(str(i) for i in self.element)}]"


@dataclass(frozen=True)
class ForwardMode:
    sweeps: tuple[Sweep, ...]
    gradients: dict[str, Any]  # per reported name, from the tangents (floats or arrays)
    cost: Cost


def forward_mode(explanation: Explanation) -> ForwardMode:
    """The tangent sweeps of an explained gradient, its gradients from them, and the cost."""
    tape = explanation.tape
    shapes = explanation.shapes
    m = _backend(shapes)
    nodes = {name: explanation.node_of(name) for name in explanation.wrt}
    elements = sum(_elements(shapes[index] if shapes is not None else ())
                   for index in nodes.values())
    if elements * len(tape.nodes) > MAX_TANGENTS:
        from backtrace_cli.errors import UsageError

        error = UsageError(
            f"mode forward needs one sweep per input element: {elements:,} sweeps over "
            f"{len(tape.nodes):,} nodes, more than {MAX_TANGENTS:,} tangents",
            "use mode reverse, which takes one sweep whatever the number of inputs")
        error.field = "mode"
        raise error
    sweeps = []
    gradients: dict[str, Any] = {}
    context = _quiet(shapes)
    with context:
        for name, index in nodes.items():
            shape = shapes[index] if shapes is not None else ()
            base, prefix = _picked(tape, name)  # W[0,1]: only the elements under (0, 1)
            values = []
            for element, seed in unit_seeds(shape):
                if element[:len(prefix)] != prefix:
                    continue
                tangents = tangent_sweep(tape, explanation.values, {index: seed}, m, shapes)
                gradient = weighted(explanation.seed, tangents.tangents[tape.output])
                sweeps.append(Sweep(base, element, tangents, float(gradient)))
                values.append(float(gradient))
            if shape[len(prefix):]:
                import numpy

                gradients[name] = numpy.array(values).reshape(shape[len(prefix):])
            else:
                gradients[name] = values[0]
    cost = sweep_costs(tape, shapes, tuple(nodes.values()), 1)
    return ForwardMode(tuple(sweeps), gradients, cost)


def _picked(tape, name: str) -> tuple[str, tuple]:
    """(the variable, the index prefix) of a reported name: (W, (0, 1)) for W[0,1]."""
    from backtrace_cli.engine.picks import parse_pick

    pick = None if name in tape.variable_nodes else parse_pick(name)
    return pick if pick is not None else (name, ())


def _elements(shape: tuple) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def _backend(shapes):
    if shapes is None:
        from backtrace_cli.engine.backends import FLOAT64

        return FLOAT64
    from backtrace_cli.engine.backends import numpy_backend

    return numpy_backend("float64")


def _quiet(shapes):
    """NumPy's warnings off for arrays: an inf or nan is reported by the engine, by node."""
    if shapes is None:
        import contextlib

        return contextlib.nullcontext()
    import numpy

    return numpy.errstate(all="ignore")


@dataclass(frozen=True)
class RuleTerm:
    """One input's term of a tangent rule, zero terms included (for the table)."""

    position: int
    input: int
    local: Any  # None for an array op (a Jacobian-vector product), or where undefined
    tangent: Any  # 0.0 where no path from the seed leads
    product: Any


def rule_terms(explanation: Explanation, sweep: Sweep, index: int) -> tuple[RuleTerm, ...]:
    """Every term of node ``index``'s tangent rule in this sweep, in input order: the sweep's
    own products, and for an input without a tangent its local derivative times 0 (its local
    derivative taken here only to be shown; where it is undefined it is left out)."""
    node = explanation.tape.nodes[index]
    op = node.op
    tangents = sweep.tangents.tangents
    row = next((r for r in sweep.tangents.rows if r.node == index), None)
    given = list(row.terms) if row is not None else []
    arrays = explanation.shapes is not None
    args = [explanation.values[j] for j in node.inputs]
    out = explanation.values[index]
    terms = []
    for position, j in enumerate(node.inputs):
        if explanation.tape.nodes[j].kind == CONST:  # a constant's tangent is always 0
            continue
        if tangents[j] is not None and given:
            term = given.pop(0)
            terms.append(RuleTerm(position, j, term.local, term.tangent, term.product))
            continue
        local = None
        if not (op.jvps and arrays):
            try:
                local = op.derivatives[0 if op.variadic else position](
                    _backend(explanation.shapes), args, out)
            except (ValueError, ZeroDivisionError, OverflowError):
                local = None
        terms.append(RuleTerm(position, j, local, 0.0, 0.0))
    return tuple(terms)


def checked_forward(explanation: Explanation, modes: ForwardMode, timeout: float):
    """The cross-checks (SymPy, finite differences) of forward mode's gradients."""
    from backtrace_cli.explain.steps import check_with_steps

    tape = explanation.tape
    picks = {name: _picked(tape, name) for name in explanation.wrt
             if _picked(tape, name)[1]}
    gradients = dict(modes.gradients)
    if picks:  # checked as whole variables (the tangents put in place), then re-keyed
        from backtrace_cli.explain.picked import bases, picked_report

        gradients = {}
        for name in bases(explanation.wrt, picks):
            gradients[name] = modes.gradients.get(name)
            if gradients[name] is None:  # only picked parts of it: the reverse sweep's rest
                import numpy

                gradients[name] = numpy.array(explanation.whole[name], dtype=float)
        for name, (base, index) in picks.items():
            gradients[base][index] = modes.gradients[name]
    steps = {name: explanation.node_of(name) for name in gradients
             if name not in tape.variable_nodes}
    with _quiet(explanation.shapes):
        report = check_with_steps(tape, explanation.bindings, explanation.values,
                                  explanation.seed, gradients, steps,
                                  explanation.result.kinks, timeout,
                                  _backend(explanation.shapes), explanation.shapes)
    if picks:
        report = picked_report(report, explanation.wrt, picks)
    return report
