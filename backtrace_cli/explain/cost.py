"""What forward and reverse mode cost on one tape: sweeps, multiplications, values stored.

Counted from the tape's structure, so they can be checked by hand:

- sweeps: forward mode needs one per input element (seed one tangent at 1), reverse mode one
  per output element (seed one adjoint at 1); ``grad`` weighs the output by its seed, one
  reverse sweep.
- multiplications: the chain-rule products, local x tangent (forward) or upstream x local
  (reverse), one per edge a sweep uses and per element of its product; a local derivative of
  +-1 (add, sub, neg, sum, transpose, [a, b]) costs none, a matrix product its p*q*r, a mean
  one (the scale 1/n). The local derivatives themselves cost both modes alike: not counted.
- stored: forward mode keeps a value and a tangent per node only until the node's last reader
  has run (the most held at once is counted); reverse mode keeps every node's value from the
  forward sweep until the sweep back reads it, and an adjoint per node that gets one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from backtrace_cli.engine.nodes import OP, Tape
from backtrace_cli.engine.sweeps import needs_gradient
from backtrace_cli.i18n import _, ngettext


@dataclass(frozen=True)
class ModeCost:
    sweeps: int
    multiplications: int
    stored: int


@dataclass(frozen=True)
class Cost:
    forward: ModeCost
    reverse: ModeCost
    inputs: int  # n: elements of what is differentiated with respect to
    outputs: int  # m: elements of the output (1 for a seeded gradient)

    @property
    def winner(self) -> str | None:
        """forward, reverse, or None when they cost the same here."""
        ours = (self.forward.multiplications, self.forward.sweeps)
        theirs = (self.reverse.multiplications, self.reverse.sweeps)
        if ours == theirs:
            return None
        return "forward" if ours < theirs else "reverse"

    def sentence(self) -> str:
        """Which mode wins for these n inputs and m outputs, and why, in the current language
        (the JSON keeps it in English: ``with use_language("en")``)."""
        f, r = self.forward, self.reverse
        n = ngettext("n = {count} input", "n = {count} inputs", self.inputs).format(
            count=self.inputs)
        m = ngettext("m = {count} output", "m = {count} outputs", self.outputs).format(
            count=self.outputs)
        counts = _("forward mode needs a sweep per input ({sweeps}, {products}), reverse mode "
                   "a sweep per output ({reverse_sweeps}, {reverse_products})").format(
            sweeps=_sweeps(f.sweeps), products=_products(f.multiplications),
            reverse_sweeps=_sweeps(r.sweeps), reverse_products=_products(r.multiplications))
        memory = _("reverse mode keeps every value for its sweep back ({stored:,} numbers "
                   "stored against {forward_stored:,})").format(stored=r.stored,
                                                                forward_stored=f.stored)
        if self.winner is None:
            verdict = _("Neither mode wins for {n} and {m}")
        elif self.winner == "forward":
            verdict = _("Forward mode wins for {n} and {m}")
        else:
            verdict = _("Reverse mode wins for {n} and {m}")
        return _("{verdict}: {counts}; {memory}.").format(
            verdict=verdict.format(n=n, m=m), counts=counts, memory=memory)


def _sweeps(count: int) -> str:
    return ngettext("{count:,} sweep", "{count:,} sweeps", count).format(count=count)


def _products(count: int) -> str:
    return ngettext("{count:,} multiplication", "{count:,} multiplications", count).format(
        count=count)


def _size(shape: tuple) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def edge_multiplications(tape: Tape, shapes: Sequence[tuple], index: int,
                         position: int) -> int:
    """The multiplications of one chain-rule product along the edge node -> input."""
    node = tape.nodes[index]
    op = node.op
    rule = 0 if op.variadic else position
    if op.derivative_code[rule] in ("1.0", "-1.0"):
        return 0
    if op.shape_rule == "matmul":
        a, b = (shapes[j] for j in node.inputs)
        rows = a[0] if len(a) == 2 else 1
        columns = b[1] if len(b) == 2 else 1
        return rows * a[-1] * columns
    if op.jvp_code:  # a reduction with a scale (mean): one multiplication
        return 1
    return _size(shapes[index])


def sweep_costs(tape: Tape, shapes: Sequence[tuple], wrt: Collection[int],
                outputs: int) -> Cost:
    """Both modes' costs for the derivatives of the output with respect to the nodes ``wrt``
    (variables or named steps), with ``outputs`` reverse sweeps."""
    nodes = tape.nodes
    size = [_size(shape) for shape in shapes]
    inputs = sum(size[i] for i in wrt)
    # Forward: per seeded node, the edges whose input carries a tangent from it.
    forward_products = 0
    for seed in wrt:
        reached = [False] * len(nodes)
        reached[seed] = True
        products = 0
        for node in nodes[seed + 1:]:
            if node.kind != OP:
                continue
            for position, j in enumerate(node.inputs):
                if reached[j]:
                    reached[node.index] = True
                    products += edge_multiplications(tape, shapes, node.index, position)
        forward_products += size[seed] * products
    # Reverse: the edges from a node that gets an adjoint to an input on a wanted path.
    needs = needs_gradient(tape, [], tuple(wrt))
    reaches = [False] * len(nodes)
    reaches[tape.output] = True
    reverse_products = 0
    for node in reversed(nodes):
        if not (reaches[node.index] and needs[node.index]) or node.kind != OP:
            continue
        for position, j in enumerate(node.inputs):
            if needs[j]:
                reaches[j] = True
                reverse_products += edge_multiplications(tape, shapes, node.index, position)
    adjoints = sum(size[i] for i in range(len(nodes)) if reaches[i] and needs[i])
    return Cost(
        forward=ModeCost(inputs, forward_products, 2 * _peak_live(tape, size)),
        reverse=ModeCost(outputs, outputs * reverse_products, sum(size) + adjoints),
        inputs=inputs,
        outputs=outputs,
    )


def _peak_live(tape: Tape, size: list[int]) -> int:
    """The most elements alive at once when each node is dropped after its last reader (the
    output is kept): what a forward sweep that keeps no tape holds, per value or tangent."""
    last_read = list(range(len(tape.nodes)))
    for node in tape.nodes:
        for j in node.inputs:
            last_read[j] = node.index
    last_read[tape.output] = len(tape.nodes)
    dropped_after: dict[int, list[int]] = {}
    for index, last in enumerate(last_read):
        dropped_after.setdefault(last, []).append(index)
    live = peak = 0
    for node in tape.nodes:
        live += size[node.index]
        peak = max(peak, live)
        live -= sum(size[j] for j in dropped_after.get(node.index, ()))
    return peak
