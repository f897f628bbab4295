"""How a person refers to each node of a tape: its name, primed when given again, the output
as ``z``, else its id."""

from __future__ import annotations

from backtrace_cli.engine.nodes import Tape


def node_labels(tape: Tape) -> tuple[str, ...]:
    """Labels for people: names (primed when given again), the output as ``z``, else ids."""
    seen: dict[str, int] = {}
    labels = []
    taken = set(tape.variables) | {n.name for n in tape.nodes if n.name is not None}
    for node in tape.nodes:
        if node.name is not None:
            count = seen.get(node.name, 0)
            seen[node.name] = count + 1
            labels.append(node.name + "'" * count)
        else:
            labels.append(node.id)
    output = tape.nodes[tape.output]
    if output.name is None:
        for candidate in ("z", "f", "out", "output"):
            if candidate not in taken:
                labels[tape.output] = candidate
                break
    return tuple(labels)
