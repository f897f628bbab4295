"""Timing whole processes: interleaved runs, medians, peak memory, probes of modules."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = sys.executable
RUN_TIMEOUT = 900.0  # seconds for one run of one command; a hung run becomes a failed row


@dataclass
class Timing:
    """The runs of one command: median seconds, or the error that stopped it."""

    command: list[str]
    runs: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # stdout of each run (small ones only)
    last_stdout: Path | None = None
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.error or not self.runs:
            return None
        return statistics.median(self.runs)

    def last_json(self) -> dict | None:
        """The last run's stdout parsed as JSON, or None."""
        if self.last_stdout is None:
            return None
        try:
            return json.loads(self.last_stdout.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def shell_text(command: Sequence[str]) -> str:
    """The command as one could paste it into a shell."""
    import shlex

    return " ".join(shlex.quote(part) for part in command)


class Runner:
    """Times whole processes; every command's output goes to files in the work folder."""

    def __init__(self, workdir: Path, repeat: int) -> None:
        self.workdir = workdir
        self.repeat = repeat
        self.counter = 0
        self.time_binary = self._find_gnu_time()
        self.launcher = workdir / "peak_rss.py"
        self.launcher.write_text(PEAK_RSS_LAUNCHER, encoding="utf-8")

    def measure(
        self,
        commands: dict[str, list[str]],
        repeat: int | None = None,
        env: dict[str, str] | None = None,
    ) -> dict[str, Timing]:
        """Run each command ``repeat`` times, interleaved, and keep the wall-clock times.

        The environment is this process's own unless ``env`` replaces it.
        """
        timings = {key: Timing(command) for key, command in commands.items()}
        for _ in range(repeat or self.repeat):
            for key, timing in timings.items():
                if timing.error is None:
                    self._run_once(key, timing, env)
        return timings

    def _run_once(self, key: str, timing: Timing, env: dict[str, str] | None) -> None:
        self.counter += 1
        stem = f"{self.counter:04d}-{re.sub(r'[^A-Za-z0-9]+', '-', key)}"
        stdout_path = self.workdir / f"{stem}.out"
        stderr_path = self.workdir / f"{stem}.err"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            start = time.perf_counter()
            try:
                completed = subprocess.run(
                    timing.command,
                    stdout=stdout,
                    stderr=stderr,
                    env=env,
                    timeout=RUN_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                timing.error = f"{shell_text(timing.command)}\n  {exc}"
                return
            elapsed = time.perf_counter() - start
        if completed.returncode != 0:
            tail = stderr_path.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
            timing.error = (
                f"exit {completed.returncode}: {shell_text(timing.command)}\n"
                + textwrap.indent(tail or "(no stderr)", "  ")
            )
            return
        timing.runs.append(elapsed)
        if timing.last_stdout is not None and timing.last_stdout != stdout_path:
            timing.last_stdout.unlink(missing_ok=True)  # big outputs: keep only the last run's
        timing.last_stdout = stdout_path
        if stdout_path.stat().st_size <= 1_000_000:
            timing.outputs.append(stdout_path.read_text(encoding="utf-8", errors="replace"))
        stderr_path.unlink(missing_ok=True)

    # --- peak memory -----------------------------------------------------------------
    @staticmethod
    def _find_gnu_time() -> str | None:
        """/usr/bin/time if it is GNU time (it understands -v and -o)."""
        binary = "/usr/bin/time"
        if not os.access(binary, os.X_OK):
            return None
        try:
            probe = subprocess.run(
                [binary, "-v", "true"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return binary if "Maximum resident set size" in probe.stderr else None

    @property
    def memory_method(self) -> str:
        if self.time_binary:
            return f"{self.time_binary} -v"
        return "a Python launcher reporting ru_maxrss of its child"

    def peak_rss_mb(self, command: list[str]) -> tuple[float | None, str | None]:
        """Peak resident set size of one run of ``command`` in MB, or (None, error)."""
        self.counter += 1
        report = self.workdir / f"{self.counter:04d}-rss.txt"
        if self.time_binary:
            wrapped = [self.time_binary, "-v", "-o", str(report), *command]
        else:
            wrapped = [PYTHON, str(self.launcher), str(report), *command]
        try:
            completed = subprocess.run(
                wrapped,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=RUN_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{shell_text(command)}\n  {exc}"
        if completed.returncode != 0:
            tail = completed.stderr.decode("utf-8", "replace").strip()[-2000:]
            return None, f"exit {completed.returncode}: {shell_text(command)}\n  {tail}"
        text = report.read_text(encoding="utf-8", errors="replace") if report.exists() else ""
        match = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", text)
        if match is None:
            return None, f"no peak memory reported for {shell_text(command)}"
        return int(match.group(1)) * 1024 / 1e6, None


# Used when GNU time is absent: runs the command and writes the child's peak RSS like GNU time.
PEAK_RSS_LAUNCHER = '''\
import resource, subprocess, sys

report, command = sys.argv[1], sys.argv[2:]
code = subprocess.call(command)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if sys.platform == "darwin":  # bytes there, kilobytes on Linux
    peak //= 1024
with open(report, "w") as file:
    file.write(f"Maximum resident set size (kbytes): {peak}\\n")
sys.exit(code)
'''


def has_module(name: str) -> bool:
    """Whether ``import name`` works in a fresh interpreter (never imported here)."""
    try:
        completed = subprocess.run([PYTHON, "-c", f"import {name}"], capture_output=True,
                                   timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0


def module_version(name: str) -> str | None:
    try:
        completed = subprocess.run([PYTHON, "-c", f"import {name}; print({name}.__version__)"],
                                   capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None
