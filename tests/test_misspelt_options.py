"""A misspelt option is not a binding (issue 21, item 18).

``grad "x*w" x=1 w=1 --fromat json`` used to say "'json' is not a number". In every command
that takes bindings, a ``--NAME`` that is no name of the expression and is close to one of
the command's options is refused as that option misspelt, exit 2, whatever follows it, and
wherever it stands; a ``--NAME`` that is a name of the expression still binds it.
"""

from __future__ import annotations

import click
import pytest

from tests.helpers import assert_bad_input, invoke

# Every command that takes bindings, with arguments that work.
COMMANDS = {
    "grad": ["grad", "x*w", "x=1", "w=2", "--no-check"],
    "jacobian": ["jacobian", "[x*w, x]", "x=1", "w=2", "--no-check"],
    "hessian": ["hessian", "x*w*x", "x=1", "w=2", "--no-check"],
    "graph": ["graph", "x*w", "x=1", "w=2", "--format", "dot"],
    "simplify": ["simplify", "w*x", "w=2", "x=1"],
    "minimize": ["minimize", "x*x + w*w", "x=1", "w=2", "--steps", "1"],
    "quiz": ["quiz", "x*w", "x=1", "w=2"],
    "grade": ["grade", "x*w", "x=1", "w=2", "--answers", "ANSWERS"],
}


def _context(command: click.Command) -> click.Context:
    """A context as the command line makes it (the group's settings: ``-h`` is help too;
    Click keeps the first help option it makes, so a bare context would lose ``-h``)."""
    from backtrace_cli.cli.main import main

    parent = click.Context(main, **main.context_settings)
    return click.Context(command, parent=parent, **command.context_settings)


def _command(name: str) -> click.Command:
    from backtrace_cli.cli.main import main

    return main.get_command(_context(main), name)


def _options(name: str) -> list[str]:
    command = _command(name)
    context = _context(command)
    return sorted({option for param in command.get_params(context)
                   if isinstance(param, click.Option)
                   for option in (*param.opts, *param.secondary_opts)
                   if option.startswith("--") and len(option) > 4})


def _misspelt(option: str) -> str:
    """Two neighbouring letters of the option's name swapped (--format -> --fromat)."""
    name = option[2:]
    i = 1 if len(name) > 3 else 0
    return "--" + name[:i] + name[i + 1] + name[i] + name[i + 2:]


def _args(name: str, tmp_path) -> list[str]:
    answers = tmp_path / "answers.json"
    answers.write_text('{"gradients": {}}', encoding="utf-8")
    return [str(answers) if arg == "ANSWERS" else arg for arg in COMMANDS[name]]


CASES = [(name, option) for name in COMMANDS for option in _options(name)
         if _misspelt(option) not in _options(name)]


def test_every_command_with_bindings_is_covered():
    from backtrace_cli.cli.main import COMMANDS as ALL
    from backtrace_cli.cli.options import EXPRESSION_CONTEXT

    takes_bindings = {name for name in ALL if _command(name).context_settings.get(
        "ignore_unknown_options") == EXPRESSION_CONTEXT["ignore_unknown_options"]}
    assert takes_bindings == set(COMMANDS)
    assert len(CASES) > 40


@pytest.mark.parametrize("name, option", CASES, ids=[f"{n} {o}" for n, o in CASES])
def test_each_option_misspelt_after_the_bindings(name, option, tmp_path):
    typo = _misspelt(option)
    message = f"no such option {typo}; did you mean {option}?"
    for tail in ([typo, "json"], [f"{typo}=5"], [typo], [typo, "5", "x=1"]):
        result = invoke(*_args(name, tmp_path), *tail)
        assert_bad_input(result, message)


@pytest.mark.parametrize("name", COMMANDS)
def test_a_misspelt_option_before_the_expression(name, tmp_path):
    args = _args(name, tmp_path)
    result = invoke(args[0], "--fromat", "json", *args[1:])
    assert_bad_input(result, "no such option --fromat; did you mean --format?")


@pytest.mark.parametrize("typed, meant", [
    ("--fromat", "--format"), ("--no-chek", "--no-check"), ("--wtr", "--wrt"),
    ("--ouput", "--output"), ("--grpah", "--graph"), ("--chek-timeout", "--check-timeout"),
    ("--ordr", "--order"), ("--mdoe", "--mode"), ("--witdh", "--width"), ("--lnag", "--lang"),
])
def test_the_issues_grad_typos(typed, meant):
    result = invoke("grad", "x*w", "x=1", "w=1", typed, "json")
    assert_bad_input(result, f"no such option {typed}; did you mean {meant}?")


def test_minimize_step():
    result = invoke("minimize", "x*x", "x=1", "--step", "5")
    assert_bad_input(result, "no such option --step; did you mean --steps?")


@pytest.mark.parametrize("name", COMMANDS)
def test_a_name_of_the_expression_still_binds(name, tmp_path):
    args = _args(name, tmp_path)
    args[1] = args[1].replace("w", "fromat")
    args = [arg for arg in args if arg != "w=2"]
    result = invoke(*args, "--fromat", "2")
    assert result.exit_code in (0, 1), result.stderr  # grade: 1 is a wrong answer
    assert "no such option" not in result.stderr


def test_a_name_far_from_every_option_is_an_unused_binding():
    result = invoke("grad", "x*w", "x=1", "w=1", "--zzzzz", "2", "--no-check")
    assert_bad_input(result, "the binding 'zzzzz' is not used by the expression")


def test_a_positional_binding_is_never_taken_for_an_option():
    result = invoke("grad", "x*w", "x=1", "w=1", "fromat=2", "--no-check")
    assert_bad_input(result, "the binding 'fromat' is not used")
    assert "no such option" not in result.stderr


@pytest.mark.parametrize("name", COMMANDS)
def test_an_option_no_variable_can_be_named_is_no_option(name, tmp_path):
    for typed in ("--zz-top", "--check-everything", "--x.y"):
        result = invoke(*_args(name, tmp_path), typed, "2")
        assert_bad_input(result, f"no such option {typed}",
                         f"the options are listed by backtrace {name} --help")
