"""Loss curves: drawn in the terminal with text, and written as SVG (ours) or PNG (matplotlib).

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

_BARS = " ▁▂▃▄▅▆▇█"


def _scale(losses: Sequence[float]) -> tuple[list[float], bool]:
    """Values to draw: log10 of the losses when they span more than two decades."""
    positive = [v for v in losses if v > 0]
    if positive and len(positive) == len(losses) and max(positive) / min(positive) > 100:
        return [math.log10(v) for v in losses], True
    return list(losses), False


def sample(count: int, width: int) -> list[int]:
    """``width`` indices spread evenly over ``count`` items, always the first and the last."""
    if count <= width:
        return list(range(count))
    return sorted({round(i * (count - 1) / (width - 1)) for i in range(width)})


def terminal_curve(losses: Sequence[float], width: int = 60, height: int = 8) -> list[str]:
    """A loss curve as lines of text: one column per sampled epoch, bars of eighths."""
    if not losses:
        return []
    picked = sample(len(losses), width)
    values, logarithmic = _scale([losses[i] for i in picked])
    low, high = min(values), max(values)
    span = high - low or 1.0
    levels = [round((v - low) / span * (height * 8 - 1)) + 1 for v in values]
    lines = []
    for row in range(height - 1, -1, -1):
        cells = []
        for level in levels:
            filled = level - row * 8
            cells.append(_BARS[max(0, min(8, filled))])
        lines.append("".join(cells))
    top = f"{losses[0] if not values else max(losses[i] for i in picked):.4g}"
    bottom = f"{min(losses[i] for i in picked):.4g}"
    label = " (log scale)" if logarithmic else ""
    pad = max(len(top), len(bottom))
    out = []
    for i, line in enumerate(lines):
        axis = top if i == 0 else (bottom if i == len(lines) - 1 else "")
        out.append(f"{axis:>{pad}} │{line}")
    out.append(f"{'':>{pad}} └{'─' * len(levels)}")
    last = str(len(losses))
    out.append(f"{'':>{pad}}  epoch 1{' ' * max(1, len(levels) - 7 - len(last))}{last}")
    if label:
        out.insert(0, f"{'':>{pad}}  loss{label}")
    return out


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
    if lowered.endswith(".svg"):
        return
    if not lowered.endswith(".png"):
        raise UsageError(f"--plot {path}: the file name must end in .svg or .png")
    _pyplot()


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "--plot FILE.png needs matplotlib, which is not installed",
            "pip install 'backtrace-cli[plot]', or write an SVG: --plot loss.svg",
        ) from None
    return plt


def write_plot(path: str, losses: Sequence[float], title: str) -> None:
    """Write the loss curve to ``path`` (.svg or .png), atomically."""
    check_plot_path(path)
    if not losses:
        raise UsageError("--plot: no finished epoch to plot")
    if path.lower().endswith(".svg"):
        write_atomic(path, svg_curve(losses, title).encode("utf-8"))
        return
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
    write_atomic(path, buffer.getvalue())
