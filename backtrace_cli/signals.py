"""SIGTERM and SIGHUP are Ctrl-C by other names.

``backtrace`` treats all three alike: whatever is running stops as it stops on Ctrl-C (the
``--stream`` cache is removed, the SymPy child is killed, training and minimize report what
they finished), a one-line message goes to stderr, and the exit code is 128 + the signal's
number, as a shell reports a process the signal ended: 130 for SIGINT, 143 for SIGTERM, 129
for SIGHUP (docs/cli.md, "Exit codes").

While ``as_interrupts()`` is active, SIGTERM and SIGHUP raise ``Stopped``, a
``KeyboardInterrupt``, so every ``except KeyboardInterrupt`` and ``finally`` that cleans up
after Ctrl-C cleans up after them too. A SIGHUP that is ignored (``nohup``) stays ignored.
Code that installs its own SIGINT handler (training's "stop after this update") installs it
for the other two as well (``STOPPING``) and records what came with ``received``.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from backtrace_cli.i18n import _

# The signals that stop a run like Ctrl-C, where the platform has them.
STOPPING: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_OTHERS = tuple(number for number in STOPPING if number != signal.SIGINT)
_received: list[int] = []


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would raise KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def received(signum: int) -> None:
    """Record that ``signum`` stopped (or is stopping) the run: it decides the exit code."""
    _received.append(signum)


def _stop(signum, frame) -> None:
    received(signum)
    raise Stopped(signum)


@contextlib.contextmanager
def as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Stopped`` inside; the previous handlers are restored after.
    Only the main thread can set handlers: elsewhere this does nothing."""
    _received.clear()
    previous = {}
    for number in _OTHERS:
        try:
            if signal.getsignal(number) == signal.SIG_IGN:
                continue  # nohup: a hang-up is meant to be ignored
            previous[number] = signal.signal(number, _stop)
        except (ValueError, OSError):  # not the main thread
            break
    try:
        yield
    finally:
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, handler)


def stopped_by(error: BaseException | None = None) -> int:
    """The signal that stopped the run: ``error``'s, else the last one received, else SIGINT
    (Python's own Ctrl-C handler records nothing)."""
    if isinstance(error, Stopped):
        return error.signum
    return _received[-1] if _received else signal.SIGINT


def exit_code(error: BaseException | None = None) -> int:
    """128 + the number of the signal that stopped the run: 130, 143 or 129."""
    return 128 + int(stopped_by(error))


def message(error: BaseException | None = None) -> str:
    """The one line said when a signal stopped the run before anything was finished."""
    signum = stopped_by(error)
    if signum == getattr(signal, "SIGTERM", None):
        return _("Terminated (SIGTERM).")
    if signum == getattr(signal, "SIGHUP", None):
        return _("Hung up (SIGHUP).")
    return _("Interrupted.")
