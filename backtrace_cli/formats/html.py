"""The ``html`` format: a report as one self-contained HTML page (``write``), or the same
content as a fragment for notebooks (``fragment``, what ``_repr_html_`` shows).

A report with a "steps" view (grad, graph) gets the step-through of the backward pass
(``html_steps.py``): the graph picture, Previous/Next/Play and one step per edge; the rows of
its backward table carry their step. Nothing is fetched from anywhere: the style sheet, the
script and the SVG are inline, there are no fonts and no links, so the page works offline
from ``file://``. Every piece of text is escaped; numbers are the same text the table format
prints. Any report can be written; a new view gets the page by giving its Report the views.
"""

from __future__ import annotations

import json
from html import escape

from backtrace_cli.formats.html_assets import SCRIPT, STYLE
from backtrace_cli.formats.html_steps import picture, root_attributes, stepper
from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.i18n import _, language
from backtrace_cli.report.model import Lines, Report, Table, Text


def _cell(cell: Text) -> str:
    body = escape(cell.plain)
    if cell.code:
        body = f"<code>{body}</code>"
    if cell.tone in ("good", "bad", "dim"):
        body = f'<span class="{cell.tone}">{body}</span>'
    return body


def _table(section: Table, row_steps: bool = False) -> list[str]:
    out = [f"<p>{_cell(line)}</p>" for line in section.before]
    if not section.rows and section.empty is not None:
        out.append(f"<p>{_cell(section.empty)}</p>")
    else:
        out.append(f'<div class="bt-scroll"><table><caption>{_cell(section.title)}</caption>'
                   "<thead><tr>")
        out += [f'<th class="{c.align}">{_cell(c.header)}</th>' for c in section.columns]
        out.append("</tr></thead><tbody>")
        for number, row in enumerate(section.rows, start=1):
            cells = "".join(f'<td class="{column.align}">{_cell(cell)}</td>'
                            for column, cell in zip(section.columns, row))
            step = f' data-step="{number}"' if row_steps else ""
            out.append(f"<tr{step}>{cells}</tr>")
        out.append("</tbody></table></div>")
    out += [f"<p>{_cell(line)}</p>" for line in section.after]
    return out


def _lines(section: Lines) -> list[str]:
    out = [f"<h4>{_cell(section.title)}</h4>"] if section.title is not None else []
    if section.preformatted:  # a drawing in characters: kept line for line
        body = "\n".join(escape(line.plain.rstrip()) for line in section.lines)
        return out + [f'<pre class="bt-chart">{body}</pre>']
    out.append("<ul>" + "".join(f"<li>{_cell(line)}</li>" for line in section.lines) + "</ul>")
    return out


def _graph(report: Report) -> Report | None:
    if report.command == "graph":
        return report
    view = report.views.get("graph")
    return view() if view is not None else None


def fragment(report: Report, heading: bool = False) -> str:
    """Every section of the report, in order, inside one ``<div class="backtrace">``; with
    the step-through first when the report has steps (its script inline, at the end), the
    graph picture alone when it has no edge to step through. ``heading``: the title first."""
    steps_view = report.views.get("steps")
    steps = steps_view() if steps_view is not None else None
    stepping = steps is not None and len(steps.data["steps"]) > 1
    attributes = root_attributes(steps) if stepping else ""
    out = [f"<style>{STYLE}</style>", f'<div class="backtrace"{attributes}>']
    if heading:
        out.append(f"<h1>{escape(report.title.plain)}</h1>")
    graph = _graph(report) if steps is not None else None
    if stepping:
        out.append(stepper(steps, graph))
    elif graph is not None:
        out.append(picture(graph, {}))
    for section in report.sections:
        if isinstance(section, Table):
            out += _table(section, row_steps=stepping and section.key == "backward")
        else:
            out += _lines(section)
        if section.notes:
            out.append("<ul>" + "".join(f"<li>{_cell(n)}</li>" for n in section.notes) + "</ul>")
    if stepping and attributes:
        out.append(f"<script>{script()}</script>")
    out.append("</div>")
    return "\n".join(out) + "\n"


# The page's lang attribute for each language of backtrace_cli.i18n.
PAGE_LANGUAGE = {"en": "en", "zh": "zh-CN"}


def script() -> str:
    """The step-through's script, its button's Play and Pause in the reader's language."""
    return (SCRIPT.replace('play.textContent = "Play"', "play.textContent = "
                           + json.dumps(_("Play"), ensure_ascii=False))
            .replace('play.textContent = "Pause"', "play.textContent = "
                     + json.dumps(_("Pause"), ensure_ascii=False)))


def write(report: Report, options: Options = PLAIN) -> str:
    """The report as a whole HTML page: the fragment in a document of its own."""
    title = escape(report.title.plain)
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{PAGE_LANGUAGE.get(language(), "en")}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        "</head>",
        "<body>",
        fragment(report, heading=True).rstrip("\n"),
        "</body>",
        "</html>",
    ]) + "\n"
