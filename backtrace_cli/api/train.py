"""``fit()``: train a model expression on data, as ``backtrace train`` does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.api.result import Rendered
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.errors import BindingError, DataError, UsageError, did_you_mean
from backtrace_cli.i18n import _
from backtrace_cli.report.model import Report


@dataclass(frozen=True, eq=False)
class TrainResult(Rendered):
    """What ``fit()`` found. ``to_dict()`` is exactly the document ``backtrace train
    --format json`` prints; ``render(format)`` the text of any registered format."""

    outcome: Any  # train.run.TrainOutcome
    report: Report

    @property
    def params(self) -> dict[str, Any]:
        """The final parameters: floats, or nested lists for arrays."""
        return {name: plain(value) for name, value in self.outcome.result.params.items()}

    @property
    def initial(self) -> dict[str, Any]:
        return {name: plain(value) for name, value in self.outcome.result.initial.items()}

    @property
    def losses(self) -> list[float]:
        """The mean loss of every finished epoch."""
        return [record.loss for record in self.outcome.result.history]

    @property
    def diverged(self) -> bool:
        """True when a loss or a parameter stopped being finite (the CLI exits 1)."""
        return self.outcome.result.divergence is not None

    @property
    def warnings(self) -> list[str]:
        return list(self.outcome.warnings)

    def predict(self, value: Any = None, **inputs: Any) -> float:
        """y_hat for an input after training: ``predict(4)`` for a model of one input, else
        ``predict(x1=1, x2=2)``."""
        from backtrace_cli.train.params import prediction_inputs
        from backtrace_cli.train.problem import predict

        given = [value if value is not None else inputs]
        outcome = self.outcome
        (values,) = prediction_inputs(given, outcome.problem.inputs)
        return plain(predict(outcome.problem, outcome.result.params, values,
                              outcome.settings.dtype))

    def __repr__(self) -> str:
        final = f", loss={self.losses[-1]!r}" if self.losses else ""
        return f"TrainResult(params={self.params!r}{final})"


def dataset_of(data: Any, columns=None):
    """A dataset from a CSV path, None (the lecture's data), a mapping of column name to
    values, or a pandas-like table (``.columns`` and ``table[name]``). ``columns`` chooses
    the columns of a mapping or table that are read, as in ``data.reader.load_csv`` (a
    function of the names): the others may hold anything (an id, a name, a date)."""
    if data is None or isinstance(data, str):
        return data  # train.run.fit reads paths ('-': stdin) and the lecture's data itself
    if not isinstance(data, Mapping) and hasattr(data, "columns"):
        data = {str(name): data[name] for name in data.columns}
    if not isinstance(data, Mapping):
        raise DataError(_(
            "data must be a CSV path, a mapping of column names to values, or a table with "
            "columns (e.g. a pandas DataFrame)"), path="<data>")
    import numpy

    from backtrace_cli.api.values import as_number
    from backtrace_cli.data.reader import Dataset

    if not data:
        raise DataError(_("the data has no columns"), path="<data>")
    for name in data:
        if not isinstance(name, str):
            raise DataError(_(
                "the column name {name!r} is not a string").format(name=name), path="<data>")
    wanted = columns(tuple(data)) if callable(columns) else columns
    columns, rows = [], None
    for name, values in data.items():
        unused = wanted is not None and name not in wanted
        if unused and not hasattr(values, "__len__"):
            continue
        if not unused:
            values = list(values.tolist() if hasattr(values, "tolist") else values)
        if rows is not None and len(values) != rows:
            raise DataError(
                _("column '{name}' has {count} values where the first column has {rows}").format(
                    name=name, count=len(values), rows=rows
                ),
                path="<data>",
                hint=_("every column needs one value per row"),
            )
        rows = len(values)
        if unused:
            continue
        checked = []
        for row, value in enumerate(values):
            try:
                checked.append(as_number(value, f"column '{name}', data row {row + 1}"))
            except BindingError as error:  # said where, as for a CSV cell
                raise DataError(error.message, path="<data>", hint=error.hint) from None
        columns.append(checked)
    if not rows:
        raise DataError(_("the data has no rows"), path="<data>")
    read = tuple(name for name in data if wanted is None or name in wanted)
    return Dataset("<data>", read, numpy.array(columns, dtype=numpy.float64).T, tuple(data))


def _settings(options: Mapping[str, Any]):
    import dataclasses

    from backtrace_cli.train.settings import Settings, parse_batch_size

    known = [f.name for f in dataclasses.fields(Settings)]
    for name in options:
        if name not in known:
            raise UsageError(_("fit() has no setting '{name}'").format(name=name),
                             did_you_mean(name, known) or f"the settings: {', '.join(known)}")
    options = dict(options)
    if isinstance(options.get("batch_size"), str):
        options["batch_size"] = parse_batch_size(options["batch_size"])
    return Settings(**options)


def fit(model: str = "x*w", data: Any = None, *, target: str = "y", loss: str = "mse",
        params: Mapping[str, Any] | None = None, init: Mapping[str, Any] | str | None = None,
        predict: Sequence[Any] | None = None, trace: bool = False,
        explain_step: int | None = None, **settings: Any) -> TrainResult:
    """Fit ``model`` to ``data`` with the engine ``backtrace grad`` explains.

    >>> fit("x*w", {"x": [1, 2, 3], "y": [2, 4, 6]}).params
    {'w': 1.9999999999999236}

    ``data``: a CSV path, None for the lecture's data, a mapping of columns, or a pandas-like
    table. ``settings`` are those of ``train.settings.Settings``: ``lr`` (0.01), ``epochs``
    (100), ``batch_size`` (1, a number, or "full"), ``optimizer`` ("sgd", "momentum",
    "adam"), ``momentum``, ``beta1``, ``beta2``, ``eps``, ``shuffle``, ``seed``, ``dtype``
    ("float64" or "float32"). Each is validated (NaN, inf, out of range) with the words the
    command line prints; bad input raises ``BacktraceError``. A run that diverges is
    returned with ``diverged`` True (the command line exits 1 on it).
    """
    from backtrace_cli.report.train import build, explain_document
    from backtrace_cli.train.run import fit as run_fit
    from backtrace_cli.train.run import used_columns

    outcome = run_fit(model, dataset_of(data, used_columns(model, loss, target)),
                      _settings(settings), target=target, loss=loss,
                      params=params, init=init, predict=predict, trace=trace,
                      explain_step=explain_step)
    return TrainResult(outcome, build(outcome, explain=explain_document(outcome)))
