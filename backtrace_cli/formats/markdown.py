"""The ``markdown`` format: every section of a report as Markdown, for course notes.

A table becomes a pipe table under a ``##`` heading (never cut: a document shows every
row), lines become a list, notes a list after them, a drawing (train's loss chart) a fenced
code block. Program text is set as code.

Every text is written so that it reads back as itself and nothing else (CommonMark with
GitHub's tables): program text goes in a code span whose fence is longer than any run of
backticks inside it; other text has what Markdown would read as markup escaped (``<`` as
``&lt;``, so no raw HTML can appear; ``*``, ``_``, `````, ``]``... with a backslash); in a
table every ``|``, in code too, is written ``\\|``, which GitHub's tables read back as ``|``.
Nothing from the user can end a code span, a table cell, a heading or a line.
"""

from __future__ import annotations

import re

from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.report.model import Lines, Report, Table, Text

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
# A ``]`` makes a link only followed by ``(`` (inline), ``[`` (reference) or ``:`` (a link's
# definition, without which ``[word]`` alone is text): only there is it escaped, so arrays
# ``[1, 2]`` and a worksheet's blanks ``[3]`` read as they are.
_LINK_AFTER = ("(", "[", ":")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_ESCAPED = frozenset("\\`*~")
_UNDERSCORES = re.compile(r"_+")
# A paragraph or list item that starts with "1." or "1)" and a space is an ordered list.
_ORDERED = re.compile(r"\d{1,9}[.)](?=[ \t]|$)")


def _flat(text: str) -> str:
    """One line: a line break inside a text would end its table row, heading or item."""
    return _LINE_BREAKS.sub(" ", text)


def code_span(text: str) -> str:
    """``text`` as a code span that holds it whole: fenced by one more backtick than its
    longest run, padded with a space where it starts or ends with a backtick or a space."""
    text = _flat(text)
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.strip(" ") and (text[0] in "` " or text[-1] in "` "):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def escape(text: str) -> str:
    """Text outside code, escaped so that Markdown shows it as it is: no HTML, no emphasis,
    no link, no code span can start in it."""
    text = _flat(text)
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in _ESCAPED or (char == "]" and text[index + 1:index + 2] in _LINK_AFTER):
            out.append("\\" + char)
        elif char == "_":
            run = _UNDERSCORES.match(text, index).end()
            before, after = text[index - 1:index], text[run:run + 1]
            # A run inside a word (y_hat) or alone between spaces (a blank ________) can
            # neither open nor close emphasis; any other run could.
            literal = (before.isalnum() and after.isalnum()) or (
                before in ("", " ", "\t") and after in ("", " ", "\t"))
            out.append(text[index:run] if literal else "\\_" * (run - index))
            index = run
            continue
        elif char == "<":
            out.append("&lt;")
        elif char == "&" and _ENTITY.match(text, index):
            out.append("&amp;")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _inline(text: Text) -> str:
    if text.parts and not text.code:
        return "".join(_inline(part) for part in text.parts)
    if text.code:
        return code_span(text.plain)
    return escape(text.plain)


def _block_start(written: str) -> str:
    """A block's text, safe at the start of a line: it cannot start a heading, a quote, a
    list, a thematic break or a code block (its leading spaces go; Markdown drops them)."""
    written = written.lstrip(" \t")
    if not written:
        return written
    first = written[0]
    ruled = set(written) <= {first, " ", "\t"}  # ---, ===, - - -: a rule or an underline
    if first in "#>" or (first in "+-=" and (ruled or written[1:2] in ("", " ", "\t"))):
        return "\\" + written
    number = _ORDERED.match(written)
    if number is not None:  # 1. or 1) starts an ordered list
        return written[:number.end() - 1] + "\\" + written[number.end() - 1:]
    return written


def cell(text: Text) -> str:
    """A table cell: its runs (code as code spans), every ``|`` escaped for the table."""
    return _inline(text).replace("|", "\\|")


def line(text: Text) -> str:
    """A list item's text, a heading's or a paragraph's."""
    return _block_start(_inline(text))


def _capital(text: Text) -> Text:
    """A sentence starts with a capital letter (not when it starts with program text)."""
    if text.parts and not text.code:
        return Text(text.plain, text.math, text.code, text.tone,
                    (_capital(text.parts[0]), *text.parts[1:]))
    if text.code:
        return text
    return Text(text.plain[:1].upper() + text.plain[1:], text.math, text.code, text.tone)


def sentence(text: Text) -> str:
    """A line of its own in a document: a paragraph, starting with a capital letter."""
    return line(_capital(text))


def heading(text: Text) -> str:
    written = line(text)
    if written.endswith("#"):  # a closing run of # would be dropped from the heading
        written = written[:-1] + "\\#"
    return f"## {written}"


def fenced(lines: list[str]) -> list[str]:
    """Lines kept as they are, in a fenced code block longer than any run of backticks."""
    body = [_flat(text).rstrip() for text in lines]
    longest = max((len(run) for text in body for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *body, fence]


def _table_lines(section: Table) -> list[str]:
    headers = [cell(column.header) for column in section.columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) or " " for c in row) + " |" for row in section.rows]
    return lines


def _paragraphs(texts) -> list[str]:
    """Each line a paragraph of its own (a blank line between): lines of a report are not
    one sentence. Empty lines (spacing on a terminal) are left out."""
    out: list[str] = []
    for text in texts:
        if text.plain.strip():
            out += [sentence(text), ""]
    return out


def write(report: Report, options: Options = PLAIN) -> str:
    """The report as Markdown: a heading per section, then its table or list, then notes."""
    blocks: list[list[str]] = []
    for section in report.sections:
        block: list[str] = []
        if section.title is not None:
            block += [heading(section.title), ""]
        if isinstance(section, Table):
            block += _paragraphs(section.before)
            if section.rows or section.empty is None:
                block += _table_lines(section)
            else:
                block.append(sentence(section.empty))
            if section.after:
                block += [""] + _paragraphs(section.after)[:-1]
        elif isinstance(section, Lines) and section.preformatted:
            block += fenced([text.plain for text in section.lines])
        elif isinstance(section, Lines):
            block += [f"- {line(text)}" for text in section.lines]
        if section.notes:
            block += [""] + [f"- {line(note)}" for note in section.notes]
        while block and block[-1] == "":
            block.pop()
        blocks.append(block)
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
