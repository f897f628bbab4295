"""Tensor math: every op's value, rounded once in the result's dtype, and its graph node.

A binary op promotes its operands as PyTorch does (``_dtypes.promote``), checks their shapes
broadcast (PyTorch's error text otherwise), computes its value with NumPy in the result's
dtype (a Python number is taken in that dtype) and, when grad mode is on and an operand
requires grad, records a node of PyTorch's class through the engine. exp, log, tanh and
sigmoid round the double-precision function once to float32, as PyTorch's scalar kernels do.
"""

from __future__ import annotations

import numpy

import backtrace_cli.torchlike._dtypes as _dtypes
import backtrace_cli.torchlike._functions as fn
from backtrace_cli.engine import recording
from backtrace_cli.torchlike._autograd import GradMode, backend, make
from backtrace_cli.torchlike._sums import full_mean, full_sum  # noqa: F401 (nn.functional)
from backtrace_cli.torchlike._tensor import Tensor, as_array, in_place_check

_NUMBERS = (int, float, bool, numpy.number, numpy.bool_)
_quiet = numpy.errstate  # with _quiet(all="ignore"): no warnings from NumPy


def node_of(tensor):
    """The node an op's input is in the graph: its grad_fn, its AccumulateGrad, or a
    constant."""
    if tensor._grad_fn is not None:
        return tensor._grad_fn
    if tensor._requires_grad:
        return tensor._accumulator()
    return recording.constant(tensor._value, None)


def tensor_of(value) -> Tensor:
    """A number, list or array as a tensor (as torch.tensor makes it)."""
    if isinstance(value, Tensor):
        return value
    from backtrace_cli.torchlike._creation import tensor

    return tensor(value)


