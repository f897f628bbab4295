"""One call that trains: what ``backtrace train`` does, except printing.

``fit`` reads the data, builds the problem, checks the settings against it, trains, and
predicts before and after; the CLI and the Python API call it and format its outcome.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backtrace_cli.errors import DataError, EvaluationError, setting_error
from backtrace_cli.i18n import _
from backtrace_cli.train import params as params_module
from backtrace_cli.train.advice import loss_warnings, name_warnings, train_growth_warning
from backtrace_cli.train.loop import train
from backtrace_cli.train.problem import Problem, build_problem
from backtrace_cli.train.problem import predict as predict_value
from backtrace_cli.train.records import EpochRecord, TrainResult, Update
from backtrace_cli.train.settings import Settings

# Above this size a CSV is read in chunks on every epoch unless stream=False says otherwise.
STREAM_ABOVE_BYTES = 512 * 1024 * 1024
TRACE_LIMIT = 1000  # updates traced when trace=True and settings.trace_limit is 0
STDIN = "-"


@dataclass
class TrainOutcome:
    """Everything a report of a run needs."""

    problem: Problem
    dataset: Any
    settings: Settings
    result: TrainResult
    predictions_in: list[dict[str, float]]
    before: list[float]
    after: list[float]
    traced: list[Update]
    elapsed: float
    planned_updates: int
    warnings: list[str] = field(default_factory=list)
    explanation: Any = None  # explain.gradient.Explanation of explain_step, if asked


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # load_csv reports the problem


def load_dataset(dataset, *, delimiter: str = ",", stream: bool | None = None,
                 shuffle: bool = False, cache_dir: str | None = None, columns=None):
    """A dataset from a path (``-``: standard input), None (the lecture's data), or a
    dataset already read (``data.reader.Dataset`` or ``CsvStream``). A streamed file's
    column cache is made in ``cache_dir`` (default: the system's temporary folder); the
    caller closes the stream. ``columns`` chooses the columns a file is read for, as in
    ``data.reader.load_csv``: the others may hold any text (an id, a name, a date)."""
    from backtrace_cli.data import reader

    if dataset is not None and not isinstance(dataset, str):
        return dataset
    if dataset == STDIN:
        if stream:
            raise setting_error(
                "stream",
                _("stream reads a file on every epoch; standard input can be read only once"),
                _("save the data to a file"),
            )
        return _stdin_dataset(reader, delimiter, columns)
    if stream is None:  # automatic above a size where a copy in memory starts to hurt
        stream = dataset is not None and _file_size(dataset) > STREAM_ABOVE_BYTES
    if stream:
        if dataset is None:
            raise setting_error("stream", _(
                "stream reads a CSV file; give one (the lecture's data is built in)"))
        if shuffle:
            raise setting_error(
                "stream", _("shuffle needs all rows in memory, and stream reads them in chunks"),
                _("drop --stream (or --shuffle), or shuffle the file's rows beforehand"))
        return reader.CsvStream(dataset, delimiter, cache_dir=cache_dir, columns=columns)
    if dataset is not None:
        return reader.load_csv(dataset, delimiter, columns)
    return reader.lecture_dataset()


def _stdin_dataset(reader, delimiter: str, columns=None):
    """The CSV on standard input: read through /dev/stdin when it is the process's own
    stdin, else (a test runner's or a notebook's stand-in) from a copy in a temporary file."""
    import sys
    import tempfile

    try:
        sys.stdin.fileno()
        own = True
    except (AttributeError, OSError, ValueError):
        own = False
    if own:
        try:
            dataset = reader.load_csv("/dev/stdin", delimiter, columns)
        except DataError as error:
            error.path = "<stdin>"
            raise
        return dataclasses.replace(dataset, path="<stdin>")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "stdin.csv")
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            dataset = reader.load_csv(path, delimiter, columns)
        except DataError as error:
            error.path = "<stdin>"  # not the temporary copy's name
            raise
    return dataclasses.replace(dataset, path="<stdin>")


def fit(
    model: str,
    dataset,
    settings: Settings,
    *,
    target: str = "y",
    loss: str = "mse",
    params: Mapping[str, Any] | None = None,
    init: Mapping[str, Any] | str | None = None,
    predict: Sequence[Any] | None = None,
    trace: bool = False,
    explain_step: int | None = None,
    delimiter: str = ",",
    stream: bool | None = None,
    cache_dir: str | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_update: Callable[[Update], None] | None = None,
    on_start: Callable[[TrainOutcome], None] | None = None,
) -> TrainOutcome:
    """Train ``model`` (an expression text) on ``dataset`` and predict with it.

    ``dataset``: a CSV path, ``"-"`` for standard input, None for the lecture's data
    (x = 1, 2, 3; y = 2, 4, 6), or a dataset already read. ``settings``: a validated
    ``Settings``. ``params``: start values {name: number, array or 'randn:4x2'};
    ``init``: start values {name: value} or the path of a parameters file (as ``--save``
    writes it); ``params`` wins over ``init``; other parameters start at 1.0.
    ``predict``: inputs to predict for before and after training (a number for a model of
    one input, else {input: number}); without a CSV and predict, the lecture's x = 4.
    ``trace``: report every update (up to ``settings.trace_limit``, else 1,000) through
    ``on_update`` and in ``TrainOutcome.traced``. ``explain_step``: the update K whose
    forward and backward pass is explained (``TrainOutcome.explanation``). ``stream``:
    read the CSV once into a column cache and sweep that (None: above 512 MiB), made in
    ``cache_dir`` and removed before returning. ``on_start(outcome)`` is called once
    everything is checked, just before the first update (``outcome.result`` is still None).
    Errors are ``BacktraceError``s naming fields.
    """
    if trace and not settings.trace_limit:
        settings = dataclasses.replace(settings, trace_limit=TRACE_LIMIT)
    elif not trace and settings.trace_limit:
        settings = dataclasses.replace(settings, trace_limit=0)
    if explain_step is not None:
        settings = dataclasses.replace(settings, explain_step=explain_step)
    given = params_module.start_values(dict(params or {}), settings.seed)
    if isinstance(init, str):
        if init == STDIN and dataset == STDIN:
            raise setting_error(
                "init",
                _("init -: standard input is read once, and the data already comes from it"),
                _("give the parameters file by name"),
            )
        init = params_module.read_init(init)
    is_lecture = dataset is None
    given_dataset = dataset
    dataset = load_dataset(dataset, delimiter=delimiter, stream=stream,
                           shuffle=settings.shuffle, cache_dir=cache_dir,
                           columns=used_columns(model, loss, target))
    streamed = hasattr(dataset, "chunks")
    try:
        return _fit(model, dataset, settings, target, loss, given, init, predict, is_lecture,
                    on_epoch, on_update, on_start)
    finally:
        if streamed and dataset is not given_dataset:  # the cache of a stream made here
            dataset.close()


def _fit(model, dataset, settings, target, loss, given, init, predict, is_lecture, on_epoch,
         on_update, on_start) -> TrainOutcome:
    streamed = hasattr(dataset, "chunks")
    names = _header(dataset)
    problem = build_problem(model, loss, names, target)
    initial = params_module.initial_values(problem, given, dict(init or {}))
    predictions_in = params_module.prediction_inputs(list(predict or ()), problem.inputs)
    if predict is None and is_lecture and problem.inputs == ("x",):
        predictions_in = [{"x": 4.0}]  # the lecture predicts for x = 4 before and after
    columns = dataset if streamed else {n: dataset.column(n) for n in problem.data_names}
    if settings.dtype == "float32":
        params_module.check_float32({} if streamed else columns, initial, predictions_in,
                                    dataset.path)
    per_epoch = -(-dataset.rows // (dataset.rows if settings.batch_size is None
                                    else min(settings.batch_size, dataset.rows)))
    planned = settings.epochs * per_epoch
    if settings.explain_step is not None and settings.explain_step > planned:
        raise setting_error(
            "explain_step",
            _(
                "explain_step {explain_step}: training makes only {planned:,} updates "
                "({epochs:,} epoch(s) of {per_epoch:,})"
            ).format(
                explain_step=settings.explain_step,
                planned=planned,
                epochs=settings.epochs,
                per_epoch=per_epoch,
            ),
            _("pick an update between 1 and {planned:,}").format(planned=planned),
        )
    before = [predict_value(problem, initial, values, settings.dtype) for values in predictions_in]
    outcome = TrainOutcome(problem, dataset, settings, None, predictions_in, before, [], [],
                           0.0, planned, name_warnings(problem, names))
    if on_start is not None:
        on_start(outcome)

    def traced(update: Update) -> None:
        outcome.traced.append(update)
        if on_update is not None:
            on_update(update)

    started = time.perf_counter()
    try:
        result = train(problem, columns, initial, settings, on_epoch, traced)
    except EvaluationError as error:
        bce = _bce_outside(problem, columns, initial, settings.dtype, error)
        if bce is not None:
            raise bce from None
        raise
    outcome.elapsed = time.perf_counter() - started
    outcome.result = result
    outcome.after = [predict_value(problem, result.params, values, settings.dtype)
                     for values in predictions_in]
    losses = [record.loss for record in result.history]
    growing = train_growth_warning(losses, per_epoch, settings.lr)
    if growing is not None:  # also before a divergence: where it began, and what to do
        outcome.warnings.append(growing)
    elif result.divergence is None:  # a divergence is an error of its own, which says so
        outcome.warnings += loss_warnings(losses)
    if result.captured is not None:
        from backtrace_cli.explain.gradient import explain

        outcome.explanation = explain(problem.tape, result.captured.bindings, 1.0,
                                      problem.params, check=True)
    return outcome



def used_columns(model: str, loss: str, target: str) -> Callable[[Sequence[str]], tuple]:
    """The columns training reads, as a function of the data's header: the model's inputs
    and the target. Only they are parsed and checked; the others may hold any text."""
    return lambda names: build_problem(model, loss, tuple(names), target).data_names


def _header(dataset) -> tuple[str, ...]:
    """Every column name of the data's header, also of the columns not read (training reads
    only the model's inputs and the target, so an id or a name column may hold text)."""
    return tuple(getattr(dataset, "header", None) or dataset.columns)


# Rows searched for the y_hat that bce cannot take (the first update failed on one of them).
BCE_SEARCH_ROWS = 100_000


def _bce_outside(problem: Problem, columns, initial, dtype: str, error: EvaluationError):
    """bce's log(y_hat) or log(1 - y_hat) failed: the model's output left (0, 1). Say that,
    with the row and its y_hat, instead of a caret in loss text the user never typed."""
    if problem.loss_name != "bce":
        return None
    loss_start = error.source.rfind("\nloss = ")
    if loss_start < 0 or error.span.start < loss_start:
        return None  # the model itself failed: its own message is the right one
    where = ""
    if isinstance(columns, Mapping):
        rows = len(next(iter(columns.values())))
        for row in range(min(rows, BCE_SEARCH_ROWS)):
            values = {name: float(columns[name][row]) for name in problem.inputs}
            y_hat = predict_value(problem, initial, values, dtype)
            if not 0 < y_hat < 1:
                from backtrace_cli.syntax.parser import format_number

                where = f": data row {row + 1} has y_hat = {format_number(y_hat)}"
                break
    return setting_error(
        "loss",
        _("loss bce needs y_hat in (0, 1), a probability{where}").format(where=where),
        _("end the model in a sigmoid, e.g. sigmoid({model_source})").format(
            model_source=problem.model_source
        ),
    )
