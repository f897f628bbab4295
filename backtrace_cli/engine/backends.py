"""Numeric back ends: the few primitives the op table is written against.

Every op in ``ops.py`` is written once, against a back end ``m`` (``m.sin(a)``,
``m.gt(a, 0)``, ...). A back end supplies those primitives for one kind of number:

- ``FLOAT64``: Python floats and the ``math`` module. Fast for one value at a time, and it
  raises on domain errors (``math.log(-1)``), which we turn into clear messages.
- ``numpy_backend(dtype)``: NumPy scalars or arrays of one dtype, for float32 training
  (every operation rounded to float32, as PyTorch does) and for vectorised batches.

Numerically stable forms (sigmoid, softplus) live here because each back end needs its own
branch-free or branching form; the formulas are the same in both. The arithmetic (+ - * /,
squares) gives the same bits in both; transcendental functions come from different libraries
(the C library's libm here, NumPy's own loops there) and may differ in the last bit or two.
"""

from __future__ import annotations

import math
from collections.abc import Callable


class FloatBackend:
    """Python floats; domain errors raise ``ValueError``/``ZeroDivisionError``/``OverflowError``."""

    name = "float64"
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tan = staticmethod(math.tan)
    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)

    @staticmethod
    def pow(a: float, b: float) -> float:
        # math.pow raises on 0**-1, (-8)**0.5 and overflow, unlike `**`. A square is a*a, as
        # PyTorch computes it, so every path (and the compiled loops) rounds it the same way.
        # pow(a, 1) is a: the derivative of a square, 2 * a**1, needs no library call.
        if b == 2.0:
            return a * a
        return a if b == 1.0 else math.pow(a, b)

    @staticmethod
    def sigmoid(a: float) -> float:
        # Never exp of a large positive number: no overflow at +-1000.
        z = math.exp(-abs(a))
        return 1.0 / (1.0 + z) if a >= 0 else z / (1.0 + z)

    @staticmethod
    def softplus(a: float) -> float:
        # log(1 + e^a) = max(a, 0) + log1p(e^-|a|): exact-ish and overflow-free.
        return max(a, 0.0) + math.log1p(math.exp(-abs(a)))

    @staticmethod
    def gt(a: float, b: float) -> float:
        return 1.0 if a > b else 0.0

    @staticmethod
    def lt(a: float, b: float) -> float:
        return 1.0 if a < b else 0.0

    @staticmethod
    def eq(a: float, b: float) -> float:
        return 1.0 if a == b else 0.0

    @staticmethod
    def minimum(a: float, b: float) -> float:
        return a if a <= b else b

    @staticmethod
    def maximum(a: float, b: float) -> float:
        return a if a >= b else b

    @staticmethod
    def relu(a: float) -> float:
        return a if a > 0 else 0.0

    @staticmethod
    def where(condition: bool, value: float, otherwise: Callable[[], float]) -> float:
        """``value`` where ``condition`` holds, else ``otherwise()`` (evaluated only then)."""
        return value if condition else otherwise()

    @staticmethod
    def isfinite(value: float) -> bool:
        return math.isfinite(value)

    @staticmethod
    def number(value: float) -> float:
        return float(value)

    # Reductions and transposes of a scalar are the scalar itself (arrays need NumPy).
    @staticmethod
    def sum(value: float) -> float:
        return value

    mean = sum
    transpose = sum

    @staticmethod
    def size(value: float) -> int:
        return 1


FLOAT64 = FloatBackend()


