"""The graph's node classes, one per PyTorch ``grad_fn`` name, over the op table's rows.

Where PyTorch's backward is the table's ``upstream * local`` (add, sub, mul, pow, exp, tanh,
abs, neg, transpose, sum, mean, matmul), ``step`` is the engine's ``table_step``. The rest
compute what PyTorch's kernels compute, in their order of rounding (``derivatives.yaml``
and the CPU kernels of PyTorch 2.13): division ``grad / b``, ``log`` ``grad / a``,
``sqrt`` ``grad / (2 * out)``, ``sigmoid`` ``grad * (1 - out) * out``, ``relu`` a mask, and
the fused ops without a row of the table.
"""

from __future__ import annotations

import numpy

from backtrace_cli.torchlike._autograd import function_class

SEQUENTIAL = 32768  # up to this many products, PyTorch's own gemm order (see below)


def matrix_product(a, b):
    """a @ b of 1-D or 2-D arrays in PyTorch's order for small sizes: every product rounded,
    then summed one after another along k (PyTorch's CPU gemm for small matrices; NumPy's
    BLAS fuses and reorders). Large products are NumPy's (PyTorch's BLAS there too)."""
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    if a2.shape[0] * a2.shape[1] * b2.shape[1] > SEQUENTIAL or a2.shape[1] == 0:
        result = a2 @ b2
    else:
        products = a2[:, :, None] * b2[None, :, :]
        result = products[:, 0, :].copy()
        for k in range(1, a2.shape[1]):
            result += products[:, k, :]
    if b.ndim == 1:
        result = result[..., 0]
    if a.ndim == 1:
        result = result[0]
    return numpy.asarray(result)


def _matmul_step(node, g):
    """d(a @ b): g @ b.T and a.T @ g (outer products for vectors), in matrix_product's
    order."""
    a, b = node.args
    g2 = numpy.reshape(g, (a.shape[0] if a.ndim == 2 else 1, b.shape[1] if b.ndim == 2 else 1))
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    return [numpy.reshape(matrix_product(g2, b2.T), a.shape) if _wanted(node, 0) else None,
            numpy.reshape(matrix_product(a2.T, g2), b.shape) if _wanted(node, 1) else None]


def _fit(node, product, position):
    return node.m.fit(product, node.args[position].shape)


def _wanted(node, position) -> bool:
    return node.inputs[position].kind != "const"


def _div_step(node, g):
    a, b = node.args
    return [_fit(node, g / b, 0) if _wanted(node, 0) else None,
            _fit(node, -g * ((a / b) / b), 1) if _wanted(node, 1) else None]


def _reciprocal_step(node, g):
    out = node.value
    return [None, -g * (out * out)]


def _log_step(node, g):
    return [g / node.args[0]]


def _sqrt_step(node, g):
    return [g / (2 * node.value)]


def _sigmoid_step(node, g):
    out = node.value
    return [g * (1 - out) * out]


def _relu_step(node, g):
    return [numpy.where(node.value > 0, g, numpy.zeros((), node.value.dtype))]


def _view_step(node, g):
    return [numpy.reshape(g, node.args[0].shape)]


def _select_step(node, g):
    """Select and slice: the gradient placed where the elements came from."""
    source, key = node.args
    grad = numpy.zeros(source.shape, source.dtype)
    grad[key] = g
    return [grad]


def _to_copy_step(node, g):
    """A cast: the gradient cast back to the source's dtype."""
    return [numpy.asarray(g).astype(node.args[0].dtype)]


def _index_step(node, g):
    """Indexing by a tensor: the gradient added where each element came from (an element
    picked twice gets both)."""
    source, key = node.args
    grad = numpy.zeros(source.shape, source.dtype)
    numpy.add.at(grad, key, g)
    return [grad]


def _reduce_dim_step(node, g):
    """sum(dim=) and mean(dim=): the gradient spread back over the reduced axes (divided by
    their size for the mean, as PyTorch's mean_backward divides after expanding)."""
    source, axes, keepdim, is_mean = node.args
    if not keepdim:
        g = numpy.expand_dims(g, axes)
    spread = numpy.broadcast_to(g, source.shape)
    if is_mean:
        count = 1
        for axis in axes:
            count *= source.shape[axis]
        spread = spread / numpy.asarray(count, source.dtype)
    return [spread]


