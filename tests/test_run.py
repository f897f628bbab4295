"""``backtrace run``: the script runs as ``python SCRIPT.py ARG...`` would, ``import torch`` is
backtrace's package only during the run, and errors look as Python prints them.

Where the behaviour is Python's own, the test runs the same script with ``python`` and
compares stdout, stderr and the exit code. The import hook is tested against a small stand-in
package (``faketorch``), so these tests do not depend on backtrace's torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import assert_bad_input

from backtrace_cli.cli.main import main
from backtrace_cli.run import hook, tracebacks
from backtrace_cli.run.script import run_script

ROOT = Path(__file__).resolve().parent.parent


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


def child(command: list[str], cwd: Path, stdin: str = "") -> tuple[str, str, int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          input=stdin)
    return done.stdout, done.stderr, done.returncode


def with_python(folder: Path, name: str, *args: str, stdin: str = ""):
    return child([sys.executable, name, *args], folder, stdin)


def with_backtrace(folder: Path, name: str, *args: str, options=("--quiet",), stdin: str = ""):
    return child([sys.executable, "-m", "backtrace_cli", "run", *options, name, *args], folder,
                 stdin)


# ----------------------------------------------------------------------------- as python runs it
MAIN_FACTS = """
import builtins, os, sys
print(__name__, __doc__, __package__, __spec__, __cached__)
print(__file__ == os.path.abspath(sys.argv[0]), os.path.isabs(__file__))
print(type(__loader__).__name__, __loader__.name, __builtins__ is builtins)
print(sorted(globals()))
print(sys.argv)
print(sys.path[0] == os.path.dirname(os.path.realpath(__file__)))
main = sys.modules["__main__"]
print(main is sys.modules[__name__], main.__dict__ is globals())
import helper
print(helper.where())
print(input())
"""


def test_the_script_runs_as_main_with_its_arguments_folder_and_stdin(tmp_path):
    write(tmp_path, "facts.py", MAIN_FACTS)
    write(tmp_path, "helper.py", "def where():\n    return __name__\n")
    arguments = ("--help", "-q", "--lang", "zh", "x=1", "--", "last")
    expected = with_python(tmp_path, "facts.py", *arguments, stdin="typed\n")
    assert expected[2] == 0, expected[1]
    assert with_backtrace(tmp_path, "facts.py", *arguments, stdin="typed\n") == expected
    # run from another folder, by a relative path
    assert with_backtrace(tmp_path.parent, f"{tmp_path.name}/facts.py", *arguments,
                          stdin="typed\n") == with_python(
        tmp_path.parent, f"{tmp_path.name}/facts.py", *arguments, stdin="typed\n")


ENDINGS = {
    "exit-none": "import sys\nprint('out')\nsys.exit()\n",
    "exit-3": "import sys\nprint('out')\nsys.exit(3)\n",
    "exit-text": "import sys\nprint('out')\nsys.exit('bye: not done')\n",
    "exit-true": "raise SystemExit(True)\n",
    "value-error": """
        def inner(v):
            return int(v)

        def outer():
            return inner("x")

        print("before")
        outer()
        """,
    "chained": """
        try:
            {}["key"]
        except KeyError as error:
            raise ValueError("no key") from error
        """,
    "during-handling": """
        try:
            1 / 0
        except ZeroDivisionError:
            undefined_name
        """,
    "in-imported-module": "import helper\nhelper.where(-1)\n",
    "own-excepthook": """
        import sys
        def hook(kind, value, traceback):
            print("my hook:", kind.__name__, value, file=sys.stderr)
        sys.excepthook = hook
        raise RuntimeError("handled by the script's hook")
        """,
    "broken-excepthook": """
        import sys
        def hook(kind, value, traceback):
            raise TypeError("the hook itself fails")
        sys.excepthook = hook
        raise RuntimeError("original")
        """,
    "warning": """
        import warnings
        warnings.warn("careful")
        warnings.warn("old", DeprecationWarning)
        print(1)
        """,
    "syntax-error": "x = (1,\nprint(x)\n",
    "syntax-error-indent": "def f():\nreturn 1\n",
    "bad-encoding": b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n",
    "not-utf8": b"print('caf\xe9')\n",
    "null-byte": b"print(1)\x00\n",
    "recursion": "def f(n):\n    return f(n + 1)\nf(0)\n",
    "recursion-depth": """
        def down(n):
            try:
                return down(n + 1)
            except RecursionError:
                return n
        print(down(0))
        """,
}
HELPER = """
def where(value):
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value
"""


@pytest.mark.parametrize("name", sorted(ENDINGS))
def test_endings_and_errors_are_pythons(tmp_path, name):
    source = ENDINGS[name]
    script = tmp_path / f"{name}.py"
    if isinstance(source, bytes):
        script.write_bytes(source)
    else:
        write(tmp_path, script.name, source)
    write(tmp_path, "helper.py", HELPER)
    expected = with_python(tmp_path, script.name)
    ours = with_backtrace(tmp_path, script.name)
    assert ours == expected
    assert "backtrace_cli" not in ours[1]


def test_the_script_from_stdin(tmp_path):
    source = "import sys\nprint(sys.argv, repr(sys.path[0]), __file__, __loader__)\n1/0\n"
    expected = with_python(tmp_path, "-", "a", "--help", stdin=source)
    assert expected[2] == 1
    assert with_backtrace(tmp_path, "-", "a", "--help", stdin=source) == expected
    assert_bad_input(runner("run", "--compare", "-"), "stdin cannot be read twice")


def test_ctrl_c_prints_the_traceback_and_exits_130(tmp_path):
    write(tmp_path, "interrupted.py", "print('working')\nraise KeyboardInterrupt\n")
    stdout, stderr, code = with_python(tmp_path, "interrupted.py")
    assert code == -2  # python ends itself with SIGINT: a shell shows 130
    assert with_backtrace(tmp_path, "interrupted.py") == (stdout, stderr, 130)


def test_the_state_of_the_process_is_put_back(tmp_path, capsys):
    script = write(tmp_path, "state.py", """
        import sys
        sys.argv.append("changed")
        sys.path.insert(0, "/nowhere")
        sys.excepthook = print
        print(__name__)
        """)
    before = (list(sys.argv), list(sys.path), sys.modules["__main__"], sys.excepthook,
              list(sys.meta_path))
    assert run_script(str(script), ["a"]) == 0
    assert capsys.readouterr().out == "__main__\n"
    assert (sys.argv, sys.path, sys.modules["__main__"], sys.excepthook, sys.meta_path) == before


# ----------------------------------------------------------------------------- bad input
def runner(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_missing_script(tmp_path):
    assert_bad_input(runner("run", str(tmp_path / "nope.py")),
                     f"Error: the script {tmp_path / 'nope.py'} does not exist")


def test_a_directory(tmp_path):
    assert_bad_input(runner("run", str(tmp_path)), "is a directory: name the .py file to run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_script(tmp_path):
    script = write(tmp_path, "secret.py", "print(1)\n")
    script.chmod(0)
    assert_bad_input(runner("run", str(script)), "cannot be read: permission denied")


def test_an_unknown_option_before_the_script(tmp_path):
    script = write(tmp_path, "ok.py", "print(1)\n")
    assert_bad_input(runner("run", "--bogus", str(script)), "No such option '--bogus'.")
    assert_bad_input(runner("run", "--quite", str(script)),
                     "No such option '--quite'. Did you mean '--quiet'?")


def test_python_without_compare(tmp_path):
    script = write(tmp_path, "ok.py", "print(1)\n")
    assert_bad_input(runner("run", "--python", sys.executable, str(script)),
                     "--python names the interpreter for --compare")


def test_no_script():
    assert_bad_input(runner("run"), "Missing argument 'SCRIPT'")


def test_help_says_it_runs_the_code_and_is_no_sandbox():
    result = runner("run", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "it is not a sandbox" in text
    assert "Exit codes: the script's own (sys.exit), 1 for an uncaught exception" in text
    assert "backtrace run --compare lecture05.py" in text


# ----------------------------------------------------------------------------- import torch
FAKE = {
    "faketorch/__init__.py": """
        from faketorch import nn
        __version__ = "fake"
        def item(values):
            if len(values) != 1:
                raise RuntimeError(f"a Tensor with {len(values)} elements cannot be converted "
                                   "to Scalar")
            return values[0]
        def apply(function, value):
            return function(value)
        def lookup(name):
            try:
                return {}[name]
            except KeyError:
                raise RuntimeError(f"no {name}")
        def lookup_from(name):
            try:
                return {}[name]
            except KeyError as error:
                raise RuntimeError(f"no {name}") from error
        """,
    "faketorch/nn/__init__.py": "from faketorch.nn import functional\nclass Module:\n    pass\n",
    "faketorch/nn/functional.py": "def relu(x):\n    return max(x, 0)\n",
    "faketorch/autograd.py": "def Variable(x, requires_grad=False):\n    return x\n",
}


@pytest.fixture
def faketorch(tmp_path, monkeypatch):
    """``import torch`` means the stand-in package; its frames count as backtrace's."""
    folder = tmp_path / "site"
    for name, source in FAKE.items():
        write(folder, name, source)
    # second on sys.path: the run puts the script's folder in place of the first
    monkeypatch.setattr(sys, "path", [sys.path[0], str(folder), *sys.path[1:]])
    monkeypatch.setattr(hook, "PACKAGE", "faketorch")
    monkeypatch.setattr(tracebacks, "BACKTRACE_FOLDERS",
                        (*tracebacks.BACKTRACE_FOLDERS, str(folder / "faketorch") + os.sep))
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("faketorch")]:
        del sys.modules[name]


