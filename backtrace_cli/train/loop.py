"""Fit a model expression to data with gradient descent, driven by the tape engine.

``build_problem`` joins the model and the loss into one program (``y_hat = <model>;
loss = <loss in y_hat and y>``) and compiles it to one tape, so every update is an ordinary
forward and reverse sweep over that tape: the same engine that ``backtrace grad`` explains.

The sweeps, which give the same numbers:

- rows one at a time in float64 (``--batch-size 1``, the lecture's per-sample SGD) run on
  Python floats: the reference engine, or, for plain SGD, the same operations compiled into
  one function per run (``compiled.py``), bit for bit;
- batches (and every float32 run) run on NumPy arrays of the batch's rows, in blocks of
  ``BLOCK_ROWS``; a batch of one row does exactly the operations of the reference engine.

An epoch is a sequence of chunks: all rows in memory, or a file's column cache read chunk
by chunk (``--stream``: the CSV is parsed once), with the same updates. The gradient of a
batch is the mean of its rows' gradients (the sum of their products, divided by the batch
size, as the lecture's batch gradient descent computes it). SGD is the lecture's
``w - lr * grad``; momentum and Adam follow ``torch.optim``'s documented rules (PyTorch fuses
some of their steps into one rounding, so they agree with it to about 1e-15, not bit for
bit).
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from backtrace_cli.engine.backends import FLOAT64, batch_backend, numpy_backend
from backtrace_cli.engine.tape import batch_alignment, unguarded_nodes
from backtrace_cli.engine.values import all_finite, as_float64, holds_arrays, shape_of
from backtrace_cli.errors import EvaluationError
from backtrace_cli.phases import reached as reached_phase
from backtrace_cli.signals import STOPPING, received
from backtrace_cli.train.batches import TRACE_ROWS, Batches, Chunk, keep_freed_memory
from backtrace_cli.train.optimizers import make_optimizer
from backtrace_cli.train.problem import (  # noqa: F401  (the training API in one place)
    BUILTIN_LOSSES,
    Problem,
    array_shapes,
    build_problem,
    predict,
)
from backtrace_cli.train.records import (  # noqa: F401
    Captured,
    Divergence,
    EpochRecord,
    TrainResult,
    Update,
)
from backtrace_cli.train.settings import OPTIMIZERS, Settings  # noqa: F401


class _StopFlag:
    """Set by SIGINT (or SIGTERM, SIGHUP); the loop stops at the next safe point (after an
    update)."""

    def __init__(self) -> None:
        self.raised = False

    def __call__(self, signum, frame) -> None:
        received(signum)  # the exit code says which signal stopped the run
        if self.raised:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.raised = True


# ----------------------------------------------------------------------------- training
def train(
    problem: Problem,
    columns: Mapping[str, Any] | Any,
    initial: Mapping[str, float],
    settings: Settings,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    on_update: Callable[[Update], None] | None = None,
) -> TrainResult:
    """Run ``settings.epochs`` epochs of gradient descent.

    ``columns`` maps names to arrays of values, or is a ``data.CsvStream`` whose column
    cache is read in chunks on every epoch (``--stream``): the same updates in the same
    order, in bounded memory.
    """
    import numpy as np

    run = _Run(problem, columns, initial, settings, on_update)
    result = run.result
    generator = np.random.default_rng(settings.seed) if settings.shuffle else None
    try:
        with interruptible() as stop, np.errstate(all="ignore"):
            for epoch in range(1, settings.epochs + 1):
                order = generator.permutation(run.rows) if generator is not None else None
                record = run.epoch(epoch, order, stop)
                if record is None:  # diverged or interrupted inside the epoch
                    return result
                result.history.append(record)
                result.updates = run.update
                result.params = {name: as_float64(run.params[name]) for name in problem.params}
                if on_epoch is not None:
                    on_epoch(record)
                reached_phase("train-update")  # a test hook (phases.py)
                if stop.raised:
                    result.interrupted = True
                    return result
    except KeyboardInterrupt:
        result.interrupted = True
    return result


class _Run(Batches):
    """The state of one training run, and its epochs: compiled where possible, else the
    reference sweeps (which also replay a compiled chunk that met inf, nan or a math error).
    An epoch is a sequence of chunks: the whole data in memory, or a file's chunks."""

    def __init__(self, problem, source, initial, settings: Settings, on_update) -> None:
        import numpy as np

        self.problem = problem
        self.settings = settings
        self.on_update = on_update
        # A model with arrays is swept in batches with a batch axis in front of every value
        # (one row per entry), also for --batch-size 1.
        self.shapes = array_shapes(problem, initial)
        self.arrays = holds_arrays(self.shapes)
        self.align = batch_alignment(problem.tape, self.shapes) if self.arrays else None
        self._block_shapes: dict[int, list[tuple]] = {}
        self.scalar = (settings.dtype == "float64" and settings.batch_size == 1
                       and not self.arrays)
        if self.scalar:
            self.m = FLOAT64
        elif self.arrays:
            self.m = batch_backend(settings.dtype)
        else:
            self.m = numpy_backend(settings.dtype)
        self.dtype = np.dtype(settings.dtype)
        self.number = float if self.scalar else self.dtype.type
        self.data_names = problem.data_names
        self.stream = source if hasattr(source, "chunks") else None
        if self.stream is not None:
            self.rows = self.stream.rows
            self.memory = None
        else:
            self.rows = len(next(iter(source.values())))
            self.memory = {n: np.asarray(source[n], dtype=np.float64) for n in self.data_names}
        size = settings.batch_size
        self.batch = self.rows if size is None else min(size, self.rows)
        self.params: dict[str, Any] = {
            n: self.number(initial[n]) if not shape_of(initial[n])
            else np.array(initial[n], dtype=self.dtype)
            for n in problem.params
        }
        self.result = TrainResult(
            initial={n: as_float64(v) for n, v in self.params.items()},
            params={n: as_float64(v) for n, v in self.params.items()},
            rows=self.rows,
        )
        self.optimizer = make_optimizer(settings, self.number, self.m)
        self.update = 0
        self.unguarded = None if self.scalar else unguarded_nodes(problem.tape)
        if not self.scalar and self.batch >= 100_000:
            keep_freed_memory()
        self.whole: Chunk | None = None  # the rows in memory, prepared for the sweeps
        self.block_sweep = None  # a block of rows as arrays, compiled (batches._block_sweep)
        if not self.scalar and not self.arrays:
            from backtrace_cli.engine.compiled_blocks import block_sweep

            self.block_sweep = block_sweep(problem.tape, self.data_names, problem.params, self.m)
        self.compiled = None
        if (self.scalar and settings.optimizer == "sgd" and not settings.trace_limit
                and settings.explain_step is None):
            from backtrace_cli.engine.compiled import row_sgd_epoch

            self.compiled = row_sgd_epoch(problem.tape, self.data_names, problem.params)


    # -- one epoch
    def epoch(self, epoch: int, order, stop: _StopFlag) -> EpochRecord | None:
        if self.stream is not None and self.settings.batch_size is None:
            return self._streamed_full_batch(epoch)
        total, last = 0.0, 0.0
        for chunk in self._chunks(order):
            outcome = None
            if self.compiled is not None:
                outcome = self._compiled_chunk(chunk, total)
            if outcome is None:
                outcome = self._reference_chunk(epoch, chunk, total, stop)
            if outcome is None:
                return None
            total, last = outcome
        if not math.isfinite(total):  # finite losses whose sum is not: the mean is no number
            self.result.divergence = Divergence(
                epoch, self.update, self.rows,
                "the losses of the epoch add up to more than a float can hold",
            )
            self.result.params = {n: float(v) for n, v in self.params.items()}
            return None
        return EpochRecord(epoch, total / self.rows, last)

    def _compiled_chunk(self, chunk: Chunk, total: float) -> tuple[float, float] | None:
        names = self.problem.params
        try:
            *values, total, last, check = self.compiled(
                chunk.table, *(self.params[n] for n in names), self.settings.lr, total
            )
        except (ArithmeticError, ValueError):
            return None
        if not all(math.isfinite(v) for v in (*values, total, last, check)):
            return None  # replay with the reference sweeps, which say where and why
        self.params = dict(zip(names, values))
        self.update += chunk.count
        return total, last

    def _reference_chunk(
        self, epoch: int, chunk: Chunk, total: float, stop: _StopFlag
    ) -> tuple[float, float] | None:
        settings, result = self.settings, self.result
        data, data_names = chunk.data, self.data_names
        last_loss = 0.0
        for start in range(0, chunk.count, self.batch):
            stop_at = min(start + self.batch, chunk.count)
            count = stop_at - start
            first_row = chunk.row(start)
            if self.scalar:
                bindings = {name: data[name][start] for name in data_names}
            else:
                bindings = {name: data[name][start:stop_at] for name in data_names}
            self.update += 1
            update = self.update
            if settings.explain_step == update:
                result.captured = Captured(
                    update, epoch, first_row, count,
                    {**{n: float(data[n][start]) for n in data_names},
                     **{n: as_float64(v) for n, v in self.params.items()}},
                )
            bindings.update(self.params)
            try:
                loss_sum, grad_sums = self._sweep(bindings)
            except EvaluationError as error:
                if update == 1:
                    raise
                result.divergence = Divergence(epoch, update, first_row, error.message)
                result.params = {n: as_float64(v) for n, v in self.params.items()}
                return None
            number = self.number
            batch_loss = loss_sum if self.scalar else loss_sum / number(count)
            grads = grad_sums if self.scalar else {
                n: g / number(count) for n, g in grad_sums.items()
            }
            traced = None
            if self.on_update is not None and update <= settings.trace_limit:
                rows = () if count > TRACE_ROWS else tuple(
                    chunk.row(position) for position in range(start, stop_at)
                )
                traced = Update(
                    update, epoch, rows, count,
                    {n: float(data[n][start]) for n in data_names},
                    float(batch_loss), {n: as_float64(g) for n, g in grads.items()},
                    {n: as_float64(v) for n, v in self.params.items()},
                )
            before = None
            if settings.explain_step == update:
                before = {n: as_float64(v) for n, v in self.params.items()}
            stepped = self._step(grads, epoch, update, first_row)
            if before is not None:
                captured = result.captured
                captured.gradients = {n: as_float64(g) for n, g in grads.items()}
                captured.before = before
                if stepped:
                    captured.after = {n: as_float64(v) for n, v in self.params.items()}
            if traced is not None:
                if stepped:
                    traced.after = {n: as_float64(v) for n, v in self.params.items()}
                self.on_update(traced)
            if not stepped:
                return None
            total += float(batch_loss) * count
            last_loss = float(batch_loss)
            if stop.raised:
                result.interrupted = True
                return None
        return total, last_loss

    def _streamed_full_batch(self, epoch: int) -> EpochRecord | None:
        """Full batch over a streamed file: the chunks' sums, then one update."""
        number = self.number
        loss_sum = number(0.0)
        grad_sums = {n: number(0.0) for n in self.problem.params}
        self.update += 1
        for chunk in self._chunks(None):
            bindings = dict(chunk.data)
            bindings.update(self.params)
            try:
                chunk_loss, chunk_grads = self._sweep(bindings)
            except EvaluationError as error:
                if self.update == 1:
                    raise
                self.result.divergence = Divergence(epoch, self.update, chunk.first + 1,
                                                    error.message)
                self.result.params = {n: as_float64(v) for n, v in self.params.items()}
                return None
            loss_sum = loss_sum + chunk_loss
            for name, value in chunk_grads.items():
                grad_sums[name] = grad_sums[name] + value
        rows = number(self.rows)
        if not self._step({n: g / rows for n, g in grad_sums.items()}, epoch, self.update, 1):
            return None
        loss = float(loss_sum / rows)
        return EpochRecord(epoch, loss, loss)

    def _step(self, grads: dict[str, Any], epoch: int, update: int, row: int) -> bool:
        """Apply one update; on a non-finite parameter, record the divergence and say so."""
        before = dict(self.params)
        self.optimizer.step(self.params, grads)
        bad = [n for n, v in self.params.items() if not all_finite(v)]
        if not bad:
            return True
        value = self.params[bad[0]]
        shown = float(value) if not shape_of(value) else "inf or nan"
        self.result.divergence = Divergence(
            epoch, update, row, f"the parameter {bad[0]} became {shown}"
        )
        self.result.params = {n: as_float64(v) for n, v in before.items()}
        return False

@contextmanager
def interruptible() -> Iterator[_StopFlag]:
    """Ctrl-C, while inside, sets the flag it yields (a loop stops at its next safe point,
    after an update; a second Ctrl-C raises KeyboardInterrupt); the previous handler is
    restored on the way out. Training and minimize share it."""
    stop = _StopFlag()
    previous = _install(stop)
    try:
        yield stop
    finally:
        _restore(previous)


def _install(stop: _StopFlag):
    """The flag as the handler of Ctrl-C, SIGTERM and SIGHUP (an ignored SIGHUP stays
    ignored); the handlers it replaced."""
    previous = {}
    for number in STOPPING:
        try:
            if number != signal.SIGINT and signal.getsignal(number) == signal.SIG_IGN:
                continue
            previous[number] = signal.signal(number, stop)
        except ValueError:  # not the main thread: leave the signals alone
            break
    return previous


def _restore(previous) -> None:
    for number, handler in previous.items():
        try:
            signal.signal(number, handler)
        except ValueError:
            pass

