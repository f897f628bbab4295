"""Warnings about a run that finished but looks wrong: a loss that explodes while staying
finite, a parameter whose name is a near-miss of a column. Each is one sentence for stderr
and the JSON ``warnings`` list; they never change the exit code."""

from __future__ import annotations

from collections.abc import Sequence

from backtrace_cli.i18n import N_

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


# ----------------------------------------------------------------------------- growth
# A run is diverging when its loss grows GROWTH_UPDATES times in a row, each time by more than
# GROWTH_TOLERANCE of its size, and ends no lower than those increases took it (growth that a
# later descent undoes, as momentum's overshoot or one of Adam's bursts can, is no
# divergence). Gradient descent with a step too large for the curvature multiplies the loss
# by the same factor > 1 at every step, so five increases of over 1% each catch it at its
# first steps; a run that converges (each step lowers the loss, or wobbles by rounding)
# never grows five times in a row.
GROWTH_UPDATES = 5
GROWTH_TOLERANCE = 0.01

N_TRAIN_GROWTH = N_(
    "the loss per epoch grew {count} times in a row, from {before} (epoch {epoch}) to "
    "{after} (epoch {last}), each time by more than {percent}%: the growth began with "
    "update {update}, and the run is diverging; try a smaller lr (e.g. {smaller})")
N_MINIMIZE_GROWTH = N_(
    "{f} grew {count} times in a row, from {before} (step {start}) to {after} (step "
    "{last}), each time by more than {percent}%: the growth began with update {update}, "
    "and the run is diverging; try a smaller lr")
N_MINIMIZE_GROWTH_ONE = N_(
    "{f} grew {count} times in a row, from {before} (step {start}) to {after} (step "
    "{last}), each time by more than {percent}%: the growth began with update {update}, "
    "and the run is diverging; try a smaller lr: at the start {second} = {h}, and gradient "
    "descent on a quadratic is stable only for lr < 2/{h} = {limit}")
N_MINIMIZE_GROWTH_MANY = N_(
    "{f} grew {count} times in a row, from {before} (step {start}) to {after} (step "
    "{last}), each time by more than {percent}%: the growth began with update {update}, "
    "and the run is diverging; try a smaller lr: at the start the Hessian's largest "
    "eigenvalue is {h}, and gradient descent on a quadratic is stable only for "
    "lr < 2/{h} = {limit}")
GROWTH_TEMPLATES = (N_TRAIN_GROWTH, N_MINIMIZE_GROWTH_ONE, N_MINIMIZE_GROWTH_MANY,
                    N_MINIMIZE_GROWTH)


def growth(values: Sequence[float]) -> tuple[int, int] | None:
    """(i, count): ``values[i]`` is where the first run of at least GROWTH_UPDATES increases
    (each by more than GROWTH_TOLERANCE·|value|) began that the end of the run did not undo
    (the last value is at least ``values[i + GROWTH_UPDATES]``), and ``count`` how many
    increases in a row it made; None when there is none."""
    i, n = 0, len(values)
    while i < n - 1:
        j = i
        while j < n - 1 and values[j + 1] > values[j] + GROWTH_TOLERANCE * abs(values[j]):
            j += 1
        if j - i >= GROWTH_UPDATES and values[-1] >= values[i + GROWTH_UPDATES]:
            return i, j - i
        i = max(j, i + 1)
    return None


def _fields(values, i: int, count: int) -> dict:
    return {"count": count, "before": f"{values[i]:.3g}", "after": f"{values[i + count]:.3g}",
            "percent": f"{GROWTH_TOLERANCE * 100:g}"}


def train_growth_warning(losses: Sequence[float], per_epoch: int, lr: float) -> str | None:
    """The warning for a training run whose loss per epoch keeps growing (epoch ``e``'s loss
    is its updates' mean, each taken before its update: the updates of epoch i+1 made the
    growth to epoch i+2)."""
    found = growth(losses)
    if found is None:
        return None
    i, count = found
    return N_TRAIN_GROWTH.format(**_fields(losses, i, count), epoch=i + 1, last=i + 1 + count,
                                 update=i * per_epoch + 1, smaller=f"{lr / 10:g}")


def minimize_growth_warning(values: Sequence[float], label: str,
                            curvature: tuple[str | None, float] | None) -> str | None:
    """The warning for a minimize run whose value keeps growing: ``values[k]`` is the value
    after step k. ``curvature`` (gd only): (the second derivative's name for one variable,
    None for several; the largest curvature at the start), when it is positive."""
    found = growth(values)
    if found is None:
        return None
    i, count = found
    fields = dict(_fields(values, i, count), f=label, start=i, last=i + count, update=i + 1)
    if curvature is None:
        return N_MINIMIZE_GROWTH.format(**fields)
    from backtrace_cli.syntax.parser import format_number

    second, h = curvature
    fields.update(h=format_number(h), limit=format_number(2 / h))
    if second is not None:
        return N_MINIMIZE_GROWTH_ONE.format(**fields, second=second)
    return N_MINIMIZE_GROWTH_MANY.format(**fields)


def minimize_growth(outcome, max_variables: int) -> str | None:
    """The warning for a ``train.minimize.MinimizeOutcome`` whose value kept growing; for gd,
    with the largest stable lr of a quadratic, 2/h (h: the largest curvature at the start,
    from a Hessian of at most ``max_variables`` variables, newton's limit)."""
    values = [point.value for point in outcome.result.history]
    if growth(values) is None:
        return None
    gd = outcome.settings.method == "gd"
    curvature = _start_curvature(outcome, max_variables) if gd else None
    return minimize_growth_warning(values, outcome.label, curvature)


def _start_curvature(outcome, max_variables: int):
    """(the second derivative's name for one variable, else None; the Hessian's largest
    eigenvalue at the start), or None when it is not positive and finite or too large to
    compute (newton's limit)."""
    import numpy as np

    from backtrace_cli.engine.higher import hessian_at
    from backtrace_cli.errors import BacktraceError

    result = outcome.result
    if sum(int(np.size(value)) for value in result.initial.values()) > max_variables:
        return None
    try:
        second = hessian_at(outcome.tape, {**result.fixed, **result.initial},
                            list(result.wrt) or None)
    except (BacktraceError, ArithmeticError, ValueError):  # a limit, or undefined there
        return None
    size = len(second.variables)
    h = np.asarray(second.hessian, dtype=np.float64).reshape(size, size)
    largest = float(np.linalg.eigvalsh(h)[-1]) if np.all(np.isfinite(h)) else 0.0
    if not largest > 0:
        return None
    name = f"d²{outcome.label}/d{second.variables[0]}²" if size == 1 else None
    return name, largest
