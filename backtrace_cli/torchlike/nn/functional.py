"""``torch.nn.functional``: sigmoid, relu, tanh, linear, mse_loss, binary_cross_entropy.

The losses are PyTorch's fused kernels (one ``MseLossBackward0`` or
``BinaryCrossEntropyBackward0`` node), computed in PyTorch's order: ``(x - y)**2`` as
``d * d`` then summed or averaged; BCE as ``(y - 1) * max(log1p(-x), -100) - y * max(log(x),
-100)``. The old ``size_average=``/``reduce=`` arguments give PyTorch's warning.
"""

from __future__ import annotations

import numpy

import backtrace_cli.torchlike._dtypes as _dtypes
import backtrace_cli.torchlike._functions as fn
from backtrace_cli.torchlike._autograd import GradMode, backend, make, user_frame
from backtrace_cli.torchlike._missing import not_in_subset
from backtrace_cli.torchlike._ops import _quiet, full_mean, full_sum, node_of, tensor_of, unary
from backtrace_cli.torchlike._shapes import addmm, matmul, transpose_2d
from backtrace_cli.torchlike._tensor import Tensor, _warn_at_user, as_array

LEGACY = "size_average and reduce args will be deprecated, please use reduction='{}' instead."


def legacy_reduction(size_average, reduce) -> str:
    """The reduction the old arguments mean, with PyTorch's warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        reduction = "mean"
    elif reduce:
        reduction = "sum"
    else:
        reduction = "none"
    _warn_at_user(LEGACY.format(reduction), user_frame)
    return reduction


def sigmoid(input):
    return unary(input, "sigmoid")


def relu(input, inplace: bool = False):
    if inplace:
        raise NotImplementedError(not_in_subset("relu(inplace=True)"))
    return unary(input, "relu")


def tanh(input):
    return unary(input, "tanh")


def _tensor_argument(function: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(value).__name__}")


def linear(input, weight, bias=None):
    """input @ weight.T + bias: PyTorch's addmm for a matrix (a vector is viewed as a row)."""
    _tensor_argument("linear", input)
    if bias is None:
        return matmul(input, transpose_2d(weight))
    if input._value.ndim == 2:
        return addmm(bias, input, transpose_2d(weight))
    if input._value.ndim == 1:
        row = input.view(1, input._value.shape[0])
        return addmm(bias, row, transpose_2d(weight)).view(weight._value.shape[0])
    return matmul(input, transpose_2d(weight)) + bias


def _reduced(elements, reduction: str):
    if reduction == "none":
        return elements
    if reduction == "sum":
        return as_array(full_sum(elements), _dtypes.of_numpy(elements.dtype))
    if reduction == "mean":
        return as_array(full_mean(elements), _dtypes.of_numpy(elements.dtype))
    raise ValueError(f"{reduction} is not a valid value for reduction")


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    if not isinstance(input, Tensor):
        raise AttributeError(f"'{type(input).__name__}' object has no attribute 'size'")
    target = tensor_of(target)
    if target._value.shape != input._value.shape:
        _warn_at_user(
            f"Using a target size ({target.size()!r}) that is different to the input size "
            f"({input.size()!r}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", user_frame)
    from backtrace_cli.torchlike._ops import check_broadcast, result_dtype
    check_broadcast(input._value.shape, target._value.shape)
    dtype = result_dtype(input, target)
    x = input._value.astype(dtype.numpy, copy=False)
    y = target._value.astype(dtype.numpy, copy=False)
    with _quiet(all="ignore"):
        difference = x - y
        value = _reduced(as_array(difference * difference, dtype), reduction)
    return _loss(fn.MseLossBackward0, (input, target), (x, y, reduction), value, dtype)


def _loss(cls, tensors, args, value, dtype):
    if not (GradMode.enabled and any(t._requires_grad for t in tensors)):
        return Tensor._make(value, dtype)
    inputs = tuple(node_of(t) for t in tensors)
    return Tensor._make(value, dtype, make(cls, inputs, args, value, backend(dtype.numpy)))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    target = tensor_of(target)
    if target._value.shape != input._value.shape:
        raise ValueError(f"Using a target size ({target.size()!r}) that is different to the "
                         f"input size ({input.size()!r}) is deprecated. Please ensure they "
                         "have the same size.")
    if target._dtype is not input._dtype:
        from backtrace_cli.torchlike._shapes import _TYPE_NAMES

        raise RuntimeError(f"Found dtype {_TYPE_NAMES[target._dtype.name]} but expected "
                           f"{_TYPE_NAMES[input._dtype.name]}")
    if target._requires_grad:
        raise NotImplementedError(not_in_subset(
            "the gradient of binary_cross_entropy for its target"))
    dtype = input._dtype
    x = input._value
    y = target._value.astype(dtype.numpy, copy=False)
    if not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    one = dtype.numpy.type(1)
    floor = dtype.numpy.type(-100)
    with _quiet(all="ignore"):
        log_x = _logarithm("logf", numpy.log, x)
        log_rest = _logarithm("log1pf", numpy.log1p, -x)
        elements = (y - one) * numpy.maximum(log_rest, floor) - y * numpy.maximum(log_x, floor)
        w = None
        if weight is not None:
            w = weight._value.astype(dtype.numpy, copy=False)
            elements = elements * w
        value = _reduced(as_array(elements, dtype), reduction)
    return _loss(fn.BinaryCrossEntropyBackward0, (input, target), (x, y, w, reduction), value,
                 dtype)


def _logarithm(name: str, function, x):
    """logf or log1pf of the C library for float32 (PyTorch's BCE kernel calls them)."""
    if x.dtype == numpy.float32:
        from backtrace_cli.torchlike._libm import float32

        return float32(name, x)
    return function(x)


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch.nn.functional", name)
