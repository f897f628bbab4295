"""``backtrace train``: options -> a training problem -> the loop -> tables or JSON."""

from __future__ import annotations

import json
import math
import sys
import time

import click

from backtrace_cli.cli.options import BacktraceCommand
from backtrace_cli.errors import EXIT_INTERRUPTED, DivergedError, UsageError

TRAIN_EPILOG = """\b
Examples:
  backtrace train                      # the lecture: x*w on x=1,2,3 / y=2,4,6
  backtrace train --dtype float32      # the course's own float32 digits
  backtrace train samples/lecture.csv --model "w1*x*x + w2*x + b" --predict 4
  backtrace train samples/line.csv --model "w*x + b" --batch-size full --lr 0.05
  backtrace train samples/classify.csv --model "sigmoid(w*x + b)" --loss bce
  backtrace train samples/xor.csv --model "W2 @ sigmoid(W1 @ [x1, x2] + b1) + b2"
      --param W1=randn:4x2 --param b1=zeros:4 --param W2=randn:4 --param b2=0
      --batch-size full --optimizer adam --lr 0.05 --epochs 500
\b
Every name in the model that is not a column of the CSV is a parameter; it starts
at 1.0 unless --param NAME=VALUE or --init FILE.json says otherwise. An array
parameter is a nested list ('[[1, 2], [3, 4]]') or randn:SHAPE, zeros:SHAPE or
ones:SHAPE (SHAPE like 4x2; randn draws from N(0, 1) seeded by --seed).
Exit codes: 0 ok, 1 training diverged, 2 bad input, 130 interrupted."""


def _batch_size(value: str) -> int | None:
    if value.strip().lower() == "full":
        return None
    try:
        size = int(value)
    except ValueError:
        raise UsageError(f"--batch-size: '{value}' is not a whole number or 'full'") from None
    if size < 1:
        raise UsageError(f"--batch-size must be at least 1, not {size}")
    return size


def _positive(value: float, option: str, upper: float | None = None) -> float:
    if not math.isfinite(value) or value <= 0 or (upper is not None and value >= upper):
        bound = f" and below {upper:g}" if upper is not None else ""
        raise UsageError(f"{option} must be a finite number above 0{bound}, not {value:g}")
    return value


# A parameters file holds a name and a number per parameter; reading stops beyond this size,
# so --init /dev/zero (or a mistaken huge file) cannot fill the memory.
INIT_MAX_CHARACTERS = 64 * 1024 * 1024


def _read_init(path: str) -> dict[str, float]:
    from backtrace_cli.files import read_text

    expected = 'expected a JSON file such as {"params": {"w": 0.5}}, as --save writes it'
    text = read_text(path, f"--init {path}", INIT_MAX_CHARACTERS, expected)
    try:
        if len(text) > INIT_MAX_CHARACTERS:
            raise UsageError(
                f"--init {path}: the file is larger than {INIT_MAX_CHARACTERS:,} characters, "
                "too large for a parameters file",
                expected,
            )
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--init {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            'expected {"params": {name: value}}, as --save writes it',
        ) from None
    except RecursionError:  # [[[[...]]]] nested thousands deep
        raise UsageError(
            f"--init {path}: the JSON is nested too deeply to read",
            'expected {"params": {name: value}}, as --save writes it',
        ) from None
    params = document.get("params", document) if isinstance(document, dict) else None
    if not isinstance(params, dict):
        raise UsageError(f"--init {path}: expected an object {{\"params\": {{name: value}}}}")
    out = {}
    for name, value in params.items():
        if isinstance(value, list):  # an array parameter, as --save writes it
            from backtrace_cli.cli.parsing import parse_array
            from backtrace_cli.errors import BindingError

            try:
                out[str(name)] = parse_array(json.dumps(value), f"--init {path}: '{name}'")
            except BindingError as error:
                raise UsageError(error.message) from None
            continue
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)  # an int beyond float's range overflows here
            except OverflowError:
                number = None
        if number is None or not math.isfinite(number):
            raise UsageError(
                f"--init {path}: the value of '{name}' is not a finite number",
                "write a number such as 0.5",
            )
        out[str(name)] = number
    return out


