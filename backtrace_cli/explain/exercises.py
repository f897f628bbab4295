"""Random programs for worksheets (``backtrace quiz --random --level N --seed S``).

Level 1 is ``+ - *`` over two or three variables with small integers; level 2 adds a function
(sin, tanh, sigmoid, exp, log, sqrt, relu, abs, a square or a quotient) and uses a variable
twice; level 3 is a named multi-step program like the lecture's (``y_hat``, ``r``, ``loss``),
some over 2-vectors. At levels 1 and 2 the values are chosen (by drawing again) so that every
cell of the worksheet, forward, local, product and gradient, has a short exact decimal form.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same program on
every run, machine and Python version that keeps ``random``'s documented generator.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backtrace_cli.errors import EvaluationError, setting_error
from backtrace_cli.i18n import _

LEVELS = (1, 2, 3)
# Draws before a level gives up looking for exact numbers (never reached at levels 1 and 2
# in the tested seeds; then the last draw is used as it is).
ATTEMPTS = 2_000
SHORT_DIGITS = 6
VARIABLES = ("a", "b", "c")
PRECEDENCE = {"+": 10, "-": 10, "*": 20, "/": 20}


@dataclass(frozen=True)
class Exercise:
    """A program and its values: ``bindings`` as plain numbers or lists (2-vectors)."""

    source: str
    bindings: dict[str, Any]
    level: int
    seed: int


def is_short(value) -> bool:
    """Whether a number (every element of an array) is a short exact decimal: at most six
    significant digits, no exponent, and not a float's rounding of something longer."""
    from backtrace_cli.engine.values import to_plain_or_same

    value = to_plain_or_same(value)
    if isinstance(value, list):
        return all(is_short(item) for item in value)
    value = float(value)
    if not math.isfinite(value) or abs(value) >= 1e6:
        return False
    text = repr(value)
    if "e" in text:
        return False
    digits = text.lstrip("-").replace(".", "").strip("0")
    return len(digits) <= SHORT_DIGITS


def exercise(level: int, seed: int) -> Exercise:
    """The program of ``level`` drawn from ``seed`` (see the module's docstring)."""
    if level not in LEVELS:
        raise setting_error("level", _("level must be 1, 2 or 3, not {level}").format(
            level=level))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0 or seed >= 2**63:
        raise setting_error("seed", _("seed must be a whole number from 0 to 2**63 - 1, "
                                      "not {seed}").format(seed=repr(seed)))
    rng = random.Random(seed)
    draw = {1: _level_one, 2: _level_two, 3: _level_three}[level]
    candidate = None
    for _attempt in range(ATTEMPTS):
        candidate = draw(rng)
        if candidate is not None and _all_short(*candidate):
            break
    if candidate is None:  # pragma: no cover - every level's drawer succeeds eventually
        candidate = ("y_hat = x*w; r = y_hat - y; loss = r**2", {"x": 1, "w": 1, "y": 2})
    source, bindings = candidate
    return Exercise(source, bindings, level, seed)


def _all_short(source: str, bindings: dict[str, Any]) -> bool:
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.syntax.parser import parse

    try:
        explanation = explain(compile_program(parse(source)), _numeric(bindings), check=False)
    except EvaluationError:
        return False
    if explanation.result.kinks:  # relu(0), abs(0): a convention, not an exercise
        return False
    numbers = [explanation.values[node.index] for node in explanation.tape.nodes]
    numbers += [value for edge in explanation.edges for value in (edge.local, edge.product)]
    numbers += list(explanation.gradients.values())
    return all(is_short(value) for value in numbers)


def _numeric(bindings: dict[str, Any]) -> dict[str, Any]:
    """Bindings as the engine takes them: lists become float64 arrays."""
    from backtrace_cli.engine.values import from_plain

    return {name: from_plain(value) for name, value in bindings.items()}


# ----------------------------------------------------------------------------- drawing
def _small(rng: random.Random, low: int = -4, high: int = 4) -> int:
    """A small non-zero integer."""
    return rng.choice([n for n in range(low, high + 1) if n != 0])


def _combine(rng: random.Random, items: list[tuple[str, int]], ops: str) -> tuple[str, int]:
    """Join (text, precedence) items two at a time with random ops into one expression."""
    items = list(items)
    while len(items) > 1:
        i = rng.randrange(len(items))
        left = items.pop(i)
        right = items.pop(rng.randrange(len(items)))
        op = rng.choice(ops)
        prec = PRECEDENCE[op]
        left_text = left[0] if left[1] >= prec else f"({left[0]})"
        right_text = right[0] if right[1] > prec else f"({right[0]})"
        items.insert(min(i, len(items)), (f"{left_text}{_spaced(op)}{right_text}", prec))
    return items[0]


