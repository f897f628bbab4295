"""``backtrace train``: options -> a training problem -> the loop -> tables or JSON."""

from __future__ import annotations

import sys

import click

from backtrace_cli import signals
from backtrace_cli.cli.graph import one_value
from backtrace_cli.cli.options import BacktraceCommand
from backtrace_cli.cli.streams import emit
from backtrace_cli.errors import DivergedError, UsageError
from backtrace_cli.formats.registry import names
from backtrace_cli.i18n import _

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


# Core messages name fields; the command line says which option they came from.
FLAGS = {
    "lr": "--lr", "epochs": "--epochs", "batch_size": "--batch-size", "momentum": "--momentum",
    "beta1": "--beta1", "beta2": "--beta2", "eps": "--eps", "seed": "--seed",
    "dtype": "--dtype", "optimizer": "--optimizer", "trace_limit": "--trace-limit",
    "explain_step": "--explain-step", "param": "--param", "init": "--init",
    "predict": "--predict", "stream": "--stream", "shuffle": "--shuffle", "loss": "--loss",
}


def _flagged(error):
    """The error with its field's name (``lr``) written as the option (``--lr``)."""
    from backtrace_cli.cli.options import flagged

    field = getattr(error, "field", None)
    if flagged(error, FLAGS) is error and field in FLAGS:
        if field == "dtype":
            error.message = error.message.replace(": predict ", ": --predict ", 1)
        if field == "stream" and error.message.startswith("shuffle"):
            error.message = "--" + error.message.replace(" stream ", " --stream ", 1)
    return error


def _param_items(items: tuple[str, ...]) -> dict:
    """--param NAME=VALUE: the value a number, nested lists, or a recipe (randn:4x2)."""
    from backtrace_cli.cli.parsing import parse_value
    from backtrace_cli.train.params import is_spec

    given: dict = {}
    for item in items:
        if "=" not in item:
            raise UsageError(_(
                "--param '{item}': write NAME=VALUE, e.g. --param w=0.5").format(item=item))
        name, value = item.split("=", 1)
        name = name.strip()
        if not name:
            raise UsageError(_(
                "--param '{item}': the parameter's name is missing").format(item=item),
                             _("write NAME=VALUE, e.g. --param w=0.5"))
        if name in given:
            raise UsageError(_("--param: the parameter '{name}' is given twice").format(name=name),
                             _("give each parameter one start value"))
        given[name] = value.strip() if is_spec(value) else parse_value(value, f"--param {name}")
    return given


def _predict_items(items: tuple[str, ...]) -> list:
    """--predict 4, or --predict x1=1,x2=2: numbers, or {input: number}."""
    from backtrace_cli.cli.parsing import parse_number

    out: list = []
    for item in items:
        if "=" not in item:
            out.append(parse_number(item, "--predict"))
            continue
        values = {}
        for part in item.split(","):
            if "=" not in part:
                raise UsageError(_(
                    "--predict {item}: write NAME=VALUE pairs separated by ','").format(item=item))
            name, text = part.split("=", 1)
            values[name.strip()] = parse_number(text, f"--predict {name.strip()}")
        out.append(values)
    return out


@click.command(cls=BacktraceCommand, epilog=TRAIN_EPILOG)
@click.argument("csv", required=False, metavar="[CSV]")
@click.option("--model", default="x*w", show_default=True, help="The model expression y_hat.")
@click.option("--target", default="y", show_default=True, help="The label column.")
@click.option("--param", "param_items", multiple=True, metavar="NAME=VALUE",
              help="A parameter's start value: a number, [[nested, lists]], or randn:4x2, "
                   "zeros:4, ones:4 (repeatable; others start at 1.0).")
@click.option("--init", "init_path", metavar="FILE.json", multiple=True,
              callback=one_value, help="Start from saved parameters.")
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
@click.option("--cache-dir", metavar="DIR", default=None,
              help="Where --stream keeps its binary copy of the CSV's columns while training "
                   "(default: the system's temporary folder); removed at the end.")
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
@click.option("--save", "save_path", metavar="FILE.json", multiple=True,
              callback=one_value, help="Write the final parameters.")
@click.option("--plot", "plot_path", metavar="FILE.svg|png", multiple=True,
              callback=one_value, help="Write the loss curve.")
@click.option("--format", "output_format", type=click.Choice(names("train")), default="table",
              show_default=True, help="Output for people or scripts.")
