"""``torch.Tensor`` over a NumPy array: its attributes, conversions and in-place ops.

The array is the tensor's storage: ``.data``, ``.detach()``, ``.numpy()``, ``view`` and
indexing share it, and the in-place ops write into it. The math lives in ``_ops.py`` (values
and graph nodes) and ``_shapes.py`` (views, indexing, matmul); this class routes Python's
operators and PyTorch's methods to them.
"""

from __future__ import annotations

import warnings

import numpy

import backtrace_cli.torchlike._dtypes as _dtypes
from backtrace_cli.torchlike._autograd import AccumulateGrad, GradMode, backend, run_backward
from backtrace_cli.torchlike._missing import not_in_subset

NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information. (Triggered "
    "internally at /__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)")
TO_SCALAR = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
    "Consider using tensor.detach() first. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/generated/python_variable_methods.cpp:822.)")
LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation."
FLOAT_ONLY = "only Tensors of floating point dtype can require gradients"
FLOAT_OR_COMPLEX = "Only Tensors of floating point and complex dtype can require gradients"
# The same words start in lower case when .requires_grad is set (PyTorch's two code paths).
SET_FLOAT_OR_COMPLEX = "only Tensors of floating point and complex dtype can require gradients"


class Size(tuple):
    """``torch.Size``: a tuple that prints as ``torch.Size([2, 1])``."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)!r})"

    __str__ = __repr__

    def numel(self) -> int:
        count = 1
        for n in self:
            count *= n
        return count


class Tensor:
    """A tensor: a NumPy array of one dtype, with autograd."""

    __slots__ = ("_value", "_dtype", "_requires_grad", "_grad", "_grad_fn", "_node",
                 "_retains_grad", "__weakref__", "__dict__")
    __array_priority__ = 1000  # ndarray * tensor is the tensor's op, as with PyTorch

    def __new__(cls, *args, **kwargs):
        if cls is Tensor or not kwargs.get("_internal"):
            self = object.__new__(cls)
            self._set(legacy_value(args), _dtypes.DEFAULT)
            return self
        return object.__new__(cls)

    def __init__(self, *args, **kwargs) -> None:
        pass

    def _set(self, value, dtype, requires_grad: bool = False) -> None:
        self._value = value
        self._dtype = dtype
        self._requires_grad = requires_grad
        self._grad = None
        self._grad_fn = None
        self._node = None
        self._retains_grad = False

    @classmethod
    def _make(cls, value, dtype, grad_fn=None):
        """A tensor over ``value`` (an array of ``dtype``), the output of ``grad_fn``."""
        self = object.__new__(Tensor)
        self._value = value
        self._dtype = dtype
        self._requires_grad = grad_fn is not None
        self._grad = None
        self._grad_fn = grad_fn
        self._node = None
        self._retains_grad = False
        return self

    # ------------------------------------------------------------------ autograd
    def _accumulator(self) -> AccumulateGrad:
        node = self._node
        if node is None:
            from backtrace_cli.engine.nodes import VAR
            from backtrace_cli.torchlike._autograd import site

            node = self._node = AccumulateGrad(VAR, None, (), None, self._value,
                                               backend(self._value.dtype), site=site())
            node.variable = self
        node.value = self._value
        return node

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        flag = bool(flag)
        if self._grad_fn is not None and not flag:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if flag and not self._dtype.is_floating_point:
            raise RuntimeError(SET_FLOAT_OR_COMPLEX)
        self._requires_grad = flag

    def requires_grad_(self, requires_grad: bool = True):
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(FLOAT_ONLY)
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            from backtrace_cli.torchlike._autograd import user_frame

            _warn_at_user(NON_LEAF_GRAD, user_frame)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        if self._grad_fn is not None:
            self._retains_grad = True
            self._grad_fn.retained = self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if create_graph or inputs is not None:
            raise NotImplementedError(not_in_subset("backward(create_graph=..., inputs=...)"))
        run_backward(self, gradient, retain_graph)

    @property
    def data(self):
        return Tensor._make(self._value, self._dtype)

    @data.setter
    def data(self, other) -> None:
        self._value = other._value
        self._dtype = other._dtype

    def detach(self):
        return Tensor._make(self._value, self._dtype)

    def detach_(self):
        self._grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ reading values
    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self) -> Size:
        return Size(self._value.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._value.shape)
        return self._value.shape[dim]

    def dim(self) -> int:
        return self._value.ndim

    ndim = property(dim)

    def numel(self) -> int:
        return int(self._value.size)

    nelement = numel

    @property
    def device(self):
        from backtrace_cli.torchlike._device import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def item(self):
        value = self._value
        if value.size != 1:
            raise RuntimeError(f"a Tensor with {value.size} elements cannot be converted to "
                               "Scalar")
        return value.reshape(()).item()

    def tolist(self):
        return self._value.tolist()

    def numpy(self, force: bool = False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._value

    def __array__(self, dtype=None, copy=None):
        value = self.numpy()
        return value if dtype is None else value.astype(dtype)

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._value.shape[0]

    def __float__(self) -> float:
        if self._requires_grad:
            from backtrace_cli.torchlike._autograd import user_frame

            _warn_at_user(TO_SCALAR, user_frame)
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __index__(self) -> int:
        if self._dtype.is_floating_point:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        if self._value.size > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._scalar("bool"))

    def _scalar(self, kind: str):
        if self._value.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._value.reshape(()).item()

    def __format__(self, spec: str) -> str:
        if self._value.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None) -> str:
        from backtrace_cli.torchlike._printing import tensor_text

        return tensor_text(self)

    __str__ = __repr__
    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        """A copy of a leaf (PyTorch copies only leaves), with its flag; a tensor's grad is
        copied too, a Parameter's is not (as PyTorch's Parameter.__deepcopy__)."""
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        copy = object.__new__(type(self))
        copy._set(self._value.copy(), self._dtype, self._requires_grad)
        if self._grad is not None and type(self) is Tensor:
            copy._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = copy
        return copy

    def __reduce_ex__(self, protocol):
        raise NotImplementedError(not_in_subset("pickling of tensors"))

    def __getattr__(self, name: str):
        if name.startswith("__") or name.startswith("_"):
            raise AttributeError(name)
        raise NotImplementedError(not_in_subset(f"torch.Tensor.{name}"))


def plain(data):
    """Nested lists, tuples and tensors as nested lists of arrays and numbers."""
    if isinstance(data, Tensor):
        return data._value
    if isinstance(data, (list, tuple)):
        return [plain(item) for item in data]
    return data


def legacy_value(args: tuple):
    """The array of ``torch.Tensor(...)``: a list or array converted to float32, or an
    uninitialised tensor of a size (zeros here)."""
    if not args:
        return numpy.zeros((0,), dtype=numpy.float32)
    if len(args) == 1 and isinstance(args[0], (list, tuple, numpy.ndarray, Tensor)):
        data = args[0]
        if isinstance(data, Tensor):
            return data._value.astype(numpy.float32, copy=False)
        return numpy.array(plain(data), dtype=numpy.float32)
    if all(isinstance(n, int) for n in args):
        return numpy.zeros(tuple(args), dtype=numpy.float32)
    raise TypeError("new(): invalid data type '" + type(args[0]).__name__ + "'")


def _warn_at_user(message: str, user_frame) -> None:
    """A UserWarning attributed to the user's line, as PyTorch's own warnings are."""
    frame = user_frame(2)
    level = 2  # stacklevel 2 is our caller, sys._getframe(1)
    current = __import__("sys")._getframe(1)
    while current is not None and current is not frame:
        current = current.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def in_place_check(tensor) -> None:
    """PyTorch's error for an in-place op on a leaf that requires grad (with grad on)."""
    if GradMode.enabled and tensor._requires_grad and tensor._grad_fn is None:
        for listener in IN_PLACE_LISTENERS:  # backtrace run's diagnoses (in-place-leaf)
            listener(tensor)
        raise RuntimeError(LEAF_IN_PLACE)


# Callables given the leaf before PyTorch's in-place error is raised (backtrace run's record).
IN_PLACE_LISTENERS: list = []


def as_array(value, dtype):
    """``value`` (a tensor's array) as an ndarray of ``dtype`` (0-d results of NumPy are
    numpy scalars: made arrays again)."""
    if value.__class__ is not numpy.ndarray:
        return numpy.asarray(value, dtype=dtype.numpy)
    if value.dtype != dtype.numpy:
        return value.astype(dtype.numpy)
    return value
