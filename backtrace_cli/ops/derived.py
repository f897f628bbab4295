"""Local derivatives as ops: what double backprop reads of the op table.

Every elementwise row of ``table.py`` (and of ``helpers.py``) writes its local derivatives
once, as ``derivative_ops``: per input, an S-expression of ops over the op's inputs ``a``,
``b``, its own output ``out`` and numbers, e.g. ``(neg (sin a))`` for d(cos a)/da. The
numeric derivative the first-order sweeps use is made from the same form (``op.py``); the
engine (``engine/higher.py``) writes the reverse sweep out as nodes from it, so the gradient
is itself a tape that the same engine can differentiate again, and no op needs a hand-written
second derivative. ``tests/test_higher_ops.py`` checks every form against central
differences and SymPy.
"""

from __future__ import annotations

from backtrace_cli.ops.helpers import HELPER_OPS
from backtrace_cli.ops.op import Form, parse_form
from backtrace_cli.ops.op import fold_form as _fold
from backtrace_cli.ops.table import BY_NAME, Op

# Every op a derived tape may hold: the table's and the helpers'.
DERIVED_BY_NAME: dict[str, Op] = {**BY_NAME, **{op.name: op for op in HELPER_OPS}}


def read_form(text: str) -> Form:
    """Read one S-expression of a ``derivative_ops`` template over the table's and the
    helpers' ops (a ValueError for a defect of the table)."""
    return parse_form(text, DERIVED_BY_NAME)


_FORMS: dict[tuple[str, int], Form] = {}


def derivative_form(op: Op, position: int) -> Form:
    """The local derivative of ``op`` for the input at ``position``, as a form of ops."""
    key = (op.name, position)
    if key not in _FORMS:
        if not op.derivative_ops:
            raise ValueError(f"op {op.name} has no derivative as ops (arrays are taken "
                             "element by element before a derivative is differentiated)")
        _FORMS[key] = read_form(op.derivative_ops[position])
    return _FORMS[key]


def fold_form(form: Form, number, name, apply):
    """``op.fold_form`` over the ops a derived tape may hold."""
    return _fold(form, DERIVED_BY_NAME, number, name, apply)


def evaluate_form(form: Form, m, args: tuple, out) -> object:
    """A form's number at a point (back end ``m``): what the nodes ``higher.py`` builds from
    it compute (checked against the op's compiled derivative in the tests)."""
    names = {"a": args[0] if args else None, "b": args[1] if len(args) > 1 else None,
             "out": out}
    return fold_form(form, m.number, names.__getitem__,
                     lambda op, inputs: op.forward(m, *inputs))
