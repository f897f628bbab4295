"""``torch.nn.init``: the initialisers nn.Linear uses, drawing from PyTorch's generator."""

from __future__ import annotations

import math

from backtrace_cli.torchlike._autograd import GradMode
from backtrace_cli.torchlike._creation import normal_ as _normal
from backtrace_cli.torchlike._creation import uniform_ as _uniform


def _fans(tensor) -> tuple[int, int]:
    shape = tensor._value.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for n in shape[2:]:
        receptive *= n
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param=None) -> float:
    if nonlinearity in ("linear", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    previous, GradMode.enabled = GradMode.enabled, False
    try:
        return _uniform(tensor, a, b)
    finally:
        GradMode.enabled = previous


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    return _normal(tensor, mean, std)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def zeros_(tensor):
    tensor._value[...] = 0
    return tensor


def ones_(tensor):
    tensor._value[...] = 1
    return tensor


def constant_(tensor, val):
    tensor._value[...] = val
    return tensor


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch.nn.init", name)
