"""backtrace: see reverse-mode automatic differentiation work on your own expression."""

__version__ = "0.1.0"
