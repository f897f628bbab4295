"""``--lang zh|en`` and ``BACKTRACE_LANG``: the language of everything a person reads.

The language is read from the arguments before Click parses them (``language_in``), so the
usage errors Click raises while parsing, and ``--help`` wherever it stands, are already in
it. Help texts are kept in English on the Click objects (they are the catalogue's msgids)
and translated while the help is drawn (``Translated``). Click's own words ("Usage:",
"Options:", "Error: ...") go through Click's gettext calls, which ``install_click_catalogue``
points at backtrace's "click" catalogue.
"""

from __future__ import annotations

import contextlib
import inspect

import click

from backtrace_cli.i18n import LANGUAGES, translated, translations

LANG_HELP = "The language of tables, notes, help and messages (default: BACKTRACE_LANG, " \
    "else zh when LC_ALL, LC_MESSAGES, LANG or LANGUAGE starts with zh, else en). " \
    "JSON and exit codes never change."


def lang_option() -> click.Option:
    """The ``--lang`` option every command has (its value was applied before parsing)."""
    return click.Option(["--lang"], type=click.Choice(LANGUAGES), expose_value=False,
                        is_eager=True, help=LANG_HELP)


# Commands that pass the arguments after their first positional one to someone else
# (`backtrace run SCRIPT --lang zh` gives --lang to the script), with their options that take
# a value; the group's own options that take one.
PASSING_ON = {"run": ("--python", "--lang")}
GROUP_VALUED = ("--lang",)


def backtraces_own(args: list[str]) -> list[str]:
    """The arguments backtrace reads itself: all of them, but for a command of PASSING_ON only
    those up to and including its first positional argument (the script)."""
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        index += 2 if args[index] in GROUP_VALUED else 1
    if index >= len(args) or args[index] not in PASSING_ON:
        return args
    valued = PASSING_ON[args[index]]
    index += 1
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        if args[index] == "--":
            break
        index += 2 if args[index] in valued else 1
    return args[:index + 1]


def language_in(args: list[str]) -> str | None:
    """The language the arguments ask for (the last ``--lang X`` or ``--lang=X`` before a
    ``--``), or None. A value that is not a language is left for Click to refuse. Arguments
    that belong to a script (``backtrace run SCRIPT ARG...``) are not read."""
    chosen = None
    args = backtraces_own(args)
    for index, argument in enumerate(args):
        if argument == "--":
            break
        value = None
        if argument == "--lang" and index + 1 < len(args):
            value = args[index + 1]
        elif argument.startswith("--lang="):
            value = argument[len("--lang="):]
        if value in LANGUAGES:
            chosen = value
    return chosen


class Translated:
    """A Click command or group whose help, epilog and options' help are drawn translated."""

    def main(self, args=None, *rest, **options):
        """Run the command with the language its arguments (or the environment) ask for."""
        import sys

        from backtrace_cli.i18n import use_language

        listed = list(sys.argv[1:] if args is None else args)
        with use_language(language_in(listed)):
            return super().main(listed, *rest, **options)

    @contextlib.contextmanager
    def _translated(self, ctx: click.Context | None = None):
        saved = (self.help, self.epilog, self.short_help)
        params = [param for param in self.params if getattr(param, "help", None)]
        saved_params = [param.help for param in params]
        # Click makes the help option once per command and keeps it, its help text in the
        # language of the first invocation: draw it in the current one.
        help_option = self.get_help_option(ctx) if ctx is not None else None
        saved_help_option = help_option.help if help_option is not None else None
        try:
            if help_option is not None:
                help_option.help = _click_gettext("Show this message and exit.")
            self.help = translated(inspect.cleandoc(self.help)) if self.help else self.help
            self.epilog = translated(inspect.cleandoc(self.epilog)) if self.epilog else self.epilog
            if self.short_help:
                self.short_help = translated(inspect.cleandoc(self.short_help))
            for param in params:
                param.help = translated(param.help)
            yield
        finally:
            self.help, self.epilog, self.short_help = saved
            for param, text in zip(params, saved_params):
                param.help = text
            if help_option is not None:
                help_option.help = saved_help_option

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with self._translated(ctx):
            super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with self._translated():
            return super().get_short_help_str(limit)


def _click_gettext(message: str) -> str:
    return translations("click").gettext(message)


def _click_ngettext(singular: str, plural: str, count: int) -> str:
    return translations("click").ngettext(singular, plural, count)


def install_click_catalogue() -> None:
    """Route Click's ``gettext``/``ngettext`` calls through the "click" catalogue of the
    current language. Click binds ``_`` and ``ngettext`` per module at import time
    (``from gettext import gettext as _``), so those module names are the way in; English is
    the identity, as Click's own gettext would be without a catalogue."""
    import importlib

    for name in ("core", "decorators", "exceptions", "formatting", "parser",
                 "shell_completion", "termui", "types", "utils"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _click_gettext
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext
