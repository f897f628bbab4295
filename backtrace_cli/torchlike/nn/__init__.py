"""``torch.nn``: Module, Parameter, Linear, the losses and activations of the subset."""

from __future__ import annotations

import sys

import backtrace_cli.torchlike.nn.functional  # noqa: F401
import backtrace_cli.torchlike.nn.init  # noqa: F401
from backtrace_cli.torchlike.nn.modules import (  # noqa: F401
    BCELoss,
    Linear,
    Module,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from backtrace_cli.torchlike.nn.parameter import Parameter  # noqa: F401

functional = sys.modules["backtrace_cli.torchlike.nn.functional"]
init = sys.modules["backtrace_cli.torchlike.nn.init"]


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch.nn", name)