def _addmm_step(node, g):
    """bias + mat1 @ mat2 (nn.Linear): the bias's gradient summed back to its shape."""
    bias, mat1, mat2 = node.args
    return [node.m.fit(g, bias.shape) if _wanted(node, 0) else None,
            matrix_product(g, mat2.T) if _wanted(node, 1) else None,
            matrix_product(mat1.T, g) if _wanted(node, 2) else None]


def _mse_step(node, g):
    """PyTorch's mse_loss_backward: norm * (input - target) * grad, norm 2/n or 2."""
    source, target, reduction = node.args
    dtype = source.dtype.type
    norm = dtype(2.0 / source.size) if reduction == "mean" else dtype(2.0)
    grad = norm * (source - target) * g
    return [node.m.fit(grad, source.shape) if _wanted(node, 0) else None,
            node.m.fit(-grad, target.shape) if _wanted(node, 1) else None]


def _bce_step(node, g):
    """PyTorch's binary_cross_entropy_backward: grad * (x - y) / max((1 - x) * x, 1e-12),
    then divided by n for the mean."""
    source, target, weight, reduction = node.args
    dtype = source.dtype.type
    denominator = numpy.maximum((1 - source) * source, dtype(1e-12))
    grad = g * (source - target) / denominator
    if weight is not None:
        grad = grad * weight
    if reduction == "mean":
        grad = grad / dtype(source.size)
    return [grad, None]


F = function_class
AddBackward0 = F("AddBackward0", "add", saves=False)
SubBackward0 = F("SubBackward0", "sub", saves=False)
RsubBackward1 = F("RsubBackward1", "sub", saves=False, hidden=(0,))
MulBackward0 = F("MulBackward0", "mul")
DivBackward0 = F("DivBackward0", "div", step=_div_step)
ReciprocalBackward0 = F("ReciprocalBackward0", "div", hidden=(0,), step=_reciprocal_step)
PowBackward0 = F("PowBackward0", "pow", hidden=(1,))
PowBackward1 = F("PowBackward1", "pow")
PowBackward2 = F("PowBackward2", "pow", hidden=(0,))
NegBackward0 = F("NegBackward0", "neg", saves=False)
ExpBackward0 = F("ExpBackward0", "exp")
LogBackward0 = F("LogBackward0", "log", step=_log_step)
SqrtBackward0 = F("SqrtBackward0", "sqrt", step=_sqrt_step)
SigmoidBackward0 = F("SigmoidBackward0", "sigmoid", step=_sigmoid_step)
TanhBackward0 = F("TanhBackward0", "tanh")
ReluBackward0 = F("ReluBackward0", "relu", step=_relu_step)
AbsBackward0 = F("AbsBackward0", "abs")
CloneBackward0 = F("CloneBackward0", "pos", saves=False)
SumBackward0 = F("SumBackward0", "sum", saves=False)
MeanBackward0 = F("MeanBackward0", "mean", saves=False)
TBackward0 = F("TBackward0", "transpose", saves=False)
DotBackward0 = F("DotBackward0", "matmul", step=_matmul_step)
MvBackward0 = F("MvBackward0", "matmul", step=_matmul_step)
MmBackward0 = F("MmBackward0", "matmul", step=_matmul_step)
# Fused ops of PyTorch that the table has no row for: op None, PyTorch's own backward.
SumBackward1 = F("SumBackward1", None, saves=False, step=_reduce_dim_step)
MeanBackward1 = F("MeanBackward1", None, saves=False, step=_reduce_dim_step)
ViewBackward0 = F("ViewBackward0", None, saves=False, step=_view_step)
UnsafeViewBackward0 = F("UnsafeViewBackward0", None, saves=False, step=_view_step)
SelectBackward0 = F("SelectBackward0", None, saves=False, step=_select_step)
SliceBackward0 = F("SliceBackward0", None, saves=False, step=_select_step)
UnbindBackward0 = F("UnbindBackward0", None, saves=False, step=_select_step)
ToCopyBackward0 = F("ToCopyBackward0", None, saves=False, step=_to_copy_step)
IndexBackward0 = F("IndexBackward0", None, step=_index_step)
AddmmBackward0 = F("AddmmBackward0", None, step=_addmm_step)
MseLossBackward0 = F("MseLossBackward0", None, step=_mse_step)
BinaryCrossEntropyBackward0 = F("BinaryCrossEntropyBackward0", None, step=_bce_step)
