"""Sums in PyTorch's order: what ``sum()``, ``mean()``, the losses' reductions and the
gradients that broadcasting sums back (a bias's) add up, one rounding at a time."""

from __future__ import annotations

import numpy


def full_sum(values):
    """The sum of every element of a float array in PyTorch's order on a CPU with AVX2
    (a 0-d array): 4 accumulators of 8 float32 lanes (4 float64 lanes) taking the vectors in
    turn, added together, then the leftover elements and the lanes one by one. Fewer than 8
    float32 elements take 4 lanes. Past 512 (256) elements PyTorch cascades further and
    NumPy's pairwise sum stands in (the last bit may differ: docs/numerics.md)."""
    flat = values.reshape(-1)
    count = flat.size
    dtype = flat.dtype
    if dtype.kind != "f":
        return numpy.sum(flat, dtype=dtype)
    single = dtype == numpy.float32
    if count > (512 if single else 256):
        return numpy.sum(flat, dtype=dtype)
    lanes = 8 if single and count >= 8 else 4
    rows = count // lanes
    body = flat[:rows * lanes].reshape(rows, lanes)
    total = numpy.zeros(lanes, dtype)
    for accumulator in range(min(rows, 4)):
        total = total + numpy.cumsum(body[accumulator::4], axis=0, dtype=dtype)[-1]
    tail = numpy.concatenate((flat[rows * lanes:], total))
    return numpy.cumsum(tail, dtype=dtype)[-1]


def full_mean(values):
    """PyTorch's mean on the CPU: the sum, then divided by the count."""
    return full_sum(values) / values.dtype.type(values.size)


def sum_to(value, shape: tuple, fit):
    """A gradient summed back to ``shape`` (undoing broadcasting): to one element in
    full_sum's order (a bias of one output, PyTorch's sum over a column), else NumPy's
    (``fit``, the engine's)."""
    size = 1
    for n in shape:
        size *= n
    if size == 1 and numpy.size(value) > 1:
        total = full_sum(numpy.asarray(value))
        return total.reshape(shape) if shape else total
    return fit(value, shape)
