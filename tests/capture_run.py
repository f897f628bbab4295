"""Capture what real PyTorch prints for the scripts of tests/data/run/ (for test_run_scripts.py).

    python tests/capture_run.py [--python PATH] [NAME.py ...]

runs each script as ``python NAME.py ARG...`` from the data folder, with the arguments and
stdin of ``CASES``, and writes ``captured/NAME.stdout``, ``NAME.stderr`` and ``NAME.exit``.
The interpreter must import PyTorch (2.13.0: ``EXPECTED_TORCH``). Python 3.9+ names a main
script by its absolute path in tracebacks and warnings, and PyTorch's own files by where it is
installed: both are replaced with placeholders (``normalise``) so the files hold no machine's
paths.

``capture_forked`` captures the same way in one process that imports PyTorch once and forks a
child per script (PyTorch's import takes seconds): the test that checks the stored captures are
current (``test_run_scripts.test_the_captures_are_current``) uses it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "run"
CAPTURED = DATA / "captured"
EXPECTED_TORCH = "2.13.0"
TORCH_FOLDER = "<torch>"  # stands for the folder PyTorch is installed in
# Arguments and stdin of the scripts that take them.
CASES = {
    "script_args.py": {"args": ["a", "-h", "--lang", "zh", "--fail"], "stdin": "1.5 2.5\n3\n"},
    "sgd_momentum.py": {"args": ["8"]},
}
# Scripts whose printed numbers go through exp, log, sigmoid or tanh: PyTorch's vectorised
# kernels are not correctly rounded, so their last bit may differ from backtrace's (see
# data/run/README.md); the tests compare their numbers to 1e-6 relative.
TRANSCENDENTAL = ("lecture06.py", "lecture06_size_average.py", "grad_fn_names.py")


def scripts() -> list[str]:
    return sorted(path.name for path in DATA.glob("*.py"))


def normalise(text: str, torch_folder: str | None) -> str:
    """``text`` without this machine's paths: the data folder goes, PyTorch's becomes
    ``<torch>``."""
    text = text.replace(str(DATA) + os.sep, "")
    if torch_folder:
        text = text.replace(torch_folder, TORCH_FOLDER)
    return text


def torch_folder_of(python: str) -> str:
    """The folder of the ``torch`` package that ``python`` imports."""
    probe = subprocess.run(
        [python, "-c", "import os, torch; print(os.path.dirname(torch.__file__), "
                       "torch.__version__)"], capture_output=True, text=True, check=True)
    folder, version = probe.stdout.split()
    if version.split("+")[0] != EXPECTED_TORCH:
        raise SystemExit(f"{python} has PyTorch {version}; the captures are of {EXPECTED_TORCH}")
    return folder


def run_with(command: list[str], name: str) -> tuple[bytes, bytes, int]:
    """Run ``COMMAND NAME ARG...`` from the data folder; its stdout, stderr and exit code."""
    case = CASES.get(name, {})
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run([*command, name, *case.get("args", [])], cwd=DATA, env=env,
                          input=case.get("stdin", "").encode(), capture_output=True)
    return done.stdout, done.stderr, done.returncode


def capture(python: str, name: str, torch_folder: str) -> dict[str, bytes]:
    """The three files of one script's capture under PyTorch, normalised."""
    stdout, stderr, code = run_with([python], name)
    return {
        "stdout": normalise(stdout.decode(), torch_folder).encode(),
        "stderr": normalise(stderr.decode(), torch_folder).encode(),
        "exit": f"{code}\n".encode(),
    }


def capture_forked(python: str, names: list[str], folder: Path) -> None:
    """Write the captures of ``names`` into ``folder`` like ``main``, from one ``python``
    process that imports PyTorch once and forks a child per script (``_driver``)."""
    torch_folder = torch_folder_of(python)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONIOENCODING"] = "utf-8"
    subprocess.run([python, __file__, "--driver", str(folder), *names], env=env, check=True,
                   stdin=subprocess.DEVNULL)
    for path in sorted(folder.iterdir()):
        if path.suffix in (".stdout", ".stderr"):
            path.write_bytes(normalise(path.read_bytes().decode(), torch_folder).encode())


def _driver(folder: Path, names: list[str]) -> None:
    """Inside the Python that has PyTorch: run each script in a forked child as ``python
    NAME.py ARG...`` runs it (a fresh ``__main__``, the absolute file name, ``sys.argv``,
    ``sys.path[0]``, stdin and the standard streams on files, Python's handling of an uncaught
    exception and of ``SystemExit``), and write its three files into ``folder``."""
    import builtins
    import tempfile
    import traceback
    import types

    import torch  # noqa: F401 - imported once, before the forks

    os.chdir(DATA)
    for name in names:
        case = CASES.get(name, {})
        stem = folder / Path(name).stem
        with tempfile.TemporaryFile() as stdin:
            stdin.write(case.get("stdin", "").encode())
            stdin.seek(0)
            sys.stdout.flush()
            sys.stderr.flush()
            child = os.fork()
            if child == 0:  # the child: never returns
                code = 1
                try:
                    with open(f"{stem}.stdout", "wb") as out, open(f"{stem}.stderr", "wb") as err:
                        os.dup2(stdin.fileno(), 0)
                        os.dup2(out.fileno(), 1)
                        os.dup2(err.fileno(), 2)
                        code = _run_as_main(DATA / name, [name, *case.get("args", [])],
                                            builtins, types)
                except BaseException:  # noqa: B036 - the driver itself failed: say so
                    traceback.print_exc()
                finally:
                    os._exit(code)
            _, status = os.waitpid(child, 0)
        (folder / f"{Path(name).stem}.exit").write_text(f"{os.waitstatus_to_exitcode(status)}\n")


def _run_as_main(path: Path, argv: list[str], builtins, types) -> int:
    source = path.read_bytes()
    filename = str(path)
    main_module = types.ModuleType("__main__")
    main_module.__dict__.update({"__file__": filename, "__cached__": None,
                                 "__builtins__": builtins, "__annotations__": {}})
    sys.modules["__main__"] = main_module
    sys.argv = argv
    sys.path[0] = str(path.parent)
    code = 0
    try:
        exec(compile(source, filename, "exec", dont_inherit=True), main_module.__dict__)
    except SystemExit as exit_request:
        if exit_request.code is None:
            code = 0
        elif isinstance(exit_request.code, int):
            code = exit_request.code
        else:
            print(exit_request.code, file=sys.stderr)
            code = 1
    except BaseException as error:  # noqa: B036 - as Python does with an uncaught one
        error.__traceback__ = error.__traceback__.tb_next  # this frame, which Python has not
        sys.excepthook(type(error), error, error.__traceback__)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def main() -> None:
    if sys.argv[1:2] == ["--driver"]:
        _driver(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="a Python that has PyTorch")
    parser.add_argument("names", nargs="*", help="scripts to capture (default: all)")
    options = parser.parse_args()
    folder = torch_folder_of(options.python)
    CAPTURED.mkdir(exist_ok=True)
    for name in options.names or scripts():
        for suffix, data in capture(options.python, name, folder).items():
            (CAPTURED / f"{Path(name).stem}.{suffix}").write_bytes(data)
        print("captured", name)


if __name__ == "__main__":
    main()
