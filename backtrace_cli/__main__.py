"""``python -m backtrace_cli`` behaves exactly like ``backtrace``."""

import sys

try:
    from backtrace_cli.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the modules load: nothing ran yet, no traceback
    sys.stderr.write("Interrupted.\n")
    sys.exit(130)

if __name__ == "__main__":
    main()