class NumpyBackend:
    """NumPy scalars or arrays of one dtype; results keep that dtype (float32 stays float32)."""

    def __init__(self, dtype) -> None:
        import numpy

        self.np = numpy
        self.dtype = numpy.dtype(dtype)
        self.name = self.dtype.name
        for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh"):
            setattr(self, name, getattr(numpy, name))
        self.minimum = numpy.minimum
        self.maximum = numpy.maximum
        self._one = self.dtype.type(1)
        self._zero = self.dtype.type(0)

    def _scalar(self, array):
        return array[()] if getattr(array, "ndim", 1) == 0 else array

    def pow(self, a, b):
        if self.np.ndim(b) == 0:  # as FloatBackend.pow: a*a for a square, a for a**1
            if b == 2:
                return a * a
            if b == 1:
                return a
        return self.np.power(a, b)

    def sigmoid(self, a):
        np = self.np
        z = np.exp(-np.abs(a))
        return self._scalar(np.where(a >= 0, self._one / (self._one + z), z / (self._one + z)))

    def softplus(self, a):
        np = self.np
        return np.maximum(a, self._zero) + np.log1p(np.exp(-np.abs(a)))

    def gt(self, a, b):
        return self._scalar((a > b).astype(self.dtype))

    def lt(self, a, b):
        return self._scalar((a < b).astype(self.dtype))

    def eq(self, a, b):
        return self._scalar((a == b).astype(self.dtype))

    def relu(self, a):
        return self.np.maximum(a, self._zero)

    def where(self, condition, value, otherwise):
        """Elementwise ``value`` where ``condition`` holds, else ``otherwise()``."""
        np = self.np
        if np.ndim(condition) == 0:
            return self.dtype.type(value) if condition else otherwise()
        with np.errstate(all="ignore"):
            return np.where(condition, self.dtype.type(value), otherwise())

    def isfinite(self, value) -> bool:
        return bool(self.np.isfinite(value).all())

    def number(self, value):
        return self.np.asarray(value, dtype=self.dtype)[()]

    # ------------------------------------------------------------------ array ops
    def matmul(self, a, b):
        return self._scalar(self.np.matmul(a, b))

    def _as_matrices(self, g, a, b):
        """a and b as matrices (a vector a is a row, a vector b a column), and g to match."""
        a2 = a if a.ndim == 2 else a[None, :]
        b2 = b if b.ndim == 2 else b[:, None]
        g2 = self.np.reshape(g, (a2.shape[0], b2.shape[1]))
        return g2, a2, b2

    def matmul_vjp_a(self, g, a, b):
        """d(a @ b)/da applied to g: g @ b.T (an outer product g ⊗ b for matrix @ vector)."""
        g2, _, b2 = self._as_matrices(g, a, b)
        return self.np.reshape(g2 @ b2.T, a.shape)

    def matmul_vjp_b(self, g, a, b):
        """d(a @ b)/db applied to g: a.T @ g."""
        g2, a2, _ = self._as_matrices(g, a, b)
        return self.np.reshape(a2.T @ g2, b.shape)

    def sum(self, a):
        return self.np.sum(a, dtype=self.dtype)[()]

    def mean(self, a):
        return self.np.mean(a, dtype=self.dtype)[()]

    def size(self, a) -> int:
        return int(self.np.size(a))

    def transpose(self, a):
        return self.np.transpose(a)

    def stack(self, args):
        return self.np.stack([self.np.asarray(arg, dtype=self.dtype) for arg in args])

    def unstack(self, g, position: int):
        """The part of [a, b, ...]'s gradient that belongs to the element at ``position``."""
        return g[position]

    def spread(self, g, like):
        """g (a scalar) copied to every element of an array shaped like ``like``."""
        return self.np.broadcast_to(self.np.asarray(g, dtype=self.dtype), self.np.shape(like))

    def fit(self, value, shape: tuple):
        """A gradient brought to an input's shape: summed over the axes broadcasting added
        or stretched (the reverse of broadcasting), or spread over an array it came from."""
        np = self.np
        current = np.shape(value)
        if current == shape:
            return value
        if len(current) < len(shape) or any(
            c < s for c, s in zip(current[len(current) - len(shape):], shape)
        ):
            return np.broadcast_to(value, shape)
        extra = len(current) - len(shape)
        if extra:
            value = np.sum(value, axis=tuple(range(extra)))
        axes = tuple(i for i, size in enumerate(shape) if size == 1 and value.shape[i] != 1)
        if axes:
            value = np.sum(value, axis=axes, keepdims=True)
        return value[()] if shape == () else value


