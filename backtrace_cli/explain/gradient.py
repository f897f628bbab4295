"""One gradient, explained: the data behind ``backtrace grad``'s tables, JSON and Markdown.

``explain`` runs the forward and reverse sweeps with the edges recorded, labels every node
for people (the output is ``z`` unless a statement names it; a name given again gets a
prime: ``c``, ``c'``, ``c''``), gathers the chain-rule sums and, when asked, the checks.
Renderers read the ``Explanation`` and compute nothing themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from backtrace_cli.engine.nodes import OP, VAR, Tape
from backtrace_cli.engine.picks import parse_pick
from backtrace_cli.engine.sweeps import Backward, Edge, backward, forward, gradients
from backtrace_cli.engine.tape import check_bindings
from backtrace_cli.engine.values import (
    all_finite,
    as_float64,
    holds_arrays,
    numeric_setting,
    quiet_arithmetic,
    shape_of,
    with_shape,
)
from backtrace_cli.errors import BindingError, EvaluationError, ShapeError, did_you_mean
from backtrace_cli.explain.labels import node_labels  # noqa: F401  (its old home)
from backtrace_cli.explain.picked import bases, checked_picks, picked
from backtrace_cli.explain.steps import check_with_steps, named_steps, wrt_nodes
from backtrace_cli.i18n import _
from backtrace_cli.ops.table import shape_text
from backtrace_cli.phases import reached as reached_phase
from backtrace_cli.syntax.parser import format_number

if TYPE_CHECKING:
    from backtrace_cli.checks.verify import CheckReport


@dataclass(frozen=True)
class ChainRule:
    target: int  # node index
    contributions: tuple[Edge, ...]  # the edges into the target, in reverse-sweep order
    total: float


@dataclass(frozen=True)
class Explanation:
    tape: Tape
    bindings: dict[str, float]
    seed: float
    wrt: tuple[str, ...]
    values: list
    result: Backward
    labels: tuple[str, ...]  # per node, for people
    loss_label: str  # "L" (another letter if L is taken), or the output's label when seed is 1
    gradients: dict[str, float]
    check: CheckReport | None
    shapes: list  # per node; () for a scalar
    whole: dict | None = None  # with wrt W[0,1]: the whole variables' gradients (W)

    @cached_property
    def arrays(self) -> bool:
        """Whether any value is an array (the reports then show shapes)."""
        return holds_arrays(self.shapes)

    @cached_property
    def chain_rules(self) -> tuple[ChainRule, ...]:
        """For each step but the output, from the top (built when first read: a JSON
        document of a huge program needs only the named ones, ``named_chain_rules``)."""
        return chain_rules(self.tape, self.result, self.shapes)

    @cached_property
    def named_chain_rules(self) -> tuple[ChainRule, ...]:
        """The rules of the named nodes (variables and assigned names) only."""
        return chain_rules(self.tape, self.result, self.shapes, named_only=True)

    @property
    def output(self) -> float:
        return self.values[self.tape.output]

    @property
    def edges(self) -> list[Edge]:
        return self.result.edges

    def node_of(self, name: str) -> int:
        """The node of a reported name: a variable, or a named step (``--wrt y_hat``); for
        an element or row (``W[0,1]``), its variable's node."""
        pick = None if name in self.tape.variable_nodes else parse_pick(name)
        base = pick[0] if pick else name
        return wrt_nodes(self.tape, [base])[base]


def resolve_wrt(tape: Tape, wrt: Sequence[str] | None) -> tuple[str, ...]:
    """The names to differentiate with respect to: variables, or named steps (y_hat)."""
    if not wrt:
        return tape.variables
    steps = named_steps(tape)
    for name in wrt:
        pick = parse_pick(name)
        if pick is not None and pick[0] in tape.variable_nodes:
            continue  # an element or a row of a variable (W[0,1]); its index checked later
        if name not in tape.variable_nodes and name not in steps:
            named = _("; its named steps: {steps}").format(steps=", ".join(steps)) if steps else ""
            error = BindingError(
                _(
                    "wrt names '{name}', which is not a variable of the expression (its "
                    "variables: {value}{named})"
                ).format(name=name, value=", ".join(tape.variables) or "none", named=named),
                did_you_mean(name, (*tape.variables, *steps)),
            )
            error.field = "wrt"  # the CLI says --wrt (docs/cli.md)
            raise error
    return tuple(dict.fromkeys(wrt))


def chain_rules(tape: Tape, result: Backward, shapes: list | None = None,
                named_only: bool = False) -> tuple[ChainRule, ...]:
    """The multivariate chain rule for every step below the output that has an adjoint.

    In reverse tape order (from the output down), so every adjoint a rule uses, dL/dv for
    each node v that consumes the target, is derived by an earlier rule (or is the seed).
    Named steps and variables are labelled by name, others by id (see ``node_labels``).
    With arrays (``shapes`` given), an unnamed step with a single contribution is left out:
    its line, dL/dv5 = dL/dv6 · dv6/dv5 = P = P, would only repeat the result; the
    backward table shows the product.
    """
    nodes = tape.nodes
    arrays = holds_arrays(shapes)
    incoming: dict[int, list[Edge]] = {}
    for edge in result.edges:
        if not named_only or nodes[edge.input].name is not None:
            incoming.setdefault(edge.input, []).append(edge)
    rules = []
    for index in range(len(tape.nodes) - 1, -1, -1):
        node = tape.nodes[index]
        if index == tape.output or index not in incoming or node.kind not in (VAR, OP):
            continue
        edges = incoming[index]
        if arrays and node.kind == OP and node.name is None and len(edges) == 1:
            continue
        rules.append(ChainRule(index, tuple(edges), result.adjoints[index]))
    return tuple(rules)


