"""Views, indexing and matrix products: ``view``/``reshape``, ``t()``, ``a[i]``, ``@``.

A view shares its source's storage (NumPy views), as PyTorch's do; the error texts are
PyTorch's (``shape '[2, 2]' is invalid for input of size 3``, ``mat1 and mat2 shapes cannot
be multiplied (2x3 and 2x3)``).
"""

from __future__ import annotations

import numpy

import backtrace_cli.torchlike._functions as fn
from backtrace_cli.torchlike._autograd import GradMode, backend, make
from backtrace_cli.torchlike._missing import not_in_subset
from backtrace_cli.torchlike._ops import _quiet, node_of, tensor_of
from backtrace_cli.torchlike._tensor import Tensor, as_array


def _recorded(a: Tensor, value, cls, args, inputs=None):
    if not (GradMode.enabled and a._requires_grad):
        return Tensor._make(value, a._dtype)
    return Tensor._make(value, a._dtype, make(cls, inputs or (node_of(a),), args, value,
                                              backend(value.dtype)))


def shape_of(args) -> tuple:
    """view(2, 3), view((2, 3)), view([2, 3]), view(torch.Size(...))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(n) for n in args)


def _inferred(shape: tuple, size: int) -> tuple:
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if unknown:
        if known == 0 or size % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
        shape = shape[:unknown[0]] + (size // known,) + shape[unknown[0] + 1:]
    elif known != size:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return shape


def view(a: Tensor, *args):
    source = a._value
    shape = _inferred(shape_of(args), source.size)
    if not source.flags.c_contiguous and source.ndim > 1 and source.size > 1:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return _recorded(a, source.reshape(shape), fn.ViewBackward0, (source,))


def reshape(a: Tensor, *args):
    source = a._value
    shape = _inferred(shape_of(args), source.size)
    if source.flags.c_contiguous or source.ndim <= 1:
        return _recorded(a, source.reshape(shape), fn.ViewBackward0, (source,))
    return _recorded(a, numpy.array(source).reshape(shape), fn.UnsafeViewBackward0, (source,))


def transpose_2d(a: Tensor):
    source = a._value
    if source.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{source.ndim}D")
    return _recorded(a, source.T, fn.TBackward0, (source,))


def _key(key):
    """A PyTorch index as NumPy's, and whether it is advanced (by a tensor or a list)."""
    items = key if isinstance(key, tuple) else (key,)
    converted = []
    advanced = False
    for item in items:
        if isinstance(item, Tensor):
            item = item._value
        if isinstance(item, (list, numpy.ndarray)):
            advanced = True
        converted.append(item)
    return tuple(converted), advanced


def rows(a: Tensor):
    """Iterating over a tensor: its rows, each a view (PyTorch's unbind)."""
    source = a._value
    if source.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return [_recorded(a, source[(i, Ellipsis)], fn.UnbindBackward0, (source, (i, Ellipsis)))
            for i in range(source.shape[0])]


def index(a: Tensor, key):
    source = a._value
    numpy_key, advanced = _key(key)
    try:
        if advanced:
            value = source[numpy_key]
            cls = fn.IndexBackward0
        else:
            if Ellipsis not in numpy_key:
                numpy_key = numpy_key + (Ellipsis,)  # a 0-d result stays a view
            value = source[numpy_key]
            picks = any(isinstance(item, (int, numpy.integer)) for item in numpy_key)
            cls = fn.SelectBackward0 if picks else fn.SliceBackward0
    except IndexError as error:
        raise IndexError(_index_error(source, numpy_key)) from error
    return _recorded(a, numpy.asarray(value), cls, (source, numpy_key))


def _index_error(source, key) -> str:
    for dim, item in enumerate(item for item in key if item is not Ellipsis):
        if isinstance(item, (int, numpy.integer)) and dim < source.ndim:
            size = source.shape[dim]
            if not -size <= item < size:
                return (f"index {item} is out of bounds for dimension {dim} with size {size}")
    if source.ndim == 0:
        return "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or " \
               "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
    return "too many indices for tensor of dimension " + str(source.ndim)


def set_index(a: Tensor, key, value) -> None:
    from backtrace_cli.torchlike._tensor import in_place_check

    in_place_check(a)
    if GradMode.enabled and (a._requires_grad or getattr(value, "_requires_grad", False)):
        raise NotImplementedError(not_in_subset(
            "item assignment into a tensor that is part of a graph"))
    numpy_key, _ = _key(key)
    a._value[numpy_key] = value._value if isinstance(value, Tensor) else value


# ----------------------------------------------------------------------------- products
def _dims(shape: tuple) -> str:
    return "x".join(str(n) for n in shape)


def matmul(a: Tensor, b) -> Tensor:
    """a @ b: dot (1-D @ 1-D), mv (2-D @ 1-D), mm (2-D @ 2-D), or a vector times a matrix."""
    b = tensor_of(b)
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_scalar_name(a)} != {_scalar_name(b)}")
    x, y = a._value, b._value
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    if x.ndim > 2 or y.ndim > 2:
        raise NotImplementedError(not_in_subset("batched torch.matmul"))
    if x.ndim == 1 and y.ndim == 1:
        if x.shape != y.shape:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                               f"[{y.shape[0]}] to have the same number of elements, but got "
                               f"{x.shape[0]} and {y.shape[0]} elements respectively")
        cls = fn.DotBackward0
    elif y.ndim == 1:
        if x.shape[1] != y.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat ({_dims(x.shape)}), "
                               f"vec ({y.shape[0]})")
        cls = fn.MvBackward0
    else:
        rows = x if x.ndim == 2 else x[None, :]
        if rows.shape[1] != y.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({_dims(rows.shape)} and {_dims(y.shape)})")
        cls = fn.MmBackward0
    with _quiet(all="ignore"):
        value = as_array(fn.matrix_product(x, y), a._dtype)
    if not (GradMode.enabled and (a._requires_grad or b._requires_grad)):
        return Tensor._make(value, a._dtype)
    return Tensor._make(value, a._dtype, make(cls, (node_of(a), node_of(b)), (x, y), value,
                                              backend(value.dtype)))


def mm(a: Tensor, b: Tensor) -> Tensor:
    for name, item in (("self", a), ("mat2", b)):
        if item._value.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix")
    return matmul(a, b)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
               "bool": "Bool", "float16": "Half", "int16": "Short", "int8": "Char",
               "uint8": "Byte"}


def _scalar_name(t: Tensor) -> str:
    return {"float32": "float", "float64": "double", "int64": "long int"}.get(
        t._dtype.name, t._dtype.name)


def addmm(bias: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """bias + mat1 @ mat2 as one node (nn.Linear on a matrix): PyTorch's AddmmBackward0."""
    x, w = mat1._value, mat2._value
    if mat1._dtype is not mat2._dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_TYPE_NAMES[mat1._dtype.name]} and {_TYPE_NAMES[mat2._dtype.name]}")
    if x.shape[1] != w.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(x.shape)} and "
                           f"{_dims(w.shape)})")
    with _quiet(all="ignore"):
        value = as_array(fn.matrix_product(x, w) + bias._value, mat1._dtype)
    if not (GradMode.enabled and (bias._requires_grad or mat1._requires_grad
                                  or mat2._requires_grad)):
        return Tensor._make(value, mat1._dtype)
    inputs = (node_of(bias), node_of(mat1), node_of(mat2))
    return Tensor._make(value, mat1._dtype, make(
        fn.AddmmBackward0, inputs, (bias._value, x, w), value, backend(value.dtype)))