def test_import_torch_gives_the_package_and_its_submodules(faketorch, capsys):
    script = write(faketorch, "imports.py", """
        import sys
        import numpy
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.autograd import Variable
        print(torch.__name__, torch.__version__, nn.__name__, F.relu(-2), Variable(3))
        print(torch is sys.modules["torch"], nn is sys.modules["torch.nn"] is torch.nn)
        print(F is sys.modules["torch.nn.functional"], "faketorch" not in numpy.__file__)
        """)
    calls = []
    before = {name: module for name, module in sys.modules.items() if hook.owned(name)}
    assert run_script(str(script), on_torch_import=lambda: calls.append(1)) == 0
    assert capsys.readouterr().out == (
        "faketorch fake faketorch.nn 0 3\nTrue True\nTrue True\n")
    assert calls == [1]  # the notice once, at the first import
    # (PyTorch's own modules, when a test imported it, are back as they were)
    assert {name: module for name, module in sys.modules.items() if hook.owned(name)} == before
    assert not [finder for finder in sys.meta_path if isinstance(finder, hook.TorchFinder)]


def test_no_notice_without_torch(faketorch):
    script = write(faketorch, "plain.py", "import math\n")
    calls = []
    assert run_script(str(script), on_torch_import=lambda: calls.append(1)) == 0
    assert calls == []


