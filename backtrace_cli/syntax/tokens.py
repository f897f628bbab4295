"""Text -> tokens: a hand-written tokenizer over one regular expression.

Names are identifiers as Python reads them (``θ``, ``权重``), normalised with NFKC as Python
does, so ``ｘ`` and ``x`` are one name; numbers are ASCII digits only. Characters that act on
a terminal (controls, bidirectional overrides) are refused wherever they stand.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from typing import NamedTuple

from backtrace_cli.errors import ParseError, Span, is_unsafe_character
from backtrace_cli.i18n import _
from backtrace_cli.syntax.names import (
    continues_name,
    math_style_hint,
    name_end,
    name_problem,
    normalize_name,
    starts_name,
)


class Token(NamedTuple):
    kind: str  # NUMBER, NAME, OP, SEP (';' or newline), END
    text: str  # a name's text is its NFKC form, which may be shorter than what was typed
    start: int
    size: int = 0  # the characters it takes in the source, when that is not len(text)

    @property
    def span(self) -> Span:
        return Span(self.start, self.start + max(1, self.size or len(self.text)))


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
            "numbers and operators are plain ASCII"
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
        code = f"U+{ord(char):04X}"
        what = f"{code} {name}" if name else _("{code}, a control character").format(code=code)
        where = _("a comment") if text[0] == "#" else _("the expression")
        raise ParseError(
            _(
                "{where} holds {char!r} ({what}), which would act on the terminal when the "
                "expression is printed").format(where=where, char=char, what=what),
            source,
            Span(at, at + 1),
            _("a lone carriage return: end lines with \\n or \\r\\n") if char == "\r"
            else _("remove it from the comment") if text[0] == "#" else _("remove it"),
        )


def _name_token(source: str, start: int, end: int) -> Token:
    """The name typed at ``source[start:end]``, normalised as Python normalises identifiers,
    or a ParseError for a name Python would take but backtrace refuses (see names.py)."""
    typed = source[start:end]
    problem = name_problem(typed)
    if problem is not None:
        offset, message, hint = problem
        raise ParseError(message, source, Span(start + offset, start + offset + 1), hint)
    text = normalize_name(typed)
    span = Span(start, end)
    if text.startswith("__"):
        raise ParseError(_(
            "names starting with '__' are not allowed ('{text}')").format(text=text), source, span)
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        raise ParseError(
            _("'{text}' is a Python keyword; backtrace expressions have no keywords").format(
                text=text
            ),
            source,
            span,
            _("use another name"),
        )
    return Token("NAME", text, start, end - start if len(text) != end - start else 0)


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
            if not char.isascii() and starts_name(char) and continues_name(char):
                end = name_end(source, position)
                tokens.append(_name_token(source, position, end))
                position = end
                continue
            hint = math_style_hint(source, position)
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
                    _("malformed number '{bad}'").format(bad=bad),
                    source,
                    Span(position, position + len(bad)),
                    hint,
                )
            tokens.append(Token("NUMBER", text, position))
        elif kind == "name":
            end = found.end()
            if end < length and not source[end].isascii() and continues_name(source[end]):
                end = name_end(source, position)  # a name that goes on in another script
            tokens.append(_name_token(source, position, end))
            position = end
            continue
        elif kind == "op":
            tokens.append(Token("OP", text, position))
        elif kind in ("sep", "newline"):
            tokens.append(Token("SEP", text, position))
        elif not text.isprintable():  # white space other than ' ', or a comment
            _check_printable(source, position, text)
        position = found.end()
    tokens.append(Token("END", "", length))
    return tokens
