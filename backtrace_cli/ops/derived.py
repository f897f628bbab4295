"""Local derivatives as ops: what double backprop needs of the op table.

Every elementwise row of ``table.py`` carries ``derivative_ops``: per input, its local
derivative written as an S-expression of ops over the op's inputs ``a``, ``b``, its own output
``out`` and numbers, e.g. ``(neg (sin a))`` for d(cos a)/da. The engine (``engine/higher.py``)
writes the reverse sweep out as nodes from these, so the gradient is itself a tape that the
same engine can differentiate again; no op needs a hand-written second derivative.

A few derivatives are not smooth functions of the table's user-facing ops: relu' is a step,
abs' a sign, min'/max' a comparison with half at a tie, and pow's derivatives carry PyTorch's
masks at 0**0. Those are the ``HELPER_OPS`` here: rows of the same ``Op`` class (forward,
numeric derivative, SymPy form, their own derivative as ops), which derived tapes use and the
parser does not offer. Each helper's numeric ``code`` is the very formula the first-order
template of its op uses (``_POW_BASE``...), so the first-order sweep and the derived tape
compute the same bits; ``tests/test_higher_ops.py`` checks both against each other, against
central differences and against SymPy.
"""

from __future__ import annotations

from backtrace_cli.ops.table import _POW_BASE, BY_NAME, PREC_ATOM, Op

# d(b * a**(b-1))/da, with dpow's own mask at b == 0 and the one of dpow(a, b-1) at b == 1.
_DPOW_BASE = ("m.where(({b} == 0) | ({b} == 1), 0.0, "
              "lambda: {b} * (({b} - 1) * m.pow({a}, {b} - 2)))")
# a**b * log(a), 0 at a == 0 with b >= 0 (pow's exponent mask); pow's first-order template
# computes {out} * m.log({a}), the same product of the same two numbers.
_POWLOG = "m.where(({a} == 0) & ({b} >= 0), 0.0, lambda: m.pow({a}, {b}) * m.log({a}))"


def _sympy_step(sp, a):
    return sp.Piecewise((1, a > 0), (0, True))


def _sympy_less(sp, a, b):
    return sp.Piecewise((1, a < b), (sp.S.Half, sp.Eq(a, b)), (0, True))


def _helpers() -> tuple[Op, ...]:
    zero = "no gradient flows through a comparison (its derivative is 0 wherever it exists)"
    return (
        Op("step", 1, "step", "call", PREC_ATOM, "m.gt({a}, 0)", ("0.0",), ("0",),
           _sympy_step, "any number", kink=lambda x: x[0] == 0, kink_note=zero,
           derivative_ops=("0",)),
        Op("sign", 1, "sign", "call", PREC_ATOM, "m.gt({a}, 0) - m.lt({a}, 0)", ("0.0",),
           ("0",), lambda sp, a: sp.sign(a), "any number", kink=lambda x: x[0] == 0,
           kink_note=zero, derivative_ops=("0",)),
        Op("less", 2, "less", "call", PREC_ATOM, "m.lt({a}, {b}) + 0.5 * m.eq({a}, {b})",
           ("0.0", "0.0"), ("0", "0"), _sympy_less, "any numbers",
           kink=lambda x: x[0] == x[1], kink_note=zero, derivative_ops=("0", "0")),
        Op("dpow", 2, "dpow", "call", PREC_ATOM, _POW_BASE,
           (_DPOW_BASE, "m.pow({a}, {b} - 1) + {b} * "
            + _POWLOG.format(a="{a}", b="({b} - 1)")),
           ("{b}·({b}-1)·{a}^({b}-2)", "{a}^({b}-1)·(1 + {b}·log({a}))"),
           lambda sp, a, b: b * a ** (b - 1),
           "a positive base, or a whole-number exponent for a negative base",
           derivative_ops=("(mul b (dpow a (sub b 1)))",
                           "(add (pow a (sub b 1)) (mul b (powlog a (sub b 1))))")),
        Op("powlog", 2, "powlog", "call", PREC_ATOM, _POWLOG,
           ("{b} * m.pow({a}, {b} - 1) * m.log({a}) + m.pow({a}, {b} - 1)",
            "m.pow({a}, {b}) * m.log({a}) * m.log({a})"),
           ("{a}^({b}-1)·({b}·log({a}) + 1)", "{a}^{b}·log({a})²"),
           lambda sp, a, b: a**b * sp.log(a), "a positive base",
           derivative_ops=("(add (mul (dpow a b) (log a)) (pow a (sub b 1)))",
                           "(mul (powlog a b) (log a))")),
    )


HELPER_OPS: tuple[Op, ...] = _helpers()
# Every op a derived tape may hold: the table's and the helpers'.
DERIVED_BY_NAME: dict[str, Op] = {**BY_NAME, **{op.name: op for op in HELPER_OPS}}

# An S-expression read: a number (float), a name ("a", "b", "out") or (op name, *arguments).
Form = float | str | tuple


def read_form(text: str) -> Form:
    """Read one S-expression of a ``derivative_ops`` template (our own constants only).

    Iterative, with an explicit stack; an unknown op, a stray parenthesis or an unknown name
    is a ValueError (a defect of the table, caught by the tests).
    """
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    stack: list[list] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) < 2 or not stack[-1]:
                raise ValueError(f"unbalanced or empty form in {text!r}")
            items = stack.pop()
            if items[0] not in DERIVED_BY_NAME:
                raise ValueError(f"unknown op {items[0]!r} in {text!r}")
            op = DERIVED_BY_NAME[items[0]]
            if len(items) - 1 != op.arity:
                raise ValueError(f"{op.name} takes {op.arity} inputs in {text!r}")
            stack[-1].append(tuple(items))
        elif len(stack) > 1 and not stack[-1]:
            stack[-1].append(token)  # the op's name
        else:
            try:
                stack[-1].append(float(token))
            except ValueError:
                if token not in ("a", "b", "out"):
                    raise ValueError(f"unknown name {token!r} in {text!r}") from None
                stack[-1].append(token)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError(f"not one form: {text!r}")
    return stack[0][0]


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
    """Fold a form bottom-up, with an explicit stack (no recursion): ``number(value)`` at a
    number, ``name(a|b|out)`` at a name, ``apply(op, inputs)`` at an op over its inputs'
    results. The tape builder of ``engine/higher.py`` and ``evaluate_form`` are two folds."""
    results: list = []
    stack: list[tuple[Form, bool]] = [(form, False)]
    while stack:
        item, expanded = stack.pop()
        if isinstance(item, float):
            results.append(number(item))
        elif isinstance(item, str):
            results.append(name(item))
        elif not expanded:
            stack.append((item, True))
            stack.extend((argument, False) for argument in reversed(item[1:]))
        else:
            arity = len(item) - 1
            inputs = results[len(results) - arity:]
            del results[len(results) - arity:]
            results.append(apply(DERIVED_BY_NAME[item[0]], inputs))
    return results[0]


def evaluate_form(form: Form, m, args: tuple, out) -> object:
    """A form's number at a point (back end ``m``): what the nodes ``higher.py`` builds from
    it compute, used to check each form against the op's numeric derivative template."""
    names = {"a": args[0] if args else None, "b": args[1] if len(args) > 1 else None,
             "out": out}
    return fold_form(form, m.number, names.__getitem__,
                     lambda op, inputs: op.forward(m, *inputs))
