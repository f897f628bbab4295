"""The public Python API: what the command line does, as functions returning results.

``backtrace_cli/__init__.py`` re-exports these lazily, so ``import backtrace_cli`` stays cheap.
"""
