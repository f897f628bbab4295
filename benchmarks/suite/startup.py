"""The startup workload: small commands against the imports they cannot avoid."""

from __future__ import annotations

import os
import subprocess

from .context import Context, collect_errors
from .processes import PYTHON
from .results import Goal, Report, Row, seconds_text


def imported_modules(context: Context, arguments: list[str]) -> set[str] | None:
    """Top-level modules a backtrace command imports, from ``python -X importtime``."""
    command = [PYTHON, "-X", "importtime", "-m", "backtrace_cli", *arguments]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                   check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = set()
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def startup(context: Context, report: Report) -> None:
    small_grad = ["grad", "x*w", "x=2", "w=3", "--format", "json"]
    commands = {
        "pass": [PYTHON, "-c", "pass"],
        "click-rich": [PYTHON, "-c", "import click, rich.console, json"],
        "sympy": [PYTHON, "-c", "import sympy"],
        "help": [*context.backtrace, "--help"],
        "grad-no-check": [*context.backtrace, *small_grad, "--no-check"],
        "grad-check": [*context.backtrace, *small_grad],
    }
    if context.torch:
        commands["torch"] = [PYTHON, "-c", "import torch"]
    timings = context.runner.measure(commands)
    error = collect_errors(report, "startup", timings)

    def seconds(key: str) -> float | None:
        return timings[key].seconds if key in timings else None

    report.rows += [
        Row("startup", "startup reference", None, seconds("pass"), error=error,
            against="python -c pass"),
        Row("startup", "startup --help", seconds("help"), seconds("click-rich"),
            seconds("torch"), Goal("ratio <= 1.0", 1.0), error=error,
            against="import click, rich.console, json"),
        Row("startup", "startup grad --no-check", seconds("grad-no-check"),
            seconds("click-rich"), None, Goal("ratio <= 1.0", 1.0), error=error,
            against="import click, rich.console, json"),
        Row("startup", "startup grad (check)", seconds("grad-check"), seconds("sympy"), None,
            Goal("ratio <= 1.1", 1.1), error=error, against="import sympy"),
    ]
    for label, arguments in (("--help", ["--help"]),
                             ("grad --no-check", [*small_grad, "--no-check"])):
        modules = imported_modules(context, arguments)
        if modules is None:
            continue
        found = ", ".join(f"{name} {'yes' if name in modules else 'no'}"
                          for name in ("numpy", "sympy", "torch"))
        report.notes.append(f"startup: `backtrace {label}` imports: {found}.")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        bytecode_note(context, report, {key: commands[key] for key in ("help", "grad-no-check")})


def bytecode_note(context: Context, report: Report, commands: dict[str, list[str]]) -> None:
    """Startup with a bytecode cache, for reference, when this environment disables writing it.

    With PYTHONDONTWRITEBYTECODE set, modules without a .pyc (an editable install's own) are
    compiled from source at every start, while installed libraries ship theirs. The table keeps
    the environment as it is; this note shows what a cache would change.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE")
    env["PYTHONPYCACHEPREFIX"] = str(context.workdir / "pycache")
    context.runner.measure(commands, repeat=1, env=env)  # fills the cache
    timings = context.runner.measure(commands, env=env)
    if any(timing.error for timing in timings.values()):
        return
    figures = ", ".join(f"{key} {seconds_text(timing.seconds)} s"
                        for key, timing in timings.items())
    report.notes.append(
        "startup: PYTHONDONTWRITEBYTECODE is set here, so backtrace's own modules are compiled "
        f"at every start; with a bytecode cache: {figures}."
    )