def _parse_params(items: tuple[str, ...], seed: int = 0) -> dict:
    """--param NAME=VALUE: a number, a nested list, or randn:/zeros:/ones:SHAPE. One seeded
    generator draws every randn parameter, in the order the options are given."""
    from backtrace_cli.cli.parsing import parse_value

    params: dict = {}
    generator = None
    for item in items:
        if "=" not in item:
            raise UsageError(f"--param '{item}': write NAME=VALUE, e.g. --param w=0.5")
        name, text = item.split("=", 1)
        name = name.strip()
        if not name:
            raise UsageError(f"--param '{item}': the parameter's name is missing",
                             "write NAME=VALUE, e.g. --param w=0.5")
        if name in params:
            raise UsageError(f"--param: the parameter '{name}' is given twice",
                             "give each parameter one start value")
        kind, _, shape_text = text.strip().partition(":")
        if kind in ("randn", "zeros", "ones"):
            import numpy as np

            shape = _shape(shape_text, f"--param {name}")
            if kind == "randn":
                if generator is None:
                    generator = np.random.default_rng(seed)
                params[name] = generator.standard_normal(shape)
            else:
                params[name] = (np.zeros if kind == "zeros" else np.ones)(shape)
            continue
        params[name] = parse_value(text, f"--param {name}")
    return params


def _shape(text: str, what: str) -> tuple[int, ...]:
    """'4x2' -> (4, 2), '4' -> (4,); sizes from 1 up to the array size limit."""
    from backtrace_cli.limits import MAX_ARRAY_ELEMENTS

    parts = text.strip().lower().split("x")
    if not text.strip() or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise UsageError(f"{what}: '{text}' is not a shape; write sizes such as 4 or 4x2")
    shape = tuple(int(part) for part in parts)
    size = 1
    for n in shape:
        size *= n
    if size > MAX_ARRAY_ELEMENTS.value:
        raise UsageError(f"{what}: {size:,} elements is more than the limit of "
                         f"{MAX_ARRAY_ELEMENTS.value:,}",
                         f"raise it with {MAX_ARRAY_ELEMENTS.env}")
    return shape


def _parse_predictions(items: tuple[str, ...], inputs: tuple[str, ...]) -> list[dict[str, float]]:
    from backtrace_cli.cli.parsing import parse_number
    from backtrace_cli.errors import did_you_mean

    out = []
    for item in items:
        if "=" not in item:
            if len(inputs) != 1:
                raise UsageError(
                    f"--predict {item}: the model reads {len(inputs)} columns "
                    f"({', '.join(inputs)}); write --predict "
                    + ",".join(f"{name}=VALUE" for name in inputs)
                )
            out.append({inputs[0]: parse_number(item, "--predict")})
            continue
        values = {}
        for part in item.split(","):
            if "=" not in part:
                raise UsageError(f"--predict {item}: write NAME=VALUE pairs separated by ','")
            name, text = part.split("=", 1)
            name = name.strip()
            if name not in inputs:
                raise UsageError(
                    f"--predict: '{name}' is not an input of the model "
                    f"(inputs: {', '.join(inputs)})",
                    did_you_mean(name, inputs),
                )
            values[name] = parse_number(text, f"--predict {name}")
        missing = [name for name in inputs if name not in values]
        if missing:
            raise UsageError(f"--predict {item}: no value for {', '.join(missing)}")
        out.append(values)
    return out


# Above this size a CSV is read in chunks on every epoch unless --no-stream says otherwise.
STREAM_ABOVE_BYTES = 512 * 1024 * 1024


def _file_size(path: str) -> int:
    import os

    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # load_csv reports the problem


