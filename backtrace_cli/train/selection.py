"""Which variables ``minimize`` moves: ``wrt`` names them (every one by default); the others
are held at their bindings, as data. An element or a row of an array (``W[0,1]``, ``W[1]``)
moves alone: the rest of the array keeps its bits (its gradient is masked to 0, so every
update rule leaves it exactly as it was; newton solves over the picked elements only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backtrace_cli.engine.nodes import Tape
from backtrace_cli.engine.picks import check_pick, parse_pick, pick_name
from backtrace_cli.errors import BindingError, did_you_mean
from backtrace_cli.i18n import _


@dataclass(frozen=True)
class Selection:
    names: tuple[str, ...]  # the variables that move, in the tape's order
    wrt: tuple[str, ...]  # what was asked, canonical (W[0,1]); every variable by default
    fixed: tuple[str, ...]  # the variables held at their bindings
    masks: dict[str, Any] = field(default_factory=dict)  # a picked array: True where it moves

    @property
    def elements(self) -> list[str] | None:
        """For newton's Hessian: the whole variables and the picked elements (None: all)."""
        return None if not self.fixed and not self.masks else list(self.wrt)

    def count(self, numbers: int) -> int:
        """How many elements move, of the ``numbers`` the moving variables hold."""
        return numbers - sum(int(mask.size - mask.sum()) for mask in self.masks.values())

    def masked(self, grads: dict[str, Any]) -> dict[str, Any]:
        """The gradients of the moving variables, 0 outside a picked part."""
        return {name: grads[name] * self.masks[name] if name in self.masks else grads[name]
                for name in self.names}


def select(tape: Tape, wrt: Sequence[str] | None, shapes) -> Selection:
    """The Selection ``wrt`` names (None: every variable), every index checked."""
    if not wrt:
        return Selection(tape.variables, tape.variables, ())
    import numpy

    whole: set[str] = set()
    parts: dict[str, list[tuple[int, ...]]] = {}
    asked = []
    for name in wrt:
        pick = parse_pick(name)
        base = pick[0] if pick else name
        if base not in tape.variable_nodes:
            error = BindingError(
                _("wrt names '{name}', which is not a variable of the expression (its "
                  "variables: {value})").format(name=name, value=", ".join(tape.variables)),
                did_you_mean(base, tape.variables))
            error.field = "wrt"
            raise error
        if pick is None:
            whole.add(name)
            asked.append(name)
            continue
        shape = shapes[tape.variable_nodes[base]] if shapes is not None else ()
        check_pick(name, base, pick[1], shape)
        parts.setdefault(base, []).append(pick[1])
        asked.append(pick_name(*pick))
    masks = {}
    for base, indices in parts.items():
        if base in whole:
            continue
        shape = shapes[tape.variable_nodes[base]]
        mask = numpy.zeros(shape)
        for index in indices:
            mask[index] = 1.0
        masks[base] = mask
    moving = whole | set(parts)
    names = tuple(n for n in tape.variables if n in moving)
    fixed = tuple(n for n in tape.variables if n not in moving)
    return Selection(names, tuple(dict.fromkeys(asked)), fixed, masks)