def train(csv, model, target, param_items, init_path, lr, epochs, batch_text, loss, optimizer,
          momentum, beta1, beta2, eps, shuffle, seed, stream, cache_dir, dtype, delimiter,
          predict_items, trace, trace_limit, explain_step, save_path, plot_path,
          output_format) -> None:
    """Fit a model expression to a CSV with gradient descent (without CSV: the lecture)."""
    from backtrace_cli.errors import BacktraceError

    try:
        _train(csv, model, target, param_items, init_path, lr, epochs, batch_text, loss,
               optimizer, momentum, beta1, beta2, eps, shuffle, seed, stream, cache_dir, dtype,
               delimiter, predict_items, trace, trace_limit, explain_step, save_path, plot_path,
               output_format)
    except BacktraceError as error:
        raise _flagged(error) from None


def _train(csv, model, target, param_items, init_path, lr, epochs, batch_text, loss, optimizer,
           momentum, beta1, beta2, eps, shuffle, seed, stream, cache_dir, dtype, delimiter,
           predict_items, trace, trace_limit, explain_step, save_path, plot_path,
           output_format) -> None:
    from backtrace_cli.cli.parsing import plain_options, requested_digits, with_digits
    from backtrace_cli.files import check_writable
    from backtrace_cli.formats.registry import render
    from backtrace_cli.report.train import (
        build,
        explain_document,
        header_lines,
        trace_line,
        trace_stopped_line,
    )
    from backtrace_cli.train.params import saved_document
    from backtrace_cli.train.run import fit
    from backtrace_cli.train.settings import Settings, parse_batch_size

    settings = Settings(
        lr=lr, epochs=epochs, batch_size=parse_batch_size(batch_text), shuffle=shuffle,
        seed=seed, dtype=dtype, optimizer=optimizer, momentum=momentum, beta1=beta1,
        beta2=beta2, eps=eps, trace_limit=trace_limit if trace else 0,
    )
    given = _param_items(param_items)
    predictions = _predict_items(predict_items) if predict_items else None
    # '-' writes that output to stdout; the report then goes to stderr, so that
    # `backtrace train --save - > params.json` holds the parameters alone.
    on_stdout = [flag for flag, path in (("--save", save_path), ("--plot", plot_path))
                 if path == "-"]
    if len(on_stdout) > 1:
        raise UsageError(
            _("{value} cannot both write to stdout").format(
                value=" and ".join(f"{flag} -" for flag in on_stdout)
            ),
            _("give one of them a file name"),
        )
    from backtrace_cli.files import refuse_same_files

    refuse_same_files([("CSV", csv, False), ("--init", init_path, False),
                       ("--save", save_path, True), ("--plot", plot_path, True)])
    report_to_stderr = bool(on_stdout)
    # Files that cannot be written are refused before training, not after a long run.
    if save_path and save_path != "-":
        check_writable(save_path, "--save")
    if plot_path:
        from backtrace_cli.formats.plot import check_plot_path

        check_plot_path(plot_path)
        if plot_path != "-":
            check_writable(plot_path, "--plot")
    # A shell passes --delimiter '\t' as backslash-t: read it, and 'tab', as a tab.
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)

    console = None
    if output_format == "table" and report_to_stderr:
        from rich.console import Console

        console = Console(stderr=True, highlight=False)
    elif output_format == "table":
        from backtrace_cli.cli.parsing import stdout_console

        console = stdout_console()
    printed = {"header": False}

    def on_start(outcome) -> None:
        printed["outcome"] = outcome

    def header() -> None:
        # Printed just before the first --trace line: stdout stays empty when the input
        # turns out to be bad before anything was trained.
        if console is not None and not printed["header"]:
            for line in header_lines(printed["outcome"]):
                console.print(with_digits(line), markup=False, highlight=False)
            console.print()
            printed["header"] = True

    def on_update(update) -> None:
        if console is not None:
            header()
            console.print(with_digits(trace_line(printed["outcome"].problem, update, settings)),
                          markup=False, highlight=False)

    progress = _progress(output_format, epochs)
    arguments = dict(target=target, loss=loss, params=given, init=init_path,
                     predict=predictions, trace=trace, explain_step=explain_step,
                     delimiter=delimiter, stream=stream, cache_dir=cache_dir,
                     on_start=on_start, on_update=on_update)
    if progress is not None:
        with progress:
            task = progress.add_task("training", total=epochs, loss=float("nan"))

            def on_epoch(record) -> None:
                progress.update(task, advance=1, loss=record.loss)

            outcome = fit(model, csv, settings, on_epoch=on_epoch, **arguments)
    else:
        outcome = fit(model, csv, settings, **arguments)
    result = outcome.result

    if console is not None and printed["header"]:
        stopped = trace_stopped_line(outcome)
        if stopped:
            console.print(stopped, markup=False, highlight=False)
    # The files are written after the report is on stdout: a file that cannot be written
    # must not discard a finished run (the error, exit 2, comes after the report).
    failures = []
    explain = explain_document(outcome) if output_format != "table" else None
    report = build(outcome, live=printed["header"], explain=explain)
    for warning in outcome.warnings:
        from backtrace_cli.i18n import from_template
        from backtrace_cli.train.advice import GROWTH_TEMPLATES

        click.echo(_("Warning: {warning}").format(
            warning=from_template(warning, GROWTH_TEMPLATES)), err=True)
    if console is not None:
        from backtrace_cli.formats.registry import Options

        emit(render(report, "table", Options(width=console.width, digits=requested_digits())),
             "table", report_to_stderr)
        if outcome.explanation is not None:
            _explain(outcome, console)
    else:
        emit(render(report, output_format, plain_options()), output_format, report_to_stderr)
    if save_path:
        failures += _write(save_path, saved_document(model, loss, dtype, result.params),
                           "--save")
    if plot_path and not result.history:
        # Diverged or interrupted in the first epoch: say so, and still report the run.
        click.echo(_("Note: --plot {path}: no finished epoch to plot; nothing written").format(
            path=plot_path), err=True)
    elif plot_path:
        from backtrace_cli.formats.plot import plot_bytes

        data = plot_bytes(plot_path, [record.loss for record in result.history],
                          f"loss of {model} ({loss}), lr {lr:g}")
        failures += _write(plot_path, data, "--plot", binary=not data.startswith(b"<"))
    if output_format == "table" and sys.stderr.isatty():
        elapsed = outcome.elapsed
        rate = result.rows * len(result.history) / elapsed if elapsed > 0 else 0.0
        click.echo(_("{updates:,} updates in {elapsed:.3g} s ({rate:,.0f} rows/s)").format(
            updates=result.updates, elapsed=elapsed, rate=rate), err=True)
    if failures:
        raise failures[0]
    if result.divergence is not None:
        # After the report: what was finished is on stdout; the error (exit 1) says where.
        from backtrace_cli.engine.sweeps import readable_domain_error
        from backtrace_cli.engine.values import to_plain

        d = result.divergence
        raise DivergedError(
            _("training diverged at epoch {epoch}, update {update} (data row {row}): "
              "{reason}\n  the last finite parameters: ").format(
                epoch=d.epoch, update=d.update, row=d.row,
                reason=readable_domain_error(d.reason))
            + ", ".join(f"{k}={to_plain(v)!r}" for k, v in result.params.items()),
            _("try a smaller --lr"),
        )
    if result.interrupted:
        click.echo(
            _("Interrupted after {count} finished epoch(s); the results above are for "
              "those.").format(count=len(result.history)),
            err=True,
        )
        sys.exit(signals.exit_code())


