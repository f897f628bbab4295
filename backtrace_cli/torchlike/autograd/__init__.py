"""``torch.autograd``: Variable (a plain tensor since PyTorch 0.4) and backward."""

from __future__ import annotations

from backtrace_cli.torchlike._autograd import run_backward
from backtrace_cli.torchlike._tensor import Tensor


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802
    """A tensor over ``data``'s values, a leaf that requires grad if asked."""
    result = Tensor._make(data._value, data._dtype)
    if requires_grad:
        result.requires_grad = True
    return result


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    grads = grad_tensors if isinstance(grad_tensors, (list, tuple)) else [grad_tensors] * len(
        tensors)
    for tensor, grad in zip(tensors, grads):
        run_backward(tensor, grad, retain_graph)


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch.autograd", name)
