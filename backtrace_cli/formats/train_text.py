"""What ``backtrace train`` shows: Rich tables for people, one JSON object for scripts."""

from __future__ import annotations

from dataclasses import dataclass

from backtrace_cli.formats.plot import sample, terminal_curve
from backtrace_cli.report.text import number

# The loss table shows every epoch up to this many, else this many sampled (first and last kept).
EPOCH_ROWS = 20


@dataclass(frozen=True)
class TrainReport:
    problem: object
    dataset: object
    settings: object
    result: object
    predictions_in: list
    before: list
    after: list
    traced: list
    elapsed: float


def _input_text(values: dict) -> str:
    return ", ".join(f"{name}={number(value)}" for name, value in values.items())


def trace_line(problem, update) -> str:
    """One update the way the lecture prints it: grad: x y dL/dw."""
    if update.count == 1:
        where = " ".join(f"{name}={number(v)}" for name, v in update.data.items())
    elif not update.rows:
        where = f"{update.count:,} rows"
    else:
        where = "rows " + _row_ranges(update.rows)
    grads = " ".join(f"dloss/d{name}={number(g)}" for name, g in update.gradients.items())
    return f"grad: {where} {grads} loss={number(update.loss)}"


def _row_ranges(rows: tuple[int, ...]) -> str:
    """1,2,3,7 -> '1-3,7': a batch's rows, short."""
    parts = []
    start = previous = rows[0]
    for row in (*rows[1:], None):
        if row is not None and row == previous + 1:
            previous = row
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if row is not None:
            start = previous = row
    return ",".join(parts)


def print_header(console, problem, dataset, settings, predictions_in, before) -> None:
    """What is about to be trained, and the predictions before training (the lecture's
    predict(4) = 4): printed before the first update, so --trace lines follow it."""
    source = "the lecture's data" if dataset.path == "<lecture>" else dataset.path
    batch = "full batch" if settings.batch_size is None else f"batch {settings.batch_size}"
    console.print(
        f"Training y_hat = {problem.model_source} on {source} "
        f"({dataset.rows} rows; inputs {', '.join(problem.inputs)}; target {problem.target})\n"
        f"loss {problem.loss_name}, {settings.optimizer} lr {settings.lr:g}, "
        f"{settings.epochs} epoch{'' if settings.epochs == 1 else 's'}, {batch}"
        + (f", shuffled (seed {settings.seed})" if settings.shuffle else "")
        + f", {settings.dtype}",
        markup=False, highlight=False,
    )
    for values, value in zip(predictions_in, before):
        console.print(f"predict (before training): {_input_text(values)} -> y_hat = "
                      f"{number(value)}", markup=False, highlight=False)
    console.print()


def print_report(report: TrainReport, console) -> None:
    """The loss per epoch (table and curve), the parameters and the predictions."""
    from rich.table import Table

    result = report.result
    history = result.history
    if history:
        table = Table(title="Loss per epoch", title_justify="left", title_style="bold")
        table.add_column("epoch", justify="right")
        table.add_column("mean loss", justify="right")
        table.add_column("last update's loss", justify="right")
        shown = sample(len(history), EPOCH_ROWS)
        for i in shown:
            record = history[i]
            table.add_row(str(record.epoch), number(record.loss), number(record.last_loss))
        console.print(table)
        if len(shown) < len(history):
            console.print(f"  {len(shown)} of {len(history)} epochs shown "
                          "(--format json lists all)", markup=False)
        if len(history) > 1:
            console.print()
            for line in terminal_curve([r.loss for r in history]):
                console.print(line, markup=False, highlight=False)
        console.print()

    params = Table(title="Parameters", title_justify="left", title_style="bold")
    params.add_column("name")
    params.add_column("initial", justify="right")
    params.add_column("final", justify="right")
    for name in report.problem.params:
        params.add_row(name, number(result.initial[name]), number(result.params[name]))
    console.print(params)

    if report.predictions_in:
        console.print()
        table = Table(title="Predictions", title_justify="left", title_style="bold")
        table.add_column("input")
        table.add_column("y_hat before", justify="right")
        table.add_column("y_hat after", justify="right")
        for values, old, new in zip(report.predictions_in, report.before, report.after):
            table.add_row(_input_text(values), number(old), number(new))
        console.print(table)


def report_document(report: TrainReport) -> dict:
    """The JSON object of CONTRACT.md, plus the settings and what stopped the run."""
    result = report.result
    settings = report.settings
    problem = report.problem
    divergence = result.divergence
    document = {
        "model": problem.model_source,
        "loss": problem.loss_name,
        "target": problem.target,
        "inputs": list(problem.inputs),
        "data": {"path": report.dataset.path, "rows": result.rows,
                 "columns": list(report.dataset.columns)},
        "settings": {
            "lr": settings.lr, "epochs": settings.epochs,
            "batch_size": "full" if settings.batch_size is None else settings.batch_size,
            "shuffle": settings.shuffle, "seed": settings.seed, "dtype": settings.dtype,
            "optimizer": settings.optimizer,
        },
        "params": dict(result.params),
        "initial": dict(result.initial),
        "history": [
            {"epoch": r.epoch, "loss": r.loss, "last_loss": r.last_loss} for r in result.history
        ],
        "predictions": [
            {"input": values, "y_hat": value}
            for values, value in zip(report.predictions_in, report.after)
        ],
        "predictions_before": [
            {"input": values, "y_hat": value}
            for values, value in zip(report.predictions_in, report.before)
        ],
        "updates": result.updates,
        "diverged": None if divergence is None else {
            "epoch": divergence.epoch, "update": divergence.update, "row": divergence.row,
            "reason": divergence.reason,
        },
        "interrupted": result.interrupted,
    }
    if report.traced:
        document["trace"] = [
            {"update": u.number, "epoch": u.epoch, "rows": list(u.rows), "batch_rows": u.count,
             "data": u.data,
             "loss": u.loss, "gradients": u.gradients}
            for u in report.traced
        ]
    return document
