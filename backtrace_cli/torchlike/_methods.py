"""Python's operators and PyTorch's methods of ``Tensor``, routed to ``_ops`` and ``_shapes``.

Kept apart from the class so each idea has one module: the class knows its storage and
autograd state; the math is written once, here bound as methods.
"""

from __future__ import annotations

import numpy

import backtrace_cli.torchlike._dtypes as _dtypes
import backtrace_cli.torchlike._functions as fn
import backtrace_cli.torchlike._ops as _ops
import backtrace_cli.torchlike._shapes as _shapes
from backtrace_cli.torchlike._autograd import GradMode, backend, make
from backtrace_cli.torchlike._device import device
from backtrace_cli.torchlike._ops import node_of
from backtrace_cli.torchlike._tensor import Tensor


def converted_to(t: Tensor, args: tuple, kwargs: dict) -> Tensor:
    """``t.to(dtype)`` (a device 'cpu' is accepted and ignored); the same tensor when
    nothing changes, as PyTorch returns."""
    kind = kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, _dtypes.dtype):
            kind = arg
        elif isinstance(arg, Tensor):
            kind = arg._dtype
        else:
            device(arg)
    if kind is None or kind is t._dtype:
        return t
    value = t._value.astype(kind.numpy)
    if GradMode.enabled and t._requires_grad and kind.is_floating_point:
        return Tensor._make(value, kind, make(fn.ToCopyBackward0, (node_of(t),), (t._value,),
                                              value, backend(kind.numpy)))
    return Tensor._make(value, kind)


def _to(self, *args, **kwargs):
    return converted_to(self, args, kwargs)


def _type(self, dtype=None):
    if dtype is None:
        return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
                "int64": "torch.LongTensor", "bool": "torch.BoolTensor"}.get(
                    self._dtype.name, "torch.Tensor")
    return self.to(dtype)


def _as(kind):
    def method(self):
        return self.to(kind)
    return method


def _binary(kind: str, swapped: bool = False):
    def method(self, other):
        return _ops.binary(self, other, kind, swapped)
    method.__name__ = f"__{'r' if swapped else ''}{kind}__"
    return method


def _compare(name: str):
    def method(self, other):
        return _ops.compare(self, other, name)
    return method


def _unary(kind: str):
    def method(self):
        return _ops.unary(self, kind)
    method.__name__ = kind
    return method


def _in_place(kind: str):
    def method(self, other, alpha=1):
        return _ops.in_place(self, other, kind, alpha)
    return method


def _pow(self, exponent):
    return _ops.binary(self, exponent, "pow")


def _sum(self, dim=None, keepdim=False, dtype=None):
    result = _ops.reduce(self, "sum", dim, keepdim)
    return result if dtype is None else result.to(dtype)


def _mean(self, dim=None, keepdim=False, dtype=None):
    return _ops.reduce(self if dtype is None else self.to(dtype), "mean", dim, keepdim)


def _add(self, other, alpha=1):
    if alpha != 1:
        other = _ops.binary(_ops.tensor_of(other), alpha, "mul")
    return _ops.binary(self, other, "add")


def _sub(self, other, alpha=1):
    if alpha != 1:
        other = _ops.binary(_ops.tensor_of(other), alpha, "mul")
    return _ops.binary(self, other, "sub")


def _zero_(self):
    from backtrace_cli.torchlike._tensor import in_place_check

    in_place_check(self)
    self._value[...] = 0
    return self


def _fill_(self, value):
    from backtrace_cli.torchlike._tensor import in_place_check

    in_place_check(self)
    self._value[...] = value._value if isinstance(value, Tensor) else value
    return self


def _copy_(self, source, non_blocking=False):
    from backtrace_cli.torchlike._tensor import in_place_check

    in_place_check(self)
    self._value[...] = source._value
    return self


def _uniform_(self, a=0.0, b=1.0):
    from backtrace_cli.torchlike._creation import uniform_

    return uniform_(self, a, b)


def _normal_(self, mean=0.0, std=1.0):
    from backtrace_cli.torchlike._creation import normal_

    return normal_(self, mean, std)


def _view(self, *shape):
    return _shapes.view(self, *shape)


def _reshape(self, *shape):
    return _shapes.reshape(self, *shape)


def _floor_divide(self, other):
    """a // b: no gradient (PyTorch has none for it either)."""
    if isinstance(other, Tensor):
        right = other._value
        kind = _ops.result_dtype(self, other)
    else:
        right = other
        kind = _ops.result_dtype(self, other)
    with _ops._quiet(all="ignore"):
        value = numpy.floor_divide(self._value.astype(kind.numpy), right).astype(kind.numpy)
    return Tensor._make(numpy.asarray(value), kind)


_METHODS = {
    "__floordiv__": _floor_divide,
    "__add__": _binary("add"), "__radd__": _binary("add", True),
    "__sub__": _binary("sub"), "__rsub__": _binary("sub", True),
    "__mul__": _binary("mul"), "__rmul__": _binary("mul", True),
    "__truediv__": _binary("div"), "__rtruediv__": _binary("div", True),
    "__pow__": _pow, "__rpow__": _binary("pow", True),
    "__neg__": _unary("neg"), "__abs__": _unary("abs"),
    "__pos__": lambda self: self,
    "__matmul__": _shapes.matmul,
    "__rmatmul__": lambda self, other: _shapes.matmul(_ops.tensor_of(other), self),
    "__eq__": _compare("equal"), "__ne__": _compare("not_equal"),
    "__lt__": _compare("less"), "__le__": _compare("less_equal"),
    "__gt__": _compare("greater"), "__ge__": _compare("greater_equal"),
    "__iadd__": _in_place("add"), "__isub__": _in_place("sub"),
    "__imul__": _in_place("mul"), "__itruediv__": _in_place("div"),
    "__getitem__": _shapes.index, "__setitem__": _shapes.set_index,
    "__iter__": lambda self: iter(_shapes.rows(self)),
    "add": _add, "sub": _sub, "mul": _binary("mul"), "div": _binary("div"),
    "pow": _pow, "neg": _unary("neg"), "exp": _unary("exp"), "log": _unary("log"),
    "sqrt": _unary("sqrt"), "tanh": _unary("tanh"), "sigmoid": _unary("sigmoid"),
    "relu": _unary("relu"), "abs": _unary("abs"), "clone": _unary("clone"),
    "sum": _sum, "mean": _mean,
    "matmul": _shapes.matmul, "mm": _shapes.mm, "dot": _shapes.matmul, "mv": _shapes.matmul,
    "t": _shapes.transpose_2d, "view": _view, "reshape": _reshape,
    "view_as": lambda self, other: _shapes.view(self, other._value.shape),
    "add_": _in_place("add"), "sub_": _in_place("sub"), "mul_": _in_place("mul"),
    "div_": _in_place("div"), "zero_": _zero_, "fill_": _fill_, "copy_": _copy_,
    "uniform_": _uniform_, "normal_": _normal_,
    "to": _to, "type": _type, "float": _as(_dtypes.float32), "double": _as(_dtypes.float64),
    "long": _as(_dtypes.int64), "int": _as(_dtypes.int32), "bool": _as(_dtypes.bool_),
    "cpu": lambda self: self, "contiguous": lambda self: self,
    "eq": _compare("equal"), "ne": _compare("not_equal"), "lt": _compare("less"),
    "le": _compare("less_equal"), "gt": _compare("greater"), "ge": _compare("greater_equal"),
}
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
Tensor.T = property(_shapes.transpose_2d)
