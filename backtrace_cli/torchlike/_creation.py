"""Making tensors: ``torch.tensor``, ``torch.Tensor(...)``, zeros, ones, arange, from_numpy,
rand and randn, and ``.to(dtype)``.

Random numbers are PyTorch's CPU generator: a standard mt19937 seeded with
``init_genrand(seed)``, which is NumPy's legacy ``RandomState(seed)``. A float32 uniform is
``(r & (2**24 - 1)) * 2**-24``, scaled into [from, to) in double and rounded once; a float64
one takes 53 bits of two outputs (the first is the high word). ``randn`` is Box-Muller in
double with the second value of each pair kept for the next call (PyTorch's scalar path;
PyTorch's vectorised path for 16 or more float32 values differs: see docs/numerics.md).
"""

from __future__ import annotations

import math

import numpy

import backtrace_cli.torchlike._dtypes as _dtypes
from backtrace_cli.torchlike._missing import not_in_subset
from backtrace_cli.torchlike._tensor import FLOAT_OR_COMPLEX, Tensor, plain


def _infer_dtype(data) -> _dtypes.dtype:
    """torch.tensor's dtype for nested Python numbers: bool, else int64, else float32."""
    stack = [data]
    kind = _dtypes.bool_
    seen = False
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            seen = True
            kind = _dtypes._wider(kind, item._dtype) if item._dtype.category < 2 else (
                _dtypes.DEFAULT if kind.category < 2 else kind)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (bool, numpy.bool_)):
            seen = True
        elif isinstance(item, (int, numpy.integer)):
            seen = True
            if kind.category < 1:
                kind = _dtypes.int64
        elif isinstance(item, (float, numpy.floating)):
            seen = True
            kind = _dtypes.DEFAULT
        else:
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
    return kind if seen else _dtypes.DEFAULT


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory=False):
    """``torch.tensor(data)``: a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    if isinstance(data, (numpy.ndarray, numpy.generic)):
        data = numpy.asarray(data)
        kind = _dtypes.of_numpy(data.dtype) if dtype is None else dtype
        value = numpy.array(data, dtype=kind.numpy)
    else:
        kind = (data._dtype if isinstance(data, Tensor) else _infer_dtype(data)) \
            if dtype is None else dtype
        value = numpy.array(plain(data), dtype=kind.numpy)
    result = Tensor._make(value, kind)
    if requires_grad:
        if not kind.is_floating_point:
            raise RuntimeError(FLOAT_OR_COMPLEX)
        result._requires_grad = True
    return result


def LongTensor(*args):  # noqa: N802 (PyTorch's name)
    """``torch.LongTensor(data)``: an int64 tensor (``torch.FloatTensor`` is ``Tensor``)."""
    return _typed(args, _dtypes.int64)


def DoubleTensor(*args):  # noqa: N802
    return _typed(args, _dtypes.float64)


def _typed(args, kind):
    from backtrace_cli.torchlike._tensor import legacy_value

    if len(args) == 1 and not isinstance(args[0], int):
        return tensor(plain(args[0]), dtype=kind)
    return Tensor._make(legacy_value(args).astype(kind.numpy), kind)


def _size(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _filled(fill, size, dtype, requires_grad):
    kind = dtype or _dtypes.DEFAULT
    result = Tensor._make(numpy.full(_size(size), fill, dtype=kind.numpy), kind)
    if requires_grad:
        result.requires_grad = True
    return result


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(0, size, dtype, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(1, size, dtype, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(0, size, dtype, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False, out=None):
    kind = dtype or (_dtypes.of_number(fill_value))
    return _filled(fill_value, (size,), kind, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return _filled(0, t._value.shape, dtype or t._dtype, requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _filled(1, t._value.shape, dtype or t._dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    numbers = (start, end, step)
    integral = all(isinstance(n, int) for n in numbers)
    kind = dtype or (_dtypes.int64 if integral else _dtypes.DEFAULT)
    count = max(0, math.ceil((end - start) / step))
    # PyTorch computes start + i * step in double (float64 accumulation), then casts.
    value = (start + numpy.arange(count, dtype=numpy.float64) * step) if not integral \
        else numpy.arange(start, end, step, dtype=numpy.int64)
    return _filled(0, (count,), kind, requires_grad)._replace_value(value.astype(kind.numpy))


def from_numpy(array):
    """A tensor sharing ``array``'s memory."""
    return Tensor._make(array if array.ndim else array.reshape(()), _dtypes.of_numpy(array.dtype))