def _check_float32(columns, initial: dict[str, float], predictions_in: list, path: str) -> None:
    """Every value must fit in float32, or the first operation would see an infinity."""
    import numpy as np

    from backtrace_cli.errors import DataError

    largest = float(np.finfo(np.float32).max)
    given = [(f"the start value of '{name}'", value) for name, value in initial.items()]
    given += [(f"--predict {name}", value)
              for values in predictions_in for name, value in values.items()]
    for what, value in given:
        if float(np.max(np.abs(value))) > largest:
            raise UsageError(
                f"--dtype float32: {what}, {value!r}, does not fit in float32 "
                f"(at most about {largest:.4g} in size)"
            )
    for name, values in columns.items():
        outside = np.flatnonzero(np.abs(values) > largest)
        if outside.size:
            row = int(outside[0])
            raise DataError(
                f"--dtype float32: the value {float(values[row])!r} of column '{name}' "
                f"(data row {row + 1}) does not fit in float32 (at most about {largest:.4g})",
                path=path,
                hint="use --dtype float64, or scale the column",
            )


def _initial_values(problem, given: dict[str, float], init: dict[str, float]) -> dict[str, float]:
    from backtrace_cli.errors import did_you_mean

    for source, values in (("--param", given), ("--init", init)):
        for name in values:
            if name in problem.params:
                continue
            if name in problem.inputs or name == problem.target:
                raise UsageError(
                    f"{source}: '{name}' is a column of the data, not a parameter",
                    "columns are read from the CSV; only parameters take start values",
                )
            raise UsageError(
                f"{source}: the model has no parameter '{name}' "
                f"(its parameters: {', '.join(problem.params)})",
                did_you_mean(name, problem.params),
            )
    return {name: given.get(name, init.get(name, 1.0)) for name in problem.params}


@click.command(cls=BacktraceCommand, epilog=TRAIN_EPILOG)
@click.argument("csv", required=False, metavar="[CSV]")
@click.option("--model", default="x*w", show_default=True, help="The model expression y_hat.")
@click.option("--target", default="y", show_default=True, help="The label column.")
@click.option("--param", "param_items", multiple=True, metavar="NAME=VALUE",
              help="A parameter's start value: a number, [[nested, lists]], or randn:4x2, "
                   "zeros:4, ones:4 (repeatable; others start at 1.0).")
@click.option("--init", "init_path", metavar="FILE.json", help="Start from saved parameters.")
@click.option("--lr", default=0.01, show_default=True, type=float, help="Learning rate.")
@click.option("--epochs", default=100, show_default=True, type=int, help="Passes over the data.")
@click.option("--batch-size", "batch_text", default="1", show_default=True, metavar="N|full",
              help="Rows per update: 1 is per-sample SGD, 'full' is batch gradient descent.")
@click.option("--loss", default="mse", show_default=True, metavar="mse|mae|bce|EXPR",
              help="Per-row loss; EXPR in y_hat and y, e.g. '(y_hat - y)**2'.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd",
              show_default=True, help="Update rule, as torch.optim documents it.")
@click.option("--momentum", default=0.9, show_default=True, type=float,
              help="Momentum factor for --optimizer momentum.")
@click.option("--beta1", default=0.9, show_default=True, type=float, help="Adam's beta1.")
@click.option("--beta2", default=0.999, show_default=True, type=float, help="Adam's beta2.")
@click.option("--eps", default=1e-8, show_default=True, type=float, help="Adam's epsilon.")
@click.option("--shuffle/--no-shuffle", default=False, show_default=True,
              help="Shuffle the rows every epoch (reproducibly, with --seed).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed for --shuffle and for randn: parameters (a whole number >= 0).")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64",
              show_default=True, help="float32 rounds every operation as PyTorch does.")
@click.option("--stream/--no-stream", default=None,
              help="Read the CSV in chunks on every epoch, so memory does not grow with the "
                   "file (default: on for files over 512 MiB). Not with --shuffle.")
@click.option("--delimiter", default=",", show_default=True,
              help="The CSV's field separator ('\\t' or 'tab' for a tab).")
@click.option("--predict", "predict_items", multiple=True, metavar="X",
              help="Predict for this input after training (repeatable; NAME=VALUE,... for "
                   "several inputs).")