def check_broadcast(a: tuple, b: tuple) -> None:
    """PyTorch's error when two shapes do not broadcast."""
    if a == b:
        return
    n = max(len(a), len(b))
    for i in range(1, n + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {n - i}")


def result_dtype(a: Tensor, b) -> _dtypes.dtype:
    groups: tuple[list, list, list] = ([], [], [])
    for item in (a, b):
        if isinstance(item, Tensor):
            groups[0 if item._value.ndim else 1].append(item._dtype)
        else:
            groups[2].append(_dtypes.of_number(item))
    return _dtypes.promote(*groups)


def _pow_value(base, exponent):
    """PyTorch's pow with a number exponent: x*x for 2, x*x*x for 3, sqrt for 0.5 ..."""
    e = float(exponent)
    if e == 2.0:
        return base * base
    if e == 3.0:
        return base * base * base
    if e == 0.5:
        return numpy.sqrt(base)
    if e == -0.5:
        return 1 / numpy.sqrt(base)
    if e == -1.0:
        return 1 / base
    if e == -2.0:
        return 1 / (base * base)
    if e == 1.0:
        return base.copy()
    return numpy.power(base, exponent)


_VALUES = {
    "add": numpy.add, "sub": numpy.subtract, "mul": numpy.multiply, "div": numpy.divide,
}
_CLASSES = {"add": fn.AddBackward0, "sub": fn.SubBackward0, "mul": fn.MulBackward0,
            "div": fn.DivBackward0}


def binary(a: Tensor, b, kind: str, swapped: bool = False):
    """``a <kind> b`` (``b <kind> a`` when ``swapped``: Python's reflected operators)."""
    if isinstance(b, Tensor):
        other = b
    elif isinstance(b, _NUMBERS):
        other = None
    elif isinstance(b, (numpy.ndarray, list)):
        other = tensor_of(b)
    else:
        return NotImplemented
    dtype = result_dtype(a, b if other is None else other)
    if kind == "div" and not dtype.is_floating_point:
        dtype = _dtypes.DEFAULT
    numpy_dtype = dtype.numpy
    left = a._value
    if left.dtype != numpy_dtype:
        left = left.astype(numpy_dtype)
    if other is None:
        right = numpy.asarray(b, dtype=numpy_dtype)
    else:
        right = other._value
        if right.dtype != numpy_dtype:
            right = right.astype(numpy_dtype)
        if swapped:
            check_broadcast(right.shape, left.shape)
        else:
            check_broadcast(left.shape, right.shape)
    wants = GradMode.enabled and (a._requires_grad or (other is not None
                                                        and other._requires_grad))
    if kind == "pow":
        return _power(a, other, b, left, right, dtype, swapped, wants)
    if swapped and kind == "div":  # number / a is a.reciprocal() * number, as PyTorch does
        with _quiet(all="ignore"):
            reciprocal = as_array(1 / left, dtype)
        inverse = Tensor._make(reciprocal, dtype, make(
            fn.ReciprocalBackward0, (recording.constant(numpy.ones((), numpy_dtype), None),
                                     node_of(a)), (numpy.ones((), numpy_dtype), left),
            reciprocal, backend(numpy_dtype)) if wants else None)
        return binary(inverse, b, "mul")
    x, y = (right, left) if swapped else (left, right)
    with _quiet(all="ignore"):
        value = as_array(_VALUES[kind](x, y), dtype)
    if not wants:
        return Tensor._make(value, dtype)
    first = node_of(a)
    second = recording.constant(right, None) if other is None else node_of(other)
    if swapped and kind == "sub":
        cls, inputs = fn.RsubBackward1, (second, first)
    elif swapped and kind in ("add", "mul") and other is None:
        cls, inputs, x, y = _CLASSES[kind], (first, second), left, right  # a + 1, as PyTorch
    else:
        cls = _CLASSES[kind]
        inputs = (second, first) if swapped else (first, second)
    return Tensor._make(value, dtype, make(cls, inputs, (x, y), value, backend(numpy_dtype)))


def _power(a, other, b, left, right, dtype, swapped, wants):
    with _quiet(all="ignore"):
        if other is None and not swapped:
            value = as_array(_pow_value(left, b), dtype)
            cls = fn.PowBackward0
        else:
            base, exponent = (right, left) if swapped else (left, right)
            value = as_array(numpy.power(base, exponent), dtype)
            cls = fn.PowBackward2 if other is None else fn.PowBackward1
    if not wants:
        return Tensor._make(value, dtype)
    first = node_of(a)
    second = recording.constant(right, None) if other is None else node_of(other)
    inputs, args = ((second, first), (right, left)) if swapped else ((first, second),
                                                                      (left, right))
    return Tensor._make(value, dtype, make(cls, inputs, args, value, backend(dtype.numpy)))


def compare(a: Tensor, b, name: str):
    """==, <, ... : a bool tensor, never part of the graph."""
    if isinstance(b, Tensor):
        right = b._value
        check_broadcast(a._value.shape, right.shape)
    elif isinstance(b, _NUMBERS):
        right = b
    else:
        return NotImplemented
    with _quiet(all="ignore"):
        value = getattr(numpy, name)(a._value, right)
    return Tensor._make(numpy.asarray(value), _dtypes.bool_)


# ----------------------------------------------------------------------------- unary
def _through_double(function):
    """A function of float32 computed in double and rounded once (PyTorch's scalar
    kernels agree with this for nearly every input)."""
    def compute(x):
        if x.dtype == numpy.float32:
            return function(x.astype(numpy.float64)).astype(numpy.float32)
        return function(x)
    return compute


def _sigmoid(x):
    """1 / (1 + exp(-x)), exp from the C library for float32 as PyTorch's kernel calls it."""
    one = x.dtype.type(1)
    if x.dtype == numpy.float32:
        from backtrace_cli.torchlike._libm import float32

        e = float32("expf", -x)
    else:
        e = numpy.exp(-x)
    return one / (one + e)


_UNARY = {
    "neg": (numpy.negative, fn.NegBackward0),
    "exp": (_through_double(numpy.exp), fn.ExpBackward0),
    "log": (_through_double(numpy.log), fn.LogBackward0),
    "sqrt": (numpy.sqrt, fn.SqrtBackward0),
    "tanh": (_through_double(numpy.tanh), fn.TanhBackward0),
    "sigmoid": (_sigmoid, fn.SigmoidBackward0),
    "relu": (lambda x: numpy.maximum(x, x.dtype.type(0)), fn.ReluBackward0),
    "abs": (numpy.abs, fn.AbsBackward0),
    "clone": (numpy.copy, fn.CloneBackward0),
}


def unary(a: Tensor, kind: str):
    """One of _UNARY on a tensor (an integer tensor becomes float32 first, except for neg,
    abs, relu and clone)."""
    function, cls = _UNARY[kind]
    source = a._value
    dtype = a._dtype
    if not dtype.is_floating_point and kind not in ("neg", "abs", "relu", "clone"):
        dtype = _dtypes.DEFAULT
        source = source.astype(dtype.numpy)
    with _quiet(all="ignore"):
        value = as_array(function(source), dtype)
    if not (GradMode.enabled and a._requires_grad):
        return Tensor._make(value, dtype)
    return Tensor._make(value, dtype, make(cls, (node_of(a),), (source,), value,
                                           backend(dtype.numpy)))


# ----------------------------------------------------------------------------- reductions
def _axes(dim, ndim: int) -> tuple:
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        axes.append(d % max(ndim, 1))
    return tuple(axes)


def reduce(a: Tensor, kind: str, dim=None, keepdim: bool = False):
    """sum or mean, of everything or along ``dim``."""
    source = a._value
    dtype = a._dtype
    if kind == "mean" and not dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_TYPE_NAMES[dtype.name]}")
    if kind == "sum" and not dtype.is_floating_point:
        dtype = _dtypes.int64
    function = numpy.sum if kind == "sum" else numpy.mean
    with _quiet(all="ignore"):
        if dim is None:
            whole = source.astype(dtype.numpy, copy=False)
            value = as_array(full_sum(whole) if kind == "sum" else full_mean(whole), dtype)
            cls, args = (fn.SumBackward0 if kind == "sum" else fn.MeanBackward0), (source,)
        else:
            axes = _axes(dim, source.ndim) if source.ndim else ()
            value = as_array(function(source, axis=axes, keepdims=keepdim, dtype=dtype.numpy),
                             dtype)
            cls = fn.SumBackward1 if kind == "sum" else fn.MeanBackward1
            args = (source, axes, keepdim, kind == "mean")
    if not (GradMode.enabled and a._requires_grad):
        return Tensor._make(value, dtype)
    return Tensor._make(value, dtype, make(cls, (node_of(a),), args, value,
                                           backend(dtype.numpy)))