def _spaced(op: str) -> str:
    return op if op in "*/" else f" {op} "


def _level_one(rng: random.Random):
    names = list(VARIABLES[: rng.choice((2, 3))])
    leaves = [(name, 100) for name in names]
    if rng.random() < 0.4:
        leaves.append((str(rng.randint(2, 5)), 100))
    rng.shuffle(leaves)
    text, _precedence = _combine(rng, leaves, "+-*")
    return text, {name: _small(rng) for name in names}


# A function and the values of its argument where every number about it is exact.
_FUNCTIONS: tuple[tuple[str, Callable[[float], bool]], ...] = (
    ("sin({})", lambda v: v == 0),
    ("tanh({})", lambda v: v == 0),
    ("sigmoid({})", lambda v: v == 0),
    ("exp({})", lambda v: v == 0),
    ("log({})", lambda v: v == 1),
    ("sqrt({})", lambda v: v in (1, 4, 16, 0.25)),
    ("relu({})", lambda v: v != 0),
    ("abs({})", lambda v: v != 0),
    ("({})**2", lambda v: True),
    ("{a}/({})", lambda v: abs(v) in (1, 2, 4, 5, 8, 10)),
)


def _level_two(rng: random.Random):
    names = list(VARIABLES[: rng.choice((2, 3))])
    pattern, fits = rng.choice(_FUNCTIONS)
    inner_names = names[:2]
    inner, _precedence = _combine(rng, [(name, 100) for name in inner_names], "+-*")
    values = {name: _small(rng, -3, 3) for name in names}
    inner_value = _value(inner, values)
    if inner_value is None or not fits(inner_value):
        return None
    twice = rng.choice(inner_names)  # a variable used twice: in the function and outside it
    applied = pattern.format(inner, a=twice) if "{a}" in pattern else pattern.format(inner)
    precedence = PRECEDENCE["/"] if "{a}" in pattern else 100
    items = [(applied, precedence), (twice, 100)] + [(name, 100) for name in names[2:]]
    text, _precedence = _combine(rng, items, "+-*")
    return text, values


def _value(text: str, values: dict[str, float]) -> float | None:
    """The value of a drawn expression at ``values``, by the engine (never eval)."""
    from backtrace_cli.engine.sweeps import forward
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.syntax.parser import parse

    tape = compile_program(parse(text))
    try:
        result = forward(tape, {name: float(values[name]) for name in tape.variables})
    except EvaluationError:
        return None
    return result[tape.output]


# Level 3: named programs; a drawer gives the values (a list is a 2-vector).
_PROGRAMS: tuple[tuple[str, Callable[[random.Random], dict[str, Any]]], ...] = (
    ("y_hat = w*x + b; r = y_hat - y; loss = r**2",
     lambda rng: {"w": _small(rng, -3, 3), "x": _small(rng, -3, 3), "b": _small(rng, -2, 2),
                  "y": _small(rng, -3, 3)}),
    ("h = relu(w1*x + b1); y_hat = w2*h + b2; r = y_hat - y; loss = r**2",
     lambda rng: {"w1": _small(rng, -3, 3), "x": _small(rng, -2, 2), "b1": _small(rng, -2, 2),
                  "w2": _small(rng, -3, 3), "b2": _small(rng, -2, 2), "y": _small(rng, -3, 3)}),
    ("y_hat = sum(w*x) + b; r = y_hat - y; loss = r**2",
     lambda rng: {"w": [_small(rng, -3, 3), _small(rng, -3, 3)],
                  "x": [_small(rng, -2, 2), _small(rng, -2, 2)], "b": _small(rng, -2, 2),
                  "y": _small(rng, -3, 3)}),
    ("d = y_hat - y; loss = mean(d*d)",
     lambda rng: {"y_hat": [_small(rng, -3, 3), _small(rng, -3, 3)],
                  "y": [_small(rng, -3, 3), _small(rng, -3, 3)]}),
    ("n = w1*x1 + w2*x2 + b; o = tanh(n); r = o - y; loss = r**2",
     lambda rng: {"w1": _small(rng, -2, 2), "x1": _small(rng, -2, 2), "w2": _small(rng, -2, 2),
                  "x2": _small(rng, -2, 2), "b": _small(rng, -4, 4), "y": _small(rng, -1, 1)}),
)


def _level_three(rng: random.Random):
    source, values = rng.choice(_PROGRAMS)
    return source, values(rng)

