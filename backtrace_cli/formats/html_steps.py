"""The step-through of the HTML page: the graph picture with every edge marked by its step,
the list of steps (step 0, then one per edge of the reverse sweep) and the controls.

The picture is the SVG writer's (``graph_image.py``), inlined: its prolog and comments are
dropped, its ``id``s become ``data-id``s (two results on one notebook page must not share
ids), every edge gets ``data-edge`` (its place in the graph report's edge list) and, when the
reverse sweep uses it, ``data-step``. The script (``html_assets.SCRIPT``) reads only these
attributes and the steps' ``data-`` attributes; every text is HTML-escaped here.
"""

from __future__ import annotations

import re
from html import escape, unescape

from backtrace_cli.errors import BacktraceError
from backtrace_cli.i18n import _
from backtrace_cli.report.model import Report

# Past this many nodes the page has no picture: graphviz-pure lays out 70 nodes in about
# 2 s but 120 in about 30 s, and so big a picture is unreadable in a page anyway; the steps
# and the tables still hold every number (``backtrace graph -o graph.svg`` draws it whole).
MAX_PICTURE_NODES = 100
# Past this many edges the page lists no steps (a page of a million list items helps no one).
MAX_STEPS = 5_000
# Milliseconds between two steps when Play runs.
PLAY_INTERVAL = 1200

_EDGE_GROUP = re.compile(
    r'<g id="(edge\d+)" class="edge">\s*<title>([^<]*)</title>')


def _mark_edges(svg: str, graph: Report, step_of_edge: dict[int, int]) -> str:
    """Give every edge group of the SVG its ``data-edge`` and ``data-step``, matched by its
    title (``v1->v3``) and, between the same two nodes (``x*x``), by order."""
    nodes = graph.data["nodes"]
    by_key: dict[tuple[str, str], list[int]] = {}
    for number, edge in enumerate(graph.data["edges"]):
        key = (nodes[edge["source"]]["id"], nodes[edge["target"]]["id"])
        by_key.setdefault(key, []).append(number)
    seen: dict[tuple[str, str], int] = {}

    def mark(match: re.Match) -> str:
        source, _arrow, target = unescape(match.group(2)).partition("->")
        key = (source, target)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        numbers = by_key.get(key, [])
        attributes = ""
        if occurrence < len(numbers):
            number = numbers[occurrence]
            attributes = f' data-edge="{number}"'
            if number in step_of_edge:
                attributes += f' data-step="{step_of_edge[number]}"'
        return (f'<g data-id="{match.group(1)}" class="edge"{attributes}>'
                f"<title>{match.group(2)}</title>")

    return _EDGE_GROUP.sub(mark, svg)


def picture(graph: Report, step_of_edge: dict[int, int]) -> str:
    """The graph as inline SVG with its edges marked, or a paragraph saying why it is not."""
    from backtrace_cli.formats.graph_image import render_image
    from backtrace_cli.formats.graph_text import to_dot

    if len(graph.data["nodes"]) > MAX_PICTURE_NODES:
        return '<p class="dim">' + escape(_(
            "The graph has {nodes} nodes, too many to draw here (at most {limit}); the steps "
            "and tables hold every number, and backtrace graph -o graph.svg draws it whole."
        ).format(nodes=len(graph.data["nodes"]), limit=MAX_PICTURE_NODES)) + "</p>"
    try:
        svg = render_image(to_dot(graph), "svg").decode("utf-8")
    except BacktraceError as error:
        return ('<p class="dim">' + escape(_("No picture of the graph: {reason}").format(
            reason=error.readable_message())) + "</p>")
    svg = svg[svg.find("<svg"):]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = _mark_edges(svg, graph, step_of_edge)
    svg = re.sub(r'<g id="([^"]*)" class="node">',
                 r'<g data-id="\1" data-node="\1" class="node">', svg)
    svg = svg.replace('<g id="graph0" class="graph"', '<g data-id="graph0" class="graph"')
    label = escape(_("the computation graph"))
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return f'<div class="bt-graph">{svg.rstrip()}</div>'


def _step_item(entry: dict) -> str:
    attributes = f'data-step="{entry["step"]}"'
    if entry["step"] > 0:
        attributes += (f' data-node="{escape(entry["node_id"])}"'
                       f' data-input="{escape(entry["input_id"])}"'
                       f' data-sum="{escape(entry["sum"])}"')
    lines = "".join(f"<li>{escape(line)}</li>" for line in entry["lines"])
    heading = escape(_("Step {step}: {title}").format(step=entry["step"], title=entry["title"]))
    return (f'<li {attributes}><strong>{heading}'
            f'</strong><ul class="bt-lines">{lines}</ul></li>')


def stepper(steps: Report, graph: Report | None) -> str:
    """The controls, the list of steps and the picture; the script drives them."""
    entries = steps.data["steps"]
    last = len(entries) - 1
    if last > MAX_STEPS:
        return '<p class="dim">' + escape(_(
            "The backward pass has {edges} edges, too many to step through here (at most "
            "{limit}); the tables hold every number.").format(edges=last, limit=MAX_STEPS)
        ) + "</p>"
    step_of_edge = {entry["graph_edge"]: entry["step"] for entry in entries[1:]}
    words = {key: escape(text) for key, text in (
        ("stepper", _("Step through the backward pass")),
        ("controls", _("Steps of the backward pass")), ("previous", _("Previous step")),
        ("back", _("Previous")), ("next", _("Next step")), ("forth", _("Next")),
        ("play", _("Play the steps")), ("start", _("Play")))}
    out = [f'<section class="bt-stepper" aria-label="{words["stepper"]}">',
           f'<div class="bt-controls" role="group" aria-label="{words["controls"]}">',
           f'<button type="button" data-action="previous" aria-label="{words["previous"]}" '
           f'aria-keyshortcuts="ArrowLeft">&larr; {words["back"]}</button>',
           f'<span class="bt-counter" role="status" aria-live="polite">0 / {last}</span>',
           f'<button type="button" data-action="next" aria-label="{words["next"]}" '
           f'aria-keyshortcuts="ArrowRight">{words["forth"]} &rarr;</button>',
           f'<button type="button" data-action="play" aria-label="{words["play"]}" '
           f'aria-pressed="false">{words["start"]}</button>',
           "</div>"]
    out.append('<ol class="bt-steps" start="0" aria-live="polite">')
    out += [_step_item(entry) for entry in entries]
    out.append("</ol>")
    if graph is not None:
        out.append(picture(graph, step_of_edge))
    out.append("</section>")
    return "\n".join(out)


def root_attributes(steps: Report) -> str:
    last = len(steps.data["steps"]) - 1
    if last > MAX_STEPS:
        return ""
    # How the picture names a node's gradient ("grad 15"), in the reader's language: the
    # script writes the running sum into it while stepping.
    label = escape(_("grad {gradient}"))
    return (f' data-last-step="{last}" data-step="0" data-interval="{PLAY_INTERVAL}"'
            f' data-gradient-label="{label}"')
