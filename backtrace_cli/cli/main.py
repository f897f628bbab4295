"""The command line: thin Click commands over the pure core.

Each command lives in a module of its own under ``cli/``, imported only when it is needed
(``BacktraceGroup.get_command``), so ``backtrace --help`` starts fast. Every
``BacktraceError`` becomes a message on stderr and the contract's exit code in one place
(``BacktraceGroup.invoke``).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from backtrace_cli import __version__
from backtrace_cli.cli.language import Translated, install_click_catalogue, lang_option
from backtrace_cli.errors import EXIT_INTERRUPTED, BacktraceError, visible
from backtrace_cli.i18n import _

install_click_catalogue()

# A reader that closes the pipe early (`backtrace train --trace | head -2`) ends the run
# quietly, as `cat` does: no traceback, no "Error" line, and the exit status a shell reports
# for `cat` killed by SIGPIPE, 128 + 13 = 141. Not 0, so `set -o pipefail` can still tell that
# the output was cut short; not 1 or 2, which the contract gives to untrusted results and bad
# input.
EXIT_CLOSED_PIPE = 141

# name -> module under backtrace_cli.cli that defines a Click command of that name, in the
# order `backtrace --help` lists them: derivatives, pictures, fitting, exercises.
COMMANDS = {name: name for name in ("grad", "jacobian", "hessian", "graph", "simplify",
                                    "train", "minimize", "quiz", "grade", "run")}


class BacktraceGroup(Translated, click.Group):
    """Turns our errors into one line on stderr and the contract's exit code."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(lang_option())

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows up here, not after the process "ended"
            return result
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(EXIT_CLOSED_PIPE)
        except BacktraceError as error:
            report_error(error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo(_("Interrupted."), err=True)
            ctx.exit(EXIT_INTERRUPTED)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"backtrace_cli.cli.{COMMANDS[name]}")
        return getattr(module, name)


def _silence_stdout() -> None:
    """Point stdout at the null device, so the flush at exit does not meet the closed pipe
    again (Python would print "Exception ignored ... BrokenPipeError" and exit 120)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (a test runner)
        pass


def report_error(error: BacktraceError) -> None:
    # Messages quote what the user typed; a control character in it must not reach the
    # terminal raw (an escape sequence from a pasted expression could rewrite the screen).
    click.echo(_("Error: {message}").format(message=visible(error.render())), err=True)


@click.group(cls=BacktraceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="backtrace")
def main() -> None:
    """See reverse-mode automatic differentiation work on your own expression.

    \b
    Examples:
      backtrace grad "x*w" --x 2 --w 3 --dz 5
      backtrace grad "y_hat = x*w; r = y_hat - y; loss = r**2" x=1 y=2 w=1
      backtrace train
      backtrace simplify "W2 @ (W1 @ x + b1) + b2" W1='[[1, 2], [3, 4]]' ...
      backtrace jacobian "sigmoid(W @ x)" W='[[1, 2], [3, 4]]' x='[1, -1]'
    """


if __name__ == "__main__":  # pragma: no cover
    main()
