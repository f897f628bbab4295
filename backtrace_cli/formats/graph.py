"""The computation graph in every graph format: DOT, Mermaid, a text tree, SVG and PNG.

The graph is a report (``report/graph.py``: every node with its value and gradient, every
edge with the gradient it carries back); the writers are ``graph_text.py`` (DOT, Mermaid,
the tree) and ``graph_image.py`` (SVG, PNG), entries of the one format registry with
``commands=("graph",)``. The functions here take an ``Explanation`` (or the graph report)
for ``backtrace graph`` and ``grad --graph``. Files are written atomically.
"""

from __future__ import annotations

import os  # noqa: F401  (tests replace os.replace through this module)

from backtrace_cli.errors import OutputError
from backtrace_cli.files import write_atomic, write_output
from backtrace_cli.formats import registry
from backtrace_cli.formats.graph_image import (  # noqa: F401
    ENGINE_HINT,
    LAYOUT_TIMEOUT,
    find_layout_engines,
    render_image,
)
from backtrace_cli.formats.graph_text import (  # noqa: F401
    MAX_TREE_DEPTH,
    TEXT_FILE_WIDTH,
    dot_escape,
    dot_label,
    dot_quote,
    mermaid_escape,
)
from backtrace_cli.i18n import _
from backtrace_cli.report.graph import MAX_TITLE, MISSING, build  # noqa: F401
from backtrace_cli.report.model import Report

COMMAND = "graph"


def graph_formats() -> list:
    """The registry's graph formats, in registry order."""
    return [entry for entry in registry.FORMATS.values()
            if entry.commands is not None and COMMAND in entry.commands]


FORMATS = tuple(entry.name for entry in graph_formats())
IMAGE_FORMATS = tuple(entry.name for entry in graph_formats() if entry.binary)
SUFFIX_FORMATS = {suffix: entry.name for entry in graph_formats() for suffix in entry.suffixes}


def _report(graph) -> Report:
    return graph if isinstance(graph, Report) else build(graph)


def to_dot(graph) -> str:
    from backtrace_cli.formats.graph_text import to_dot as write

    return write(_report(graph))


def to_mermaid(graph) -> str:
    from backtrace_cli.formats.graph_text import to_mermaid as write

    return write(_report(graph))


def to_tree(graph):
    from backtrace_cli.formats.graph_text import to_tree as write

    return write(_report(graph))


def tree_text(graph, width: int = TEXT_FILE_WIDTH) -> str:
    from backtrace_cli.formats.graph_text import tree_text as write

    return write(_report(graph), width)


def format_for_path(path: str) -> str | None:
    """The graph format a file name's suffix asks for, or None when we do not know it."""
    return SUFFIX_FORMATS.get(os.path.splitext(path)[1].lower())


def check_format(path: str, graph_format: str | None, what: str = "--graph") -> str:
    """The format to write ``path`` in: the one given, which must agree with a suffix that
    names a graph format (``-o g.svg --format png`` is refused), else the suffix's."""
    named = format_for_path(path) if path != "-" else None
    if graph_format is None:
        if named is None:
            raise OutputError(
                _("cannot tell the {value}format from the file name {value2}").format(
                    value=_("graph ") if what == "--graph" else "",
                    value2=path if what == "--graph" else repr(path),
                ),
                (_("end it in one of {suffixes}, or add --format") if what == "-o"
                 else _("end it in one of {suffixes}")).format(
                    suffixes=", ".join(SUFFIX_FORMATS)),
            )
        return named
    if named is not None and named != graph_format:
        raise OutputError(
            _(
                "the file name {path} says {named}, but the format asked for is {graph_format}"
            ).format(path=path, named=named, graph_format=graph_format),
            _("name the file with a suffix of {graph_format}, or drop the format").format(
                graph_format=graph_format
            ),
        )
    return graph_format


def render_graph(graph, graph_format: str) -> bytes:
    """The graph in one of ``FORMATS`` as the bytes a file holds."""
    if graph_format not in FORMATS:
        raise OutputError(
            _("unknown graph format '{graph_format}' (choose from {value})").format(
                graph_format=graph_format, value=", ".join(FORMATS)
            )
        )
    report = _report(graph)
    if graph_format in IMAGE_FORMATS:  # the engines as this module finds them (tests swap it)
        return render_image(to_dot(report), graph_format, find_layout_engines())
    data = registry.render(report, graph_format, registry.Options(width=TEXT_FILE_WIDTH))
    return data if isinstance(data, bytes) else data.encode("utf-8")


def write_graph_file(graph, path: str, graph_format: str | None = None,
                     what: str = "--graph") -> None:
    """Write the graph to ``path`` (``-``: stdout) in the format its suffix names (or
    ``graph_format``, which must agree with the suffix)."""
    chosen = check_format(path, graph_format, what) if path != "-" else (graph_format or "dot")
    data = render_graph(graph, chosen)
    if path == "-":
        write_output(path, data, what, binary=not _is_text(data))
    else:
        write_atomic(path, data)


def _is_text(data: bytes) -> bool:
    """SVG and graph text may go to a terminal; a PNG's bytes may not."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
