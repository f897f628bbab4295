"""Shell completion (Click's ``_BACKTRACE_COMPLETE``) works with the lazily loaded commands.

What a user puts in ~/.bashrc:  eval "$(_BACKTRACE_COMPLETE=bash_source backtrace)"
(zsh: zsh_source in ~/.zshrc; fish: _BACKTRACE_COMPLETE=fish_source backtrace | source).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def complete(words: str, shell: str = "bash") -> list[str]:
    typed = words.split(" ")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COMP_WORDS": words,
           "COMP_CWORD": str(len(typed) - 1), "_BACKTRACE_COMPLETE": f"{shell}_complete"}
    done = subprocess.run([sys.executable, "-c", "from backtrace_cli.cli.main import main; "
                           "main(prog_name='backtrace')"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.splitlines()


def test_commands_complete():
    assert complete("backtrace gr") == ["plain,grad", "plain,graph", "plain,grade"]
    assert complete("backtrace ") == [
        "plain,grad", "plain,jacobian", "plain,hessian", "plain,graph", "plain,simplify",
        "plain,train", "plain,minimize", "plain,quiz", "plain,grade", "plain,run",
    ]
    assert complete("backtrace quiz --bl") == ["plain,--blank"]


def test_options_and_choices_complete_in_a_lazily_loaded_command():
    assert complete("backtrace grad x --for") == ["plain,--format"]
    assert complete("backtrace grad x --format ") == ["plain,table", "plain,json",
                                                      "plain,markdown", "plain,latex",
                                                      "plain,html"]
    assert complete("backtrace train --optimizer ") == ["plain,sgd", "plain,momentum",
                                                        "plain,adam"]
    assert complete("backtrace minimize x --method ") == ["plain,gd", "plain,momentum",
                                                          "plain,adam", "plain,newton"]


def test_an_expression_with_a_leading_minus_does_not_confuse_completion():
    assert complete("backtrace grad -tanh(x) --wi") == ["plain,--width"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_source_scripts(shell):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "_BACKTRACE_COMPLETE": f"{shell}_source"}
    done = subprocess.run([sys.executable, "-c", "from backtrace_cli.cli.main import main; "
                           "main(prog_name='backtrace')"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert "_BACKTRACE_COMPLETE" in done.stdout and "backtrace" in done.stdout
