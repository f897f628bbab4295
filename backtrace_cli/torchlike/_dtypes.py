"""PyTorch's dtypes (``torch.float32`` ...) over NumPy's, and its rules of type promotion.

A dtype prints as PyTorch prints it (``torch.float32``). Promotion follows PyTorch: the
operands are taken in three groups (tensors with dimensions, 0-d tensors, Python numbers); a
later group changes the result only when it is of a higher category (bool < integer <
floating point), and a Python float meeting an integer tensor gives the default float32.
"""

from __future__ import annotations

import numpy

BOOL, INTEGER, FLOATING = 0, 1, 2


class dtype:  # noqa: N801 (PyTorch's name)
    """One of PyTorch's dtypes: its name, NumPy's dtype and its category."""

    __slots__ = ("name", "numpy", "category", "itemsize")

    def __init__(self, name: str, numpy_dtype, category: int) -> None:
        self.name = name
        self.numpy = numpy.dtype(numpy_dtype)
        self.category = category
        self.itemsize = self.numpy.itemsize

    @property
    def is_floating_point(self) -> bool:
        return self.category == FLOATING

    @property
    def is_complex(self) -> bool:
        return False

    @property
    def is_signed(self) -> bool:
        return self.category != BOOL

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


float16 = dtype("float16", numpy.float16, FLOATING)
float32 = dtype("float32", numpy.float32, FLOATING)
float64 = dtype("float64", numpy.float64, FLOATING)
int8 = dtype("int8", numpy.int8, INTEGER)
int16 = dtype("int16", numpy.int16, INTEGER)
int32 = dtype("int32", numpy.int32, INTEGER)
int64 = dtype("int64", numpy.int64, INTEGER)
uint8 = dtype("uint8", numpy.uint8, INTEGER)
bool_ = dtype("bool", numpy.bool_, BOOL)

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
BY_NUMPY = {d.numpy: d for d in ALL}
# PyTorch's other names for them (torch.float, torch.double, torch.long ...).
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
           "short": int16, "bool": bool_, "float32": float32, "float64": float64,
           "float16": float16, "int64": int64, "int32": int32, "int16": int16, "int8": int8,
           "uint8": uint8}

DEFAULT = float32


def of_numpy(numpy_dtype) -> dtype:
    """The torch dtype of a NumPy dtype (a TypeError for one PyTorch has not)."""
    found = BY_NUMPY.get(numpy.dtype(numpy_dtype))
    if found is None:
        raise TypeError(f"can't convert np.ndarray of type numpy.{numpy.dtype(numpy_dtype).name}. "
                        "The only supported types are: float64, float32, float16, complex64, "
                        "complex128, int64, int32, int16, int8, uint64, uint32, uint16, uint8, "
                        "and bool.")
    return found


def _wider(a: dtype | None, b: dtype) -> dtype:
    """The promotion of two dtypes of one group."""
    if a is None or a is b:
        return b
    if a.category != b.category:
        return a if a.category > b.category else b
    return a if a.itemsize >= b.itemsize else b


def of_number(value) -> dtype:
    """The dtype a Python number would have as a tensor (float32 for a float)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    return DEFAULT


def promote(dimensioned: list, zero_dimensional: list, numbers: list) -> dtype:
    """The result dtype of an op over tensors with dimensions, 0-d tensors and Python
    numbers (each a list of dtypes), as PyTorch's type promotion gives it."""
    result = None
    for item in dimensioned:
        result = _wider(result, item)
    zero = None
    for item in zero_dimensional:
        zero = _wider(zero, item)
    if zero is not None and (result is None or zero.category > result.category):
        result = zero if result is None else _wider_category(zero, result)
    number = None
    for item in numbers:
        number = _wider(number, item)
    if number is not None and (result is None or number.category > result.category):
        result = number
    return result


def _wider_category(zero: dtype, result: dtype) -> dtype:
    return zero
