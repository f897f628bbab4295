"""The ``markdown`` format: every section of a report as Markdown, for course notes.

A table becomes a pipe table under a ``##`` heading (never cut: a document shows every
row), lines become a list, notes a list after them. Program text is set as code.
"""

from __future__ import annotations

from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.report.model import Lines, Report, Table, Text


def cell(text: Text) -> str:
    """A cell or line: code in backticks, the rest as it reads; ``|`` escaped for tables."""
    if text.parts and not text.code:
        written = "".join(cell(part) for part in text.parts)
    elif text.code and text.plain:
        written = f"`{text.plain}`"
    else:
        written = text.plain
    return written.replace("|", "\\|").replace("\n", " ")


def sentence(text: Text) -> str:
    """A line of its own in a document starts with a capital letter."""
    written = cell(text)
    return written[:1].upper() + written[1:]


def _table_lines(section: Table) -> list[str]:
    headers = [cell(column.header) for column in section.columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) or " " for c in row) + " |" for row in section.rows]
    return lines


def write(report: Report, options: Options = PLAIN) -> str:
    """The report as Markdown: a heading per section, then its table or list, then notes."""
    blocks: list[list[str]] = []
    for section in report.sections:
        block: list[str] = []
        if section.title is not None:
            block += [f"## {cell(section.title)}", ""]
        if isinstance(section, Table):
            block += [sentence(line) for line in section.before]
            block += [""] if section.before else []
            if section.rows or section.empty is None:
                block += _table_lines(section)
            else:
                block.append(sentence(section.empty))
            block += [""] + [sentence(line) for line in section.after] if section.after else []
        elif isinstance(section, Lines):
            block += [f"- {cell(line)}" for line in section.lines]
        if section.notes:
            block += [""] + [f"- {cell(note)}" for note in section.notes]
        blocks.append(block)
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
