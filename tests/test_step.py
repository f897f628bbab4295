"""``grad --step``: the steps themselves (report/steps.py), one screen of them, and the
stepping at a real pseudo-terminal (stdlib ``pty``): → and Enter go on, ← goes back, q quits;
anything but a terminal is refused."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import assert_bad_input, invoke

from backtrace_cli.api.grad import explanation_of
from backtrace_cli.report import steps as steps_report
from backtrace_cli.report.grad import build

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


def report_of(expression, bindings, seed=1.0):
    return build(explanation_of(expression, bindings, dz=seed, cross_check=False))


def test_the_slide_has_step_zero_then_one_step_per_edge():
    report = report_of("x*w", {"x": 2, "w": 3}, seed=5)
    steps = report.views["steps"]().data["steps"]
    assert [entry["step"] for entry in steps] == [0, 1, 2]
    assert steps[0] == {"step": 0, "title": "Forward pass done", "lines": [
        "every value is known; output z = 6",
        "seed dL/dz = 5 (the seed, --dz); the backward pass sends it along 2 edges"]}
    assert steps[1]["title"] == "edge z → x"
    assert steps[1]["lines"] == ["upstream dL/dz = 5", "local dz/dx = w = 3",
                                 "upstream × local = 5 × 3 = 15", "dL/dx = 15"]
    assert (steps[1]["node_id"], steps[1]["input_id"], steps[1]["graph_edge"]) == ("v3", "v1", 0)
    assert steps[2]["lines"][-1] == "dL/dw = 10"


def test_a_node_used_twice_shows_its_running_sum():
    steps = report_of("a = x*x; a + sin(a)", {"x": 3}).views["steps"]().data["steps"]
    into_a = [entry for entry in steps[1:] if entry["input_id"] == "v2"]
    assert [(entry["use"], entry["uses"], entry["sum"]) for entry in into_a] == [
        (1, 2, "1"), (2, 2, "0.08886973811532306")]
    assert into_a[0]["lines"][-1] == "dL/da = 1 (so far: use 1 of 2)"
    assert into_a[1]["lines"][-1] == ("dL/da = 1 + (-0.9111302618846769) = "
                                      "0.08886973811532306 (complete: use 2 of 2)")
    # the last step of every node gives the static gradient
    report = report_of("a = x*x; a + sin(a)", {"x": 3})
    graph = report.views["graph"]()
    last = {entry["input"]: entry["sum"] for entry in steps[1:]}
    for index, total in last.items():
        assert graph.data["nodes"][index]["gradient"] == total


def test_the_graph_as_it_stands_after_each_step():
    report = report_of("x*w", {"x": 2, "w": 3}, seed=5)
    steps, graph = report.views["steps"](), report.views["graph"]()
    assert steps_report.gradients_at(steps, graph, 0) == ["…", "…", "5"]
    assert steps_report.gradients_at(steps, graph, 1) == ["15", "…", "5"]
    assert steps_report.gradients_at(steps, graph, 2) == ["15", "10", "5"]
    constant = report_of("x*2", {"x": 3})
    assert steps_report.gradients_at(constant.views["steps"](), constant.views["graph"](),
                                      0) == ["…", "–", "1"]


def test_one_screen_marks_the_active_edge():
    from rich.console import Console

    from backtrace_cli.cli.step import screen

    report = report_of("a = x*x; a + sin(a)", {"x": 3})
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, legacy_windows=False)
    console.print(screen(report.views["steps"](), report.views["graph"](), 4, 100))
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert "│ Step 4 / 5: edge a → x" in lines[1]
    assert lines[2].startswith("│ upstream dL/da = 0.08886973811532306")
    assert lines[4].startswith("│ upstream × local = 0.08886973811532306 × 3 = 0.2666092143459692")
    tree = lines[lines.index("a = x*x; a + sin(a)") + 1:]
    assert tree[:6] == [
        "z = a + sin(a)  value 9.412118485241757  grad 1",
        "├── a = x*x  value 9  grad 0.08886973811532306",
        "│   ├── x  value 3  grad 0.2666092143459692  ◀ step 4: 0.2666092143459692 sent back",
        "│   └── x  value 3  grad 0.2666092143459692  ↑ shared: expanded above",
        "└── v3 = sin(a)  value 0.4121184852417566  grad 1",
        "    └── a = x*x  value 9  grad 0.08886973811532306  ↑ shared: expanded above",
    ]
    assert lines[-1] == "→ or Enter: next   ←: back   q: quit"


def test_step_is_refused_off_a_terminal_and_with_files():
    assert_bad_input(invoke("grad", "x*w", "x=1", "w=2", "--step"),
                     "--step needs a terminal, and stdin is not one",
                     "--format html -o page.html")
    assert_bad_input(invoke("grad", "x*w", "x=1", "w=2", "--step", "-o", "page.html"),
                     "--step shows the steps at a terminal; it writes no file")
    assert_bad_input(invoke("grad", "x*w", "x=1", "w=2", "--step", "--format", "json"),
                     "--step shows the steps at a terminal; it has no --format")


class Terminal:
    """``backtrace ARGS`` with stdin and stdout on a pseudo-terminal (stderr a pipe)."""

    def __init__(self, *args, stdout_terminal: bool = True):
        self.master, slave = pty.openpty()
        env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", LINES="40",
                   TERM="xterm", NO_COLOR="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backtrace_cli", *args], stdin=slave,
            stdout=slave if stdout_terminal else subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 60.0) -> str:
        """Read until ``text`` shows (escape codes removed); what was read since last time."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while text not in self.seen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} not seen; got {self.seen[start:][-2000:]!r}")
            if select.select([self.master], [], [], min(left, 0.5))[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    data = b""
                if not data and self.process.poll() is not None:
                    raise AssertionError(f"{text!r} not seen before exit; got "
                                         f"{self.seen[start:][-2000:]!r}")
                self.seen += ANSI.sub("", data.decode("utf-8", "replace"))
        return self.seen[start:]

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode("utf-8"))

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_stepping_at_a_terminal():
    terminal = Terminal("grad", "x*w", "x=2", "w=3", "--dz", "5", "--step", "--no-check")
    first = terminal.expect("q: quit")
    assert "Step 0 / 2: Forward pass done" in first and "grad …" in first
    terminal.send("\x1b[C")  # →
    screen = terminal.expect("q: quit")
    assert "Step 1 / 2: edge z → x" in screen
    assert "upstream × local = 5 × 3 = 15" in screen
    assert "x  value 2  grad 15  ◀ step 1: 15 sent back" in screen
    terminal.send("\r")  # Enter
    screen = terminal.expect("q: quit")
    assert "Step 2 / 2: edge z → w" in screen and "w  value 3  grad 10  ◀ step 2" in screen
    terminal.send("\x1b[C")  # at the last step, → stays there
    assert "Step 2 / 2" in terminal.expect("q: quit")
    terminal.send("\x1b[D")  # ←
    assert "Step 1 / 2: edge z → x" in terminal.expect("q: quit")
    terminal.send("q")
    assert terminal.close() == 0
    assert terminal.process.stderr.read() == b""


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_stepping_with_stdout_in_a_pipe_is_refused():
    terminal = Terminal("grad", "x*w", "x=2", "w=3", "--step", stdout_terminal=False)
    assert terminal.close() == 2
    assert terminal.process.stdout.read() == b""
    error = terminal.process.stderr.read().decode("utf-8")
    assert error.startswith("Error: --step needs a terminal, and stdout is not one")
    assert "Traceback" not in error


