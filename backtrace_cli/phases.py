"""A test hook: stop at a named phase of the work until a signal comes.

The tests of Ctrl-C, SIGTERM and SIGHUP must interrupt a run at a known state (inside the
sweeps of a huge expression, while SymPy runs in its child, while the ``--stream`` cache is
written, after a training update), on a busy machine as on an idle one, without guessing
times. With ``BACKTRACE_TEST_PHASE=NAME`` and ``BACKTRACE_TEST_PHASE_FILE=PATH`` in the
environment, the process that reaches the phase NAME writes its process id to PATH (created
atomically, so a reader never sees it half-written) and waits there for a signal: the
signal's handler then acts exactly there (Ctrl-C raises; training's handler sets its flag,
and the run goes on to its next safe point). Without the variables ``reached`` returns at
once. The phases are listed in ``PHASES``.
"""

from __future__ import annotations

import os
import signal

ENV = "BACKTRACE_TEST_PHASE"
FILE_ENV = "BACKTRACE_TEST_PHASE_FILE"
PHASES = (
    "grad-sweeps",  # grad: the tape is built and evaluated, the backward sweep is next
    "sympy-child",  # the SymPy check's child process, before SymPy starts
    "stream-cache",  # --stream: the first chunk of the column cache is written
    "train-update",  # training or minimize: one update is done
)


def reached(phase: str) -> None:
    """Announce ``phase`` and wait for a signal, if the environment asks for this phase."""
    if os.environ.get(ENV) != phase or not hasattr(signal, "pthread_sigmask"):
        return
    from backtrace_cli.signals import STOPPING

    # Blocked before the announcement, so a signal sent as soon as the file appears waits
    # for sigwait instead of running its handler before the wait began.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        path = os.environ.get(FILE_ENV)
        if path:
            partial = f"{path}.{os.getpid()}.part"
            with open(partial, "w", encoding="utf-8") as handle:
                handle.write(str(os.getpid()))
            os.replace(partial, path)
        signum = signal.sigwait(STOPPING)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    signal.raise_signal(signum)  # now its handler runs, here, as if it had come just now
