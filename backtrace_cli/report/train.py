"""The report of ``backtrace train``: what was trained, the loss per epoch (a table and a
terminal curve), the parameters, the predictions, the traced updates; ``data`` is the JSON
document of CONTRACT.md."""

from __future__ import annotations

import math

from backtrace_cli.engine.values import is_array
from backtrace_cli.i18n import _, ngettext
from backtrace_cli.report.model import Column, Lines, Report, Table, text
from backtrace_cli.report.text import display_width, number, plain

# The loss table shows every epoch up to this many, else about this many evenly spaced.
EPOCH_ROWS = 20
_NICE_STEPS = (1, 2, 5)
_BARS = " ▁▂▃▄▅▆▇█"


def epoch_sample(count: int, rows: int = EPOCH_ROWS) -> list[int]:
    """Indices of the epochs the table shows: all up to ``rows``, else epoch 1 and every
    step-th epoch (a step of 1, 2 or 5 times a power of ten), and always the last."""
    if count <= rows:
        return list(range(count))
    step, scale = 1, 1
    while math.ceil(count / step) > rows - 1:
        for nice in _NICE_STEPS:
            step = nice * scale
            if math.ceil(count / step) <= rows - 1:
                break
        else:
            scale *= 10
            continue
        break
    shown = [0] + list(range(step - 1, count, step))
    if shown[-1] != count - 1:
        shown.append(count - 1)
    return shown


def _scale(losses):
    positive = [v for v in losses if v > 0]
    if positive and len(positive) == len(losses) and max(positive) / min(positive) > 100:
        return [math.log10(v) for v in losses], True
    return list(losses), False


def _spread(count: int, width: int) -> list[int]:
    if count <= width:
        return list(range(count))
    return sorted({round(i * (count - 1) / (width - 1)) for i in range(width)})


def terminal_curve(losses, width: int = 60, height: int = 8) -> list[str]:
    """A loss curve as lines of text: one column per sampled epoch, bars of eighths."""
    if not losses:
        return []
    picked = _spread(len(losses), width)
    values, logarithmic = _scale([losses[i] for i in picked])
    low, high = min(values), max(values)
    span = high - low or 1.0
    levels = [round((v - low) / span * (height * 8 - 1)) + 1 for v in values]
    lines = []
    for row in range(height - 1, -1, -1):
        lines.append("".join(_BARS[max(0, min(8, level - row * 8))] for level in levels))
    top = f"{max(losses[i] for i in picked):.4g}"
    bottom = f"{min(losses[i] for i in picked):.4g}"
    pad = max(len(top), len(bottom))
    out = []
    for i, line in enumerate(lines):
        axis = top if i == 0 else (bottom if i == len(lines) - 1 else "")
        out.append(f"{axis:>{pad}} │{line}")
    out.append(f"{'':>{pad}} └{'─' * len(levels)}")
    last = str(len(losses))
    first = _("epoch 1")
    gap = " " * max(1, len(levels) - display_width(first) - len(last))
    out.append(f"{'':>{pad}}  {first}{gap}{last}")
    if logarithmic:
        out.insert(0, f"{'':>{pad}}  " + _("loss (log scale)"))
    return out


def input_text(values: dict) -> str:
    return ", ".join(f"{name}={number(value)}" for name, value in values.items())


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


def update_text(settings, update) -> str:
    """The update itself, written out for the first parameter:
    w ← w − lr·dL/dw = 1 − 0.01·(−2) = 1.02 (plain SGD only; other rules keep state)."""
    if settings.optimizer != "sgd" or update.before is None:
        return ""
    parts = []
    for name, gradient in update.gradients.items():
        old, new = update.before.get(name), update.after.get(name)
        if old is None or new is None or is_array(old):
            continue
        shown = number(gradient)
        shown = f"({shown})" if shown.startswith("-") else shown
        parts.append(f"{name} ← {name} − lr·dloss/d{name} = {number(old)} − "
                     f"{settings.lr:g}·{shown} = {number(new)}")
    return "; ".join(parts)


