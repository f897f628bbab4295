"""The ``table`` format: every section of a report as Rich tables and lines, for people."""

from __future__ import annotations

import io

from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.report.model import Lines, Report, Table, Text

# A table for a person shows at most this many rows: the first half and the last half.
HUMAN_ROWS = 60
_TONES = {"good": "green", "bad": "red", "dim": "dim", "strong": "bold"}


def rows_shown(count: int) -> tuple[range, int, range]:
    """Which rows a person sees: all, or the first and last halves around an omission."""
    if count <= HUMAN_ROWS:
        return range(count), 0, range(0)
    half = HUMAN_ROWS // 2
    return range(half), count - 2 * half, range(count - half, count)


def console(options: Options, file=None):
    """A Rich console that writes exactly what the options say: no colour and no wrapping
    unless asked, so piped output is plain text with one line per row."""
    from rich.console import Console

    return Console(
        file=file if file is not None else io.StringIO(),
        width=options.width or 10_000,
        color_system="standard" if options.color else None,
        force_terminal=options.color,
        highlight=False, emoji=False, markup=False,
        legacy_windows=False, soft_wrap=options.width is None,
        force_jupyter=False,  # in a notebook too, the text goes to the file, not the page
    )


def _styled(cell: Text, options: Options | None = None):
    """A cell as Rich text with its tone's style; the console drops the style when it has no
    colour (a pipe, NO_COLOR, or ``options.color`` False)."""
    from rich.text import Text as RichText

    return RichText(cell.plain, style=_TONES.get(cell.tone or "") or "")


def section_name(section: Table) -> str:
    """A section's name: the first run of its title ("Backward pass" of "Backward pass: ...")."""
    return section.title.parts[0].plain if section.title.parts else section.title.plain


def _table(section: Table, options: Options):
    from rich.table import Table as RichTable

    result = RichTable(title=section.title.plain, title_justify="left", title_style="bold")
    for column in section.columns:
        result.add_column(column.header.plain, justify=column.align, overflow="fold")
    count = len(section.rows)
    first, omitted, last = rows_shown(count) if section.cut else (range(count), 0, range(0))
    for i in first:
        result.add_row(*(_styled(cell, options) for cell in section.rows[i]))
    if omitted:
        filler = [""] * (len(section.columns) - 2)
        result.add_row("…", f"{omitted:,} rows omitted (--format json shows all)", *filler)
    for i in last:
        result.add_row(*(_styled(cell, options) for cell in section.rows[i]))
    return result


def write(report: Report, options: Options = PLAIN) -> str:
    """The report as text: tables, then their lines and notes, a blank line between sections."""
    out = console(options)
    print_report(report, out, options)
    return out.file.getvalue()


def _print_table(section: Table, out, options: Options) -> None:
    """The table, or, where its longest words do not fit the width side by side, one block
    of "column: value" lines per row: a number, a name or dL/dx is never split inside itself."""
    from rich.cells import cell_len

    table = _table(section, options)
    # The narrowest the table can be without splitting a word: each column as wide as its
    # longest word (header included), plus a border and a space either side of it.
    longest = [max(cell_len(word) for text in (column.header.plain,
                                                *(row[i].plain for row in section.rows))
                   for word in (text.split() or [""]))
               for i, column in enumerate(section.columns)]
    if options.width is None or sum(longest) + 3 * len(longest) + 1 <= out.width:
        out.print(table)
        return
    out.print(_styled(Text(section.title.plain, tone="strong"), options), soft_wrap=True)
    headers = [column.header.plain or "value" for column in section.columns]
    count = len(section.rows)
    first, omitted, last = rows_shown(count) if section.cut else (range(count), 0, range(0))
    for i in [*first, *last]:
        if omitted and i == last.start:
            out.print(f"… {omitted:,} rows omitted (--format json shows all)")
        for header, cell in zip(headers, section.rows[i]):
            if cell.plain:
                out.print(_styled(Text(f"  {header}: {cell.plain}", tone=cell.tone), options),
                          soft_wrap=True)
        out.print()


def print_report(report: Report, out, options: Options = PLAIN) -> None:
    """Every section of the report on a Rich console (the CLI's, or one of ``write``)."""
    for index, section in enumerate(report.sections):
        if index:
            out.print()
        if isinstance(section, Table):
            for line in section.before:
                out.print(_styled(line, options))
            if section.rows or section.empty is None:
                _print_table(section, out, options)
            else:
                out.print(_styled(Text(f"{section_name(section)}: {section.empty.plain}"),
                                  options))
            for line in section.after:
                out.print(_styled(line, options))
        elif isinstance(section, Lines):
            if section.title is not None:
                out.print(_styled(Text(section.title.plain, tone="strong"), options))
            count = len(section.lines)
            first, omitted, last = (rows_shown(count) if section.cut
                                    else (range(count), 0, range(0)))
            for i in first:
                line = section.lines[i]
                out.print(_styled(Text(section.indent + line.plain, tone=line.tone), options),
                          soft_wrap=True)
            if omitted:
                out.print(f"  … {omitted:,} more lines (--format json shows all)", soft_wrap=True)
            for i in last:
                line = section.lines[i]
                out.print(_styled(Text(section.indent + line.plain, tone=line.tone), options),
                          soft_wrap=True)
        for note in section.notes:
            out.print(_styled(Text("  " + note.plain, tone=note.tone), options), soft_wrap=True)
