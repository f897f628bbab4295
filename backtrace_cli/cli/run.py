"""``backtrace run SCRIPT.py [ARG]...``: the student's own PyTorch program, on backtrace's torch.

Only what the command needs before the script starts is imported here (no SymPy, no Rich):
the script's own imports are what a user waits for.
"""

from __future__ import annotations

import sys

import click

from backtrace_cli.cli.language import Translated, lang_option
from backtrace_cli.i18n import N_, _

RUN_HELP = N_("""Run SCRIPT with python, `import torch` meaning backtrace's own torch.

The script runs as `python SCRIPT [ARGS]...` would: as __main__, its folder first on
sys.path, sys.argv = [SCRIPT, ARGS...], the same stdin, stdout and stderr. Its output is its
own, never translated. torch, torch.nn, torch.nn.functional, torch.optim and torch.autograd
are backtrace's torch-compatible package (whether or not PyTorch is installed), with
PyTorch's numbers and printing; numpy, matplotlib and the standard library stay real.
Something of PyTorch that backtrace's torch does not have raises NotImplementedError where
the script uses it.

This runs the script's Python code with your rights, exactly as python would: it is not a
sandbox. Run only scripts you would run with python.""")

RUN_EPILOG = N_("""\b
Examples:
  backtrace run lecture04.py
  backtrace run --quiet train.py --epochs 10
  backtrace run --compare lecture05.py
  backtrace run --compare --python ~/venv/bin/python lecture05.py
\b
Every argument after SCRIPT is the script's own (also --help).
SCRIPT may be - to read the script from stdin, as python - does.
\b
Exit codes: the script's own (sys.exit), 1 for an uncaught exception or a
syntax error (printed as Python prints it), 130 when interrupted; 2 when
SCRIPT cannot be read, or, with --compare, when that Python cannot import
PyTorch; with --compare, 1 when the outputs differ.""")

# Only the run's own options stand before SCRIPT; parsing stops at SCRIPT, so everything after
# it goes to the script untouched (also --help). An unknown option before SCRIPT is Click's
# usage error, with its did-you-mean (`--quite`: did you mean --quiet?).
RUN_CONTEXT = {"allow_interspersed_args": False}