def trace_line(problem, update, settings=None) -> str:
    """One update the way the lecture prints it: grad: x y dL/dw, then the update."""
    if update.count == 1:
        where = " ".join(f"{name}={number(v)}" for name, v in update.data.items())
    elif not update.rows:
        where = f"{update.count:,} rows"
    else:
        where = "rows " + _row_ranges(update.rows)
    grads = " ".join(f"dloss/d{name}={number(g)}" for name, g in update.gradients.items())
    line = f"grad: {where} {grads} loss={number(update.loss)}"
    written = update_text(settings, update) if settings is not None else ""
    return f"{line}  [{written}]" if written else line


def header_lines(outcome) -> list[str]:
    """What is about to be trained, and the predictions before training (the lecture's
    predict(4) = 4)."""
    problem, dataset, settings = outcome.problem, outcome.dataset, outcome.settings
    source = _("the lecture's data") if dataset.path == "<lecture>" else dataset.path
    batch = _("full batch") if settings.batch_size is None else _("batch {size}").format(
        size=settings.batch_size)
    lines = [
        _("Training y_hat = {model} on {source} "
          "({rows} rows; inputs {inputs}; target {target})").format(
            model=problem.model_source, source=source, rows=dataset.rows,
            inputs=", ".join(problem.inputs), target=problem.target),
        _("loss {loss}, {optimizer} lr {lr}, {epochs}, {batch}{shuffled}, {dtype}").format(
            loss=problem.loss_name, optimizer=settings.optimizer, lr=f"{settings.lr:g}",
            epochs=ngettext("{epochs} epoch", "{epochs} epochs", settings.epochs).format(
                epochs=settings.epochs), batch=batch,
            shuffled=(_(", shuffled (seed {seed})").format(seed=settings.seed)
                      if settings.shuffle else ""), dtype=settings.dtype),
    ]
    for values, value in zip(outcome.predictions_in, outcome.before):
        lines.append(_("predict (before training): {input} -> y_hat = {value}").format(
            input=input_text(values), value=number(value)))
    return lines


def trace_stopped_line(outcome) -> str | None:
    limit = outcome.settings.trace_limit
    if limit and len(outcome.traced) >= limit < outcome.planned_updates:
        return _("(--trace stopped after {limit} of {planned} updates; "
                 "--trace-limit N shows more)").format(
                     limit=f"{limit:,}", planned=f"{outcome.planned_updates:,}")
    return None


def build(outcome, *, live: bool = False, explain: dict | None = None) -> Report:
    """The report of a finished run. ``live``: the header and the trace lines were already
    printed while training (the CLI does so), so the sections leave them out. ``explain``:
    the JSON document of the explained step (``--explain-step``), for ``data``."""
    result, problem = outcome.result, outcome.problem
    history = result.history
    opening: list[str] = []
    if not live:
        opening = header_lines(outcome) + [""]
        if outcome.traced:
            opening += [trace_line(problem, u, outcome.settings) for u in outcome.traced]
            stopped = trace_stopped_line(outcome)
            opening += [stopped] if stopped else []
    sections = []
    params_before: list[str] = []
    if history:
        shown = epoch_sample(len(history))
        notes = ()
        if len(shown) < len(history):
            notes = (text(_("{shown} of {total} epochs shown (--format json lists all)").format(
                shown=len(shown), total=len(history))),)
        sections.append(Table(
            text(_("Loss per epoch")),
            (Column(text(_("epoch")), "right"), Column(text(_("mean loss")), "right"),
             Column(text(_("last update's loss")), "right")),
            tuple((text(str(history[i].epoch)), text(number(history[i].loss)),
                   text(number(history[i].last_loss))) for i in shown),
            before=tuple(text(line) for line in opening), notes=notes, cut=False, key="loss",
        ))
        if len(history) > 1:  # the chart of the loss, just below its table
            sections.append(Lines(None, tuple(text(line) for line in terminal_curve(
                [r.loss for r in history])), cut=False, key="loss_chart", indent="",
                preformatted=True))
    else:
        params_before = opening
    sections.append(Table(
        text(_("Parameters")),
        (Column(text(_("name"))), Column(text(_("initial")), "right"),
         Column(text(_("final")), "right")),
        tuple((text(name), text(number(result.initial[name])), text(number(result.params[name])))
              for name in problem.params),
        before=tuple(text(line) for line in params_before), cut=False, key="params",
    ))
    if outcome.predictions_in:
        sections.append(Table(
            text(_("Predictions")),
            (Column(text(_("input"))), Column(text(_("y_hat before")), "right"),
             Column(text(_("y_hat after")), "right")),
            tuple((text(input_text(values)), text(number(old)), text(number(new)))
                  for values, old, new in zip(outcome.predictions_in, outcome.before,
                                              outcome.after)),
            cut=False, key="predictions",
        ))
    title = _("Training y_hat = {model}").format(model=problem.model_source)
    return Report("train", text(title), tuple(sections),
                  document(outcome, explain))


