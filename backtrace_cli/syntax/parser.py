"""Text -> tokens -> a frozen syntax tree with source spans.

A hand-written tokenizer and a Pratt parser whose binding powers come from the op table
(``ops.py``). Nothing a user types is ever given to ``eval``, ``exec`` or SymPy's parser: the
only things that leave this module are the dataclasses below.

Grammar (see CONTRACT.md)::

    program    := statement ((';' | newline) statement)*
    statement  := NAME '=' expression | expression
    expression := number | NAME | NAME '(' expression (',' expression)* ')'
                | '(' expression ')' | '[' expression (',' expression)* ']'
                | ('-' | '+') expression | expression OP expression

``[a, b]`` is a vector (nested, a matrix) and ``@`` the matrix product, as in NumPy.

Precedence is Python's: ``-x**2`` is ``-(x**2)``, ``2**3**2`` is ``2**(3**2)``, ``^`` is ``**``.
Binary chains are parsed in a loop, so ``x + x + ... + x`` of any length needs no recursion;
nesting (parentheses, unary signs, powers, calls) is limited by ``BACKTRACE_MAX_DEPTH``.
"""

from __future__ import annotations

import keyword
import math
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from backtrace_cli.errors import LimitError, ParseError, Span, did_you_mean, is_unsafe_character
from backtrace_cli.limits import MAX_DEPTH, MAX_LENGTH, MAX_STATEMENTS
from backtrace_cli.ops.table import BY_NAME, FUNCTIONS, INFIX, PREC_ATOM, PREC_UNARY, PREFIX, STACK


# ----------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Number:
    value: float
    span: Span = field(compare=False, default=Span(0, 0))


@dataclass(frozen=True)
class Name:
    """A variable or a constant (``pi``, ``e``), or a name given by an earlier statement."""

    name: str
    span: Span = field(compare=False, default=Span(0, 0))


@dataclass(frozen=True)
class Apply:
    """An op from the table applied to its arguments."""

    op: str
    args: tuple
    span: Span = field(compare=False, default=Span(0, 0))


Expr = Number | Name | Apply


@dataclass(frozen=True)
class Assign:
    name: str
    value: Expr
    span: Span = field(compare=False, default=Span(0, 0))


@dataclass(frozen=True)
class Program:
    """Statements in order; the last one is the output."""

    statements: tuple  # of Assign | Expr
    source: str = field(compare=False, default="")

    @property
    def output(self) -> Expr:
        last = self.statements[-1]
        return last.value if isinstance(last, Assign) else last


# ----------------------------------------------------------------------------- tokens
class Token(NamedTuple):
    kind: str  # NUMBER, NAME, OP, SEP (';' or newline), END
    text: str
    start: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.start + max(1, len(self.text)))


_OPERATORS = ("**", "+", "-", "*", "/", "^", "@", "(", ")", "[", "]", ",", "=")
_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^@(),=\[\]])
  | (?P<sep>;)
    """,
    re.VERBOSE | re.ASCII,  # ASCII digits only: '٣' or '３' is not a number
)
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]+")


def _describe_character(char: str) -> str:
    if char in "'\"":
        return "strings are not allowed in expressions"
    if char == ".":
        return "'.' is not allowed here (no attribute access; numbers are written like 0.5)"
    if char in "{}":
        return f"'{char}' is not allowed in expressions"
    if ord(char) > 127:
        name = unicodedata.name(char, "unknown character")
        return (
            f"unexpected character '{char}' (U+{ord(char):04X} {name}); "
            "names, numbers and operators are plain ASCII"
        )
    return f"unexpected character {char!r}"


def _check_printable(source: str, start: int, text: str) -> None:
    """White space and comments may hold any text a person can read, but no character that
    acts on a terminal: every table prints the expression, comments included (an escape
    sequence would rewrite the screen, a lone carriage return overwrite the line, a
    bidirectional override show other code than what runs). Tabs and CRLF line ends are fine.
    """
    for offset, char in enumerate(text):
        if char == "\t" or not is_unsafe_character(char):
            continue
        at = start + offset
        if char == "\r" and (at + 1 == len(source) or source[at + 1] == "\n"):
            continue  # the first half of a CRLF line end
        name = unicodedata.name(char, None)
        what = f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}, a control character"
        where = "a comment" if text[0] == "#" else "the expression"
        raise ParseError(
            f"{where} holds {char!r} ({what}), which would act on the terminal when the "
            "expression is printed",
            source,
            Span(at, at + 1),
            "a lone carriage return: end lines with \\n or \\r\\n" if char == "\r"
            else "remove it" + (" from the comment" if text[0] == "#" else ""),
        )


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; a character that fits no token is a ParseError."""
    tokens: list[Token] = []
    position = 0
    length = len(source)
    match = _TOKEN.match
    while position < length:
        found = match(source, position)
        if found is None:
            char = source[position]
            hint = None
            if char == "*" and source.startswith("***", position):
                hint = "'**' is power; '***' means nothing"
            raise ParseError(_describe_character(char), source, Span(position, position + 1), hint)
        kind = found.lastgroup
        text = found.group()
        if kind == "number":
            tail = _NUMBER_TAIL.match(source, found.end())
            if tail is not None:
                bad = text + tail.group()
                hint = None
                if tail.group()[0].isalpha() or tail.group()[0] == "_":
                    hint = f"write {text}*{tail.group()} for a product"
                raise ParseError(
                    f"malformed number '{bad}'", source, Span(position, position + len(bad)), hint
                )
            tokens.append(Token("NUMBER", text, position))
        elif kind == "name":
            if text.startswith("__"):
                raise ParseError(
                    f"names starting with '__' are not allowed ('{text}')",
                    source,
                    Span(position, position + len(text)),
                )
            if keyword.iskeyword(text) or keyword.issoftkeyword(text):
                raise ParseError(
                    f"'{text}' is a Python keyword; backtrace expressions have no keywords",
                    source,
                    Span(position, position + len(text)),
                    "use another name",
                )
            tokens.append(Token("NAME", text, position))
        elif kind == "op":
            tokens.append(Token("OP", text, position))
        elif kind in ("sep", "newline"):
            tokens.append(Token("SEP", text, position))
        elif not text.isprintable():  # white space other than ' ', or a comment
            _check_printable(source, position, text)
        position = found.end()
    tokens.append(Token("END", "", length))
    return tokens


