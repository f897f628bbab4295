"""The one list of output formats: Click's ``--format`` choices and the formats inferred from a
file's suffix are both read from here, never written a second time.

A writer is ``write(report, options) -> str | bytes``; it is imported only when it is used,
so ``backtrace --help`` does not load Rich or the LaTeX writer.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model is loaded by the report builders, not by --help
    from backtrace_cli.report.model import Report


@dataclass(frozen=True)
class Options:
    """How a writer lays text out. ``width`` None means no wrapping at all (a pipe or a file);
    ``color`` is True only for a terminal that wants colour; ``digits`` shortens the numbers
    of every view but JSON."""

    width: int | None = None
    color: bool = False
    digits: int | None = None  # --digits: significant digits shown (None: every digit)


PLAIN = Options()  # no wrapping, no colour: files, pipes, tests


@dataclass(frozen=True)
class Format:
    name: str
    writer: str  # "module:function" under backtrace_cli.formats
    suffixes: tuple[str, ...] = ()
    binary: bool = False
    commands: tuple[str, ...] | None = None  # the reports it can write; None: every report
    description: str = ""

    def write(self, report: Report, options: Options = PLAIN) -> str | bytes:
        if options.digits is not None and self.name != "json":
            from backtrace_cli.report.digits import rounded

            report = rounded(report, options.digits)
        module, function = self.writer.split(":")
        return getattr(importlib.import_module(f"backtrace_cli.formats.{module}"), function)(
            report, options)


FORMATS: dict[str, Format] = {
    entry.name: entry
    for entry in (
        Format("table", "table:write", (".txt",), description="Rich tables, for people"),
        Format("json", "json:write", (".json",), description="one JSON object, for scripts"),
        Format("markdown", "markdown:write", (".md",), description="Markdown, for course notes"),
        Format("latex", "latex:write", (".tex",), description="a LaTeX fragment, for papers"),
        Format("dot", "graph_text:write_dot", (".dot", ".gv"), commands=("graph",),
               description="Graphviz DOT graph text"),
        Format("mermaid", "graph_text:write_mermaid", (".mmd", ".mermaid"), commands=("graph",),
               description="a Mermaid flowchart"),
        Format("svg", "graph_image:write_svg", (".svg",), binary=True, commands=("graph",),
               description="an SVG picture (Graphviz)"),
        Format("png", "graph_image:write_png", (".png",), binary=True, commands=("graph",),
               description="a PNG picture (Graphviz)"),
        # One self-contained page that steps through the backward pass (notebooks show its
        # fragment, formats/html.py); for every report with a graph and steps.
        Format("html", "html:write", (".html", ".htm"), commands=("grad", "graph"),
               description="a self-contained HTML page that steps through the backward pass"),
        Format("text", "graph_text:write_text", (".txt",), commands=("graph",),
               description="the graph as a text tree"),
    )
}


def register(entry: Format) -> None:
    """Add a format (each format module's entry lives in FORMATS above; this is for tests)."""
    FORMATS[entry.name] = entry


def names(command: str) -> list[str]:
    """The ``--format`` choices of a command, in registry order."""
    return [f.name for f in FORMATS.values() if f.commands is None or command in f.commands]


def get(name: str) -> Format:
    return FORMATS[name]


def for_path(path: str, command: str) -> Format | None:
    """The format a file's suffix names for this command (``g.svg`` -> svg), or None."""
    suffix = os.path.splitext(path)[1].lower()
    for entry in FORMATS.values():
        if suffix in entry.suffixes and (entry.commands is None or command in entry.commands):
            return entry
    return None


def render(report: Report, name: str, options: Options = PLAIN) -> str | bytes:
    return get(name).write(report, options)
