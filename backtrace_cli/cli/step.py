"""``backtrace grad ... --step``: the backward pass one edge at a time, at a terminal.

The steps are the report's "steps" view (``report/steps.py``), the same the HTML page steps
through: step 0 is the forward pass done, then one edge of the reverse sweep per step. Each
screen shows the step's numbers and the graph as the text tree, its gradients as they stand
after the step and the active edge marked. Keys: → or Enter (or space) next, ← back, q quit.
Only at a terminal: stdin is read key by key, and a pipe would get escape codes.
"""

from __future__ import annotations

import os
import sys

from backtrace_cli.errors import UsageError
from backtrace_cli.i18n import N_, _, translated
from backtrace_cli.report.model import Report

NEXT, BACK, QUIT = "next", "back", "quit"
_KEYS = {"\x1b[C": NEXT, "\x1bOC": NEXT, "\r": NEXT, "\n": NEXT, " ": NEXT, "l": NEXT,
         "\x1b[D": BACK, "\x1bOD": BACK, "h": BACK, "q": QUIT, "Q": QUIT, "\x04": QUIT}
HELP = N_("→ or Enter: next   ←: back   q: quit")


def refuse_without_terminal(output_path: str | None, graph_path: str | None,
                            format_given: bool = False) -> None:
    """--step reads keys and draws screens: refused (exit 2) unless stdin and stdout are a
    terminal, and with the options that write files or formats instead."""
    if format_given:
        raise UsageError(_("--step shows the steps at a terminal; it has no --format"),
                         _("drop --format, or drop --step (a page that steps: "
                           "--format html -o page.html)"))
    if output_path is not None or graph_path is not None:
        raise UsageError(_("--step shows the steps at a terminal; it writes no file"),
                         _("drop -o/--graph, or drop --step (a page that steps: "
                           "--format html -o page.html)"))
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        if stream is None or not stream.isatty():
            raise UsageError(
                _("--step needs a terminal, and {name} is not one").format(name=name),
                _("run it in a terminal, or write a page that steps through the backward "
                  "pass: --format html -o page.html"))


def screen(steps: Report, graph: Report, step: int, width: int):
    """The renderable of one step: counter, the step's lines, the tree with its mark
    (``steps`` and ``graph``: the grad report's views)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from backtrace_cli.formats.graph_text import to_tree
    from backtrace_cli.report.steps import graph_at

    entries = steps.data["steps"]
    entry = entries[step]
    last = len(entries) - 1
    heading = Text(_("Step {step} / {last}: ").format(step=step, last=last), style="bold")
    heading.append(entry["title"], style="bold yellow")
    body = Text("\n".join(entry["lines"]))
    marks = {}
    if step > 0:
        marks[entry["graph_edge"]] = _("◀ step {step}: {product} sent back").format(
            step=step, product=entry["product"])
    tree = to_tree(graph_at(steps, graph, step), marks)
    panel = Panel(Group(heading, body), title=Text(steps.title.plain), width=min(width, 100))
    return Group(panel, tree, Text(translated(HELP), style="dim"))


def read_key(fd: int) -> str:
    """One key press: a character, or an escape sequence read whole (arrows)."""
    import select

    data = os.read(fd, 1)
    if data == b"\x1b":
        while select.select([fd], [], [], 0.05)[0]:
            data += os.read(fd, 1)
            if len(data) >= 3:
                break
    return data.decode("utf-8", "replace")


def step_through(report: Report) -> None:
    """Show the steps at the terminal until q (or end of input)."""
    import termios
    import tty

    from backtrace_cli.cli.parsing import stdout_console

    console = stdout_console()
    steps, graph = report.views["steps"](), report.views["graph"]()
    last = len(steps.data["steps"]) - 1
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    step = 0
    try:
        tty.setcbreak(fd)  # keys one by one, no echo; Ctrl-C still interrupts (exit 130)
        while True:
            console.clear()
            console.print(screen(steps, graph, step, console.width))
            key = read_key(fd)
            action = _KEYS.get(key) if key else QUIT
            if action == QUIT:
                break
            if action == NEXT:
                step = min(last, step + 1)
            elif action == BACK:
                step = max(0, step - 1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
