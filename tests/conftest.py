"""Shared test settings: the --update-golden option, the Hypothesis profiles, and the JSON
schemas checked on every CliRunner invocation.

``pytest --update-golden`` rewrites the files under ``tests/golden/`` from the current output
(review the diff before committing). Hypothesis runs the modest "ci" profile by default;
``HYPOTHESIS_PROFILE=long pytest tests/test_properties.py`` searches much longer.

``pytest -m "not slow"`` is the fast tier: the tests that ``tiers.py`` lists are marked
``slow`` as they are collected (the list, and why each is there, is in that file).

Every ``CliRunner().invoke`` of ``grad``, ``train`` or ``simplify`` that ran with
``--format json`` and printed something has its stdout validated against
``docs/schema/COMMAND.json`` (``helpers.validate``) when the test function returns (so that the
tests that time themselves do not time the validation): a test that prints JSON the schema does
not describe fails, with the invocation and the JSON path of the problem. Tests that run a
subprocess call ``validate`` themselves.
"""

from __future__ import annotations

import os

import click.testing
import helpers
import pytest
import tiers
from helpers import SCHEMA_COMMANDS
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,  # SymPy's first call in a process is slow; time is bounded by max_examples
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI is reproducible; "long" explores
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# The tests pin English text: a developer's zh_CN locale must not change it (test_i18n.py
# sets the language it tests explicitly).
os.environ["BACKTRACE_LANG"] = "en"


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests of the slow tier (tiers.py) ``slow``; ``-m "not slow"`` leaves them out."""
    for item in items:
        function = getattr(item, "originalname", item.name)
        if tiers.is_slow(item.path.name, function):
            item.add_marker(pytest.mark.slow)


def pytest_ignore_collect(collection_path, config):
    """With ``-m "not slow"``, a file whose every test is slow is not even imported (some
    import PyTorch or a browser driver, which takes seconds). Otherwise pytest decides."""
    only_fast = " ".join((config.getoption("markexpr", "") or "").split()) == "not slow"
    if only_fast and collection_path.suffix == ".py" and tiers.is_slow_module(
            collection_path.name):
        return True
    return None


# ----------------------------------------------------------------------------- JSON schemas
def _json_command(cli, args) -> str | None:
    """The schema command (grad, train, simplify) an invocation ran with --format json, or
    None. The options are parsed by Click itself, so ``--format=json``, a repeated --format
    (the last wins) and ``--`` mean what they mean to the command."""
    import shlex

    if args is None:
        return None
    arguments = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    if isinstance(cli, click.Group):
        if not arguments or arguments[0] not in SCHEMA_COMMANDS:
            return None
        name, arguments = arguments[0], arguments[1:]
        command = cli.get_command(None, name)
    else:
        name, command = cli.name, cli
    if name not in SCHEMA_COMMANDS or command is None:
        return None
    try:
        context = command.make_context(name, list(arguments), resilient_parsing=True)
    except (click.exceptions.Exit, click.ClickException):
        return None
    if context.params.get("output_format") != "json":
        return None
    # A file written to stdout (--save -, --plot -, --graph -) moves the report to stderr.
    outputs = [context.params.get(key) for key in ("save_path", "plot_path", "graph_path")]
    on_stdout = any(value == "-" or (isinstance(value, tuple) and "-" in value)
                    for value in outputs)
    return None if on_stdout else name


def _invoke_and_validate(self, cli, args=None, *rest, **options):
    result = _real_invoke(self, cli, args, *rest, **options)
    finished = result.exception is None or isinstance(result.exception, SystemExit)
    if finished and result.stdout.strip():
        command = _json_command(cli, args)
        if command is not None:
            shown = args if isinstance(args, str) else " ".join(map(str, args))
            ran = f"backtrace {shown[:200]}{' ...' if len(shown) > 200 else ''}"
            helpers.PENDING.append((command, ran, result.stdout))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Validate the JSON the test printed through CliRunner, once the test has passed."""
    helpers.PENDING.clear()
    try:
        outcome = yield
    except BaseException:
        helpers.PENDING.clear()  # the test's own failure is the one to report
        raise
    helpers.check_pending()
    return outcome


_real_invoke = click.testing.CliRunner.invoke


def pytest_configure(config) -> None:
    click.testing.CliRunner.invoke = _invoke_and_validate


def pytest_unconfigure(config) -> None:
    click.testing.CliRunner.invoke = _real_invoke
