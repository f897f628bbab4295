"""Pictures of the graph: SVG and PNG laid out by Graphviz from the DOT text, the ``dot``
program when it is on PATH, otherwise the self-contained ``graphviz-pure`` program
(``pip install graphviz-pure``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

from backtrace_cli.errors import OutputError
from backtrace_cli.formats.graph_text import to_dot
from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.i18n import N_, _, translated
from backtrace_cli.report.model import Report

ENGINE_HINT = N_("install Graphviz (apt-get install graphviz) or pip install graphviz-pure")
# Seconds a layout engine may take before we give up (huge graphs).
LAYOUT_TIMEOUT = 120


def find_layout_engines() -> list[str]:
    """Graphviz programs to try, best first: ``dot`` on PATH, then ``graphviz-pure``.

    ``graphviz-pure`` is also looked for next to this Python, where pip puts it even when
    that folder is not on PATH (a virtual environment that is not activated).
    """
    engines = []
    found = shutil.which("dot")
    if found:
        engines.append(found)
    found = shutil.which("graphviz-pure")
    if not found:
        for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
            if folder:
                found = shutil.which("graphviz-pure", path=folder)
                if found:
                    break
    if found:
        engines.append(found)
    return engines


def render_image(dot_text: str, image_format: str, engines: list[str] | None = None) -> bytes:
    """Lay out DOT text as SVG or PNG bytes with the first layout engine that works
    (of ``engines``, by default those ``find_layout_engines`` finds)."""
    engines = find_layout_engines() if engines is None else engines
    if not engines:
        raise OutputError(
            _("no Graphviz layout engine found to draw {image_format}: {ENGINE_HINT}").format(
                image_format=image_format, ENGINE_HINT=translated(ENGINE_HINT)
            )
        )
    problem = ""
    for engine in engines:
        try:
            done = subprocess.run(
                [engine, f"-T{image_format}"],
                input=dot_text.encode("utf-8"),
                capture_output=True,
                timeout=LAYOUT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise OutputError(
                _("the layout took longer than {LAYOUT_TIMEOUT} s ({value})").format(
                    LAYOUT_TIMEOUT=LAYOUT_TIMEOUT, value=os.path.basename(engine)
                ),
                _("for a graph this large, use --format dot, mermaid or text"),
            ) from None
        except OSError as exc:
            problem = f"{os.path.basename(engine)} could not run: {exc.strerror or exc}"
            continue
        if done.returncode == 0 and done.stdout:
            return done.stdout
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        problem = f"{os.path.basename(engine)} failed: {message[0] if message else 'no output'}"
    raise OutputError(
        _("cannot draw {image_format}: {problem}").format(
            image_format=image_format, problem=problem
        ),
        translated(ENGINE_HINT),
    )


def write_svg(report: Report, options: Options = PLAIN) -> bytes:
    return render_image(to_dot(report), "svg")


def write_png(report: Report, options: Options = PLAIN) -> bytes:
    return render_image(to_dot(report), "png")
