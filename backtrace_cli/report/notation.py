"""LaTeX math forms of what a report shows: numbers, arrays, names, partial derivatives and the
derivative formulas of the ops table (``cos(x)``, ``W\u1d40 @ upstream``).

Builders put these in ``Text.math``; the LaTeX writer typesets them and computes nothing.
Every form here is plain ASCII LaTeX that needs only ``amsmath``.
"""

from __future__ import annotations

import math
import re

from backtrace_cli.engine.values import shape_of
from backtrace_cli.report.text import compact_array, number

_NODE_ID = re.compile(r"v([0-9]+)")


def math_number(value) -> str:
    r"""A number for math mode: ``-2``, ``0.5``, ``1 \times 10^{-5}`` (exact round-trip digits);
    an array as a ``bmatrix`` (a vector as a column), a 3-D array as a row of matrices, with
    elements rounded as the tables round them."""
    if shape_of(value):
        return math_array(value)
    value = float(value)
    if math.isnan(value):
        return r"\mathrm{nan}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    return _number_text(number(value))


def _number_text(text: str) -> str:
    if text in ("…", "..."):
        return r"\cdots"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


def _elements(row) -> list[str]:
    """One axis' elements as the tables write them (cut in the middle with an ellipsis)."""
    inner = compact_array(row).strip()[1:-1]
    return [_number_text(part.strip()) for part in inner.split(",")]


def math_array(value) -> str:
    r"""``\begin{bmatrix} 1 \\ 2 \end{bmatrix}`` for a vector, rows for a matrix; an array of
    more axes as a bracketed list of its sub-arrays (a 2x2x2 array is two 2x2 matrices)."""
    rank = len(shape_of(value))
    if rank == 1:
        return r"\begin{bmatrix} " + r" \\ ".join(_elements(value)) + r" \end{bmatrix}"
    if rank == 2:
        from backtrace_cli.report.text import ARRAY_EDGE_ITEMS, ARRAY_THRESHOLD

        rows = list(range(value.shape[0]))
        cut = value.size > ARRAY_THRESHOLD and value.shape[0] > 2 * ARRAY_EDGE_ITEMS
        if cut:
            rows = rows[:ARRAY_EDGE_ITEMS] + [-1] + rows[-ARRAY_EDGE_ITEMS:]
        lines = []
        for i in rows:
            if i == -1:
                lines.append(r"\vdots")
            else:
                lines.append(" & ".join(_elements(value[i])))
        return r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"
    parts = [math_array(value[i]) for i in range(min(value.shape[0], 2 * 2))]
    if value.shape[0] > 4:
        parts = parts[:2] + [r"\cdots"] + [math_array(value[-1])]
    return r"\left[ " + ", ".join(parts) + r" \right]"


def math_name(label: str) -> str:
    r"""A label in math mode: ``x``, ``\mathit{y\_hat}``, ``v_{3}``, primes kept (``c'``)."""
    base = label.rstrip("'")
    primes = label[len(base):]
    match = _NODE_ID.fullmatch(base)
    if match:
        return f"v_{{{match.group(1)}}}{primes}"
    if not base.isascii():
        return _unicode_name(base) + primes
    if len(base) == 1:
        return base + primes
    return r"\mathit{" + base.replace("_", r"\_") + "}" + primes


def _unicode_name(name: str) -> str:
    r"""A Unicode name for pdflatex, which takes ASCII only: Greek letters as Greek (``θ`` ->
    ``\theta``, ``θ_2`` -> ``\theta_{2}``); any other letter by its code point, e.g.
    ``\text{U+6743}`` (Chinese names need xelatex and ctex to be shown as they are)."""
    from backtrace_cli.syntax.names import GREEK_LATEX, latex_name

    if all(char.isascii() or char in GREEK_LATEX for char in name):
        return latex_name(name)
    shown = "".join(char if char.isascii() and char != "_" else
                    r"\_" if char == "_" else f"U+{ord(char):04X}" for char in name)
    return r"\text{" + shown + "}"


def partial(numerator: str, denominator: str) -> str:
    r"""``\frac{\partial L}{\partial x}``."""
    return f"\\frac{{\\partial {numerator}}}{{\\partial {denominator}}}"


# ----------------------------------------------------------------------------- formulas
_FUNCTIONS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "exp": r"\exp", "log": r"\log",
              "tanh": r"\tanh"}
_SYMBOLS = {"·": r" \cdot ", "*": r" \cdot ", "⊗": r" \otimes ", "@": r"\,", "σ": r"\sigma",
            "²": "^{2}", "ᵀ": r"^{\mathsf{T}}", "π": r"\pi", "(": "(", ")": ")", "+": " + ",
            "-": " - ", "/": " / ", "[": "[", "]": "]", ",": ", ", "<": " < ", ">": " > ",
            "=": " = "}
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*'*)|([0-9]+(?:\.[0-9]*)?(?:e-?[0-9]+)?)|(.))")


def formula_math(formula: str, names: dict[str, str] | None = None) -> str | None:
    """A derivative formula of the ops table as math: ``2·v5^(2-1)`` -> ``2 \\cdot
    v_{5}^{(2 - 1)}``, ``Wᵀ @ upstream`` -> ``W^{T}\\,u``. ``names`` maps words to math
    (``upstream``); other words are labels. None when a character has no math form."""
    names = names or {}
    tokens = []
    position = 0
    while position < len(formula.rstrip()):
        match = _TOKEN.match(formula, position)
        if match is None:
            return None
        position = match.end()
        word, digits, other = match.groups()
        if word is not None:
            if word in names:
                tokens.append(names[word])
            elif word in _FUNCTIONS:
                tokens.append(_FUNCTIONS[word])
            elif word in ("relu", "sigmoid", "softplus", "sqrt", "abs", "sign", "sum", "mean"):
                tokens.append(r"\operatorname{" + word + "}")
            elif word in ("if", "else", "each", "element"):
                tokens.append(r"\text{ " + word + " }")
            elif word == "pi":
                tokens.append(r"\pi")
            else:
                tokens.append(math_name(word))
        elif digits is not None:
            tokens.append(_number_text(digits))
        elif other == "^":
            tokens.append("^")
        elif other in _SYMBOLS:
            tokens.append(_SYMBOLS[other])
        else:
            return None
    return _braced_powers(tokens)


def _braced_powers(tokens: list[str]) -> str:
    """Join tokens, giving every ``^`` its exponent in braces: a token or a parenthesis."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token != "^" or i + 1 >= len(tokens):
            out.append(token)
            i += 1
            continue
        j = i + 1
        if tokens[j] == "(":
            depth = 0
            while j < len(tokens):
                depth += tokens[j] == "("
                depth -= tokens[j] == ")"
                if depth == 0:
                    break
                j += 1
        out.append("^{" + "".join(tokens[i + 1 : j + 1]).strip() + "}")
        i = j + 1
    return " ".join("".join(out).split())
