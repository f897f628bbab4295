"""The command line: thin Click commands over the pure core.

Each command lives in a module of its own under ``cli/``, imported only when it is needed
(``BacktraceGroup.get_command``), so ``backtrace --help`` starts fast. Every
``BacktraceError`` becomes a message on stderr and the contract's exit code in one place
(``BacktraceGroup.invoke``).
"""

from __future__ import annotations

import importlib
import sys

import click

from backtrace_cli import __version__
from backtrace_cli.cli.language import Translated, install_click_catalogue, lang_option
from backtrace_cli.cli.streams import EXIT_CLOSED_PIPE, finish, guarded
from backtrace_cli.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, BacktraceError, visible
from backtrace_cli.i18n import _
from backtrace_cli.syntax.numbers import shortened

install_click_catalogue()

# name -> module under backtrace_cli.cli that defines a Click command of that name, in the
# order `backtrace --help` lists them: derivatives, pictures, fitting, exercises.
COMMANDS = {name: name for name in ("grad", "jacobian", "hessian", "graph", "simplify",
                                    "train", "minimize", "quiz", "grade", "run")}


class BacktraceGroup(Translated, click.Group):
    """Turns our errors into one line on stderr and the contract's exit code."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(lang_option())

    def main(self, args=None, *rest, **options):
        """The whole command line with stdout and stderr guarded (cli/streams.py): a pipe
        closed by its reader ends it with 141, also in --help; a stdout that cannot be
        written, with one line and exit 2 after every file was written."""
        if not options.get("standalone_mode", True):
            return super().main(args, *rest, **options)
        with guarded() as guard:
            try:
                code = super().main(args, *rest, **options)
            except SystemExit as exit:
                code = exit.code
            code = finish(guard, code)
        sys.exit(code)

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
            if sys.stdout is not None:
                sys.stdout.flush()  # a closed pipe shows up here, not after the process "ended"
            return result
        except BrokenPipeError:
            ctx.exit(EXIT_CLOSED_PIPE)
        except BacktraceError as error:
            report_error(error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo(_("Interrupted."), err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except MemoryError:  # a size no limit foresaw: still one line, never a traceback
            report_error(BacktraceError(_("out of memory: the request needs more memory "
                                          "than this machine gives it"),
                                        _("ask for less (smaller arrays, fewer variables, "
                                          "--wrt, a lower order)")))
            ctx.exit(EXIT_BAD_INPUT)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"backtrace_cli.cli.{COMMANDS[name]}")
        return getattr(module, name)


def report_error(error: BacktraceError) -> None:
    # Messages quote what the user typed; a control character in it must not reach the
    # terminal raw (an escape sequence from a pasted expression could rewrite the screen).
    # A number the user wrote 5,000 digits long is shown by its ends and its length; the
    # expression's own line above a caret is left whole (the caret must stay under it).
    lines = visible(error.render()).split("\n")
    carets = [set(line.strip()) == {"^"} for line in lines[1:]] + [False]
    shown = [line if above_caret else shortened(line)
             for line, above_caret in zip(lines, carets)]
    click.echo(_("Error: {message}").format(message="\n".join(shown)), err=True)


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
