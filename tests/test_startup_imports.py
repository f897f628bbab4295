"""Start-up loads only what a command uses (issue 27, goal 2).

Each command runs in a fresh interpreter under ``python -X importtime``, which writes every
module it imports to stderr; the tests read that list. They assert what is imported, never
how long it took, so they hold on a busy machine.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def imported(*arguments: str, cwd: str | None = None) -> tuple[set[str], str]:
    """(every module ``backtrace ARGUMENTS`` imports, its stdout), from a fresh interpreter."""
    environment = dict(os.environ, BACKTRACE_LANG="en")
    environment["PYTHONPATH"] = os.pathsep.join(
        [REPO, *filter(None, [environment.get("PYTHONPATH")])])
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "backtrace_cli", *arguments],
        capture_output=True, text=True, env=environment, cwd=cwd, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    modules = {line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines()
               if line.startswith("import time:") and "|" in line}
    assert "backtrace_cli" in modules  # the list was read: the command's own package is in it
    return modules, completed.stdout


def packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_grad_json_without_check_loads_neither_rich_nor_the_checks():
    modules, out = imported("grad", "x*w", "x=2", "w=3", "--format", "json", "--no-check")
    assert '"gradients": {\n    "x": 3.0,\n    "w": 2.0\n  }' in out
    assert not packages(modules) & {"rich", "sympy", "numpy", "mpmath", "secrets"}
    unused = {  # modules a JSON report without its check does not use
        "backtrace_cli.checks.verify", "backtrace_cli.checks.differences",
        "backtrace_cli.checks.symbolic", "backtrace_cli.checks.sandbox",
        "backtrace_cli.explain.forward", "backtrace_cli.engine.forward_mode",
        "backtrace_cli.explain.cost", "backtrace_cli.formats.table",
    }
    assert not modules & unused
    assert "backtrace_cli.report.grad_json" in modules  # the document it does write


def test_help_loads_no_report_model_nor_rich():
    modules, out = imported("--help")
    assert "Commands:" in out
    assert not packages(modules) & {"rich", "sympy", "numpy", "secrets"}
    assert "backtrace_cli.report.model" not in modules  # --digits' bounds live in limits


def test_grad_with_its_check_still_loads_the_checks():
    # The other side of the lazy imports: a checked gradient does load them (and SymPy).
    modules, out = imported("grad", "x*w", "x=2", "w=3", "--format", "json")
    assert '"check": null' not in out
    assert {"backtrace_cli.checks.verify", "backtrace_cli.checks.differences"} <= modules
    assert "rich" not in packages(modules)


@pytest.mark.parametrize("quiet", [["-q"], []])
def test_run_loads_neither_rich_nor_sympy_before_the_script(tmp_path, quiet):
    script = tmp_path / "script.py"
    script.write_text('import sys\n'
                      'print(sorted(n for n in ("rich", "sympy") if n in sys.modules))\n')
    modules, out = imported("run", *quiet, str(script), cwd=str(tmp_path))
    assert out.splitlines()[0] == "[]"
    assert not packages(modules) & {"rich", "sympy"}
