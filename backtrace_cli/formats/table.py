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


def _table(section: Table, options: Options, widths: list[int] | None = None,
           titled: bool = True):
    """The Rich table; ``widths`` fixes each column's width (each at least its longest word,
    so Rich wraps at spaces only and never folds a word)."""
    from rich.table import Table as RichTable

    result = RichTable(title=section.title.plain if titled else None, title_justify="left",
                       title_style="bold")
    for i, column in enumerate(section.columns):
        result.add_column(column.header.plain, justify=column.align, overflow="fold",
                          width=widths[i] if widths else None)
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

    # The narrowest the table can be without splitting a word: each column as wide as its
    # longest word (header included), plus a border and a space either side of it.
    cells = [(column.header.plain, *(row[i].plain for row in section.rows))
             for i, column in enumerate(section.columns)]
    longest = [max(cell_len(word) for text in texts for word in (text.split() or [""]))
               for texts in cells]
    overhead = 3 * len(longest) + 1
    if options.width is None:
        out.print(_table(section, options))
        return
    if sum(longest) + overhead <= out.width:
        widest = [max(cell_len(line) for text in texts for line in (text.splitlines() or [""]))
                  for texts in cells]
        widths = None
        if sum(widest) + overhead > out.width:  # Rich would narrow a column below a word
            widths = _widths(longest, widest, out.width - overhead)
        titled = cell_len(section.title.plain) <= (sum(widths or widest) + overhead)
        if not titled:  # a title wider than its table: on its own lines, cut at spaces
            say(out, Text(section.title.plain, tone="strong"), options, title=True)
        out.print(_table(section, options, widths, titled))
        return
    say(out, Text(section.title.plain, tone="strong"), options, title=True)
    headers = [column.header.plain or "value" for column in section.columns]
    count = len(section.rows)
    first, omitted, last = rows_shown(count) if section.cut else (range(count), 0, range(0))
    for i in [*first, *last]:
        if omitted and i == last.start:
            out.print(f"… {omitted:,} rows omitted (--format json shows all)")
        for header, cell in zip(headers, section.rows[i]):
            if cell.plain:
                say(out, Text(f"  {header}: {cell.plain}", tone=cell.tone), options)
        out.print()


def _widths(longest: list[int], widest: list[int], room: int) -> list[int]:
    """Column widths that add up to ``room``: each at least its longest word, the room left
    shared out to the columns that want more, the one that lacks most first."""
    widths = list(longest)
    left = room - sum(widths)
    while left > 0:
        wanting = [i for i, (w, m) in enumerate(zip(widths, widest)) if w < m]
        if not wanting:
            break
        i = max(wanting, key=lambda j: (widest[j] - widths[j], -j))
        widths[i] += 1
        left -= 1
    return widths


def _units(line: str) -> list[str]:
    """The words of a title: split at the spaces outside parentheses, so d²L/(d row d column)
    stays one."""
    words, depth, current = [], 0, ""
    for char in line.strip():
        depth += (char in "([{") - (char in ")]}")
        if char == " " and depth <= 0:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    return [*words, current] if current else words


def wrapped(line: str, width: int | None, title: bool = False) -> list[str]:
    """``line`` cut at spaces into lines of at most ``width`` cells (a word longer than that
    stays whole, on a line of its own; in a ``title`` a bracketed part is one word); a
    continuation line keeps the line's indentation and two spaces more. ``width`` None: the
    line as it is."""
    from rich.cells import cell_len

    if width is None or cell_len(line) <= width:
        return [line]
    indent = line[:len(line) - len(line.lstrip(" "))]
    lines: list[str] = []
    current = indent
    for word in (_units(line) if title else line.split()):
        if current.strip() and cell_len(current) + 1 + cell_len(word) > width:
            lines.append(current)
            current = indent + "  "
        current = f"{current} {word}" if current.strip() else current + word
    lines.append(current)
    return lines


def say(out, line: Text, options: Options, title: bool = False) -> None:
    """One line of text (a title, a note, a line of equations): cut at spaces to the width,
    never inside a word or a number (nor, in a title, inside brackets); unwrapped when there
    is no width."""
    pieces = [line.plain] if options.width is None else [
        piece for part in line.plain.split("\n")
        for piece in wrapped(part, options.width, title)]
    for piece in pieces:
        out.print(_styled(Text(piece, tone=line.tone), options), soft_wrap=True)


def print_report(report: Report, out, options: Options = PLAIN) -> None:
    """Every section of the report on a Rich console (the CLI's, or one of ``write``)."""
    for index, section in enumerate(report.sections):
        if index:
            out.print()
        if isinstance(section, Table):
            for line in section.before:
                say(out, line, options)
            if section.rows or section.empty is None:
                _print_table(section, out, options)
            else:
                say(out, Text(f"{section_name(section)}: {section.empty.plain}"), options)
            for line in section.after:
                say(out, line, options)
        elif isinstance(section, Lines):
            if section.title is not None:
                say(out, Text(section.title.plain, tone="strong"), options, title=True)
            count = len(section.lines)
            first, omitted, last = (rows_shown(count) if section.cut
                                    else (range(count), 0, range(0)))
            for i in first:
                line = section.lines[i]
                say(out, Text(section.indent + line.plain, tone=line.tone), options)
            if omitted:
                out.print(f"  … {omitted:,} more lines (--format json shows all)", soft_wrap=True)
            for i in last:
                line = section.lines[i]
                say(out, Text(section.indent + line.plain, tone=line.tone), options)
        for note in section.notes:
            say(out, Text("  " + note.plain, tone=note.tone), options)
