"""Messages in the reader's language: GNU gettext catalogues behind one switch.

``_("the variable '{name}' has no value").format(name=name)`` translates when it is called,
into the language in force (``use_language``; by default the environment's, see
``language_from_environment``). English is the source language: its text is the message
itself, so English output never depends on a catalogue. Chinese comes from
``locale/zh_CN/LC_MESSAGES/backtrace.po`` (compiled to ``backtrace.mo`` when the package is
built, see ``_load`` for a source checkout). A text that is defined before the language is
known (a module constant, a Click help text) is marked with ``N_`` and translated where it is
shown.

Only the words are translated: symbols, numbers, node ids, variable names and math are
placeholders or stay outside the message; machine output (JSON, exit codes) never goes
through ``_``.
"""

from __future__ import annotations

import contextlib
import gettext
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

LANGUAGES = ("en", "zh")
DOMAIN = "backtrace"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# The catalogue folder of each language other than English.
CATALOGUE_OF = {"zh": "zh_CN"}
# Read in this order; the first one set decides (BACKTRACE_LANG is backtrace's own).
LOCALE_VARIABLES = ("BACKTRACE_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")

_chosen: str | None = None  # set by use_language; None: the environment decides
_loaded: dict[tuple[str, str], gettext.NullTranslations] = {}


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """'zh' when the first of BACKTRACE_LANG, LC_ALL, LC_MESSAGES, LANG, LANGUAGE that is set
    begins with ``zh`` (zh_CN.UTF-8, zh_TW, zh), else 'en' (also for C and POSIX)."""
    environ = os.environ if environ is None else environ
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            # LANGUAGE may list several (zh_CN:en); the first is the preferred one.
            return "zh" if value.split(":")[0].strip().lower().startswith("zh") else "en"
    return "en"


def language() -> str:
    """The language messages are written in now: 'en' or 'zh'."""
    return _chosen if _chosen is not None else language_from_environment()


@contextlib.contextmanager
def use_language(name: str | None) -> Iterator[None]:
    """Write messages in ``name`` ('en', 'zh'; None: the environment's) inside the block."""
    global _chosen
    if name is not None and name not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}; choose one of {', '.join(LANGUAGES)}")
    previous = _chosen
    _chosen = name
    try:
        yield
    finally:
        _chosen = previous


def set_language(name: str | None) -> None:
    """Write messages in ``name`` from now on (None: the environment's language)."""
    global _chosen
    if name is not None and name not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}; choose one of {', '.join(LANGUAGES)}")
    _chosen = name


def translations(domain: str = DOMAIN, name: str | None = None) -> gettext.NullTranslations:
    """The catalogue of ``domain`` ('backtrace', or 'click' for Click's own texts) in the
    language ``name`` (default: the current one). English is the identity."""
    name = language() if name is None else name
    key = (domain, name)
    if key not in _loaded:
        _loaded[key] = _load(domain, name)
    return _loaded[key]


def _load(domain: str, name: str) -> gettext.NullTranslations:
    if name not in CATALOGUE_OF:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / CATALOGUE_OF[name] / "LC_MESSAGES"
    po, mo = folder / f"{domain}.po", folder / f"{domain}.mo"
    # The build (setup.py's build_py, also for an editable install) compiles the .po into a
    # .mo beside it. A source checkout whose .mo is missing or older than its .po compiles
    # the .po in memory with Babel (the test extra has it); without Babel a stale .mo is
    # still read, and with no .mo at all the messages stay English.
    fresh = mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime)
    if not fresh and po.exists():
        try:
            from backtrace_cli.catalogue import compile_mo

            compiled = compile_mo(po)
        except ImportError:
            compiled = None
        if compiled is not None:
            import io

            return gettext.GNUTranslations(io.BytesIO(compiled))
    if mo.exists():
        with mo.open("rb") as file:
            return gettext.GNUTranslations(file)
    return gettext.NullTranslations()


def _(message: str) -> str:
    """``message`` in the current language (the message itself in English)."""
    if not message:
        return message
    return translations().gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark ``message`` for the catalogue without translating it yet (it is translated with
    ``_`` where it is shown)."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for ``count``, in the current language."""
    return translations().ngettext(singular, plural, count)


def translated(text: str | None) -> str | None:
    """A text the core wrote in English because it is also machine output (a note kept in
    the JSON), shown in the current language when the catalogue has it. Its literal is
    marked with ``N_`` where the core makes it; a text with values in it stays English."""
    if not text:
        return text
    return translations().gettext(text)


def from_template(text: str | None, templates, nested=None) -> str | None:
    """``text``, which the core made in English from one of ``templates`` (each marked with
    ``N_``, fields like ``{where}``), in the current language: the fields are read back out
    of the English and put into the translated template (a field named in ``nested`` is
    itself read with that field's templates). A text no template makes is returned as
    ``translated`` gives it."""
    import re
    import string

    if not text:
        return text
    for template in templates:
        pattern, fields = "", []
        for literal, field_name, _spec, _conversion in string.Formatter().parse(template):
            pattern += re.escape(literal)
            if field_name is not None:
                pattern += f"(?P<{field_name}>.+?)" if field_name not in fields else \
                    f"(?P={field_name})"
                fields.append(field_name)
        match = re.fullmatch(pattern, text, flags=re.S)
        if match:
            fields = match.groupdict()
            for name, inner in (nested or {}).items():
                if name in fields:
                    fields[name] = from_template(fields[name], inner)
            return translations().gettext(template).format(**fields)
    return translated(text)
