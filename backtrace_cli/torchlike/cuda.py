"""``torch.cuda``: backtrace's torch runs on the CPU only, so no GPU is ever available.

Students' scripts often start with ``device = "cuda" if torch.cuda.is_available() else
"cpu"``; answering as a machine without a GPU keeps them on the CPU path PyTorch would take
there. Anything else of ``torch.cuda`` is outside the subset."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed) -> None:
    """Seeds the GPUs' generators: with none, nothing to do (as PyTorch without a GPU)."""


def manual_seed_all(seed) -> None:
    """Seeds every GPU's generator: with none, nothing to do (as PyTorch without a GPU)."""


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch.cuda", name)