def explain_document(outcome) -> dict | None:
    """The explained update (explain_step) for the JSON: its row, the bindings then, the
    update written out, and grad's document of that row; None when none was asked for."""
    if outcome.explanation is None:
        return None
    from backtrace_cli.report.grad import build as grad_report

    captured = outcome.result.captured
    return {
        "update": captured.number, "epoch": captured.epoch, "row": captured.row,
        "batch_rows": captured.batch_rows, "bindings": captured.bindings,
        "update_text": update_text(outcome.settings, captured) or None,
        "grad": dict(grad_report(outcome.explanation).data),
    }


def document(outcome, explain: dict | None = None) -> dict:
    """The JSON object of CONTRACT.md, plus the settings, what stopped the run, warnings."""
    result, settings, problem = outcome.result, outcome.settings, outcome.problem
    divergence = result.divergence
    data = {
        "model": problem.model_source,
        "loss": problem.loss_name,
        "target": problem.target,
        "inputs": list(problem.inputs),
        "data": {"path": outcome.dataset.path, "rows": result.rows,
                 "columns": list(outcome.dataset.columns)},
        "settings": {
            "lr": settings.lr, "epochs": settings.epochs,
            "batch_size": "full" if settings.batch_size is None else settings.batch_size,
            "shuffle": settings.shuffle, "seed": settings.seed, "dtype": settings.dtype,
            "optimizer": settings.optimizer,
        },
        "params": {n: _json(v) for n, v in result.params.items()},
        "initial": {n: _json(v) for n, v in result.initial.items()},
        "history": [
            {"epoch": r.epoch, "loss": r.loss, "last_loss": r.last_loss} for r in result.history
        ],
        "predictions": [
            {"input": values, "y_hat": value}
            for values, value in zip(outcome.predictions_in, outcome.after)
        ],
        "predictions_before": [
            {"input": values, "y_hat": value}
            for values, value in zip(outcome.predictions_in, outcome.before)
        ],
        "updates": result.updates,
        "diverged": None if divergence is None else {
            "epoch": divergence.epoch, "update": divergence.update, "row": divergence.row,
            "reason": divergence.reason,
        },
        "interrupted": result.interrupted,
        "warnings": list(outcome.warnings),
    }
    if outcome.traced:
        data["trace"] = [
            {"update": u.number, "epoch": u.epoch, "rows": list(u.rows), "batch_rows": u.count,
             "data": u.data, "loss": u.loss, "gradients": {n: _json(g)
                                                          for n, g in u.gradients.items()},
             **({"update_text": update_text(settings, u)}
                if update_text(settings, u) else {})}
            for u in outcome.traced
        ]
    if explain is not None:
        data["explain"] = explain
    return data


def _json(value):
    return plain(value) if is_array(value) else value
