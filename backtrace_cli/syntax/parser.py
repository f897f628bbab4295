"""Text -> tokens -> a frozen syntax tree with source spans.

A hand-written tokenizer and a Pratt parser whose binding powers come from the op table
(``ops.py``). Nothing a user types is ever given to ``eval``, ``exec`` or SymPy's parser: the
only things that leave this module are the dataclasses of ``tree.py``. The tokenizer is in
``tokens.py``, the printing of trees and numbers in ``unparse.py``.

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

import math
import sys

from backtrace_cli.errors import LimitError, ParseError, Span, did_you_mean
from backtrace_cli.i18n import _
from backtrace_cli.limits import MAX_DEPTH, MAX_LENGTH, MAX_STATEMENTS
from backtrace_cli.ops.table import FUNCTIONS, INFIX, PREC_UNARY, PREFIX, STACK
from backtrace_cli.syntax.names import FUNCTION_ALIASES
from backtrace_cli.syntax.numbers import shortened
from backtrace_cli.syntax.tokens import Token, tokenize
from backtrace_cli.syntax.tree import Apply, Assign, Expr, Name, Number, Program

# The names other modules import from here, wherever they are defined now.
from backtrace_cli.syntax.unparse import (  # noqa: F401  (re-exported)
    apply_text,
    expression_precedence,
    format_array,
    format_number,
    unparse,
    wrap,
)

__all__ = [
    "Apply", "Assign", "Expr", "Name", "Number", "Program", "Token", "apply_text",
    "expression_precedence", "format_array", "format_number", "parse", "refuse_long",
    "tokenize", "unparse", "wrap",
]


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
                    _("too many statements (limit {max_statements:,})").format(
                        max_statements=max_statements
                    ),
                    self.source,
                    self.token.span,
                    _("raise it with {env}").format(env=MAX_STATEMENTS.env),
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
                _("the expression is nested too deeply (limit {max_depth} levels)").format(
                    max_depth=self.max_depth
                ),
                self.source,
                self.token.span,
                _("raise it with {env}").format(env=MAX_DEPTH.env),
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
                raise self.error(f"the number {shortened(token.text)} is too large for a float",
                                 token.span)
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
            alias = FUNCTION_ALIASES.get(name)
            hint = f"did you mean '{alias}'?" if alias else did_you_mean(name, sorted(FUNCTIONS))
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
                _("the expression is nested too deeply (limit {max_depth} levels)").format(
                    max_depth=self.max_depth
                ),
                self.source,
                open_token.span,
                _("raise it with {env}").format(env=MAX_DEPTH.env),
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
        message = _("the expression is too long ({count:,} characters, limit {limit:,})").format(
            count=len(text), limit=limit)
    else:
        message = _("the expression in {where} is too long (more than {limit:,} characters)"
                    ).format(where=where, limit=limit)
    raise LimitError(message, text[:200], Span(0, 1), _(
        "raise it with {env}").format(env=MAX_LENGTH.env))


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
