"""An uncaught exception of the script, printed as Python prints it, without backtrace's frames.

Python hands an uncaught exception to ``sys.excepthook`` (which the script may have replaced)
and exits 1; so do we, after cutting out of its traceback every frame of backtrace's own code:
the runner's frame that called ``exec`` and the frames of the torch-compatible package. What
is left is what ``python SCRIPT.py`` shows for the same error: the script's frames and those of
the modules it imports, ending at the script's line (PyTorch's operations are C++ code, which
shows no frames either). Chained exceptions (``__cause__``, ``__context__``) are cut the same way.
"""

from __future__ import annotations

import os
import sys
import types

# BACKTRACE_RUN_TRACEBACK=full keeps backtrace's frames: for finding a bug in backtrace's torch.
FULL_TRACEBACK = ("BACKTRACE_RUN_TRACEBACK", "full")
# Frames whose code is in these folders are backtrace's, not the script's: the package's.
BACKTRACE_FOLDERS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)
IMPORT_MACHINERY = "<frozen importlib."


def is_backtrace_frame(filename: str) -> bool:
    """Whether a frame of code from ``filename`` belongs to backtrace itself."""
    return filename.startswith(BACKTRACE_FOLDERS)


def without_backtrace_frames(traceback: types.TracebackType | None) -> types.TracebackType | None:
    """The same traceback with backtrace's frames left out; also the import machinery's frames
    that only led into backtrace's import hook (after the script's last frame)."""
    kept = []
    while traceback is not None:
        if not is_backtrace_frame(traceback.tb_frame.f_code.co_filename):
            kept.append(traceback)
        traceback = traceback.tb_next
    while kept and kept[-1].tb_frame.f_code.co_filename.startswith(IMPORT_MACHINERY):
        kept.pop()
    rebuilt = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def is_internal(error: BaseException) -> bool:
    """Whether ``error`` was raised and caught inside backtrace: every frame is backtrace's."""
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback is not None:
        if not is_backtrace_frame(traceback.tb_frame.f_code.co_filename):
            return False
        traceback = traceback.tb_next
    return True


def clean(error: BaseException) -> None:
    """Cut backtrace's frames out of ``error``'s traceback and those of the exceptions chained
    to it (iteratively; a chain that loops is walked once). An exception chained to another
    that happened wholly inside backtrace (its own ``try``/``except``) is shown alone, as
    PyTorch's C++ errors are: that inner one is backtrace's business, not the script's."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.__cause__ is not None and is_internal(current.__cause__):
            current.__cause__ = None
            current.__suppress_context__ = True
        if current.__context__ is not None and is_internal(current.__context__):
            current.__suppress_context__ = True
        current.__traceback__ = without_backtrace_frames(current.__traceback__)
        pending += [linked for linked in (current.__cause__, current.__context__)
                    if linked is not None]


def print_uncaught(error: BaseException) -> None:
    """Print ``error`` as Python prints an uncaught exception, through ``sys.excepthook``."""
    variable, value = FULL_TRACEBACK
    if os.environ.get(variable) != value:
        clean(error)
    try:
        sys.excepthook(type(error), error, error.__traceback__)
    except Exception as hook_error:  # as Python does when the script's own hook fails
        print("Error in sys.excepthook:", file=sys.stderr)
        hook_error.__suppress_context__ = True  # Python shows the hook's error on its own
        clean(hook_error)
        sys.__excepthook__(type(hook_error), hook_error, hook_error.__traceback__)
        print("\nOriginal exception was:", file=sys.stderr)
        sys.__excepthook__(type(error), error, error.__traceback__)
