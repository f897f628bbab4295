"""The cells of a gradient's tables that a student can fill in: the worksheet's blanks and the
grader's marks both read them from here.

A cell is one number ``grad`` computed: a forward value (an op's node), a local derivative or
a chain-rule product (an edge of the reverse sweep), or a gradient (a variable). Its ``key``
is how an answers file names it: the node id ``v3``, the edge ``v3/v1`` (node/input; a second
edge between the same two nodes, as in ``x*x``, is ``v3/v1#2``) or the variable ``x``. People
may also write names: ``y_hat`` for ``v3``, ``y_hat/w`` for ``v3/v2`` (see ``resolve``).

``cells`` lists them in the order the sweeps compute them: the forward values in tape order,
then each edge's local derivative and product as the reverse sweep visits it, each gradient
right after the last product that flows into its variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.nodes import OP
from backtrace_cli.errors import did_you_mean
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.i18n import N_, _, translated

# The kinds of cells, in the order of the worksheet's tables (also `quiz --blank`'s choices).
KINDS = ("forward", "local", "product", "gradient")
# The section of an answers file that holds each kind.
SECTIONS = {"forward": "forward", "local": "local", "product": "product",
            "gradient": "gradients"}
# How a kind of cell is shown in a worksheet's (and the grade's) kind column; the worksheet
# reader (data/answers.py) reads it back in every language.
KIND_NAMES = {"forward": N_("forward"), "local": N_("local"), "product": N_("product"),
              "gradient": N_("gradient")}
# The Answers table's column titles after "#", which the worksheet reader looks for.
ANSWER_COLUMNS = (N_("kind"), N_("cell"), N_("meaning"), N_("answer"))


@dataclass(frozen=True)
class Cell:
    kind: str  # one of KINDS
    key: str  # "v3", "v3/v1", "v3/v1#2" or a variable's name
    expected: Any  # grad's own number: a float, or a NumPy array
    node: int  # forward: the node; local, product: the edge's node; gradient: the variable's
    edge: int | None = None  # local, product: the index into explanation.edges
    position: int | None = None  # local, product: which input of the node the edge is


def edge_keys(explanation: Explanation) -> list[tuple[str, int]]:
    """(key, input position) of every edge, in the sweep's order."""
    nodes = explanation.tape.nodes
    keys: list[tuple[str, int]] = []
    seen: dict[tuple[int, int], int] = {}
    last_position: dict[int, int] = {}
    for edge in explanation.edges:
        count = seen.get((edge.node, edge.input), 0) + 1
        seen[(edge.node, edge.input)] = count
        inputs = nodes[edge.node].inputs
        start = last_position.get(edge.node, -1) + 1
        # The sweep records a node's edges in the order of its inputs.
        position = next((p for p in range(start, len(inputs)) if inputs[p] == edge.input),
                        inputs.index(edge.input))
        last_position[edge.node] = position
        key = f"{nodes[edge.node].id}/{nodes[edge.input].id}"
        keys.append((key + (f"#{count}" if count > 1 else ""), position))
    return keys


def cells(explanation: Explanation) -> tuple[Cell, ...]:
    """Every cell of the program, in the order the sweeps compute them."""
    tape = explanation.tape
    found = [Cell("forward", node.id, explanation.values[node.index], node.index)
             for node in tape.nodes if node.kind == OP]
    variable_of = {tape.variable_nodes[name]: name for name in explanation.wrt}
    last_edge: dict[int, int] = {}
    for index, edge in enumerate(explanation.edges):
        if edge.input in variable_of:
            last_edge[edge.input] = index
    finished_at: dict[int, list[str]] = {}
    for node, index in last_edge.items():
        finished_at.setdefault(index, []).append(variable_of[node])
    for index, (edge, (key, position)) in enumerate(
            zip(explanation.edges, edge_keys(explanation))):
        found.append(Cell("local", key, edge.local, edge.node, index, position))
        found.append(Cell("product", key, edge.product, edge.node, index, position))
        for name in finished_at.get(index, []):
            found.append(Cell("gradient", name, explanation.gradients[name],
                              tape.variable_nodes[name]))
    for name in explanation.wrt:  # no edge reaches it (or it is the output itself)
        if tape.variable_nodes[name] not in last_edge:
            found.append(Cell("gradient", name, explanation.gradients[name],
                              tape.variable_nodes[name]))
    return tuple(found)