def _write(path: str, data, what: str, binary: bool = False) -> list:
    """Write one output file (``-``: stdout); a failure is returned, not raised, so the
    other outputs still happen."""
    from backtrace_cli.errors import OutputError
    from backtrace_cli.files import write_output

    try:
        write_output(path, data if isinstance(data, bytes) else data.encode("utf-8"), what,
                     binary)
    except OutputError as error:
        return [error]
    return []




def _progress(output_format: str, epochs: int):
    """A Rich progress bar on stderr, only for people at a terminal."""
    if output_format != "table" or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(escape(_("epoch"))), MofNCompleteColumn(), BarColumn(),
        TextColumn(escape(_("loss")) + " {task.fields[loss]:.6g}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )


def _explain(outcome, console) -> None:
    from backtrace_cli.formats.table import print_report
    from backtrace_cli.report.grad import build as grad_report
    from backtrace_cli.report.train import update_text

    captured, explanation = outcome.result.captured, outcome.explanation
    console.print()
    note = (_("Update {number} (epoch {epoch}, data row {row}").format(
                number=captured.number, epoch=captured.epoch, row=captured.row)
            + (_(", first of a batch of {rows}; the update uses the batch mean").format(
                rows=captured.batch_rows) if captured.batch_rows > 1 else "")
            + _(") with the parameters before it:"))
    console.print(note, markup=False)
    print_report(grad_report(explanation), console)
    written = update_text(outcome.settings, captured)
    if written:
        console.print()
        console.print(f"The update: {written}", markup=False, highlight=False)
    if explanation.check is not None and explanation.check.interrupted:
        click.echo("Interrupted: the cross-checks of --explain-step were cut short.", err=True)
        sys.exit(signals.exit_code())