# ----------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = -1  # the outermost expression is level 0: N parentheses are N levels
        self.max_depth = MAX_DEPTH.value

    # -- helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, span: Span, hint: str | None = None) -> ParseError:
        return ParseError(message, self.source, span, hint)

    def describe(self, token: Token) -> str:
        if token.kind == "END":
            return "the end of the input"
        if token.kind == "SEP":
            return "the end of the statement" if token.text == "\n" else "';'"
        return f"'{token.text}'"

    # -- programs
    def program(self) -> Program:
        statements: list = []
        max_statements = MAX_STATEMENTS.value
        while True:
            while self.token.kind == "SEP":
                self.advance()
            if self.token.kind == "END":
                break
            statements.append(self.statement())
            if len(statements) > max_statements:
                raise LimitError(
                    f"too many statements (limit {max_statements:,})",
                    self.source,
                    self.token.span,
                    f"raise it with {MAX_STATEMENTS.env}",
                )
            if self.token.kind not in ("SEP", "END"):
                token = self.token
                hint = None
                if token.kind in ("NAME", "NUMBER") or token.text == "(":
                    hint = "did you forget an operator such as '*'?"
                raise self.error(f"unexpected {self.describe(token)}", token.span, hint)
        if not statements:
            raise self.error("the expression is empty", Span(0, max(1, len(self.source))))
        for statement in statements[:-1]:
            if not isinstance(statement, Assign):
                raise self.error(
                    "this statement's value is never used",
                    statement.span,
                    "give it a name (name = ...) or remove it; only the last statement "
                    "is the output",
                )
        return Program(tuple(statements), self.source)

    def statement(self):
        token = self.token
        following = self.tokens[self.index + 1]
        if token.kind == "NAME" and following.kind == "OP" and following.text == "=":
            name = token.text
            if name in FUNCTIONS:
                raise self.error(f"cannot assign to the function name '{name}'", token.span)
            self.advance()
            self.advance()  # '='
            if self.token.kind in ("SEP", "END"):
                raise self.error("expected an expression after '='", self.token.span)
            value = self.expression(0)
            return Assign(name, value, Span(token.start, value.span.end))
        return self.expression(0)

    # -- expressions (Pratt)
    def expression(self, min_power: int):
        self.depth += 1
        if self.depth > self.max_depth:
            raise LimitError(
                f"the expression is nested too deeply (limit {self.max_depth} levels)",
                self.source,
                self.token.span,
                f"raise it with {MAX_DEPTH.env}",
            )
        left = self.prefix()
        tokens = self.tokens
        while True:
            token = tokens[self.index]
            if token.kind != "OP":
                break
            op = INFIX.get(token.text)
            if op is None:
                if token.text == "[":
                    raise self.error(
                        "indexing is not supported: '[' is not allowed in expressions after "
                        "a value",
                        token.span,
                        "a vector is written [a, b]; reduce an array with sum(...) or mean(...)",
                    )
                break
            if op.precedence < min_power:
                break
            self.index += 1
            if tokens[self.index].kind in ("SEP", "END"):
                raise self.error(
                    f"expected a value after '{token.text}', found {self.describe(self.token)}",
                    self.token.span,
                )
            right_power = op.precedence if op.right_assoc else op.precedence + 1
            right = self.expression(right_power)
            left = Apply(op.name, (left, right), Span(left.span.start, right.span.end))
        self.depth -= 1
        return left

    def prefix(self):
        token = self.advance()
        if token.kind == "NUMBER":
            value = float(token.text)
            if value == math.inf:
                raise self.error(f"the number {token.text} is too large for a float", token.span)
            return Number(value, token.span)
        if token.kind == "NAME":
            if self.token.kind == "OP" and self.token.text == "(":
                return self.call(token)
            if token.text in FUNCTIONS:
                raise self.error(
                    f"'{token.text}' is a function; call it as {token.text}(...)", token.span
                )
            return Name(token.text, token.span)
        if token.kind == "OP" and token.text == "(":
            if self.token.kind == "OP" and self.token.text == ")":
                raise self.error("empty parentheses", Span(token.start, self.token.start + 1))
            inner = self.expression(0)
            self.expect_close(token)
            # Keep the tree free of grouping, but widen the span to the parentheses.
            return _with_span(inner, Span(token.start, self.tokens[self.index - 1].start + 1))
        if token.kind == "OP" and token.text == "[":
            return self.array_literal(token)
        if token.kind == "OP" and token.text in PREFIX:
            op = PREFIX[token.text]
            if self.token.kind in ("SEP", "END"):
                raise self.error(
                    f"expected a value after '{token.text}', found {self.describe(self.token)}",
                    self.token.span,
                )
            operand = self.expression(PREC_UNARY)
            return Apply(op.name, (operand,), Span(token.start, operand.span.end))
        if token.kind == "OP" and token.text == "=":
            raise self.error(
                "unexpected '='",
                token.span,
                "assignments are 'name = expression', one per statement",
            )
        raise self.error(f"expected a value, found {self.describe(token)}", token.span)

    def call(self, name_token: Token):
        name = name_token.text
        op = FUNCTIONS.get(name)
        if op is None:
            hint = did_you_mean(name, sorted(FUNCTIONS))
            if hint is None:
                hint = "functions: " + ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown function '{name}'", name_token.span, hint)
        open_token = self.advance()
        args = []
        if not (self.token.kind == "OP" and self.token.text == ")"):
            while True:
                if self.token.kind in ("SEP", "END"):
                    break
                args.append(self.expression(0))
                if self.token.kind == "OP" and self.token.text == ",":
                    self.advance()
                    continue
                break
        self.expect_close(open_token)
        end = self.tokens[self.index - 1].start + 1
        if len(args) != op.arity:
            plural = "s" if op.arity != 1 else ""
            raise self.error(
                f"{name} takes {op.arity} argument{plural}, got {len(args)}",
                Span(name_token.start, end),
            )
        return Apply(op.name, tuple(args), Span(name_token.start, end))

    def array_literal(self, open_token: Token):
        """``[a, b, ...]``: a vector of its elements (nested brackets make a matrix)."""
        if self.token.kind == "OP" and self.token.text == "]":
            raise self.error("an empty [] has no elements",
                             Span(open_token.start, self.token.start + 1))
        self.depth += 1
        if self.depth > self.max_depth:
            raise LimitError(
                f"the expression is nested too deeply (limit {self.max_depth} levels)",
                self.source,
                open_token.span,
                f"raise it with {MAX_DEPTH.env}",
            )
        elements = []
        while True:
            if self.token.kind in ("SEP", "END"):
                break
            elements.append(self.expression(0))
            if self.token.kind == "OP" and self.token.text == ",":
                self.advance()
                if self.token.kind == "OP" and self.token.text == "]":
                    break  # a trailing comma, as JSON does not but Python does
                continue
            break
        self.expect_close(open_token, "]")
        self.depth -= 1
        end = self.tokens[self.index - 1].start + 1
        return Apply(STACK.name, tuple(elements), Span(open_token.start, end))

    def expect_close(self, open_token: Token, close: str = ")") -> None:
        token = self.token
        if token.kind == "OP" and token.text == close:
            self.advance()
            return
        column = open_token.start - (self.source.rfind("\n", 0, open_token.start) + 1) + 1
        found = self.describe(token)
        hint = None
        if token.kind in ("NAME", "NUMBER") or token.text in ("(", "["):
            hint = "did you forget an operator such as '*' or a ','?"
        raise self.error(
            f"expected '{close}' to close the '{open_token.text}' at column {column}, "
            f"found {found}",
            token.span,
            hint,
        )


def _with_span(expr, span: Span):
    if isinstance(expr, Number):
        return Number(expr.value, span)
    if isinstance(expr, Name):
        return Name(expr.name, span)
    return Apply(expr.op, expr.args, span)


def refuse_long(text: str, where: str | None = None) -> None:
    """A LimitError when ``text`` is longer than BACKTRACE_MAX_LENGTH allows. ``where`` names
    a file or stdin, which is read only up to the limit (so its length is "more than")."""
    limit = MAX_LENGTH.value
    if len(text) <= limit:
        return
    if where is None:
        message = f"the expression is too long ({len(text):,} characters, limit {limit:,})"
    else:
        message = f"the expression in {where} is too long (more than {limit:,} characters)"
    raise LimitError(message, text[:200], Span(0, 1), f"raise it with {MAX_LENGTH.env}")


def parse(source: str) -> Program:
    """Parse a program (or a single expression) into a frozen syntax tree."""
    refuse_long(source)
    parser = _Parser(source)
    # Each nesting level costs a few Python frames; make room for the configured depth (no
    # text nests deeper than it is long, which also keeps a huge setting within a C int).
    needed = min(parser.max_depth, len(source)) * 4 + 200
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)
    return parser.program()


# ----------------------------------------------------------------------------- printing
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