def worksheet_order(explanation: Explanation, found: tuple[Cell, ...]) -> tuple[Cell, ...]:
    """The cells as a worksheet shows them: the forward table, the backward table (local,
    then product, per edge), then the gradients table in the order grad lists them."""
    forward = [cell for cell in found if cell.kind == "forward"]
    backward = [cell for cell in found if cell.kind in ("local", "product")]
    order = {name: index for index, name in enumerate(explanation.wrt)}
    gradients = sorted((cell for cell in found if cell.kind == "gradient"),
                       key=lambda cell: order[cell.key])
    return tuple(forward + backward + gradients)


class UnknownKey(Exception):
    """A key that names no cell of its kind; ``hint`` is a did-you-mean, when one is close."""

    def __init__(self, message: str, hint: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _node_names(explanation: Explanation) -> dict[str, int]:
    """What a person may call a node: its label (a name, primed when given again, or the
    output's z), its name, and its id, which wins when a name looks like an id."""
    names: dict[str, int] = {}
    for node in explanation.tape.nodes:
        names.setdefault(explanation.labels[node.index], node.index)
    for node in explanation.tape.nodes:
        names[node.id] = node.index
    return names


def resolve(explanation: Explanation, kind: str, written: str,
            found: tuple[Cell, ...]) -> Cell:
    """The cell that ``written`` names among ``found`` (keys or names, see the module's
    docstring); ``UnknownKey`` with a did-you-mean when there is none."""
    of_kind = {cell.key: cell for cell in found if cell.kind == kind}
    text = written.strip()
    if text in of_kind:
        return of_kind[text]
    names = _node_names(explanation)
    labels = explanation.labels
    if kind == "forward" and text in names:
        key = explanation.tape.nodes[names[text]].id
        if key in of_kind:
            return of_kind[key]
    if kind in ("local", "product") and "/" in text:
        pair, _sep, count = text.partition("#")
        node_text, _sep, input_text = pair.partition("/")
        node, input_ = names.get(node_text.strip()), names.get(input_text.strip())
        if node is not None and input_ is not None:
            ids = explanation.tape.nodes
            key = f"{ids[node].id}/{ids[input_].id}" + (f"#{count.strip()}" if count else "")
            if key in of_kind:
                return of_kind[key]
    spelled = list(of_kind)
    if kind == "forward":
        spelled += [labels[cell.node] for cell in of_kind.values()]
    elif kind in ("local", "product"):
        spelled += [f"{labels[explanation.edges[cell.edge].node]}/"
                    f"{labels[explanation.edges[cell.edge].input]}" for cell in of_kind.values()]
    what = {"forward": _("an op's node (a variable's or a constant's value is given)"),
            "local": _("an edge NODE/INPUT"), "product": _("an edge NODE/INPUT"),
            "gradient": _("a variable")}[kind]
    kind_name = translated(KIND_NAMES[kind])
    hint = did_you_mean(text, dict.fromkeys(spelled))
    if hint is None and spelled:
        unique = list(dict.fromkeys(spelled))
        listed = ", ".join(unique[:6]) + (", ..." if len(unique) > 6 else "")
        hint = _("its {kind} cells: {cells}").format(kind=kind_name, cells=listed)
    raise UnknownKey(_("'{text}' names no {kind} cell of this program: a key is {what}").format(
        text=text, kind=kind_name, what=what), hint)
