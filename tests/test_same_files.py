"""Two outputs, or an output and an input, naming one file are refused before anything is
read or written (issue 21, item 12): exit 2, one line naming both options, and the folder
exactly as it was. The same file however it is named: ``x``, ``./x``, an absolute path, a
symlink to it, a path through a symlinked folder, a hard link; ``-`` twice (stdout twice,
stdin twice) collides too.
"""

from __future__ import annotations

import os

import pytest

from backtrace_cli.files import same_file
from tests.helpers import assert_bad_input, invoke

PROGRAM = "x*w"
CSV = "x,y\n1,2\n2,4\n"
INIT = '{"params": {"w": 0.5}}'

# command -> (its arguments, its file options: option -> (is it written, what an existing
# input holds)). EXPR @FILE is the option "@".
COMMANDS = {
    "grad": (["grad", "x=1", "w=2", "--no-check"],
             {"@": (False, PROGRAM), "-o": (True, None), "--graph": (True, None)}),
    "graph": (["graph", "x=1", "w=2"], {"@": (False, PROGRAM), "-o": (True, None)}),
    "quiz": (["quiz", "x=1", "w=2"],
             {"@": (False, PROGRAM), "-o": (True, None), "--answers": (True, None)}),
    "train": (["train", "--epochs", "1"],
              {"CSV": (False, CSV), "--init": (False, INIT), "--save": (True, None),
               "--plot": (True, None)}),
}
PAIRS = [(name, first, second) for name, (_args, options) in COMMANDS.items()
         for i, first in enumerate(options) for second in list(options)[i + 1:]
         if options[first][0] or options[second][0]]
SPELLINGS = ["same", "./same", "absolute", "symlink", "symlinked folder", "hard link"]


def _command_line(name, files: dict[str, str]) -> list[str]:
    args, _options = COMMANDS[name]
    line = [args[0]]
    if "@" in files:
        line.append("@" + files["@"])
    elif name != "train":
        line.append(PROGRAM)
    if "CSV" in files:
        line.append(files["CSV"])
    line += args[1:]
    for option, path in files.items():
        if option not in ("@", "CSV"):
            line += [option, path]
    return line


def _spell(spelling: str, tmp_path, name: str) -> str:
    """Another name for tmp_path/name (made to exist first for links)."""
    target = tmp_path / name
    if spelling == "same":
        return name
    if spelling == "./same":
        return "./" + name
    if spelling == "absolute":
        return str(target)
    if spelling == "symlinked folder":
        link = tmp_path / "folder-link"
        if not link.exists():
            link.symlink_to(tmp_path, target_is_directory=True)
        return str(link / name)
    if not target.exists():
        target.write_text("", encoding="utf-8")
    other = tmp_path / f"{spelling.replace(' ', '-')}-{name}"
    if spelling == "symlink":
        other.symlink_to(target)
    else:
        os.link(target, other)
    return other.name


def _snapshot(folder):
    return {path.name: (path.read_bytes() if path.is_file() else None,
                        path.stat().st_mtime_ns if path.exists() else None)
            for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("name, first, second", PAIRS,
                         ids=[f"{n} {a} {b}" for n, a, b in PAIRS])
def test_two_options_naming_one_file_are_refused(name, first, second, spelling, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = COMMANDS[name][1]
    inputs = [option for option in (first, second) if not options[option][0]]
    filename = "same"
    if inputs:  # the input exists, with what it should hold
        (tmp_path / filename).write_text(options[inputs[0]][1], encoding="utf-8")
    files = {first: filename, second: _spell(spelling, tmp_path, filename)}
    # the command's other inputs, each in a file of its own
    for option, (written, content) in options.items():
        if option not in files and not written and option in ("CSV",):
            (tmp_path / "data.csv").write_text(content, encoding="utf-8")
            files[option] = "data.csv"
    before = _snapshot(tmp_path)
    result = invoke(*_command_line(name, files))
    shown = {"@": "EXPR @"}
    stderr = assert_bad_input(result, "name the same file", "one would overwrite the other")
    for option in (first, second):
        assert shown.get(option, option) in stderr.splitlines()[0], stderr
    assert _snapshot(tmp_path) == before  # nothing read into a file, nothing written


@pytest.mark.parametrize("name, first, second", PAIRS,
                         ids=[f"{n} {a} {b}" for n, a, b in PAIRS])
def test_different_files_are_fine(name, first, second, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = COMMANDS[name][1]
    files = {}
    suffix = {"-o": ".txt", "--graph": ".dot", "--answers": ".json", "--save": ".json",
              "--plot": ".svg"}
    for option, (written, content) in options.items():
        if option in (first, second) or (option == "CSV"):
            path = f"file{len(files)}{suffix.get(option, '.txt')}"
            if not written:
                (tmp_path / path).write_text(content, encoding="utf-8")
            files[option] = path
    result = invoke(*_command_line(name, files))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("args, message", [
    (["grad", "x*w", "x=1", "w=2", "-o", "-", "--graph", "-"],
     "-o - and --graph - would both use standard output"),
    (["quiz", "x*w", "x=1", "w=2", "-o", "-", "--answers", "-"],
     "--answers - and the worksheet would both go to stdout"),
    (["train", "--save", "-", "--plot", "-"], "--save - and --plot - cannot both write"),
    (["train", "-", "--init", "-"], "--init -: standard input is read once"),
    (["grade", "-", "x=1", "--answers", "-"], "EXPR and --answers cannot both be read"),
], ids=["grad", "quiz", "train outputs", "train inputs", "grade"])
def test_stdout_or_stdin_twice(args, message):
    assert_bad_input(invoke(*args), message)


def test_an_input_and_an_output_on_the_standard_streams_are_fine():
    from click.testing import CliRunner

    from backtrace_cli.cli.main import main

    result = CliRunner().invoke(main, ["grad", "-", "x=1", "w=2", "--no-check", "-o", "-"],
                                input="x*w")
    assert result.exit_code == 0, result.stderr


def test_devices_never_collide(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not same_file("/dev/null", "/dev/null")
    result = invoke("train", "--epochs", "1", "--save", "/dev/null", "--plot", "/dev/null")
    assert "name the same file" not in result.stderr


def test_same_file():
    assert same_file("-", "-") and not same_file("-", "x")
    assert same_file("a/../b", "b") and same_file("./b", "b") and not same_file("b", "c")


def test_a_collision_is_found_before_the_expression_is_read(tmp_path, monkeypatch):
    # The program file is neither run nor overwritten, even when it is not a program.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.txt").write_text("this is ( not a program", encoding="utf-8")
    result = invoke("grad", "@prog.txt", "-o", "prog.txt")
    assert_bad_input(result, "EXPR @prog.txt and -o name the same file, prog.txt")
    assert (tmp_path / "prog.txt").read_text(encoding="utf-8") == "this is ( not a program"
