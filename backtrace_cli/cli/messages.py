"""The messages to translate, found in the code, and the catalogues kept in step with them.

Two sources: every ``_("...")``, ``N_("...")`` and ``ngettext("...", "...", n)`` call in the
package (read with ``ast``: a message must be a literal, so a tool can find it), and the help
texts, epilogs and option help of every command (read from the Click objects, as Click will
draw them). Click's own words come from Click's source the same way, for the "click"
catalogue.

    python -m backtrace_cli.cli.messages check    # exit 1: a message without an entry, an
                                                 # entry without a message, or no translation
    python -m backtrace_cli.cli.messages update   # add every new message (empty msgstr) and
                                                 # drop the entries no message uses any more
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

from backtrace_cli import catalogue
from backtrace_cli.i18n import CATALOGUE_OF, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent.parent
MARKERS = {"_": 1, "N_": 1, "ngettext": 2}  # function -> how many message arguments
HEADER_COMMENT = "# Chinese (zh_CN) messages of backtrace-cli."


class Messages(dict):
    """msgid -> (msgid_plural or None, [where it is used, ...]), in the order found."""

    def add(self, msgid: str, plural: str | None, where: str) -> None:
        _, places = self.setdefault(msgid, (plural, []))
        places.append(where)


def calls_in(paths, root: Path, markers=MARKERS) -> tuple[Messages, list[str]]:
    """The messages of the marker calls in ``paths``, and the calls whose argument is not a
    literal (a message a tool cannot find: an f-string, a variable)."""
    found, problems = Messages(), []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            count = markers.get(node.func.id)
            if count is None or not node.args:
                continue
            where = f"{path.relative_to(root).as_posix()}:{node.lineno}"
            texts = node.args[:count]
            if not all(isinstance(t, ast.Constant) and isinstance(t.value, str) for t in texts):
                problems.append(where)
                continue
            plural = texts[1].value if count == 2 else None
            found.add(texts[0].value, plural, where)
    return found, problems


def command_texts() -> Messages:
    """The help, short help, epilog and option help of the group and every command."""
    from backtrace_cli.cli.main import COMMANDS, main

    found = Messages()
    commands = [("backtrace", main)]
    for name, module in COMMANDS.items():
        commands.append((name, getattr(importlib.import_module(f"backtrace_cli.cli.{module}"),
                                       name)))
    for name, command in commands:
        for attribute in ("help", "short_help", "epilog"):
            text = getattr(command, attribute, None)
            if text:
                found.add(inspect.cleandoc(text), None, f"backtrace {name} ({attribute})")
        for param in command.params:
            if getattr(param, "help", None):
                found.add(param.help, None, f"backtrace {name} {param.opts[0]}")
    return found


def backtrace_messages() -> tuple[Messages, list[str]]:
    """Every message of backtrace to translate, and the non-literal marker calls."""
    found, problems = calls_in(sorted(PACKAGE.rglob("*.py")), PACKAGE.parent)
    for msgid, (plural, places) in command_texts().items():
        for place in places:
            found.add(msgid, plural, place)
    return found, problems


def click_messages() -> Messages:
    """The messages Click itself translates (its ``_`` and ``ngettext`` calls)."""
    import click

    root = Path(click.__file__).resolve().parent
    found, _ = calls_in(sorted(root.glob("*.py")), root.parent)
    return found


def catalogue_path(domain: str, language: str = "zh") -> Path:
    return LOCALE_DIR / CATALOGUE_OF[language] / "LC_MESSAGES" / f"{domain}.po"


def entries(domain: str, language: str = "zh") -> list:
    """The messages (``babel.messages.Message``) of a catalogue, without its header."""
    path = catalogue_path(domain, language)
    return [message for message in catalogue.read(path) if message.id] if path.exists() else []


def singular(message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def plural_of(message) -> str | None:
    return message.id[1] if isinstance(message.id, (list, tuple)) else None


def problems(domain: str = "backtrace", language: str = "zh") -> list[str]:
    """Everything that keeps the catalogue from matching the code, one line each."""
    if domain == "backtrace":
        messages, literal_problems = backtrace_messages()
    else:
        messages, literal_problems = click_messages(), []
    found = [f"not a literal message (a tool cannot find it): {where}"
             for where in literal_problems]
    known = {singular(message): message for message in entries(domain, language)}
    for msgid, (plural, places) in messages.items():
        if domain == "click" and msgid not in known:
            continue  # Click's catalogue translates the words backtrace's users meet
        message = known.get(msgid)
        if message is None:
            found.append(f"no {language} entry for {msgid!r} ({places[0]})")
        elif not catalogue.translated(message):
            found.append(f"no {language} translation for {msgid!r} ({places[0]})")
        elif plural_of(message) != plural:
            found.append(f"the plural of {msgid!r} differs from the code ({places[0]})")
    for msgid in known:
        if msgid not in messages:
            found.append(f"the {language} entry {msgid!r} matches no message in the code")
    return found


def _where(place: str) -> tuple[list, list]:
    """A place as Babel's location (file, line) or, for a command's text, a comment."""
    path, _colon, line = place.rpartition(":")
    if path and line.isdigit():
        return [(path, int(line))], []
    return [], [place]


def update(domain: str = "backtrace", language: str = "zh") -> Path:
    """Rewrite the catalogue in the code's order: new messages get an empty msgstr, entries
    no message uses are dropped, translations and the header are kept."""
    from babel.messages.catalog import Catalog

    messages = backtrace_messages()[0] if domain == "backtrace" else click_messages()
    path = catalogue_path(domain, language)
    old = catalogue.read(path) if path.exists() else None
    known = {singular(message): message for message in entries(domain, language)}
    new = Catalog(locale=CATALOGUE_OF[language], domain=domain, project="backtrace-cli",
                  version=None, header_comment=old.header_comment if old else HEADER_COMMENT,
                  creation_date=old.creation_date if old else None,
                  revision_date=old.revision_date if old else None, fuzzy=False)
    for msgid, (plural, places) in messages.items():
        if domain == "click" and msgid not in known:
            continue
        previous = known.get(msgid)
        if previous is not None and plural_of(previous) == plural:
            string = previous.string
        else:
            string = ("",) if plural is not None else ""
        locations, comments = [], []
        for place in places[:3]:
            where, said = _where(place)
            locations += where
            comments += said
        new.add(msgid if plural is None else (msgid, plural), string, locations=locations,
                auto_comments=comments)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalogue.write(path, new)
    return path


def run(argv: list[str]) -> int:
    action = argv[0] if argv else "check"
    if action == "update":
        for domain in ("backtrace", "click"):
            print(update(domain))
        return 0
    if action == "check":
        found = problems("backtrace") + problems("click")
        print("\n".join(found) or "the catalogues match the code")
        return 1 if found else 0
    print(f"usage: python -m backtrace_cli.cli.messages check|update (not {action!r})")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:]))
