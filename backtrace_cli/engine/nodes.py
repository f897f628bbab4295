"""The tape's parts: a node (a variable, a constant or an op over earlier nodes) and the tape,
the flat list of nodes in evaluation order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from backtrace_cli.errors import Span
from backtrace_cli.ops.table import PREC_ATOM, Op

VAR = "var"
CONST = "const"
OP = "op"

# A node's text spells out its inputs while they are short, and names them by id beyond
# that: each text is then bounded, so building all texts stays linear in the graph's size.
INLINE_TEXT = 32


class Node(NamedTuple):
    index: int
    kind: str  # VAR, CONST or OP
    op: Op | None
    inputs: tuple[int, ...]
    name: str | None  # the variable's name, or the name an assignment gave this node
    text: str  # the node's expression, e.g. "x*w" or "v3 - y"
    precedence: int
    span: Span
    value: float | None = None  # constants only

    @property
    def id(self) -> str:
        return f"v{self.index + 1}"

    @property
    def op_name(self) -> str:
        return self.op.name if self.op is not None else self.kind


@dataclass(frozen=True)
class Tape:
    nodes: tuple[Node, ...]
    output: int
    variables: tuple[str, ...]  # in order of first appearance
    variable_nodes: Mapping[str, int]
    source: str

    def __len__(self) -> int:
        return len(self.nodes)

    def label(self, index: int) -> str:
        """How a person refers to a node: its name, else its id."""
        node = self.nodes[index]
        return node.name if node.name is not None else node.id


def snippet(node: Node) -> tuple[str, int]:
    """How a node appears inside the text of a node that uses it, with its precedence: its
    name, its own text while that is short (INLINE_TEXT), else its id."""
    if node.name is not None:
        return node.name, PREC_ATOM
    if len(node.text) <= INLINE_TEXT:
        return node.text, node.precedence
    return node.id, PREC_ATOM
