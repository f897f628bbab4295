"""Assertions that many test files share: golden files and refused input."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(request, name: str, text: str) -> None:
    """Compare byte for byte with tests/golden/NAME; ``pytest --update-golden`` (or the
    environment variable BACKTRACE_UPDATE_GOLDEN=1) rewrites it instead."""
    path = GOLDEN / name
    data = text.encode("utf-8")
    update = request.config.getoption("--update-golden", default=False) or os.environ.get(
        "BACKTRACE_UPDATE_GOLDEN"
    )
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
    assert data == path.read_bytes(), f"{name} differs; review, then pytest --update-golden"


def assert_bad_input(result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one clear message on stderr holding every fragment, never a
    traceback. Returns stderr."""
    assert result.exit_code == 2, (result.stdout[-300:], result.stderr)
    assert result.stdout == ""
    # Ours start with "Error: "; Click's own usage errors put the usage line first.
    assert result.stderr.startswith("Error: ") or "\nError: " in result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr
