"""Warnings about a run that finished but looks wrong: a loss that explodes while staying
finite, a parameter whose name is a near-miss of a column. Each is one sentence for stderr
and the JSON ``warnings`` list; they never change the exit code."""

from __future__ import annotations

from collections.abc import Sequence

# The loss growing by this factor (three orders of magnitude) over its first epoch's value.
EXPLODING_FACTOR = 1e3


def loss_warnings(losses: Sequence[float]) -> list[str]:
    """A warning when the loss per epoch grows by orders of magnitude."""
    if len(losses) < 2 or not losses[0] > 0:
        return []
    worst = max(range(len(losses)), key=lambda i: losses[i])
    if not losses[worst] >= losses[0] * EXPLODING_FACTOR:
        return []
    from backtrace_cli.syntax.parser import format_number as number

    return [f"the loss grew from {losses[0]:.3g} (epoch 1) to {losses[worst]:.3g} "
            f"(epoch {worst + 1}): the learning rate (lr) is likely too large; "
            f"try one 10 or 100 times smaller (the final loss is {number(losses[-1])})"]


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one letter changed, added or removed turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def name_warnings(problem, columns: Sequence[str]) -> list[str]:
    """A parameter named like a column (``X2`` and ``x2``, ``xx`` and ``x``) is most likely a
    typo: it is trained as a parameter without a word otherwise."""
    unused = [c for c in columns if c not in problem.inputs and c != problem.target]
    out = []
    for name in problem.params:
        same_case = [c for c in columns if c != name and c.lower() == name.lower()]
        close = same_case or [c for c in unused if len(name) > 1 and _one_edit_apart(name, c)]
        if close:
            out.append(f"'{name}' is not a column of the data, so it is trained as a parameter; "
                       f"did you mean the column '{close[0]}'?"
                       + (" (names are case-sensitive)" if same_case else ""))
    return out