def test_a_torch_imported_before_the_run_is_set_aside_and_put_back(faketorch, monkeypatch):
    real = object()
    monkeypatch.setitem(sys.modules, "torch", real)
    script = write(faketorch, "which.py", "import torch\nassert torch.__name__ == 'faketorch'\n")
    assert run_script(str(script)) == 0
    assert sys.modules["torch"] is real


@pytest.mark.parametrize("statement, missing", [
    ("import torch.utils.data", "torch.utils.data"),
    ("from torch.utils.data import DataLoader, Dataset", "torch.utils.data"),
    ("from torch.utils import data", "torch.utils"),
    ("import torch.nn.init", "torch.nn.init"),
    ("import torchvision", "torchvision"),
    ("from torchvision import transforms", "torchvision"),
    ("import torchvision.transforms as T", "torchvision.transforms"),
])
def test_what_the_package_does_not_have_is_refused_at_the_import(faketorch, capsys, statement,
                                                                  missing):
    script = write(faketorch, "missing.py", f"import torch\n\n{statement}\n")
    assert run_script(str(script)) == 1
    assert capsys.readouterr().err == (
        "Traceback (most recent call last):\n"
        f'  File "{script}", line 3, in <module>\n'
        f"    {statement}\n"
        f"NotImplementedError: backtrace's torch has no {missing}: run this script with "
        "PyTorch itself\n")


def test_the_traceback_ends_at_the_scripts_line(faketorch, capsys):
    script = write(faketorch, "item.py", """
        import torch

        def predict():
            return torch.item([1.0, 2.0, 3.0])

        print(predict())
        """)
    assert run_script(str(script)) == 1
    assert capsys.readouterr().err == (
        "Traceback (most recent call last):\n"
        f'  File "{script}", line 6, in <module>\n'
        "    print(predict())\n"
        "          ^^^^^^^^^\n"
        f'  File "{script}", line 4, in predict\n'
        "    return torch.item([1.0, 2.0, 3.0])\n"
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "RuntimeError: a Tensor with 3 elements cannot be converted to Scalar\n")


