"""Tree -> text: numbers written shortest, arrays on one line, and expressions unparsed with
exactly the parentheses Python's precedence needs (iteratively: no recursion)."""

from __future__ import annotations

from backtrace_cli.ops.table import BY_NAME, PREC_ATOM, PREC_UNARY
from backtrace_cli.syntax.tree import Apply, Assign, Name, Number, Program


def format_number(value: float) -> str:
    """The shortest text that reads back as ``value``: ``2`` for 2.0, ``0.1``, ``1e-05``."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def format_array(value, digits: int = 4, threshold: int = 36, edge_items: int = 3) -> str:
    """[[0.1966, 0.3932], [0.2288, 0.4576]]: an array as nested lists on one line, rounded to
    ``digits`` significant digits, cut in the middle ("…") past ``threshold`` elements."""
    import numpy

    text = numpy.array2string(
        numpy.asarray(value, dtype=float),
        separator=", ",
        threshold=threshold,
        edgeitems=edge_items,
        max_line_width=10**9,
        formatter={"float_kind": lambda x: f"{x:.{digits}g}"},
    )
    return " ".join(text.split()).replace("...", "…")


def wrap(text: str, precedence: int, needed: int) -> str:
    return f"({text})" if precedence < needed else text


def apply_text(op, operands: list[tuple[str, int]]) -> str:
    """Write ``op`` applied to operands given as (text, precedence), with the parentheses
    Python's precedence needs; shared by ``unparse`` and the tape's node texts."""
    if op.notation == "list":
        return f"[{', '.join(text for text, _ in operands)}]"
    if op.notation == "call":
        return f"{op.symbol}({', '.join(text for text, _ in operands)})"
    if op.notation == "shown":  # a helper op, in the user's terms: d(x**y)/dx
        return op.shown.format(**{key: text if precedence == PREC_ATOM else f"({text})"
                                  for key, (text, precedence) in zip("ab", operands)})
    if op.notation == "prefix":
        text, precedence = operands[0]
        return op.symbol + wrap(text, precedence, op.precedence)
    (left, left_power), (right, right_power) = operands
    left_needed = op.precedence + 1 if op.right_assoc else op.precedence
    right_needed = op.precedence if op.right_assoc else op.precedence + 1
    # A unary minus on the left of ** must keep its parentheses: (-x)**2.
    symbol = op.symbol if op.symbol in ("*", "**", "/") else f" {op.symbol} "
    return wrap(left, left_power, left_needed) + symbol + wrap(right, right_power, right_needed)


def expression_precedence(expr) -> int:
    if isinstance(expr, Apply):
        return BY_NAME[expr.op].precedence
    if isinstance(expr, Number) and expr.value < 0:
        return PREC_UNARY
    return PREC_ATOM


def unparse(tree) -> str:
    """Text for a syntax tree that parses back to an equal tree (iterative: no recursion).

    Pieces of text are collected in order and joined once, so the time is linear in the size
    of the tree (building each subtree's text from its children's would be quadratic).
    """
    if isinstance(tree, Program):
        parts = []
        for statement in tree.statements:
            if isinstance(statement, Assign):
                parts.append(f"{statement.name} = {unparse(statement.value)}")
            else:
                parts.append(unparse(statement))
        return "; ".join(parts)
    pieces: list[str] = []
    # Work items: a piece of text to emit, or (expression, the precedence its place needs).
    stack: list = [(tree, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            continue
        expr, needed = item
        if isinstance(expr, Name):
            pieces.append(expr.name)
            continue
        if isinstance(expr, Number):
            pieces.append(wrap(format_number(expr.value), expression_precedence(expr), needed))
            continue
        op = BY_NAME[expr.op]
        if op.notation in ("call", "list"):
            parts: list = [f"{op.symbol}(" if op.notation == "call" else "["]
            for position, arg in enumerate(expr.args):
                if position:
                    parts.append(", ")
                parts.append((arg, 0))
            parts.append(")" if op.notation == "call" else "]")
        elif op.notation == "prefix":
            parts = [op.symbol, (expr.args[0], op.precedence)]
        else:
            left_needed = op.precedence + 1 if op.right_assoc else op.precedence
            right_needed = op.precedence if op.right_assoc else op.precedence + 1
            symbol = op.symbol if op.symbol in ("*", "**", "/") else f" {op.symbol} "
            parts = [(expr.args[0], left_needed), symbol, (expr.args[1], right_needed)]
        if op.precedence < needed:
            parts = ["(", *parts, ")"]
        stack.extend(reversed(parts))
    return "".join(pieces)
