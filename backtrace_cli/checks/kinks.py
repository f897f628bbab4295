"""Which gradients a kink convention decides: relu or abs at 0, min or max at a tie."""

from __future__ import annotations

from collections.abc import Sequence

from backtrace_cli.engine.nodes import OP, VAR, Tape

_KINK_NOTES_SHOWN = 3  # per variable; a program with thousands of kinks says how many more


def kink_notes(tape: Tape, kink_nodes: Sequence[int]) -> dict[str, str]:
    """For each variable upstream of a node evaluated at a kink, the convention(s) used.

    Linear in the size of the graph for a handful of kinks, and bounded for many: only nodes
    that lead to a kink get a bit set of variables, and each variable names its first
    ``_KINK_NOTES_SHOWN`` kinks and counts the rest.
    """
    if not kink_nodes:
        return {}
    nodes = tape.nodes
    kinks = sorted(set(kink_nodes))
    leads_to_kink = [False] * len(nodes)
    for index in kinks:
        leads_to_kink[index] = True
    for index in range(kinks[-1], -1, -1):
        if leads_to_kink[index]:
            for j in nodes[index].inputs:
                leads_to_kink[j] = True
    # Variables each such node depends on, as bit sets over the variables (one forward pass).
    position = {name: i for i, name in enumerate(tape.variables)}
    depends = [0] * len(nodes)
    for node in nodes[: kinks[-1] + 1]:
        if not leads_to_kink[node.index]:
            continue
        if node.kind == VAR:
            depends[node.index] = 1 << position[node.name]
        elif node.kind == OP:
            mask = 0
            for j in node.inputs:
                mask |= depends[j]
            depends[node.index] = mask
    shown: dict[str, list[str]] = {}
    more: dict[str, int] = {}
    for index in kinks:
        node = nodes[index]
        note = f"{node.op.kink_note} at {node.id} ({node.text})"
        mask = depends[index]
        while mask:
            lowest = mask & -mask
            name = tape.variables[lowest.bit_length() - 1]
            mask ^= lowest
            items = shown.setdefault(name, [])
            if len(items) < _KINK_NOTES_SHOWN:
                items.append(note)
            else:
                more[name] = more.get(name, 0) + 1
    out = {}
    for name in tape.variables:  # in the order of the variables, as before
        if name in shown:
            text = "; ".join(shown[name])
            if name in more:
                text += f"; and {more[name]:,} more kink(s)"
            out[name] = text
    return out