def test_one_screen_and_the_refusals_in_chinese():
    from rich.console import Console

    from backtrace_cli.cli.step import screen
    from backtrace_cli.i18n import use_language

    with use_language("zh"):
        report = report_of("a = x*x; a + sin(a)", {"x": 3})
        buffer = io.StringIO()
        console = Console(file=buffer, width=100, color_system=None, legacy_windows=False)
        console.print(screen(report.views["steps"](), report.views["graph"](), 4, 100))
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert "│ 第 4 / 5 步: 边 a → x" in lines[1]
    assert lines[2].startswith("│ 上游 dL/da = 0.08886973811532306")
    assert lines[4].startswith("│ 上游 × 局部 = 0.08886973811532306 × 3 = 0.2666092143459692")
    assert "◀ 第 4 步: 传回 0.2666092143459692" in "\n".join(lines)
    assert lines[-1] == "→ 或 Enter: 下一步   ←: 上一步   q: 退出"
    refused = invoke("grad", "x*w", "x=1", "w=2", "--step", "--lang", "zh")
    assert refused.exit_code == 2
    assert refused.stderr == ("错误: --step 需要终端，而 stdin 不是终端\n"
                              "  提示: 请在终端里运行，或写一个逐步浏览反向传播的网页: "
                              "--format html -o page.html\n")
