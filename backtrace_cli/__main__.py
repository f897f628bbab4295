"""``python -m backtrace_cli`` behaves exactly like ``backtrace``."""

from .cli import main

if __name__ == "__main__":
    main()