def test_the_scripts_own_function_called_by_the_package_keeps_its_frame(faketorch, capsys):
    script = write(faketorch, "callback.py", """
        import torch

        def forward(x):
            return x / 0

        torch.apply(forward, 1.0)
        """)
    assert run_script(str(script)) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[1:] == [
        f'  File "{script}", line 6, in <module>',
        "    torch.apply(forward, 1.0)",
        f'  File "{script}", line 4, in forward',
        "    return x / 0",
        "           ~~^~~",
        "ZeroDivisionError: float division by zero"]


@pytest.mark.parametrize("function", ["lookup", "lookup_from"])
def test_an_exception_chained_inside_the_package_is_shown_alone(faketorch, capsys, function):
    script = write(faketorch, "inner.py", f"import torch\ntorch.{function}('w')\n")
    assert run_script(str(script)) == 1
    assert capsys.readouterr().err == (
        "Traceback (most recent call last):\n"
        f'  File "{script}", line 2, in <module>\n'
        f"    torch.{function}('w')\n"
        "RuntimeError: no w\n")


def test_an_exception_of_the_script_during_one_of_the_package_keeps_both(faketorch, capsys):
    script = write(faketorch, "outer.py", """
        import torch
        try:
            torch.item([1.0, 2.0])
        except RuntimeError:
            undefined
        """)
    assert run_script(str(script)) == 1
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last):") == 2
    assert "RuntimeError: a Tensor with 2 elements cannot be converted to Scalar\n\n" \
        "During handling of the above exception, another exception occurred:" in err
    assert err.endswith("NameError: name 'undefined' is not defined\n")
    assert "faketorch" not in err and "backtrace_cli" not in err


def test_the_notice_in_chinese_and_dropped_by_quiet(faketorch):
    script = write(faketorch, "t.py", "import torch\nprint(torch.__version__)\n")
    chinese = CliRunner().invoke(main, ["--lang", "zh", "run", str(script)])
    assert chinese.exit_code == 0
    assert chinese.stdout == "fake\n"
    assert chinese.stderr.startswith("backtrace: ")
    assert "PyTorch" in chinese.stderr and "不是" in chinese.stderr
    quiet = CliRunner().invoke(main, ["run", "--quiet", str(script)])
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "fake\n", "")


def test_the_exit_code_reaches_the_command_line(faketorch):
    script = write(faketorch, "three.py", "import sys\nsys.exit(3)\n")
    assert CliRunner().invoke(main, ["run", str(script)]).exit_code == 3


# ----------------------------------------------------------------------------- speed
def test_the_run_imports_neither_sympy_nor_rich_before_the_script(tmp_path):
    write(tmp_path, "modules.py", """
        import sys
        print(sorted(name for name in ("sympy", "rich", "matplotlib") if name in sys.modules))
        """)
    assert with_backtrace(tmp_path, "modules.py") == ("[]\n", "", 0)


# ----------------------------------------------------------------------------- --compare
def _pytorch_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


needs_pytorch = pytest.mark.skipif(not _pytorch_importable(), reason="PyTorch is not installed")


@needs_pytorch
def test_compare_reports_identical_output(tmp_path):
    write(tmp_path, "plain.py", "import sys\nprint('w =', 2.0 * 3, sys.argv[1:])\n")
    stdout, stderr, code = with_backtrace(tmp_path, "plain.py", "-x", options=("--compare",))
    assert (stdout, code) == ("w = 6.0 ['-x']\n", 0), stderr
    assert stderr.startswith("compare: identical output with PyTorch 2.")
    assert stderr.endswith(f"({sys.executable})\n")


@needs_pytorch
@pytest.mark.parametrize("source, report", [
    ("import sys\nprint('same')\nprint('backtrace_cli' in sys.modules)\n",
     ["compare: stdout differs from PyTorch {version} first at line 2:",
      "  backtrace: True", "  PyTorch:   False"]),
    ("import sys\nprint('same')\nif 'backtrace_cli' not in sys.modules:\n    print('more')\n",
     ["compare: stdout differs from PyTorch {version} first at line 2:",
      "  backtrace: (no line)", "  PyTorch:   more"]),
    ("import sys\nsys.exit(3 if 'backtrace_cli' in sys.modules else 0)\n",
     ["compare: same stdout, but the exit code differs from PyTorch {version}:",
      "  backtrace: 3", "  PyTorch:   0"]),
    ("import sys\nraise ValueError('backtrace_cli' in sys.modules)\n",
     ["compare: same stdout, but the error differs from PyTorch {version}:",
      "  backtrace: ValueError: True", "  PyTorch:   ValueError: False"]),
])
def test_compare_reports_the_first_difference(tmp_path, source, report):
    import torch

    write(tmp_path, "differs.py", source)
    stdout, stderr, code = with_backtrace(tmp_path, "differs.py", options=("--compare",))
    assert code == 1
    assert stdout.startswith("same\n") or stdout == ""
    version = torch.__version__
    assert stderr.splitlines()[-3:] == [line.format(version=version) for line in report]


