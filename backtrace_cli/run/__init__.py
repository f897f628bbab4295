"""Running a user's own Python script as ``python SCRIPT.py ARG...`` would, with ``import
torch`` meaning backtrace's torch-compatible package (``backtrace run``).

``script`` runs the file as ``__main__``; ``hook`` is the import hook that resolves ``torch``;
``tracebacks`` prints an uncaught exception as Python does, with backtrace's frames cut out;
``compare`` runs the same script with real PyTorch too and finds the first line that differs.

This is the one place backtrace executes Python: the script the user asked it to run, with
the user's own rights, exactly as ``python`` would. It is not a sandbox. Expressions given to
the other commands are still never evaluated.
"""