# ----------------------------------------------------------------------------- random numbers
class Generator:
    """PyTorch's CPU generator: mt19937 and the cached second normal of Box-Muller."""

    def __init__(self, seed: int = 67280421310721) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int):
        self.seed_value = int(seed)
        self._state = None  # made when first drawn from: numpy.random loads only then
        self.next_normal = None
        return self

    @property
    def state(self):
        if self._state is None:
            import numpy.random

            self._state = numpy.random.RandomState(self.seed_value & 0xFFFFFFFF)
        return self._state

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {id(self):#x}>"

    def initial_seed(self) -> int:
        return self.seed_value

    def words(self, count: int) -> numpy.ndarray:
        """The next ``count`` 32-bit outputs of mt19937."""
        return self.state.randint(0, 2**32, size=count, dtype=numpy.uint64)

    def uniform(self, count: int, low: float, high: float, kind) -> numpy.ndarray:
        """``count`` uniforms in [low, high) in dtype ``kind``, PyTorch's way."""
        if kind.numpy == numpy.float64:
            pairs = self.words(2 * count).reshape(count, 2)
            bits = (pairs[:, 0] << numpy.uint64(32)) | pairs[:, 1]
            x = (bits & numpy.uint64(2**53 - 1)).astype(numpy.float64) * 2.0**-53
            return x * (high - low) + low
        x = (self.words(count) & numpy.uint64(2**24 - 1)).astype(numpy.float64) * 2.0**-24
        low32, high32 = float(numpy.float32(low)), float(numpy.float32(high))
        return (x * (high32 - low32) + low32).astype(kind.numpy)

    def normal(self, count: int, mean: float, std: float, kind) -> numpy.ndarray:
        values = numpy.empty(count, dtype=numpy.float64)
        for i in range(count):
            if self.next_normal is not None:
                value, self.next_normal = self.next_normal, None
            else:
                u1, u2 = self.uniform(2, 0.0, 1.0, _dtypes.float64)
                radius = math.sqrt(-2.0 * math.log1p(-u2))
                theta = 2.0 * math.pi * u1
                self.next_normal = radius * math.sin(theta)
                value = radius * math.cos(theta)
            values[i] = value * std + mean
        return values.astype(kind.numpy)

    def normal_fill(self, count: int, mean: float, std: float) -> numpy.ndarray:
        """16 or more float32 normals: PyTorch's normal_fill, uniforms turned into normals
        16 at a time (the last 16 drawn again when count is not a multiple of 16), in
        float32 (PyTorch's AVX2 kernels may differ in the last bit)."""
        f32 = numpy.float32
        data = self.uniform(count, 0.0, 1.0, _dtypes.float32)

        def fill(block):
            u1 = f32(1) - block[:8]
            u2 = block[8:]
            log = numpy.log(u1.astype(numpy.float64)).astype(f32)
            radius = numpy.sqrt(f32(-2) * log)
            theta = f32(2.0 * math.pi) * u2
            cos = numpy.cos(theta.astype(numpy.float64)).astype(f32)
            sin = numpy.sin(theta.astype(numpy.float64)).astype(f32)
            block[:8] = radius * cos * f32(std) + f32(mean)
            block[8:] = radius * sin * f32(std) + f32(mean)

        for start in range(0, count - 15, 16):
            fill(data[start:start + 16])
        if count % 16:
            data[count - 16:] = self.uniform(16, 0.0, 1.0, _dtypes.float32)
            fill(data[count - 16:])
        return data


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    return default_generator.manual_seed(seed)


def seed() -> int:
    raise NotImplementedError(not_in_subset("torch.seed"))


def initial_seed() -> int:
    return default_generator.initial_seed()


def rand(*size, dtype=None, generator=None, device=None, requires_grad=False):
    kind = dtype or _dtypes.DEFAULT
    shape = _size(size)
    count = int(numpy.prod(shape)) if shape else 1
    value = (generator or default_generator).uniform(count, 0.0, 1.0, kind).reshape(shape)
    return _filled(0, shape, kind, requires_grad)._replace_value(value)


def randn(*size, dtype=None, generator=None, device=None, requires_grad=False):
    kind = dtype or _dtypes.DEFAULT
    shape = _size(size)
    count = int(numpy.prod(shape)) if shape else 1
    source = generator or default_generator
    if count >= 16 and kind.numpy == numpy.float32:
        value = source.normal_fill(count, 0.0, 1.0).reshape(shape)
    else:
        value = source.normal(count, 0.0, 1.0, kind).reshape(shape)
    return _filled(0, shape, kind, requires_grad)._replace_value(value)


def uniform_(t: Tensor, low: float = 0.0, high: float = 1.0) -> Tensor:
    """Fill ``t`` in place with uniforms in [low, high) (nn.init.uniform_, Tensor.uniform_)."""
    values = default_generator.uniform(t._value.size, low, high, t._dtype)
    t._value[...] = values.reshape(t._value.shape)
    return t


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    if t._value.size >= 16 and t._dtype.numpy == numpy.float32:
        values = default_generator.normal_fill(t._value.size, mean, std)
    else:
        values = default_generator.normal(t._value.size, mean, std, t._dtype)
    t._value[...] = values.reshape(t._value.shape)
    return t


def _replace_value(self, value):
    self._value = value
    return self


Tensor._replace_value = _replace_value