@click.option("--trace", is_flag=True, help="Print every update's gradient, as the lecture does.")
@click.option("--trace-limit", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Stop tracing after this many updates.")
@click.option("--explain-step", type=click.IntRange(min=1), metavar="K",
              help="Show grad's forward, backward and chain-rule tables for update K.")
@click.option("--save", "save_path", metavar="FILE.json", help="Write the final parameters.")
@click.option("--plot", "plot_path", metavar="FILE.svg|png", help="Write the loss curve.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def train(csv, model, target, param_items, init_path, lr, epochs, batch_text, loss, optimizer,
          momentum, beta1, beta2, eps, shuffle, seed, stream, dtype, delimiter, predict_items,
          trace, trace_limit, explain_step, save_path, plot_path, output_format) -> None:
    """Fit a model expression to a CSV with gradient descent (without CSV: the lecture)."""
    from backtrace_cli.data import reader as data_module
    from backtrace_cli.train.loop import Settings, build_problem, predict
    from backtrace_cli.train.loop import train as run_training

    _positive(lr, "--lr")
    if not 1 <= epochs <= 10_000_000:
        raise UsageError(f"--epochs must be between 1 and 10,000,000, not {epochs}")
    batch_size = _batch_size(batch_text)
    if not 0 <= momentum < 1:
        raise UsageError(f"--momentum must be at least 0 and below 1, not {momentum:g}")
    for option, value in (("--beta1", beta1), ("--beta2", beta2)):
        if not 0 <= value < 1:
            raise UsageError(f"{option} must be at least 0 and below 1, not {value:g}")
    _positive(eps, "--eps")
    given = _parse_params(param_items, seed)
    init = _read_init(init_path) if init_path else {}
    # Files that cannot be written are refused before training, not after a long run.
    if save_path:
        from backtrace_cli.files import check_writable

        check_writable(save_path, "--save")
    if plot_path:
        from backtrace_cli.files import check_writable
        from backtrace_cli.formats.plot import check_plot_path

        check_plot_path(plot_path)
        check_writable(plot_path, "--plot")

    # A shell passes --delimiter '\t' as backslash-t: read it, and 'tab', as a tab.
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if stream is None:  # automatic above a size where a copy in memory starts to hurt
        stream = csv is not None and _file_size(csv) > STREAM_ABOVE_BYTES
    if stream:
        if csv is None:
            raise UsageError("--stream reads a CSV file; give one (the lecture's data is built in)")
        if shuffle:
            raise UsageError(
                "--shuffle needs all rows in memory, and --stream reads them in chunks",
                "drop --stream (or --shuffle), or shuffle the file's rows beforehand",
            )
        dataset = data_module.CsvStream(csv, delimiter)
    elif csv:
        dataset = data_module.load_csv(csv, delimiter)
    else:
        dataset = data_module.lecture_dataset()
    problem = build_problem(model, loss, dataset.columns, target)
    initial = _initial_values(problem, given, init)
    predictions_in = _parse_predictions(predict_items, problem.inputs)
    if not predict_items and csv is None and problem.inputs == ("x",):
        predictions_in = [{"x": 4.0}]  # the lecture predicts for x = 4 before and after
    settings = Settings(
        lr=lr, epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype,
        optimizer=optimizer, momentum=momentum, beta1=beta1, beta2=beta2, eps=eps,
        trace_limit=trace_limit if trace else 0, explain_step=explain_step,
    )
    columns = dataset if stream else {name: dataset.column(name) for name in problem.data_names}
    if dtype == "float32":
        _check_float32({} if stream else columns, initial, predictions_in, dataset.path)
    rows_per_update = dataset.rows if batch_size is None else min(batch_size, dataset.rows)
    planned_updates = epochs * -(-dataset.rows // rows_per_update)
    if explain_step is not None and explain_step > planned_updates:
        raise UsageError(
            f"--explain-step {explain_step}: training makes only {planned_updates:,} updates "
            f"({epochs:,} epoch(s) of {-(-dataset.rows // rows_per_update):,})",
            f"pick an update between 1 and {planned_updates:,}",
        )
    before = [predict(problem, initial, values, dtype) for values in predictions_in]

    from backtrace_cli.formats.train_text import (
        TrainReport,
        print_header,
        print_report,
        report_document,
        trace_line,
    )

    traced: list = []
    console = None
    if output_format == "table":
        from backtrace_cli.cli.parsing import stdout_console

        console = stdout_console()
    header_printed = False

    def header() -> None:
        # Printed just before the first --trace line, else with the report: stdout stays
        # empty when the input turns out to be bad before anything was trained.
        nonlocal header_printed
        if console is not None and not header_printed:
            print_header(console, problem, dataset, settings, predictions_in, before)
            header_printed = True

    def on_update(update) -> None:
        traced.append(update)
        if console is not None:
            header()
            console.print(trace_line(problem, update), markup=False, highlight=False)

    started = time.perf_counter()
    progress = _progress(output_format, epochs)
    if progress is not None:
        with progress:
            task = progress.add_task("training", total=epochs, loss=float("nan"))

            def on_epoch(record) -> None:
                progress.update(task, advance=1, loss=record.loss)

            result = run_training(problem, columns, initial, settings, on_epoch, on_update)
    else:
        result = run_training(problem, columns, initial, settings, None, on_update)
    elapsed = time.perf_counter() - started
    after = [predict(problem, result.params, values, dtype) for values in predictions_in]

    if console is not None and trace and len(traced) >= trace_limit < planned_updates:
        console.print(
            f"(--trace stopped after {trace_limit:,} of {planned_updates:,} updates; "
            "--trace-limit N shows more)",
            markup=False, highlight=False,
        )
    report = TrainReport(problem, dataset, settings, result, predictions_in, before, after,
                         traced, elapsed)
    if save_path:
        from backtrace_cli.files import write_atomic

        document = {"model": model, "loss": loss, "dtype": dtype,
                    "params": {n: _listed(v) for n, v in result.params.items()}}
        write_atomic(save_path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    if plot_path and not result.history:
        # Diverged or interrupted in the first epoch: say so, and still report the run.
        click.echo(f"Note: --plot {plot_path}: no finished epoch to plot; nothing written",
                   err=True)
    elif plot_path:
        from backtrace_cli.formats.plot import write_plot

        write_plot(plot_path, [record.loss for record in result.history],
                   f"loss of {model} ({loss}), lr {lr:g}")

    if output_format == "json":
        click.echo(json.dumps(report_document(report), indent=2, default=_listed))
    else:
        header()
        print_report(report, console)
        if result.captured is not None:
            _explain(problem, result.captured, console)
    if output_format == "table" and sys.stderr.isatty():
        rate = result.rows * len(result.history) / elapsed if elapsed > 0 else 0.0
        click.echo(f"{result.updates:,} updates in {elapsed:.3g} s ({rate:,.0f} rows/s)", err=True)
    if result.divergence is not None:
        # After the report: what was finished is on stdout; the error (exit 1) says where.
        d = result.divergence
        raise DivergedError(
            f"training diverged at epoch {d.epoch}, update {d.update} (data row {d.row}): "
            f"{d.reason}\n  the last finite parameters: "
            + ", ".join(f"{k}={_listed(v)!r}" for k, v in result.params.items()),
            "try a smaller --lr",
        )
    if result.interrupted:
        click.echo(
            f"Interrupted after {len(result.history)} finished epoch(s); "
            "the results above are for those.",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def _listed(value):
    """An array parameter as nested lists (for JSON); a number as it is."""
    return value.tolist() if hasattr(value, "tolist") and getattr(value, "ndim", 0) else value


def _progress(output_format: str, epochs: int):
    """A Rich progress bar on stderr, only for people at a terminal."""
    if output_format != "table" or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
        TextColumn("loss {task.fields[loss]:.6g}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )


def _explain(problem, captured, console) -> None:
    from backtrace_cli.explain.gradient import explain
    from backtrace_cli.formats.render import print_grad

    console.print()
    note = (f"Update {captured.number} (epoch {captured.epoch}, data row {captured.row}"
            + (f", first of a batch of {captured.batch_rows}; the update uses the batch mean"
               if captured.batch_rows > 1 else "") + ") with the parameters before it:")
    console.print(note, markup=False)
    explanation = explain(problem.tape, captured.bindings, 1.0, problem.params, check=True)
    print_grad(explanation, console)
    if explanation.check is not None and explanation.check.interrupted:
        click.echo("Interrupted: the cross-checks of --explain-step were cut short.", err=True)
        sys.exit(EXIT_INTERRUPTED)

