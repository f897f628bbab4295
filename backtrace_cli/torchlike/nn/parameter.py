"""``nn.Parameter``: a leaf tensor that requires grad and that a Module registers."""

from __future__ import annotations

import backtrace_cli.torchlike._dtypes as _dtypes
from backtrace_cli.torchlike._tensor import Tensor


class Parameter(Tensor):
    """A tensor sharing ``data``'s storage, a leaf that requires grad by default."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad: bool = True):
        self = object.__new__(cls)
        if data is None:
            import numpy

            self._set(numpy.zeros((0,), numpy.float32), _dtypes.DEFAULT)
        else:
            self._set(data._value, data._dtype)
        self.requires_grad = requires_grad
        return self

    def __repr__(self, *, tensor_contents=None) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__
