"""Run a user's script as ``python SCRIPT.py ARG...`` would, in this process.

Modelled on coverage.py's ``PyRunner`` (``coverage/execfile.py``): the file is compiled with
its real (absolute) file name, so tracebacks and warnings show the script's own lines, and
executed as a fresh ``__main__`` module with ``sys.argv = [SCRIPT.py, ARG...]`` and the
script's folder first on ``sys.path``. stdin, stdout and stderr are the process's own.
``SystemExit`` codes are kept; an uncaught exception is printed as Python prints it, without
backtrace's frames, and gives exit code 1 (130 for Ctrl-C). Everything changed for the run
(``sys.argv``, ``sys.path[0]``, ``__main__``, ``sys.excepthook``, the torch import hook) is
put back afterwards, so a caller can run several scripts in one process.

Why running the user's code here is intended: ``backtrace run`` exists to execute the
student's own PyTorch program, which the user names on the command line and could run with
``python`` just as well; it gets no more rights than that. It is NOT a sandbox: the script can
do anything the user can. Nothing else in backtrace executes Python text: the expressions the
other commands take are parsed, never evaluated.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from importlib.machinery import BuiltinImporter, SourceFileLoader

from backtrace_cli.errors import ScriptError
from backtrace_cli.i18n import _
from backtrace_cli.run.hook import torch_imports
from backtrace_cli.run.tracebacks import print_uncaught

EXIT_UNCAUGHT = 1  # Python's exit code for an uncaught exception (and a SyntaxError)
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, what a shell reports for `python` killed so


STDIN = "-"  # `backtrace run -` reads the script from stdin, as `python -` does


def read_script(path: str) -> bytes:
    """The bytes of the script at ``path`` (``-``: stdin), or a ScriptError that says why not."""
    if path == STDIN:
        return sys.stdin.buffer.read()
    if os.path.isdir(path):
        raise ScriptError(_("the script {path} is a directory: name the .py file to run")
                          .format(path=path))
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        raise ScriptError(_("the script {path} does not exist").format(path=path)) from None
    except PermissionError:
        raise ScriptError(_("the script {path} cannot be read: permission denied")
                          .format(path=path)) from None
    except OSError as error:
        raise ScriptError(_("the script {path} cannot be read: {reason}").format(
            path=path, reason=error.strerror or str(error))) from None


# PEP 263's coding declaration, on the first or second line.
CODING_LINE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def compile_script(source: bytes, filename: str) -> types.CodeType:
    """The script's code object, as Python compiles a main script: from bytes (so a PEP 263
    coding line is honoured), with no compiler flags inherited from backtrace."""
    _check_utf8(source, filename)
    if b"\0" in source:  # Python's tokenizer names the line; compile() would not
        at = source.index(b"\0")
        start = source.rfind(b"\n", 0, at) + 1
        raise SyntaxError("source code cannot contain null bytes", (
            filename, source.count(b"\n", 0, at) + 1, None,
            source[start:at].decode("utf-8", "replace")))
    return compile(source, filename, "exec", dont_inherit=True)


def _check_utf8(source: bytes, filename: str) -> None:
    """Python's own SyntaxError for a file that is not UTF-8 and declares no encoding (it
    reads files with its tokenizer, whose message differs from ``compile``'s)."""
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as error:
        if any(CODING_LINE.match(line) for line in source.splitlines()[:2]):
            return  # declared: compile decodes it (and reports a wrong declaration itself)
        line = source.count(b"\n", 0, error.start) + 1
        raise SyntaxError(
            f"Non-UTF-8 code starting with '\\x{source[error.start]:02x}' in file {filename} "
            f"on line {line}, but no encoding declared; see https://peps.python.org/pep-0263/ "
            "for details") from None