def explain(
    tape: Tape,
    bindings: Mapping[str, float],
    seed: float = 1.0,
    wrt: Sequence[str] | None = None,
    check: bool = True,
    check_timeout: float = 5.0,
) -> Explanation:
    """Forward, backward (edges recorded), chain rules and, if asked, the cross-checks.

    A program whose values are all scalars runs on Python floats, exactly as it always has.
    One with arrays (a binding, a [a, b] literal) has every node's shape inferred first (a
    mismatch is an error before anything is evaluated) and runs on NumPy float64.
    """
    check_bindings(tape, bindings)
    names = resolve_wrt(tape, wrt)
    bindings, shapes, m = numeric_setting(tape, bindings)
    picks = checked_picks(tape, names, shapes)
    if picks:  # the whole variables are computed, then the picked parts reported
        whole = explain(tape, bindings, seed, bases(names, picks), check, check_timeout)
        return picked(whole, names, picks)
    seed_shape = shape_of(seed)
    output_shape = shapes[tape.output]
    if seed_shape != output_shape:
        raise _seed_shape_error(tape, seed_shape, output_shape)
    if holds_arrays(shapes):  # the seed in the back end's dtype, as the bindings are
        seed = m.number(seed)
    with quiet_arithmetic(shapes):  # a nan or inf is reported by the engine, by node
        return _explain(tape, bindings, seed, names, check, check_timeout, m, shapes)


def _seed_shape_error(tape: Tape, seed_shape: tuple, output_shape: tuple) -> ShapeError:
    output = tape.nodes[tape.output]
    label = output.name or "the output"
    if seed_shape == ():
        error = ShapeError(
            _("{label} is an array ({value}), not a scalar: a gradient needs a scalar loss").format(
                label=label, value=shape_text(output_shape)
            ),
            tape.source,
            output.span,
            _(
                "reduce it, e.g. sum({text}) or mean(...), or give dz as an array of shape "
                "{value}"
            ).format(text=output.text, value=shape_text(output_shape)),
        )
        error.field = "dz"  # the CLI says --dz, also in the hint
        return error
    error = ShapeError(
        _("dz has shape {value} but {label} has shape {value2}").format(
            value=shape_text(seed_shape), label=label, value2=shape_text(output_shape)
        ),
        tape.source,
        output.span,
        _("the seed dL/d(output) must have the output's shape"),
    )
    error.field = "dz"  # the CLI says --dz
    return error


def _explain(tape, bindings, seed, names, check, check_timeout, m, shapes) -> Explanation:
    nodes_of = wrt_nodes(tape, names)
    steps = {name: index for name, index in nodes_of.items() if name not in tape.variable_nodes}
    values = forward(tape, bindings, m)
    reached_phase("grad-sweeps")  # a test hook (phases.py)
    result = backward(tape, values, seed, [n for n in names if n not in steps], m, record=True,
                      shapes=shapes, wanted_nodes=tuple(steps.values()))
    found = gradients(tape, result, [n for n in names if n not in steps], m)
    for name, index in steps.items():  # a named step's derivative is its adjoint
        found[name] = m.number(0.0) if result.adjoints[index] is None else result.adjoints[index]
    # Every variable's gradient has the variable's shape.
    grads = {name: with_shape(as_float64(found[name]), shapes[nodes_of[name]]) for name in names}
    for name, value in grads.items():
        if not all_finite(value):  # finite steps can still overflow: --dz 1e300, w=1e10
            node = tape.nodes[nodes_of[name]]
            raise EvaluationError(
                _(
                    "the gradient with respect to {name} overflows a float at these values (seed "
                    "{value})"
                ).format(
                    name=name,
                    value=format_number(seed) if shape_of(seed) == () else "array",
                ),
                tape.source,
                node.span,
                _("use smaller values or a smaller seed"),
            )
    labels = node_labels(tape)
    output = tape.nodes[tape.output]
    if shape_of(seed) == () and seed == 1 and output.name is not None:
        # The output's own label: a name given again is primed (g'); "dg/dg" would be wrong.
        loss_label = labels[tape.output]
    else:
        taken = set(labels) | set(tape.variables)
        loss_label = next((c for c in ("L", "J", "loss", "E") if c not in taken), "L")
    report = None
    if check and steps:
        report = check_with_steps(tape, bindings, values, seed, grads, steps, result.kinks,
                                  check_timeout, m, shapes)
    elif check:
        from backtrace_cli.checks.verify import run_checks  # --no-check loads no checks

        report = run_checks(tape, bindings, seed, grads, result.kinks, timeout=check_timeout,
                            m=m, shapes=shapes)
    return Explanation(
        tape=tape,
        bindings=dict(bindings),
        seed=seed,
        wrt=names,
        values=values,
        result=result,
        labels=labels,
        loss_label=loss_label,
        gradients=grads,
        check=report,
        shapes=shapes,
    )
