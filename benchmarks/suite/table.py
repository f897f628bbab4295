"""The printed report: the timing table, the peak-memory table, notes and failures."""

from __future__ import annotations

from collections.abc import Sequence

from .results import Report, seconds_text


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   right: Sequence[bool]) -> str:
    widths = [max(len(cells[index]) for cells in (header, *rows)) for index in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.rjust(width) if align else cell.ljust(width)
                  for cell, width, align in zip(cells, widths, right, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (width + 1) + ":") if align else ("-" * (width + 2))
                          for width, align in zip(widths, right, strict=True)) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in rows)])


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def render(report: Report, meta: dict) -> str:
    timing_rows = [
        (row.name, seconds_text(row.backtrace), row.against, seconds_text(row.baseline),
         ratio(row.ratio),
         row.goal.text if row.goal else "–", seconds_text(row.torch), row.verdict)
        for row in report.rows
    ]
    parts = [
        f"backtrace benchmarks: {meta['date']}, {meta['platform']}, {meta['cpus']} CPUs, "
        f"Python {meta['python']}",
        f"backtrace {meta['backtrace_version']}, NumPy {meta['numpy']}, PyTorch "
        f"{meta['torch'] or 'not installed'}; median of {meta['repeat']} runs of whole "
        f"processes{' (--quick sizes)' if meta['quick'] else ''}; load average "
        f"{meta['load_before']} before, {meta['load_after']} after",
        "",
        markdown_table(
            ("workload", "backtrace (s)", "baseline", "baseline (s)", "ratio", "goal",
             "PyTorch (s)", "verdict"),
            timing_rows,
            (False, True, False, True, True, False, True, False),
        ),
    ]
    if report.memory:
        memory_rows = [
            (row.name, f"{row.peak_mb:.1f}" if row.peak_mb is not None else "–",
             f"{row.small_mb:.1f}" if row.small_mb is not None else "–",
             f"{row.growth_mb:.1f}" if row.growth_mb is not None else "–",
             f"{row.data_mb:.1f}", ratio(row.growth_ratio),
             f"<= {row.goal:g}" if row.goal is not None else "–", row.verdict)
            for row in report.memory
        ]
        parts += [
            "",
            f"Peak memory of full-batch ({meta['memory_method']}); growth = peak - the same "
            "command's peak on a tiny file; data = rows x 2 x 8 bytes",
            "",
            markdown_table(
                ("process", "peak (MB)", "tiny file (MB)", "growth (MB)", "data (MB)",
                 "growth / data", "goal", "verdict"),
                memory_rows,
                (False, True, True, True, True, True, False, False),
            ),
        ]
    if report.notes:
        parts += ["", "Notes:", *(f"- {note}" for note in report.notes)]
    if report.errors:
        parts += ["", "Failures (exact command and its stderr):",
                  *(f"- {error}" for error in report.errors)]
    return "\n".join(parts)
