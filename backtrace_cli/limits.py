"""Limits on input size, with documented defaults and environment variables to raise them.

Each limit protects against input that would otherwise exhaust time, memory or the stack.
A limit that is hit gives a clear error naming the variable that raises it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from backtrace_cli.i18n import _


@dataclass(frozen=True)
class Limit:
    name: str
    env: str
    default: int
    what: str

    @property
    def value(self) -> int:
        """The limit in force: the environment variable if it is set, else the default.

        A value that is not a whole number above 0 is an error rather than silently the
        default: someone who sets ``BACKTRACE_MAX_DEPTH=5k`` wants to know it did nothing.
        """
        raw = os.environ.get(self.env)
        if raw is None or not raw.strip():
            return self.default
        try:
            value = int(raw.strip())
        except ValueError:
            value = 0
        if value <= 0:
            from backtrace_cli.errors import UsageError

            raise UsageError(
                _(
                    "{env}={raw!r} is not a whole number above 0 (the limit on {what}; default "
                    "{default:,})"
                ).format(env=self.env, raw=raw, what=self.what, default=self.default),
                _("for example {env}={value}, or unset it").format(
                    env=self.env, value=self.default * 10
                ),
            )
        return value


MAX_LENGTH = Limit("length", "BACKTRACE_MAX_LENGTH", 5_000_000, "characters in an expression")
MAX_DEPTH = Limit("depth", "BACKTRACE_MAX_DEPTH", 200, "levels of nesting")
MAX_NODES = Limit("nodes", "BACKTRACE_MAX_NODES", 2_000_000, "nodes in a graph")
MAX_STATEMENTS = Limit("statements", "BACKTRACE_MAX_STATEMENTS", 100_000, "statements")
SYMPY_MAX_NODES = Limit(
    "SymPy check size", "BACKTRACE_SYMPY_MAX_NODES", 2_000, "nodes for the SymPy check"
)
MAX_ARRAY_ELEMENTS = Limit(
    "array size", "BACKTRACE_MAX_ARRAY_ELEMENTS", 10_000, "elements in one array value"
)
SYMPY_MAX_ELEMENTS = Limit(
    "SymPy check elements", "BACKTRACE_SYMPY_MAX_ELEMENTS", 64,
    "array elements (one symbol each) for the SymPy check",
)

# Work that grows faster than its input, bounded before it starts (estimated from the shapes
# and the tapes' sizes): a Hessian has n x n entries and one sweep per row; a Jacobian has
# (output elements) x (input elements) entries; each order of grad --order K differentiates
# the tape of the order before it, so the tapes grow geometrically.
MAX_JACOBIAN_ENTRIES = Limit(
    "Jacobian entries", "BACKTRACE_MAX_JACOBIAN_ENTRIES", 1_000_000, "entries of a Jacobian",
)
MAX_HESSIAN_ENTRIES = Limit(
    "Hessian entries", "BACKTRACE_MAX_HESSIAN_ENTRIES", 100_000,
    "entries of a Hessian (each one reported with its sweep and its check)",
)
MAX_SWEEP_NODES = Limit(
    "sweep work", "BACKTRACE_MAX_SWEEP_NODES", 20_000_000,
    "nodes the Hessian's sweeps visit (one sweep of the gradient's tape per row)",
)
MAX_DERIVED_NODES = Limit(
    "derived tapes", "BACKTRACE_MAX_DERIVED_NODES", 500_000,
    "nodes in all the tapes of the derivatives of higher order",
)

# The dimensions an array value may have. NumPy holds at most 64 ("maximum supported
# dimension for an ndarray is currently 64"), some of its iterators 32, and a Jacobian block
# has the output's dimensions and the input's together: 32 keeps every command within
# NumPy. Fixed, so no environment variable. Nested lists, [...] literals and shapes deeper
# than this are refused before NumPy sees them (syntax/numbers.py).
MAX_DIMENSIONS = 32

ALL_LIMITS = (MAX_LENGTH, MAX_DEPTH, MAX_NODES, MAX_STATEMENTS, SYMPY_MAX_NODES,
              MAX_ARRAY_ELEMENTS, SYMPY_MAX_ELEMENTS, MAX_JACOBIAN_ENTRIES,
              MAX_HESSIAN_ENTRIES, MAX_SWEEP_NODES, MAX_DERIVED_NODES)


def within(limit: Limit, amount: int, message: str) -> None:
    """Refuse ``amount`` past ``limit`` before the work: ``message`` (with ``{amount}`` and
    ``{limit}``) says what would be built, the hint names the variable that raises it."""
    allowed = limit.value
    if amount <= allowed:
        return
    from backtrace_cli.errors import UsageError

    raise UsageError(message.format(amount=f"{amount:,}", limit=f"{allowed:,}"),
                     _("ask for less (fewer variables, --wrt, a lower order), or raise the "
                       "limit with {env}={value}").format(env=limit.env, value=amount))


# --digits: the significant digits a view may be shortened to (17 shows every float64 digit).
# Kept here, below the report layer, so the CLI's option reads them without the report model.
MIN_DIGITS, MAX_DIGITS = 1, 17
