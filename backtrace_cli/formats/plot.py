"""Loss curves written as SVG (ours) or PNG (matplotlib); the terminal curve is text in
the report (``report/train.py``).

The SVG writer is a few lines of our own, so ``--plot curve.svg`` needs nothing extra; PNG
needs matplotlib (``pip install 'backtrace-cli[plot]'``) and says so when it is missing.
Files are written atomically (see ``files.write_atomic``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

from backtrace_cli.errors import UsageError
from backtrace_cli.files import write_atomic
from backtrace_cli.i18n import _


def _scale(losses: Sequence[float]) -> tuple[list[float], bool]:
    """Values to draw: log10 of the losses when they span more than two decades."""
    positive = [v for v in losses if v > 0]
    if positive and len(positive) == len(losses) and max(positive) / min(positive) > 100:
        return [math.log10(v) for v in losses], True
    return list(losses), False


def svg_curve(losses: Sequence[float], title: str) -> str:
    """A small, self-contained SVG of the loss per epoch."""
    width, height, margin = 640, 360, 56
    values, logarithmic = _scale(losses)
    low, high = min(values), max(values)
    span = high - low or 1.0
    count = len(values)

    def x(i: int) -> float:
        return margin + (width - 2 * margin) * (i / max(1, count - 1))

    def y(v: float) -> float:
        return height - margin - (height - 2 * margin) * ((v - low) / span)

    points = " ".join(f"{x(i):.2f},{y(v):.2f}" for i, v in enumerate(values))
    axis = "log10(loss)" if logarithmic else "loss"
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" '
        f'y2="{height - margin}" stroke="black"/>',
        f'<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{height - margin}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 16}" text-anchor="middle">epoch (1 to {count})</text>',
        f'<text x="16" y="{height / 2}" transform="rotate(-90 16 {height / 2})" '
        f'text-anchor="middle">{axis}</text>',
        f'<text x="{margin - 4}" y="{margin + 4}" text-anchor="end">{high:.3g}</text>',
        f'<text x="{margin - 4}" y="{height - margin}" text-anchor="end">{low:.3g}</text>',
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{points}"/>',
        "</svg>",
        "",
    ])


def check_plot_path(path: str) -> None:
    """Refuse a --plot file we cannot write (wrong suffix, PNG without matplotlib), early."""
    lowered = path.lower()
    if path == "-" or lowered.endswith(".svg"):  # '-': an SVG on stdout
        return
    if not lowered.endswith(".png"):
        raise UsageError(_(
            "--plot {path}: the file name must end in .svg or .png").format(path=path))
    _pyplot()


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            _("--plot FILE.png needs matplotlib, which is not installed"),
            _("pip install 'backtrace-cli[plot]', or write an SVG: --plot loss.svg"),
        ) from None
    return plt


def plot_bytes(path: str, losses: Sequence[float], title: str) -> bytes:
    """The loss curve as the bytes of the file ``path`` names (.svg or .png; ``-``: SVG)."""
    check_plot_path(path)
    if not losses:
        raise UsageError(_("--plot: no finished epoch to plot"))
    if path == "-" or path.lower().endswith(".svg"):
        return svg_curve(losses, title).encode("utf-8")
    import io

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    axes.plot(range(1, len(losses) + 1), losses)
    if _scale(losses)[1]:
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def write_plot(path: str, losses: Sequence[float], title: str) -> None:
    """Write the loss curve to ``path`` (.svg or .png), atomically."""
    write_atomic(path, plot_bytes(path, losses, title))