class BatchBackend(NumpyBackend):
    """NumPy arrays with a batch axis in front: every value that is not a constant holds one
    row of the data per entry of axis 0 (a parameter is broadcast along it, without a copy).

    Elementwise ops need nothing new (the tape aligns the per-row axes, see
    ``tape.batch_alignment``); the ops that look at axes (matmul, reductions, transpose,
    [a, b]) act on the axes after the batch axis, row by row, in one NumPy call each.
    """

    def matmul(self, a, b):
        a2 = a[:, None, :] if a.ndim == 2 else a  # a row's vector: a 1 x k matrix
        b2 = b[:, :, None] if b.ndim == 2 else b  # a row's vector: a k x 1 matrix
        out = self.np.matmul(a2, b2)
        if b.ndim == 2:
            out = out[..., 0]
        if a.ndim == 2:
            out = out[:, 0]
        return out

    def _batched_matrices(self, g, a, b):
        a2 = a[:, None, :] if a.ndim == 2 else a
        b2 = b[:, :, None] if b.ndim == 2 else b
        g2 = self.np.reshape(g, (a2.shape[0], a2.shape[1], b2.shape[2]))
        return g2, a2, b2

    def matmul_vjp_a(self, g, a, b):
        g2, _, b2 = self._batched_matrices(g, a, b)
        return self.np.reshape(g2 @ self.np.swapaxes(b2, 1, 2), a.shape)

    def matmul_vjp_b(self, g, a, b):
        g2, a2, _ = self._batched_matrices(g, a, b)
        return self.np.reshape(self.np.swapaxes(a2, 1, 2) @ g2, b.shape)

    def sum(self, a):
        if self.np.ndim(a) <= 1:
            return a
        return self.np.sum(a, axis=tuple(range(1, a.ndim)), dtype=self.dtype)

    def mean(self, a):
        if self.np.ndim(a) <= 1:
            return a
        return self.np.mean(a, axis=tuple(range(1, a.ndim)), dtype=self.dtype)

    def size(self, a) -> int:
        shape = self.np.shape(a)
        size = 1
        for n in shape[1:]:
            size *= n
        return size

    def transpose(self, a):
        if self.np.ndim(a) <= 2:
            return a
        return self.np.transpose(a, (0, *range(a.ndim - 1, 0, -1)))

    def stack(self, args):
        np = self.np
        arrays = np.broadcast_arrays(*[np.asarray(arg, dtype=self.dtype) for arg in args])
        return np.stack(arrays, axis=1)

    def unstack(self, g, position: int):
        return g[:, position]

    def spread(self, g, like):
        np = self.np
        g = np.asarray(g, dtype=self.dtype)
        shape = np.shape(like)
        return np.broadcast_to(np.reshape(g, g.shape + (1,) * (len(shape) - g.ndim)), shape)


_NUMPY_BACKENDS: dict[str, NumpyBackend] = {}
_BATCH_BACKENDS: dict[str, BatchBackend] = {}


def batch_backend(dtype: str) -> BatchBackend:
    """The (cached) batched NumPy back end for ``dtype`` (a batch axis in front)."""
    if dtype not in _BATCH_BACKENDS:
        _BATCH_BACKENDS[dtype] = BatchBackend(dtype)
    return _BATCH_BACKENDS[dtype]


def numpy_backend(dtype: str) -> NumpyBackend:
    """The (cached) NumPy back end for ``dtype`` ("float32" or "float64")."""
    if dtype not in _NUMPY_BACKENDS:
        _NUMPY_BACKENDS[dtype] = NumpyBackend(dtype)
    return _NUMPY_BACKENDS[dtype]
