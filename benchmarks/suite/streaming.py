"""The stream workload: ``train --stream`` (the CSV read once into a column cache, swept on
every epoch) against the same training with the rows in memory."""

from __future__ import annotations

import json
import statistics

from .context import Context, collect_errors
from .processes import PYTHON
from .results import Goal, Report, Row, relative_difference, seconds_text

# A child process that trains through the public fit() and reports the wall-clock time of
# every epoch (the time between two on_epoch calls; the first from the start of training),
# so an epoch's cost is measured without start-up, imports and the one reading of the CSV.
EPOCH_TIMER = """\
    import json, sys, time

    from backtrace_cli.train.run import fit
    from backtrace_cli.train.settings import Settings

    path, epochs, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stamps = []

    def on_start(outcome):
        stamps.append(time.perf_counter())

    def on_epoch(record):
        stamps.append(time.perf_counter())

    outcome = fit("w*x + b", path, Settings(lr=0.1, epochs=epochs, batch_size=None),
                  stream=mode == "stream", on_start=on_start, on_epoch=on_epoch)
    epoch_seconds = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    print(json.dumps({"epoch_seconds": epoch_seconds, "params": outcome.result.params}))
"""


def stream(context: Context, report: Report) -> None:
    sizes = context.sizes
    data = str(context.line_csv(sizes.batch_rows))
    epochs = str(sizes.stream_epochs)
    timer = context.write_script("stream_epochs.py", EPOCH_TIMER)

    def backtrace_command(mode: str, epoch_count: str) -> list[str]:
        return [*context.backtrace, "train", data, "--model", "w*x + b", "--batch-size",
                "full", "--epochs", epoch_count, "--lr", "0.1", "--format", "json", mode]

    commands = {
        "epochs-stream": [PYTHON, str(timer), data, epochs, "stream"],
        "epochs-memory": [PYTHON, str(timer), data, epochs, "memory"],
        "whole-stream": backtrace_command("--stream", epochs),
        "whole-memory": backtrace_command("--no-stream", epochs),
    }
    timings = context.runner.measure(commands)
    error = collect_errors(report, "stream", timings)

    def epoch_median(key: str) -> float | None:
        """The median epoch over every run of the timer, the first epoch of each left out
        (it maps the cache's pages, or converts the rows once)."""
        timing = timings[key]
        if timing.error or not timing.outputs:
            return None
        epochs_seen = []
        for output in timing.outputs:
            seconds = json.loads(output)["epoch_seconds"]
            epochs_seen += seconds[1:] or seconds
        return statistics.median(epochs_seen) if epochs_seen else None

    rows = f"{sizes.batch_rows:,} rows"
    streamed, in_memory = epoch_median("epochs-stream"), epoch_median("epochs-memory")
    report.rows.append(Row("stream", f"stream epoch (full batch, {rows})", streamed, in_memory,
                           None, Goal("ratio <= 1.5", 1.5), error=error,
                           against="backtrace epoch in memory"))
    report.rows.append(Row("stream", f"stream whole process ({rows} x {epochs} epochs)",
                           timings["whole-stream"].seconds, timings["whole-memory"].seconds,
                           None, None, error=error, against="backtrace --no-stream"))
    if streamed is not None and in_memory is not None:
        report.notes.append(f"stream: median epoch {seconds_text(streamed)} s streamed, "
                            f"{seconds_text(in_memory)} s in memory (first epoch of each run "
                            "left out; the CSV is read once before the first epoch).")
    ours, theirs = timings["whole-stream"].last_json(), timings["whole-memory"].last_json()
    if ours and theirs:
        difference = relative_difference(ours.get("params", {}), theirs.get("params", {}))
        report.notes.append(f"stream: final w, b streamed and in memory differ by "
                            f"{difference:.1e} (relative; 0 is the same bits).")
