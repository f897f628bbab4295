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