def test_compare_without_pytorch_is_bad_input(tmp_path):
    write(tmp_path, "plain.py", "print(1)\n")
    python = write(tmp_path, "python-without-torch", """
        #!/bin/sh
        echo "ModuleNotFoundError: No module named 'torch'" >&2
        exit 1
        """)
    python.chmod(0o755)
    result = runner("run", "--compare", "--python", str(python), str(tmp_path / "plain.py"))
    assert_bad_input(result, f"Error: {python} cannot import PyTorch (ModuleNotFoundError: No "
                             "module named 'torch')", "hint: --compare needs PyTorch")
    result = runner("run", "--compare", "--python", str(tmp_path / "nothing"),
                    str(tmp_path / "plain.py"))
    assert_bad_input(result, f"the Python interpreter {tmp_path / 'nothing'} cannot be started")


def test_compare_refuses_a_missing_script_first(tmp_path):
    result = runner("run", "--compare", "--python", str(tmp_path / "nothing"),
                    str(tmp_path / "nope.py"))
    assert_bad_input(result, "does not exist")


def test_lang_after_the_script_is_the_scripts(faketorch):
    script = write(faketorch, "lang.py", "import sys, torch\nprint(sys.argv[1:])\n")
    passed_on = CliRunner().invoke(main, ["run", str(script), "--lang", "zh", "-h"])
    assert passed_on.exit_code == 0
    assert passed_on.stdout == "['--lang', 'zh', '-h']\n"
    assert passed_on.stderr.startswith("backtrace: `import torch` here is backtrace's own")
    for args in (["--lang", "zh", "run"], ["run", "--lang", "zh"], ["run", "--lang=zh"],
                 ["--lang=en", "run", "-q", "--python", "x", "--lang", "zh"]):
        chinese = CliRunner().invoke(main, [*args, str(script), "--lang", "en"])
        if "--python" in args:
            assert "--python 指定的是 --compare 所用的解释器" in chinese.stderr
        else:
            assert chinese.stdout == "['--lang', 'en']\n"
            assert "不是 PyTorch" in chinese.stderr


def test_the_full_traceback_on_request(faketorch, capsys, monkeypatch):
    script = write(faketorch, "item.py", "import torch\ntorch.item([1.0, 2.0])\n")
    monkeypatch.setenv("BACKTRACE_RUN_TRACEBACK", "full")
    assert run_script(str(script)) == 1
    err = capsys.readouterr().err
    assert f"{os.sep}faketorch{os.sep}__init__.py\", line 5, in item" in err
    assert f"{os.sep}run{os.sep}script.py\", line" in err


# ----------------------------------------------------------------------------- backtrace's torch
@pytest.mark.parametrize("line, missing", [
    ("layer = torch.nn.Conv2d(1, 1, 3)", "torch.nn.Conv2d"),
    ("from torch.utils.data import DataLoader", "torch.utils.data"),
    ("import torchvision", "torchvision"),
])
def test_what_backtraces_torch_does_not_have_raises_where_the_script_uses_it(tmp_path, line,
                                                                          missing):
    write(tmp_path, "beyond.py", f"import torch\nprint(torch.tensor([1.0]))\n{line}\n")
    stdout, stderr, code = with_backtrace(tmp_path, "beyond.py", options=())
    assert (stdout, code) == ("tensor([1.])\n", 1)
    assert stderr.startswith("backtrace: `import torch` here is backtrace's own")
    frames = [text for text in stderr.splitlines() if text.startswith("  File ")]
    assert frames == [f'  File "{tmp_path / "beyond.py"}", line 3, in <module>']
    assert f"\n    {line}\n" in stderr
    assert stderr.splitlines()[-1] == (f"NotImplementedError: backtrace's torch has no {missing}: "
                                       "run this script with PyTorch itself")
