"""The guides for contributors name files that exist: docs/architecture.md and CONTRIBUTING.md.

A path in backticks (``engine/sweeps.py``, ``tests/tiers.py``, ``docs/schema/``) must be a
file or folder of the checkout, or of the package ``backtrace_cli/``; a Markdown link must
lead somewhere. Placeholders (``NAME.py``) and the section on folders still being built are
left out. When code moves, this test says which sentence to mend.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ("docs/architecture.md", "CONTRIBUTING.md")
PATH = re.compile(r"`((?:\.\./)?[A-Za-z_.][\w./-]*(?:\.(?:py|md|json|po|toml)|/))`")
LINK = re.compile(r"\]\(([^)#\s]+)\)")
COMING = "\n## Coming"  # the section on folders that other work is adding


def _text(guide: str) -> str:
    return (ROOT / guide).read_text(encoding="utf-8").split(COMING)[0]


PLACEHOLDERS = ("NAME", "COMMAND", "LL_CC")  # NAME.py, docs/schema/COMMAND.json, LL_CC/


def _exists(guide: str, name: str) -> bool:
    """A path with a folder is read from the checkout's root, the guide's folder or the
    package; a bare file name (``click.po``) must be somewhere in the checkout."""
    if any(placeholder in name for placeholder in PLACEHOLDERS):
        return True
    if "/" not in name:
        return any(path for path in ROOT.rglob(name) if ".git" not in path.parts)
    here = (ROOT / guide).parent
    return any((base / name).exists() for base in (ROOT, here, ROOT / "backtrace_cli"))


@pytest.mark.parametrize("guide", GUIDES)
def test_every_path_named_in_a_guide_exists(guide):
    missing = sorted({name for name in PATH.findall(_text(guide)) if not _exists(guide, name)})
    assert not missing, f"{guide} names paths that are not in the checkout: {missing}"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_link_of_a_guide_leads_somewhere(guide):
    links = LINK.findall(_text(guide))
    assert links, f"{guide} links to nothing"
    broken = [link for link in links
              if "://" not in link and not ((ROOT / guide).parent / link).exists()]
    assert not broken, f"{guide} has broken links: {broken}"


def test_the_check_sees_a_missing_path():
    assert _exists("CONTRIBUTING.md", "engine/sweeps.py")
    assert not _exists("CONTRIBUTING.md", "engine/no_such_module.py")
    assert _exists("CONTRIBUTING.md", "click.po") and not _exists("CONTRIBUTING.md", "nope.po")
    assert PATH.findall("see `engine/sweeps.py` and `tests/`") == ["engine/sweeps.py", "tests/"]
