"""Students' scripts with backtrace's torch: PyTorch's output, byte for byte.

Each script of tests/data/torchlike/scripts/ runs in a fresh interpreter in which ``torch``
and its submodules are backtrace's (a bootstrap that sets ``sys.modules``, as ``backtrace
run``'s import hook does), and must print what PyTorch 2.13 printed (captured beside it):
the same stdout byte for byte, the same exit code, the same final error line and the same
warnings. A test that captures again with PyTorch runs where PyTorch 2.13 is installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).parent / "data" / "torchlike" / "scripts"
NAMES = sorted(path.stem for path in SCRIPTS.glob("*.py"))
BOOTSTRAP = """\
import runpy, sys
import backtrace_cli.torchlike as torch
for public, ours in torch.PUBLIC_MODULES.items():
    sys.modules[public] = sys.modules[ours]
sys.argv = sys.argv[1:]
sys.path[0] = "."
runpy.run_path(sys.argv[0], run_name="__main__")
"""
WARNING = re.compile(r"^\S+:\d+: (\w+Warning: .*)$")

try:
    import torch as real_torch

    REAL = real_torch.__version__.startswith("2.13.0")
except ImportError:
    REAL = False


def _run(name: str, ours: bool) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    command = ([sys.executable, "-c", BOOTSTRAP, f"{name}.py"] if ours
               else [sys.executable, f"{name}.py"])
    return subprocess.run(command, cwd=SCRIPTS, env=environment, capture_output=True,
                          text=True, timeout=600)


def _warnings(stderr: str) -> list[str]:
    return [match.group(1) for line in stderr.splitlines() if (match := WARNING.match(line))]


def _last_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else ""


def _expected(name: str) -> tuple[str, str, int]:
    read = (SCRIPTS / name).with_suffix
    return (read(".stdout").read_text(encoding="utf-8"),
            read(".stderr").read_text(encoding="utf-8"),
            int(read(".exit").read_text(encoding="utf-8")))


def test_at_least_twelve_scripts():
    assert len(NAMES) >= 12


@pytest.mark.parametrize("name", NAMES)
def test_the_script_prints_what_pytorch_printed(name):
    stdout, stderr, code = _expected(name)
    result = _run(name, ours=True)
    assert result.stdout == stdout
    assert result.returncode == code, result.stderr
    assert _warnings(result.stderr) == _warnings(stderr)
    if code:
        assert _last_line(result.stderr) == _last_line(stderr)
    else:
        assert "Traceback" not in result.stderr


def test_the_lecture_numbers():
    """The facts the issue names, read from the capture (so they are PyTorch's too)."""
    lecture = (SCRIPTS / "lecture04.stdout").read_text().splitlines()
    assert len(lecture) == 402
    assert lecture[2] == "\tgrad: 2.0 4.0 -7.840000152587891"
    assert lecture[-1] == "predict (after training) 4 7.999998569488525"
    homework = (SCRIPTS / "homework04.stdout").read_text()
    assert "predict (after training) 4 8.544171333312988" in homework
    seeded = (SCRIPTS / "lecture05_seed.stdout").read_text()
    assert "tensor([[-0.0075]], requires_grad=True)" in seeded
    assert "tensor([0.5364], requires_grad=True)" in seeded


@pytest.mark.skipif(not REAL, reason="PyTorch 2.13.0 is not installed: the captures are "
                                     "checked against backtrace's torch only")
@pytest.mark.parametrize("name", NAMES)
def test_the_capture_is_pytorchs(name):
    stdout, stderr, code = _expected(name)
    result = _run(name, ours=False)
    assert (result.stdout, result.returncode) == (stdout, code)
    assert _warnings(result.stderr) == _warnings(stderr)