_TYPE_NAMES = {"int64": "Long", "int32": "Int", "bool": "Bool", "int16": "Short",
               "int8": "Char", "uint8": "Byte"}


# ----------------------------------------------------------------------------- in place
def fused_add(a, b, alpha):
    """a + alpha * b with one rounding per element (PyTorch's add with alpha is a fused
    multiply-add): exact in double, rounded to odd, then to float32 (53 >= 24 + 2 bits, so
    the two roundings give the correctly rounded result)."""
    if a.dtype != numpy.float32:
        return a + a.dtype.type(alpha) * b
    a64 = a.astype(numpy.float64)
    product = numpy.float64(numpy.float32(alpha)) * numpy.asarray(b, numpy.float64)
    total = a64 + product
    back = total - a64
    error = (a64 - (total - back)) + (product - back)
    total = numpy.asarray(total)
    even = (total.view(numpy.int64) & 1) == 0
    fix = (error != 0) & even
    if fix.any():
        total = numpy.where(fix, numpy.nextafter(total, numpy.copysign(numpy.inf, error)),
                            total)
    return total.astype(numpy.float32)


def in_place(a: Tensor, b, kind: str, alpha=1):
    """a += b, a.add_(b, alpha=...), a.mul_(b) ...: written into a's storage."""
    in_place_check(a)
    other_grad = isinstance(b, Tensor) and b._requires_grad
    if GradMode.enabled and (a._requires_grad or other_grad):
        # A non-leaf (or a tensor meeting one that requires grad): the result is recorded
        # as the op's node and becomes a's grad_fn; its old value is kept for that node.
        before = Tensor._make(a._value.copy(), a._dtype, a._grad_fn)
        before._requires_grad = a._requires_grad
        if alpha != 1:
            b = binary(tensor_of(b), alpha, "mul")
        result = binary(before, b, kind)
        if result._dtype is not a._dtype:
            _cast_error(result._dtype, a._dtype)
        a._value[...] = result._value
        result._grad_fn.value = a._value
        a._grad_fn = result._grad_fn
        a._requires_grad = True
        return a
    target = a._value
    right = b._value if isinstance(b, Tensor) else numpy.asarray(b)
    if isinstance(b, Tensor):
        check_broadcast(target.shape, right.shape)
        shape = numpy.broadcast_shapes(target.shape, right.shape)
        if shape != target.shape:
            raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        dtype = result_dtype(a, b)
        if dtype.category > a._dtype.category:
            _cast_error(dtype, a._dtype)
    elif not a._dtype.is_floating_point and isinstance(b, float):
        _cast_error(_dtypes.DEFAULT, a._dtype)
    right = right.astype(target.dtype, copy=False)
    with _quiet(all="ignore"):
        if kind in ("add", "sub") and alpha != 1:
            target[...] = fused_add(target, right, alpha if kind == "add" else -alpha)
        else:
            _VALUES[kind](target, right, out=target, casting="unsafe")
    return a


def _cast_error(result, target) -> None:
    names = {"float32": "Float", "float64": "Double", **_TYPE_NAMES}
    raise RuntimeError(f"result type {names[result.name]} can't be cast to the desired output "
                       f"type {names[target.name]}")
