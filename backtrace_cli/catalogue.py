"""GNU gettext catalogues read, written and compiled with the standard library only.

``read_po`` parses a ``.po`` file into ``Entry`` records, ``write_po`` writes them back in the
layout GNU msgmerge uses, and ``compile_po`` makes the binary ``.mo`` that ``gettext`` reads
(the same format as GNU ``msgfmt`` and Python's ``Tools/i18n/msgfmt.py``). The build
(setup.py) and ``i18n`` (when no ``.mo`` was built) share ``compile_po``, so a checkout, an
editable install and a wheel read the same catalogue.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass, field

MO_MAGIC = 0x950412DE


@dataclass
class Entry:
    """One message: its English text, the translations, and the comments above it."""

    msgid: str
    msgstr: list[str] = field(default_factory=lambda: [""])
    msgid_plural: str | None = None
    comments: list[str] = field(default_factory=list)  # whole lines, "#: ..." "#, fuzzy"

    @property
    def fuzzy(self) -> bool:
        return any(line.startswith("#,") and "fuzzy" in line for line in self.comments)

    @property
    def translated(self) -> bool:
        return not self.fuzzy and all(self.msgstr) and bool(self.msgstr)


def read_po(text: str) -> list[Entry]:
    """The entries of a ``.po`` file, the header (msgid "") first when there is one."""
    entries: list[Entry] = []
    comments: list[str] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # which string a continuation line extends

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#"):
            if current is not None and target is not None and target[0] != "msgid":
                finish()
            comments.append(line)
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        value = _string(rest, number)
        if keyword == "msgid":
            finish()
            current = Entry(msgid=value, msgstr=[], comments=comments)
            comments = []
            target = ("msgid", 0)
        elif current is None:
            raise ValueError(f"line {number}: {keyword or 'a string'} before any msgid")
        elif keyword == "msgid_plural":
            current.msgid_plural = value
            target = ("msgid_plural", 0)
        elif keyword == "msgstr":
            current.msgstr = [value]
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[len("msgstr["):-1])
            current.msgstr.extend([""] * (index + 1 - len(current.msgstr)))
            current.msgstr[index] = value
            target = ("msgstr", index)
        elif keyword == "" and target is not None:
            kind, index = target
            if kind == "msgid":
                current.msgid += value
            elif kind == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + value
            else:
                current.msgstr[index] += value
        else:
            raise ValueError(f"line {number}: cannot read {line[:40]!r}")
    finish()
    return entries


def _string(literal: str, number: int) -> str:
    literal = literal.strip()
    if not (len(literal) >= 2 and literal[0] == literal[-1] == '"'):
        raise ValueError(f"line {number}: expected a quoted string, got {literal[:40]!r}")
    # A .po string is a C string; Python's literal syntax reads the same escapes (\n \t \" \\)
    # and nothing runs: ast.literal_eval only builds constants.
    return ast.literal_eval(literal)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\t", "\\t"), ("\b", "\\b"), ("\f", "\\f"), ("\r", "\\r")):
        escaped = escaped.replace(char, escape)
    return '"' + escaped.replace("\n", "\\n") + '"'


def _field(keyword: str, text: str) -> list[str]:
    if "\n" not in text.rstrip("\n") and len(text) < 70:
        return [f"{keyword} {_quote(text)}"]
    pieces = text.splitlines(keepends=True)
    return [f'{keyword} ""', *(_quote(piece) for piece in pieces)]


def write_po(entries: list[Entry]) -> str:
    """The text of a ``.po`` file holding ``entries`` in their order."""
    blocks = []
    for entry in entries:
        lines = list(entry.comments)
        lines += _field("msgid", entry.msgid)
        if entry.msgid_plural is not None:
            lines += _field("msgid_plural", entry.msgid_plural)
            for index, text in enumerate(entry.msgstr or [""]):
                lines += _field(f"msgstr[{index}]", text)
        else:
            lines += _field("msgstr", entry.msgstr[0] if entry.msgstr else "")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def compile_po(text: str) -> bytes:
    """The ``.mo`` file of a ``.po`` text: translated, non-fuzzy entries and the header."""
    pairs: dict[bytes, bytes] = {}
    for entry in read_po(text):
        if entry.msgid and not entry.translated:
            continue
        key = entry.msgid if entry.msgid_plural is None else (
            entry.msgid + "\0" + entry.msgid_plural)
        pairs[key.encode("utf-8")] = "\0".join(entry.msgstr).encode("utf-8")
    keys = sorted(pairs)
    header_size = 7 * 4
    originals_at = header_size
    translations_at = originals_at + 8 * len(keys)
    data_at = translations_at + 8 * len(keys)
    originals, translations, data = [], [], b""
    for key in keys:
        originals.append((len(key), data_at + len(data)))
        data += key + b"\0"
    for key in keys:
        value = pairs[key]
        translations.append((len(value), data_at + len(data)))
        data += value + b"\0"
    out = struct.pack("<7I", MO_MAGIC, 0, len(keys), originals_at, translations_at, 0, 0)
    for length, offset in originals + translations:
        out += struct.pack("<2I", length, offset)
    return out + data
