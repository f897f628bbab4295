"""What a name outside the subset does: raise where the script uses it, never a silently
different number. Every module of the package answers an unknown name with this."""

from __future__ import annotations

import sys


def missing(module: str, public: str, name: str):
    """The attribute ``name`` of package ``module`` (public name ``public``, e.g.
    ``torch.nn``): a submodule still being imported, an AttributeError for a dunder name
    (Python's own probes), else NotImplementedError."""
    submodule = sys.modules.get(f"{module}.{name}")
    if submodule is not None:
        return submodule
    if name.startswith("__"):
        raise AttributeError(f"module '{public}' has no attribute '{name}'")
    raise NotImplementedError(not_in_subset(f"{public}.{name}"))


def not_in_subset(what: str) -> str:
    """backtrace's own words (in the reader's language) for a part of PyTorch it has not."""
    from backtrace_cli.i18n import _

    return _("backtrace's torch has no {what}: run this script with PyTorch itself").format(
        what=what)
