"""The data of an epoch, chunk by chunk, and the sweeps of one batch.

An epoch is a sequence of chunks: all rows in memory, or a file's column cache read chunk
by chunk (``--stream``), with the same updates. A batch of arrays is swept in blocks of
``BLOCK_ROWS`` rows; a batch of one row does exactly the operations of the reference engine.
``Batches`` is the part of a training run (``loop._Run``) that reads data and sweeps it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.tape import CONST, backward, forward
from backtrace_cli.engine.values import all_finite
from backtrace_cli.errors import EvaluationError
from backtrace_cli.i18n import _

TRACE_ROWS = 64  # a traced batch lists its rows up to this many
# Larger batches are swept in blocks of this many rows: a block's arrays stay in the CPU's
# cache (measured: 1M rows x 2 columns, 2.5 ms an epoch in blocks against 5.0 ms in one go).
BLOCK_ROWS = 65_536


@dataclass
class Chunk:
    """Consecutive rows of an epoch, in the epoch's order, ready for one kind of sweep."""

    data: dict[str, Any]  # name -> list of floats (scalar sweeps) or array
    count: int
    first: int  # 0-based position of the first row in the file (unshuffled)
    order: Any = None  # 0-based file rows of a shuffled chunk
    table: list | None = None  # rows as tuples, for the compiled loop

    def row(self, position: int) -> int:
        """The 1-based data row (in the file) of a position in this chunk."""
        if self.order is not None:
            return int(self.order[position]) + 1
        return self.first + position + 1



