"""``backtrace minimize``: bindings -> steps of gd, momentum, adam or newton -> tables or JSON."""

from __future__ import annotations

import re
import sys

import click

from backtrace_cli import signals
from backtrace_cli.cli.options import BINDINGS_HELP, EXPRESSION_CONTEXT, BacktraceCommand
from backtrace_cli.cli.streams import emit
from backtrace_cli.errors import DivergedError
from backtrace_cli.formats.registry import names
from backtrace_cli.i18n import _, from_template, translated

MINIMIZE_EPILOG = f"""\b
Examples:
  backtrace minimize "x**4 - 2*x**2" x=2 --method newton --steps 7
  backtrace minimize "100*(x1 - x0**2)**2 + (1 - x0)**2" x0=0 x1=2 --lr 0.001 --steps 10000
  backtrace minimize "(x - 3)**2 + w*w" x=0 w=1 --method adam --lr 0.1 --trace
  backtrace minimize "sum((W @ x - y)**2)" W='[[1, 0], [0, 1]]' x='[1, 2]' y='[3, 4]'
      --wrt W --steps 50 --lr 0.1 --format json
\b
The variables --wrt names are the parameters (default: every variable of EXPR; the
others, such as data, stay at their bindings); each starts at its binding. An element or
a row of an array (W[0,1], W[1]) moves alone. EXPR must be a number (a scalar).
gd is train's sgd (x - lr * dEXPR/dx), momentum and adam are train's
optimizers; newton solves H d = -g with the Hessian from double backprop and takes the
full step (no --lr). The run diverges when a value or a parameter stops being finite.
{BINDINGS_HELP}
Exit codes: 0 ok, 1 diverged or a Newton step that cannot be taken, 2 bad input,
130 interrupted."""

# Core messages name fields; the command line says which option they came from.
FLAGS = {"method": "--method", "lr": "--lr", "steps": "--steps", "momentum": "--momentum",
         "beta1": "--beta1", "beta2": "--beta2", "eps": "--eps",
         "trace_limit": "--trace-limit", "explain_step": "--explain-step", "wrt": "--wrt"}
_METHOD_WORDS = re.compile(r"(?<![\w-])method (gd|momentum|adam|newton)\b")


def _flagged(error):
    """The error with its field (``lr``) written as the option (``--lr``), and "method gd"
    in its words as "--method gd"."""
    from backtrace_cli.cli.options import flagged

    flagged(error, FLAGS)
    error.message = _METHOD_WORDS.sub(r"--method \1", error.message)
    if error.hint:
        error.hint = _METHOD_WORDS.sub(r"--method \1", error.hint)
    return error


@click.command(cls=BacktraceCommand, context_settings=EXPRESSION_CONTEXT, epilog=MINIMIZE_EPILOG)
@click.argument("expr", metavar="EXPR")
@click.argument("bindings", nargs=-1, type=click.UNPROCESSED, metavar="[BINDING]...")
@click.option("--method", type=click.Choice(["gd", "momentum", "adam", "newton"]), default="gd",
              show_default=True, help="gd, momentum and adam are train's update rules; newton "
                                      "solves H d = -g.")
@click.option("--lr", type=float, default=None,
              help="Learning rate (default 0.01; newton takes the full step and has none).")
@click.option("--steps", default=100, show_default=True, type=int, help="Steps to take.")
@click.option("--momentum", default=0.9, show_default=True, type=float,
              help="Momentum factor for --method momentum.")
