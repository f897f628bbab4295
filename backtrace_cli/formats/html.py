"""The ``html`` format: a report as an HTML fragment (tables, lines, notes), for notebooks.

Nothing in it is fetched from anywhere: no scripts, no fonts, no links. Every piece of text is
escaped; numbers are the same text the table format prints.
"""

from __future__ import annotations

from html import escape

from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.report.model import Lines, Report, Table, Text

_STYLE = (
    "<style>.backtrace table{border-collapse:collapse;margin:0.3em 0 0.8em}"
    ".backtrace th,.backtrace td{padding:0.15em 0.6em;border-bottom:1px solid #ccc}"
    ".backtrace td.right{text-align:right;font-variant-numeric:tabular-nums}"
    ".backtrace td.center{text-align:center}.backtrace .good{color:#18794e}"
    ".backtrace .bad{color:#c62828}.backtrace .dim{color:#777}"
    ".backtrace caption{text-align:left;font-weight:bold}</style>"
)


def _cell(cell: Text) -> str:
    body = escape(cell.plain)
    if cell.code:
        body = f"<code>{body}</code>"
    if cell.tone in ("good", "bad", "dim"):
        body = f'<span class="{cell.tone}">{body}</span>'
    return body


def _table(section: Table) -> list[str]:
    out = [f"<p>{_cell(line)}</p>" for line in section.before]
    if not section.rows and section.empty is not None:
        out.append(f"<p>{_cell(section.empty)}</p>")
    else:
        out.append(f"<table><caption>{_cell(section.title)}</caption><thead><tr>")
        out += [f'<th class="{c.align}">{_cell(c.header)}</th>' for c in section.columns]
        out.append("</tr></thead><tbody>")
        for row in section.rows:
            cells = "".join(f'<td class="{column.align}">{_cell(cell)}</td>'
                            for column, cell in zip(section.columns, row))
            out.append(f"<tr>{cells}</tr>")
        out.append("</tbody></table>")
    out += [f"<p>{_cell(line)}</p>" for line in section.after]
    return out


def _lines(section: Lines) -> list[str]:
    out = [f"<h4>{_cell(section.title)}</h4>"] if section.title is not None else []
    out.append("<ul>" + "".join(f"<li>{_cell(line)}</li>" for line in section.lines) + "</ul>")
    return out


def write(report: Report, options: Options = PLAIN) -> str:
    """Every section of the report, in order, inside one ``<div class="backtrace">``."""
    out = [_STYLE, '<div class="backtrace">']
    for section in report.sections:
        out += _table(section) if isinstance(section, Table) else _lines(section)
        if section.notes:
            out.append("<ul>" + "".join(f"<li>{_cell(n)}</li>" for n in section.notes) + "</ul>")
    out.append("</div>")
    return "\n".join(out) + "\n"
