"""backtrace's torch: the part of PyTorch 2.13 that lectures 03-06 use, on backtrace's engine.

``backtrace run`` makes ``import torch`` (and ``torch.nn``, ``torch.nn.functional``,
``torch.optim``, ``torch.autograd``) resolve to this package; it can also be imported on its
own (``import backtrace_cli.torchlike as torch``). Tensors are NumPy arrays in PyTorch's
dtypes, every op rounded once in its dtype; autograd records each op through
``engine/recording.py`` with the op table's derivatives; printing, errors and warnings are
PyTorch's. Anything else raises ``NotImplementedError`` where the script uses it, never a
silently different number.
"""

from __future__ import annotations

import sys

from backtrace_cli.torchlike import _methods  # noqa: F401 (binds Tensor's operators)
from backtrace_cli.torchlike._autograd import GradMode
from backtrace_cli.torchlike._creation import (  # noqa: F401
    DoubleTensor,
    Generator,
    LongTensor,
    arange,
    default_generator,
    empty,
    from_numpy,
    full,
    initial_seed,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    seed,
    tensor,
    zeros,
    zeros_like,
)
from backtrace_cli.torchlike._device import device  # noqa: F401
from backtrace_cli.torchlike._dtypes import (  # noqa: F401
    bool_ as bool,  # noqa: A001 (PyTorch's name)
)
from backtrace_cli.torchlike._dtypes import (  # noqa: F401
    dtype,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from backtrace_cli.torchlike._missing import not_in_subset
from backtrace_cli.torchlike._ops import binary as _binary
from backtrace_cli.torchlike._ops import tensor_of as _tensor_of
from backtrace_cli.torchlike._ops import unary as _unary
from backtrace_cli.torchlike._shapes import matmul, mm  # noqa: F401
from backtrace_cli.torchlike._tensor import Size, Tensor  # noqa: F401

__version__ = "2.13.0+backtrace"
# What `import torch` and its submodules are inside `backtrace run`: PyTorch's module name,
# then this package's (the import hook reads this one list).
PUBLIC_MODULES = {
    "torch": "backtrace_cli.torchlike",
    "torch.nn": "backtrace_cli.torchlike.nn",
    "torch.nn.functional": "backtrace_cli.torchlike.nn.functional",
    "torch.nn.init": "backtrace_cli.torchlike.nn.init",
    "torch.optim": "backtrace_cli.torchlike.optim",
    "torch.autograd": "backtrace_cli.torchlike.autograd",
}
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

FloatTensor = Tensor


def _function(kind: str):
    def function(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{kind}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        if out is not None:
            raise NotImplementedError(not_in_subset(f"torch.{kind}(out=...)"))
        return _unary(_tensor_of(input), kind)
    function.__name__ = kind
    return function


exp = _function("exp")
log = _function("log")
sqrt = _function("sqrt")
tanh = _function("tanh")
sigmoid = _function("sigmoid")
relu = _function("relu")
abs = _function("abs")  # noqa: A001
neg = _function("neg")
negative = neg
clone = _function("clone")


def add(input, other, *, alpha=1):
    return _tensor_of(input).add(other, alpha=alpha)


def sub(input, other, *, alpha=1):
    return _tensor_of(input).sub(other, alpha=alpha)


def mul(input, other):
    return _binary(_tensor_of(input), other, "mul")


def div(input, other):
    return _binary(_tensor_of(input), other, "div")


def pow(input, exponent):  # noqa: A001
    if isinstance(input, Tensor):
        return _binary(input, exponent, "pow")
    return _binary(_tensor_of(exponent), input, "pow", swapped=True)


def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001, F811 (PyTorch's names)
    return _tensor_of(input).sum(dim, keepdim, dtype)


def mean(input, dim=None, keepdim=False, dtype=None):  # noqa: F811 (PyTorch's names)
    return _tensor_of(input).mean(dim, keepdim, dtype)


def dot(input, other):
    return matmul(input, other)


def t(input):
    return input.t()


def reshape(input, shape):
    return input.reshape(shape)


def numel(input) -> int:
    return input.numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def get_default_dtype():
    return float32


def set_default_dtype(kind) -> None:
    if kind is not float32:
        raise NotImplementedError(not_in_subset("torch.set_default_dtype other than float32"))


def set_printoptions(**options) -> None:
    raise NotImplementedError(not_in_subset("torch.set_printoptions"))


class no_grad:  # noqa: N801 (PyTorch's name)
    """``with torch.no_grad():`` (also a decorator): ops record no graph."""

    def __enter__(self):
        self.previous = GradMode.enabled
        GradMode.enabled = False

    def __exit__(self, *exc) -> None:
        GradMode.enabled = self.previous

    def __call__(self, function):
        def wrapped(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)
        wrapped.__name__ = getattr(function, "__name__", "wrapped")
        return wrapped


class enable_grad(no_grad):  # noqa: N801
    def __enter__(self):
        self.previous = GradMode.enabled
        GradMode.enabled = True


class set_grad_enabled(no_grad):  # noqa: N801
    def __init__(self, mode: bool) -> None:
        self.previous = GradMode.enabled
        GradMode.enabled = bool(mode)

    def __enter__(self):
        pass


def is_grad_enabled() -> bool:
    return GradMode.enabled


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch", name)


import backtrace_cli.torchlike.autograd  # noqa: E402
import backtrace_cli.torchlike.nn  # noqa: E402
import backtrace_cli.torchlike.optim  # noqa: E402, F401

autograd = sys.modules["backtrace_cli.torchlike.autograd"]
nn = sys.modules["backtrace_cli.torchlike.nn"]
optim = sys.modules["backtrace_cli.torchlike.optim"]


def _named_as_pytorch() -> None:
    """Classes print as PyTorch's do (``type(w)`` is ``<class 'torch.Tensor'>``): the module
    PyTorch defines each in. Graph nodes have no module, as PyTorch's C++ classes."""
    from backtrace_cli.torchlike import _autograd, _creation, _dtypes, _functions
    from backtrace_cli.torchlike.nn import modules as nn_modules

    homes = {
        Tensor: "torch", Size: "torch", _dtypes.dtype: "torch", device: "torch",
        _creation.Generator: "torch._C", no_grad: "torch.autograd.grad_mode",
        enable_grad: "torch.autograd.grad_mode", set_grad_enabled: "torch.autograd.grad_mode",
        nn.Parameter: "torch.nn.parameter", nn_modules.Module: "torch.nn.modules.module",
        nn_modules.Linear: "torch.nn.modules.linear", nn_modules.MSELoss: "torch.nn.modules.loss",
        nn_modules.BCELoss: "torch.nn.modules.loss",
        nn_modules.Sigmoid: "torch.nn.modules.activation",
        nn_modules.Tanh: "torch.nn.modules.activation",
        nn_modules.ReLU: "torch.nn.modules.activation",
        nn_modules.Sequential: "torch.nn.modules.container",
        optim.SGD: "torch.optim.sgd", optim.Optimizer: "torch.optim.optimizer",
        _autograd.AccumulateGrad: "builtins", _autograd.Function: "builtins",
    }
    for name in dir(_functions):
        item = getattr(_functions, name)
        if isinstance(item, type) and issubclass(item, _autograd.Function):
            homes[item] = "builtins"
    for cls, module in homes.items():
        cls.__module__ = module


_named_as_pytorch()