@click.option("--beta1", default=0.9, show_default=True, type=float, help="Adam's beta1.")
@click.option("--beta2", default=0.999, show_default=True, type=float, help="Adam's beta2.")
@click.option("--eps", default=1e-8, show_default=True, type=float, help="Adam's epsilon.")
@click.option("--trace", is_flag=True, help="Print every step's gradient and update.")
@click.option("--trace-limit", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Stop tracing after this many steps.")
@click.option("--explain-step", type=click.IntRange(min=1), metavar="K",
              help="Show grad's forward, backward and chain-rule tables for step K.")
@click.option("--wrt", metavar="A,B", help="Optimise these variables only (default: every "
              "variable; W[0,1] an element, W[1] a row); the others are held fixed.")
@click.option("--format", "output_format", type=click.Choice(names("minimize")),
              default="table", show_default=True, help="Output for people or scripts.")
def minimize(expr, bindings, method, lr, steps, momentum, beta1, beta2, eps, trace,
             trace_limit, explain_step, wrt, output_format) -> None:
    """Minimise EXPR from its bindings: gradient descent, momentum, Adam or Newton."""
    from backtrace_cli.errors import BacktraceError

    try:
        _minimize(expr, bindings, method, lr, steps, momentum, beta1, beta2, eps, trace,
                  trace_limit, explain_step, wrt, output_format)
    except BacktraceError as error:
        raise _flagged(error) from None


def _minimize(expr, bindings, method, lr, steps, momentum, beta1, beta2, eps, trace,
              trace_limit, explain_step, wrt, output_format) -> None:
    from backtrace_cli.cli.parsing import (
        output_options,
        parse_bindings,
        plain_options,
        read_expression,
        with_digits,
    )
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.formats.registry import render
    from backtrace_cli.report.minimize import build, header_lines, trace_line
    from backtrace_cli.syntax.parser import parse
    from backtrace_cli.train.minimize import MinimizeSettings, run

    source = read_expression(expr)
    start = parse_bindings(bindings, source)
    settings = MinimizeSettings(method=method, lr=lr, steps=steps, momentum=momentum,
                                beta1=beta1, beta2=beta2, eps=eps,
                                trace_limit=trace_limit if trace else 0,
                                explain_step=explain_step, wrt=_wrt(wrt))
    tape = compile_program(parse(source))

    console = None
    if output_format == "table":
        from backtrace_cli.cli.parsing import stdout_console

        console = stdout_console()
    printed = {"header": False}

    def on_start(outcome) -> None:
        printed["outcome"] = outcome

    def on_update(update) -> None:
        # The header just before the first --trace line: stdout stays empty when the input
        # turns out to be bad before the first step.
        if console is None:
            return
        outcome = printed["outcome"]
        if not printed["header"]:
            initial = {name: start[name] for name in outcome.tape.variables}  # all, as bound
            for line in header_lines(outcome, initial):
                console.print(with_digits(line), markup=False, highlight=False)
            console.print()
            printed["header"] = True
        console.print(with_digits(trace_line(outcome, update)), markup=False, highlight=False)

    progress = _progress(output_format)
    arguments = dict(on_start=on_start, on_update=on_update if trace else None)
    if progress is not None:
        with progress:
            task = progress.add_task("minimizing", total=steps, value=float("nan"))

            def on_step(point) -> None:
                progress.update(task, advance=1, value=point.value)

            outcome = run(tape, start, settings, on_step=on_step, **arguments)
    else:
        outcome = run(tape, start, settings, **arguments)
    result = outcome.result

    report = build(outcome, live=printed["header"])
    options = output_options() if output_format == "table" else plain_options()
    emit(render(report, output_format, options), output_format)
    for warning in outcome.warnings:
        from backtrace_cli.train.advice import GROWTH_TEMPLATES

        click.echo(_("Warning: {warning}").format(
            warning=from_template(warning, GROWTH_TEMPLATES)), err=True)
    if output_format == "table" and sys.stderr.isatty():
        elapsed = outcome.elapsed
        rate = result.steps / elapsed if elapsed > 0 else 0.0
        click.echo(_("{steps:,} steps in {elapsed:.3g} s ({rate:,.0f} steps/s)").format(
            steps=result.steps, elapsed=elapsed, rate=rate), err=True)
    # After the report: what was finished is on stdout; the error (exit 1) says where.
    from backtrace_cli.engine.values import to_plain

    last = ", ".join(f"{name}={to_plain(value)!r}" for name, value in result.params.items())
    if result.diverged is not None:
        stop = result.diverged
        raise DivergedError(
            _("minimize diverged at step {step}: {reason}\n  the last finite parameters: "
              "{last}").format(step=stop.step, reason=shown_reason(stop.reason), last=last),
            _("try a smaller --lr") if settings.method != "newton"
            else _("start nearer a minimum, or use --method gd"))
    if result.blocked is not None:
        stop = result.blocked
        raise DivergedError(_("{reason}\n  the parameters then: {last}").format(
                                reason=shown_reason(stop.reason), last=last),
                            _METHOD_WORDS.sub(r"--method \1", translated(stop.hint) or ""))
    if result.interrupted:
        click.echo(_("Interrupted after {steps:,} finished step(s); the results above are "
                     "for those.").format(steps=result.steps), err=True)
        sys.exit(signals.exit_code())


def shown_reason(reason: str) -> str:
    """Why the run stopped (English in the JSON) in the reader's language."""
    from backtrace_cli.engine.sweeps import readable_domain_error
    from backtrace_cli.train.minimize import STOP_TEMPLATES

    shown = from_template(reason, STOP_TEMPLATES)
    return readable_domain_error(reason) if shown == reason else shown


def _wrt(text):
    from backtrace_cli.engine.picks import split_names

    names = split_names(text)
    return None if names is None else tuple(names)


def _progress(output_format: str):
    """A Rich progress bar on stderr, only for people at a terminal (as train's)."""
    if output_format != "table" or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(_("step")), MofNCompleteColumn(), BarColumn(),
        TextColumn(_("value {value}").format(value="{task.fields[value]:.6g}")),
        TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )
