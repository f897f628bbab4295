"""A function run in a forked child process with a deadline and a memory limit.

The SymPy check runs here, so a pathological expression ends in "skipped: ..." instead of
hanging or filling the memory. Ctrl-C, SIGTERM and SIGHUP are the parent's, which kills the
child on its way out (``backtrace_cli.signals``); sent to the whole process group, they end
the child at once. A parent that dies without cleaning up (SIGKILL) takes the child with it:
on Linux the kernel sends it SIGKILL (PR_SET_PDEATHSIG), elsewhere a thread of the child
sees that its parent is gone within a tenth of a second and ends it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from backtrace_cli.phases import reached as reached_phase
from backtrace_cli.signals import STOPPING

PARENT_POLL_SECONDS = 0.1  # where the kernel cannot tie the child's life to its parent's
# The child's deadline is its CPU time (a busy machine must not turn a verdict into "took
# too long"); a child that waits instead of working is stopped when the wall clock passes
# WALL_FACTOR times the timeout. Where a process's CPU time cannot be read (no /proc), the
# wall clock alone decides.
WALL_FACTOR = 10.0
POLL_SECONDS = 0.05


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _answered(receiver, pid: int, timeout: float) -> bool:
    """Whether the child answered before it used ``timeout`` seconds of CPU (or, where that
    cannot be read or it does not work, before WALL_FACTOR times that on the clock)."""
    import time

    if _cpu_seconds(pid) is None:
        return receiver.poll(timeout)
    started = time.monotonic()
    while not receiver.poll(POLL_SECONDS):
        used = _cpu_seconds(pid)
        if used is None:  # it ended: what it sent, if anything, is waiting
            return receiver.poll(0)
        if used > timeout or time.monotonic() - started > WALL_FACTOR * timeout:
            return False
    return True


def _child(connection, function, args, memory_bytes, recursion_limit, parent: int) -> None:
    # Ctrl-C is the parent's to handle (it kills this process): a KeyboardInterrupt here would
    # print a traceback. SIGTERM and SIGHUP (the parent's handlers were inherited) end this
    # process at once, quietly. They were blocked across the fork, so none came yet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in STOPPING:
        if number != signal.SIGINT:
            signal.signal(number, signal.SIG_DFL)
    _die_with(parent)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOPPING))
    reached_phase("sympy-child")  # a test hook (phases.py)
    # SymPy recurses over the expression tree; a deep one (a tower x**x**...**x) needs more
    # than Python's 1,000 frames. A crash of this process only skips the check.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), recursion_limit))
    try:
        if memory_bytes:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        connection.send(("ok", function(*args)))
    except MemoryError:
        connection.send(("error", "SymPy ran out of memory"))
    except BaseException as exc:  # report, never raise, from the child
        connection.send(("error", f"SymPy failed: {type(exc).__name__}: {str(exc)[:200]}"))
    finally:
        connection.close()


def _die_with(parent: int) -> None:
    """End this process when ``parent`` ends, even by SIGKILL (no cleanup of its own)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent:  # it died before the request took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass  # no usable C library: watch instead
    import threading

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _memory_budget() -> int | None:
    """The child's address-space limit: what the process maps now plus 2 GiB."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE") + 2 * 1024**3
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _signals_held():
    """Block Ctrl-C, SIGTERM and SIGHUP in this thread for the duration; one that comes
    meanwhile arrives after it."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOPPING))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)



def in_child(function, args: tuple, timeout: float, recursion_limit: int = 1_000) -> tuple:
    """``function(*args)`` in a forked child with a deadline and a memory limit:
    (result, None), or (None, "skipped: ...") when it fails, runs out or takes too long.
    ``function`` and its result must be picklable; the parent never imports SymPy."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        try:
            return function(*args), None
        except Exception as exc:
            return None, f"skipped: SymPy failed: {exc}"
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sender, function, args, _memory_budget(), recursion_limit, os.getpid()),
        daemon=True,
    )
    started = False
    try:
        # Ctrl-C, SIGTERM and SIGHUP are held back while forking, so that the child never
        # sees the parent's handlers run, and the parent always kills a child it started.
        with _signals_held():
            process.start()
            started = True
        sender.close()
        if not _answered(receiver, process.pid, timeout):
            return None, f"skipped: SymPy took longer than {timeout:g} s"
        status, payload = receiver.recv()
    except (EOFError, OSError):
        return None, "skipped: SymPy stopped without an answer"
    finally:
        sender.close()
        if started:
            if process.is_alive():
                process.kill()
            process.join(1)
        receiver.close()
    if status != "ok":
        return None, f"skipped: {payload}"
    return payload, None