class Batches:
    """Reading an epoch's chunks and sweeping batches; the state lives in ``loop._Run``."""

    # -- the data of an epoch, chunk by chunk
    def _chunks(self, order):
        if self.stream is None:
            if self.whole is None:  # converted once: every epoch reads the same rows
                self.whole = self._chunk(self.memory, 0, None)
            yield self.whole if order is None else self._shuffled(self.whole, order)
            return
        # A streamed chunk holds whole batches, so no batch straddles two chunks (the full
        # batch adds up its chunks' sums instead, see _streamed_full_batch).
        per_chunk = self.stream.chunk_rows
        if self.settings.batch_size is not None:
            per_chunk = max(1, per_chunk // self.batch) * self.batch
        # The stream's column cache hands out float64 or float32 columns as they are swept.
        dtype = "float64" if self.scalar else self.dtype.name
        for first, columns in self.stream.column_chunks(per_chunk, dtype):
            yield self._chunk({name: columns[name] for name in self.data_names}, first, None)

    def _shuffled(self, whole: Chunk, order) -> Chunk:
        """The rows of ``whole`` in the epoch's shuffled order."""
        if self.scalar:
            positions = order.tolist()
            data = {n: [values[i] for i in positions] for n, values in whole.data.items()}
            table = None if whole.table is None else [whole.table[i] for i in positions]
            return Chunk(data, whole.count, 0, order, table)
        return Chunk({n: v[order] for n, v in whole.data.items()}, whole.count, 0, order)

    def _chunk(self, columns, first: int, order) -> Chunk:
        import numpy as np

        count = len(next(iter(columns.values())))
        if self.scalar:
            data = {n: values.tolist() for n, values in columns.items()}
            table = None
            if self.compiled is not None:
                table = list(zip(*(data[n] for n in self.data_names)))
            return Chunk(data, count, first, order, table)
        data = {n: np.ascontiguousarray(v, dtype=self.dtype) for n, v in columns.items()}
        return Chunk(data, count, first, order)


    def _sweep(self, bindings: dict) -> tuple[Any, dict[str, Any]]:
        """Forward and reverse sweeps of one batch: the sums of its losses and gradients.

        A batch of arrays is swept in blocks of BLOCK_ROWS rows whose sums are added up in
        order (a streamed file's chunks are such blocks too, so both give the same bits).
        """
        tape, m, wanted = self.problem.tape, self.m, self.problem.params
        one = self.number(1.0)
        if self.scalar:
            values = forward(tape, bindings, m)
            sweep = backward(tape, values, one, wanted, m)
            grads = {}
            for name in wanted:
                adjoint = sweep.adjoints[tape.variable_nodes[name]]
                grads[name] = 0.0 if adjoint is None else adjoint
            return values[tape.output], grads
        count = len(bindings[self.data_names[0]])
        if count <= BLOCK_ROWS:
            return self._block_sweep(bindings)
        loss_sum = self.number(0.0)
        grads = {name: self.number(0.0) for name in wanted}
        for start in range(0, count, BLOCK_ROWS):
            block = dict(bindings)
            for name in self.data_names:
                block[name] = bindings[name][start : start + BLOCK_ROWS]
            block_loss, block_grads = self._block_sweep(block)
            loss_sum = loss_sum + block_loss
            for name in wanted:
                grads[name] = grads[name] + block_grads[name]
        return loss_sum, grads

    def _block_sweep(self, bindings: dict) -> tuple[Any, dict[str, Any]]:
        """One block of rows as arrays: the sums of its losses and gradients.

        Only what could hide an inf or nan is checked, then the sums; if one is not finite,
        the block is swept again checking every node, which names the node that failed.
        """
        tape, m, wanted = self.problem.tape, self.m, self.problem.params
        if self.arrays:
            return self._array_block_sweep(bindings)
        if self.block_sweep is not None:  # the same operations, compiled (compiled_blocks.py)
            loss_sum, sums, finite = self.block_sweep(
                *(bindings[name] for name in self.data_names), *(bindings[name] for name in wanted))
            if finite and all(math.isfinite(float(v)) for v in (loss_sum, *sums)):
                return loss_sum, dict(zip(wanted, sums))
            # else the reference sweeps below name the node that failed
        one = self.number(1.0)
        np, dtype, number = m.np, self.dtype, self.number
        values = forward(tape, bindings, m, self.unguarded)
        sweep = backward(tape, values, one, wanted, m, check=False)
        loss_sum = np.sum(values[tape.output], dtype=dtype)
        grads = {}
        for name in wanted:
            adjoint = sweep.adjoints[tape.variable_nodes[name]]
            grads[name] = number(0.0) if adjoint is None else np.sum(adjoint, dtype=dtype)
        if not all(math.isfinite(float(v)) for v in (loss_sum, *grads.values())):
            backward(tape, forward(tape, bindings, m), one, wanted, m)
            raise EvaluationError(
                _("the batch's loss or gradient is too large for a float"),
                tape.source, tape.nodes[tape.output].span, _("try a smaller --lr"),
            )
        return loss_sum, grads


    def _array_block_sweep(self, bindings: dict) -> tuple[Any, dict[str, Any]]:
        """One block of rows for a model with arrays: a batch axis in front of every value
        (parameters broadcast along it without a copy), the sweeps as for one row, then each
        parameter's gradient summed over the rows."""
        tape, m, wanted = self.problem.tape, self.m, self.problem.params
        np, dtype = m.np, self.dtype
        count = len(bindings[self.data_names[0]])
        batched = dict(bindings)
        for name in wanted:
            value = bindings[name]
            batched[name] = np.broadcast_to(value, (count, *np.shape(value)))
        shapes = self._block_shapes.get(count)
        if not shapes:
            shapes = [s if node.kind == CONST else (count, *s)
                      for node, s in zip(tape.nodes, self.shapes)]
            self._block_shapes = {count: shapes}
        seed = np.ones(count, dtype=dtype)
        values = forward(tape, batched, m, self.unguarded, self.align)
        sweep = backward(tape, values, seed, wanted, m, check=False, shapes=shapes,
                         align=self.align)
        loss_sum = np.sum(values[tape.output], dtype=dtype)
        grads = {}
        for name in wanted:
            adjoint = sweep.adjoints[tape.variable_nodes[name]]
            if adjoint is None:
                grads[name] = np.zeros(np.shape(bindings[name]), dtype=dtype)[()]
            else:
                grads[name] = np.sum(adjoint, axis=0, dtype=dtype)[()]
        if not all(all_finite(v) for v in (loss_sum, *grads.values())):
            checked = forward(tape, batched, m, None, self.align)
            backward(tape, checked, seed, wanted, m, shapes=shapes, align=self.align)
            raise EvaluationError(
                _("the batch's loss or gradient is too large for a float"),
                tape.source, tape.nodes[tape.output].span, _("try a smaller --lr"),
            )
        return loss_sum, grads



def keep_freed_memory() -> None:
    """Ask glibc's malloc to reuse freed blocks of array size instead of returning them to
    the system: each epoch of a large batch then allocates its temporaries without page
    faults (measured: 3.9 s -> 1.5 s for 1M rows x 100 epochs). Harmless where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD: its largest value
        libc.mallopt(-1, 1024 * 1024 * 1024)  # M_TRIM_THRESHOLD: keep up to 1 GiB
    except (OSError, AttributeError):
        pass
