"""Every d(output element)/d(input element) of a program: the data behind ``backtrace jacobian``.

Forward mode fills the Jacobian a column at a time (one tangent sweep per input element),
reverse mode a row at a time (one reverse sweep per output element, seeded with a one-hot
adjoint); ``auto`` picks forward when the inputs have fewer elements than the output, else
reverse. Each variable's block has the shape output + variable (a scalar output: the
variable's shape, its gradient).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.checks.verify import CheckReport
from backtrace_cli.engine.forward_mode import tangent_sweep, unit_seeds
from backtrace_cli.engine.nodes import Tape
from backtrace_cli.engine.picks import pick_name
from backtrace_cli.engine.sweeps import backward, forward
from backtrace_cli.engine.tape import check_bindings
from backtrace_cli.errors import setting_error
from backtrace_cli.explain.cost import Cost, sweep_costs
from backtrace_cli.explain.forward import _quiet
from backtrace_cli.explain.gradient import node_labels, numeric_setting, resolve_wrt
from backtrace_cli.explain.picked import bases, checked_picks, part, picked_report
from backtrace_cli.explain.steps import wrt_nodes
from backtrace_cli.i18n import _, ngettext, use_language
from backtrace_cli.limits import MAX_JACOBIAN_ENTRIES, within

JACOBIAN_MODES = ("auto", "forward", "reverse")


@dataclass(frozen=True)
class Jacobian:
    tape: Tape
    bindings: dict
    values: list
    shapes: list | None
    wrt: tuple[str, ...]
    nodes: dict[str, int]  # name -> node (a variable or a named step)
    labels: tuple[str, ...]
    mode: str  # forward or reverse: the one used
    requested: str  # auto, forward or reverse
    reason: str
    blocks: dict[str, Any]  # name -> float or array of shape output + its shape
    check: CheckReport | None
    cost: Cost

    @property
    def output(self):
        return self.values[self.tape.output]

    @property
    def output_shape(self) -> tuple:
        return self.shape_of(self.tape.output)

    def shape_of(self, index: int) -> tuple:
        return self.shapes[index] if self.shapes is not None else ()

    def shape_of_name(self, name: str) -> tuple:
        """The shape of a reported name: its node's, or a picked part's (W[0,1]: scalar)."""
        return getattr(self.blocks[name], "shape", ())[len(self.output_shape):]


def _size(shape: tuple) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def choose_mode(mode: str, inputs: int, outputs: int) -> tuple[str, str]:
    """(the mode used, why in English, as the JSON keeps it): auto takes forward mode when the
    inputs have fewer elements."""
    if mode not in JACOBIAN_MODES:
        raise setting_error("mode", _("mode must be one of {modes}, not {value}").format(
            modes=", ".join(JACOBIAN_MODES), value=repr(mode)))
    chosen = mode if mode != "auto" else "forward" if inputs < outputs else "reverse"
    with use_language("en"):
        return chosen, mode_reason(chosen, mode, inputs, outputs)


def mode_reason(chosen: str, requested: str, inputs: int, outputs: int) -> str:
    """Why ``chosen`` (forward or reverse) computes the Jacobian, in the current language."""
    n = ngettext("{count:,} input element", "{count:,} input elements", inputs).format(
        count=inputs)
    m = ngettext("{count:,} output element", "{count:,} output elements", outputs).format(
        count=outputs)
    sweeps = {"forward": _("one tangent sweep per input element ({count:,})").format(
                  count=inputs),
              "reverse": _("one reverse sweep per output element ({count:,})").format(
                  count=outputs)}
    if requested != "auto":
        asked = {"forward": _("forward mode, as asked: {sweeps}"),
                 "reverse": _("reverse mode, as asked: {sweeps}")}[chosen]
        return asked.format(sweeps=sweeps[chosen])
    if chosen == "forward":
        return ngettext("forward mode, chosen: {n} is fewer than {m}, so {sweeps}",
                        "forward mode, chosen: {n} are fewer than {m}, so {sweeps}",
                        inputs).format(n=n, m=m, sweeps=sweeps["forward"])
    return ngettext("reverse mode, chosen: {m} is no more than {n}, so {sweeps}",
                    "reverse mode, chosen: {m} are no more than {n}, so {sweeps}",
                    outputs).format(n=n, m=m, sweeps=sweeps["reverse"])


def explain_jacobian(
    tape: Tape, bindings: Mapping[str, Any], wrt: Sequence[str] | None = None,
    mode: str = "auto", check: bool = True, check_timeout: float = 5.0,
) -> Jacobian:
    """The Jacobian of the output with respect to ``wrt`` (default: every variable)."""
    check_bindings(tape, bindings)
    names = resolve_wrt(tape, wrt)
    bindings, shapes, m = numeric_setting(tape, bindings)
    picks = checked_picks(tape, names, shapes)
    if picks:  # the whole variables' blocks (the same sweeps), then the picked columns
        whole = explain_jacobian(tape, bindings, bases(names, picks), mode, check,
                                 check_timeout)
        return _picked_blocks(whole, names, picks)
    nodes = wrt_nodes(tape, names)
    shape_of = (lambda index: shapes[index]) if shapes is not None else (lambda index: ())
    inputs = sum(_size(shape_of(index)) for index in nodes.values())
    output_shape = shape_of(tape.output)
    within(MAX_JACOBIAN_ENTRIES, inputs * _size(output_shape), _(
        "the Jacobian of {m:,} output elements by {n:,} input elements has {{amount}} "
        "entries, more than {{limit}}").format(m=_size(output_shape), n=inputs))
    chosen, reason = choose_mode(mode, inputs, _size(output_shape))
    with _quiet(shapes):
        values = forward(tape, bindings, m)
        if chosen == "forward":
            blocks = _by_columns(tape, values, nodes, shapes, m, output_shape)
        else:
            blocks = _by_rows(tape, values, nodes, shapes, m, output_shape)
        report = None
        if check:
            from backtrace_cli.checks.jacobian import check_jacobian

            report = check_jacobian(tape, bindings, values, blocks, nodes, shapes,
                                    m if shapes is not None else None, check_timeout)
    cost = sweep_costs(tape, shapes, tuple(nodes.values()), _size(output_shape))
    return Jacobian(tape, dict(bindings), values, shapes, names, nodes, node_labels(tape),
                    chosen, mode, reason, blocks, report, cost)


def _by_columns(tape, values, nodes, shapes, m, output_shape) -> dict:
    """Forward mode: a tangent sweep per input element gives d(output)/d(that element)."""
    import numpy

    blocks = {}
    for name, index in nodes.items():
        shape = shapes[index] if shapes is not None else ()
        if not shape and not output_shape:
            tangent = tangent_sweep(tape, values, {index: 1.0}, m, shapes).tangents[tape.output]
            blocks[name] = 0.0 if tangent is None else float(tangent)
            continue
        block = numpy.zeros(output_shape + shape)
        for element, seed in unit_seeds(shape):
            tangent = tangent_sweep(tape, values, {index: seed}, m, shapes).tangents[tape.output]
            if tangent is not None:
                block[(Ellipsis, *element)] = tangent
        blocks[name] = block[()] if block.shape else float(block)
    return blocks


def _by_rows(tape, values, nodes, shapes, m, output_shape) -> dict:
    """Reverse mode: a reverse sweep per output element gives d(that element)/d(inputs)."""
    import numpy

    variables = [name for name in nodes if name in tape.variable_nodes]
    steps = tuple(index for name, index in nodes.items() if name not in tape.variable_nodes)
    blocks = {name: numpy.zeros(output_shape + (shapes[index] if shapes is not None else ()))
              for name, index in nodes.items()}
    for element, seed in unit_seeds(output_shape):
        result = backward(tape, values, seed, variables, m, shapes=shapes, wanted_nodes=steps)
        for name, index in nodes.items():
            adjoint = result.adjoints[index]
            if adjoint is not None:
                blocks[name][element] = adjoint
    return {name: block if block.shape else float(block) for name, block in blocks.items()}


def _picked_blocks(whole: Jacobian, names, picks) -> Jacobian:
    """``whole`` (over whole variables) with the picks' columns under their names."""
    from dataclasses import replace

    lead = len(whole.output_shape)
    canonical = {n: pick_name(*picks[n]) if n in picks else n for n in names}
    blocks = {canonical[n]: (part(whole.blocks[picks[n][0]],
                                  (slice(None),) * lead + tuple(picks[n][1]))
                             if n in picks else whole.blocks[n]) for n in names}
    nodes = {canonical[n]: whole.nodes[picks[n][0] if n in picks else n] for n in names}
    return replace(whole, wrt=tuple(blocks), nodes=nodes, blocks=blocks,
                   check=picked_report(whole.check, names, picks, lead))
