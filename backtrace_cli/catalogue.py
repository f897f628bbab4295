"""GNU gettext catalogues read, written and compiled with Babel.

``read`` parses a ``.po`` file into a ``babel.messages.Catalog``, ``write`` writes one back,
and ``compile_mo`` makes the binary ``.mo`` that the standard library's ``gettext`` reads.
The build (setup.py's ``build_py``, also in an editable install) compiles every ``.po`` with
``compile_mo``; ``i18n`` calls it only when no ``.mo`` was built or the ``.po`` is newer (a
source checkout). Babel is imported here and nowhere else, and only when one of these runs:
reading a built ``.mo`` needs nothing but the standard library.
"""

from __future__ import annotations

import io
from pathlib import Path

# Babel wraps long strings at this width; the catalogues are written with it every time, so
# a rewrite that changes nothing gives back the same bytes.
WIDTH = 76


def read(path: Path):
    """The catalogue in the ``.po`` file at ``path`` (a ``babel.messages.Catalog``)."""
    from babel.messages.pofile import read_po

    with Path(path).open("rb") as file:
        return read_po(file, abort_invalid=True)


def dumps(catalog) -> bytes:
    """The ``.po`` text of ``catalog``, as ``write`` stores it."""
    from babel.messages.pofile import write_po

    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, omit_header=False, include_previous=False)
    return out.getvalue()


def write(path: Path, catalog) -> None:
    """Store ``catalog`` as the ``.po`` file at ``path``."""
    Path(path).write_bytes(dumps(catalog))


def compile_mo(path: Path) -> bytes:
    """The ``.mo`` file of the ``.po`` at ``path``: its translated, non-fuzzy messages."""
    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, read(path), use_fuzzy=False)
    return out.getvalue()


def translated(message) -> bool:
    """Whether a Babel ``Message`` has every translation and is not marked fuzzy."""
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return not message.fuzzy and bool(strings) and all(strings)