class RunCommand(Translated, click.Command):
    """A command with --lang, whose arguments after SCRIPT are passed on untouched."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(lang_option())


def _notice() -> None:
    click.echo(_("backtrace: `import torch` here is backtrace's own torch-compatible module, "
                 "not PyTorch (--quiet hides this line)"), err=True)


@click.command(cls=RunCommand, context_settings=RUN_CONTEXT, help=RUN_HELP, epilog=RUN_EPILOG)
@click.option("--quiet", "-q", is_flag=True,
              help="No notice on stderr that torch is backtrace's own.")
@click.option("--compare", is_flag=True,
              help="Also run SCRIPT with PyTorch and report identical output or the first "
                   "line that differs (exit 1).")
@click.option("--python", "python_path", metavar="PATH", default=None,
              help="The Python that has PyTorch, for --compare (default: this one).")
@click.option("--explain", "explain", metavar="K[,K...]|last", default=None,
              help="After the run, print to stderr the tables of these backward() calls "
                   "(1-based; last is the last one).")
@click.option("--output", "-o", "output", metavar="FILE", default=None,
              help="Write the record of every backward() and the mistakes found: .json, .md "
                   "or .html.")
@click.argument("script", metavar="SCRIPT")
@click.argument("script_args", metavar="[ARGS]...", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, quiet: bool, compare: bool, python_path: str | None,
        explain: str | None, output: str | None, script: str,
        script_args: tuple[str, ...]) -> None:
    if python_path is not None and not compare:
        raise click.UsageError(_("--python names the interpreter for --compare; add --compare"))
    if compare and (explain is not None or output is not None):
        raise click.UsageError(_("--explain and -o record a run of backtrace's torch; they do "
                                 "not combine with --compare"))
    if compare:
        if script == "-":
            raise click.UsageError(_("--compare needs SCRIPT as a file: stdin cannot be read "
                                     "twice"))
        ctx.exit(_compare(script, script_args, python_path or sys.executable))
    wanted = _explained(explain) if explain is not None else None
    if output is not None:
        _check_output(output)
    from backtrace_cli.run.script import run_script

    notice = None if quiet else _notice
    if quiet and wanted is None and output is None:
        ctx.exit(run_script(script, script_args, on_torch_import=notice))
    from backtrace_cli.run.record import Recorder

    recorder = Recorder(keep=bool(wanted) or output is not None)
    recorder.install()
    try:
        code = run_script(script, script_args, on_torch_import=notice)
    finally:
        recorder.remove()
    recorder.finish()
    _after(recorder, quiet, wanted, output, script, code)
    ctx.exit(code)


OUTPUT_SUFFIXES = (".json", ".md", ".html")


def _explained(text: str) -> list:
    """--explain K[,K...]|last as a list of numbers (1-based) and "last"."""
    wanted: list = []
    for part in text.split(","):
        part = part.strip()
        if part == "last":
            wanted.append("last")
        elif part.isdigit() and int(part) >= 1:
            wanted.append(int(part))
        else:
            raise click.BadParameter(
                _("{value} is not a backward() call: give numbers from 1, or last").format(
                    value=repr(part)), param_hint="'--explain'")
    return wanted


def _check_output(path: str) -> None:
    from backtrace_cli.files import check_writable

    if not path.endswith(OUTPUT_SUFFIXES):
        raise click.BadParameter(
            _("{path} must end in .json, .md or .html").format(path=path),
            param_hint="'--output'")
    check_writable(path, "output")


def _after(recorder, quiet: bool, wanted, output, script: str, code: int) -> None:
    """What backtrace says once the script has finished: the mistakes, the asked tables,
    the file."""
    from backtrace_cli.run import messages

    sys.stdout.flush()
    if not quiet or wanted:
        for line in messages.diagnosis_lines(recorder.diagnoses):
            click.echo(line, err=True)
    if recorder.failure is not None and (not quiet or wanted or output is not None):
        click.echo(_("backtrace: the record stopped at backward() {index} ({reason}); the "
                     "script ran as it would under python").format(
                         index=recorder.failure[0] + 1, reason=recorder.failure[1]), err=True)
    if not wanted and output is None:
        return
    from backtrace_cli.formats.registry import render
    from backtrace_cli.report.grad import build
    from backtrace_cli.run import document
    from backtrace_cli.run.explained import explanation

    count = len(recorder.calls)
    for k in wanted or ():
        index = count if k == "last" else k
        if not 1 <= index <= count:
            click.echo(_("--explain {value}: the script made {count} backward() calls").format(
                value=k, count=count), err=True)
            continue
        call = recorder.calls[index - 1]
        click.echo(document.title(call, count), err=True)
        click.echo(render(build(explanation(call)), "table"), err=True, nl=False)
    if output is not None:
        from backtrace_cli.files import write_output

        if output.endswith(".json"):
            text = document.json_text(recorder, script, code)
        elif output.endswith(".md"):
            text = document.markdown_text(recorder, script, code)
        else:
            from backtrace_cli.run.script import read_script

            source = "" if script == "-" else read_script(script).decode("utf-8", "replace")
            text = document.html_text(recorder, script, code, source, wanted or ())
        write_output(output, text.encode("utf-8"), "output")


def _compare(script: str, script_args: tuple[str, ...], python: str) -> int:
    from backtrace_cli.errors import TorchUnavailable
    from backtrace_cli.run.compare import compare
    from backtrace_cli.run.script import read_script

    read_script(script)  # a missing script is refused before any process starts
    stdin = b"" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer.read()
    try:
        result = compare(script, script_args, python, stdin)
    except TorchUnavailable as error:
        hint = _("--compare needs PyTorch: install it for that interpreter, or name another "
                 "with --python PATH")
        raise TorchUnavailable(error.message, hint) from None
    sys.stdout.buffer.write(result.ours.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(result.ours.stderr)
    sys.stderr.flush()
    difference = result.difference
    if difference is None:
        click.echo(_("compare: identical output with PyTorch {version} ({python})").format(
            version=result.torch_version, python=python), err=True)
        return 0
    absent = _("(no line)")
    if difference.what == "stdout":
        heading = _("compare: stdout differs from PyTorch {version} first at line {line}:")
    elif difference.what == "exit code":
        heading = _("compare: same stdout, but the exit code differs from PyTorch {version}:")
    else:
        heading = _("compare: same stdout, but the error differs from PyTorch {version}:")
    click.echo(heading.format(version=result.torch_version, line=difference.line), err=True)
    click.echo("  backtrace: " + (absent if difference.ours is None else difference.ours),
               err=True)
    click.echo("  PyTorch:   " + (absent if difference.theirs is None else difference.theirs),
               err=True)
    return 1
