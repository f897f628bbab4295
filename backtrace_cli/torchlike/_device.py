"""``torch.device``: the CPU, the only device of backtrace's torch."""

from __future__ import annotations

from backtrace_cli.torchlike._missing import not_in_subset


class device:  # noqa: N801 (PyTorch's name)
    def __init__(self, kind: str = "cpu") -> None:
        if str(kind).split(":")[0] != "cpu":
            raise NotImplementedError(not_in_subset(f"device {kind!r}"))
        self.type = "cpu"

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other) -> bool:
        return str(other) == "cpu"

    __hash__ = object.__hash__


CPU = device()