def run_script(path: str, args: Sequence[str] = (), *,
               on_torch_import: Callable[[], None] | None = None) -> int:
    """Run the script at ``path`` with ``args``; return the exit code ``python`` would give.

    Raises ScriptError (before anything runs) when the file cannot be read. The script's
    output, its warnings and its traceback go to the process's stdout and stderr as they
    would under ``python``. ``on_torch_import`` is called when the script first imports torch.
    """
    source = read_script(path)
    # what Python names a main script's code (its absolute path since 3.9)
    filename = "<stdin>" if path == STDIN else os.path.abspath(path)
    try:
        code = compile_script(source, filename)
    except SyntaxError as error:
        print_uncaught(error)
        return EXIT_UNCAUGHT
    # How deep a recursion can go from where the script will run, measured at the same depth
    # of the stack (from this frame, through exec) as the script's own module.
    probe: dict = {}
    exec(DEPTH_PROBE, probe)  # our own constant code (below), never the user's text
    with _as_main(path, filename, args) as main_module, torch_imports(on_torch_import), \
            _recursion_as_in_python(probe["reached"]):
        try:
            exec(code, main_module.__dict__)  # the user's own script, as `python` runs it
        except SystemExit as exit_request:
            return exit_code_of(exit_request)
        except KeyboardInterrupt as error:
            print_uncaught(error)
            return EXIT_INTERRUPTED
        except BaseException as error:  # noqa: B036 - as Python does with any uncaught one
            print_uncaught(error)
            return EXIT_UNCAUGHT
    return 0


def exit_code_of(exit_request: SystemExit) -> int:
    """The exit code Python gives for ``sys.exit(code)``: None is 0, an integer itself, and
    anything else is printed to stderr and gives 1."""
    code = exit_request.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    print(code, file=sys.stderr)
    return 1


# Under ``python``, a recursion started by the script's module reaches this depth below the
# recursion limit (CPython 3.11: the module frame and one more). Checked against ``python``
# itself by tests/test_run.py.
PYTHON_MAIN_HEADROOM = 2
DEPTH_PROBE = compile(
    "def down(n):\n"
    "    try:\n"
    "        return down(n + 1)\n"
    "    except RecursionError:\n"
    "        return n\n"
    "reached = down(0)\n", "<backtrace depth probe>", "exec")


@contextlib.contextmanager
def _recursion_as_in_python(reached: int) -> Iterator[None]:
    """The script gets as much recursion depth as under ``python``: the limit is raised by
    what backtrace's (and Click's) frames below it take, so a runaway recursion fails after
    the same number of calls, with the same traceback."""
    limit = sys.getrecursionlimit()
    taken = limit - PYTHON_MAIN_HEADROOM - reached
    if taken > 0:
        sys.setrecursionlimit(limit + taken)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@contextlib.contextmanager
def _as_main(path: str, filename: str, args: Sequence[str]) -> Iterator[types.ModuleType]:
    """A fresh ``__main__`` for the script, with ``sys.argv`` and ``sys.path[0]`` as
    ``python SCRIPT.py ARG...`` sets them; everything is restored on the way out."""
    module = types.ModuleType("__main__")
    module.__dict__.update({
        "__file__": filename,
        "__cached__": None,
        "__loader__": (BuiltinImporter if path == STDIN
                       else SourceFileLoader("__main__", filename)),
        "__builtins__": builtins,
        "__annotations__": {},
    })
    saved_main = sys.modules.get("__main__")
    saved_argv = sys.argv
    saved_path = list(sys.path)
    saved_hook = sys.excepthook
    # Python puts the script's folder first, with symbolic links resolved ('' for stdin).
    folder = "" if path == STDIN else os.path.dirname(os.path.realpath(filename))
    sys.modules["__main__"] = module
    sys.argv = [path, *args]
    if sys.path:
        sys.path[0] = folder
    else:
        sys.path.append(folder)
    try:
        yield module
    finally:
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        sys.argv = saved_argv
        sys.path[:] = saved_path
        sys.excepthook = saved_hook
