"""The helper ops that derived tapes need (double backprop), beside the table's own.

A few local derivatives are not smooth functions of the table's user-facing ops: relu' is a
step, abs' a sign, min'/max' a comparison with half at a tie, and pow's derivatives carry
PyTorch's masks at 0**0. Those are the rows here: ops of the same ``Op`` class (forward,
derivatives as ops, SymPy form) that the table's forms use and the parser does not offer.
Their names are internal: a user sees them written in the user's terms (``shown``: dpow(x, y)
is d(x**y)/dx) and their domain hint names the user's op (``symbol``: **).

d(a**b)/da = b * a**(b-1); at b == 0 the power is the constant 1 (PyTorch masks it to 0),
so 0**0 has derivative 0 instead of the undefined 0 * 0**-1 (``dpow``). d(a**b)/db =
a**b * log(a), 0 at a == 0 with b >= 0, as PyTorch masks it (pow_backward_exponent:
self == 0 & exponent >= 0), so 0**0 is 0 here too (``powlog``). m.where evaluates the
lambda only where needed.
"""

from __future__ import annotations

from backtrace_cli.i18n import N_
from backtrace_cli.ops.op import PREC_ATOM, Op

_POW_BASE = "m.where({b} == 0, 0.0, lambda: {b} * m.pow({a}, {b} - 1))"
# a**b * log(a), 0 at a == 0 with b >= 0 (pow's exponent mask).
_POWLOG = "m.where(({a} == 0) & ({b} >= 0), 0.0, lambda: m.pow({a}, {b}) * m.log({a}))"


def _sympy_step(sp, a):
    return sp.Piecewise((1, a > 0), (0, True))


def _sympy_less(sp, a, b):
    return sp.Piecewise((1, a < b), (sp.S.Half, sp.Eq(a, b)), (0, True))


def _helpers() -> tuple[Op, ...]:
    zero = "no gradient flows through a comparison (its derivative is 0 wherever it exists)"
    return (
        Op("step", 1, "relu", "shown", PREC_ATOM, "m.gt({a}, 0)", (), ("0",),
           _sympy_step, N_("any number"), kink=lambda x: x[0] == 0, kink_note=zero,
           derivative_ops=("0",), shown="d(relu({a}))/d{a}"),
        Op("sign", 1, "abs", "shown", PREC_ATOM, "m.gt({a}, 0) - m.lt({a}, 0)", (),
           ("0",), lambda sp, a: sp.sign(a), N_("any number"), kink=lambda x: x[0] == 0,
           kink_note=zero, derivative_ops=("0",), shown="d(abs({a}))/d{a}"),
        # d min(a, b)/da, and d max(b, a)/da: both are less(a, b).
        Op("less", 2, "min", "shown", PREC_ATOM, "m.lt({a}, {b}) + 0.5 * m.eq({a}, {b})",
           (), ("0", "0"), _sympy_less, N_("any numbers"),
           kink=lambda x: x[0] == x[1], kink_note=zero, derivative_ops=("0", "0"),
           shown="d(min({a}, {b}))/d{a}"),
        Op("dpow", 2, "**", "shown", PREC_ATOM, _POW_BASE, (),
           ("{b}·({b}-1)·{a}^({b}-2)", "{a}^({b}-1)·(1 + {b}·log({a}))"),
           lambda sp, a, b: b * a ** (b - 1),
           N_("a positive base, or a whole-number exponent for a negative base"),
           derivative_ops=("(mul b (dpow a (sub b 1)))",
                           "(add (pow a (sub b 1)) (mul b (powlog a (sub b 1))))"),
           shown="d({a}**{b})/d{a}", constant_when=((1, 0.0, 0.0),)),
        Op("powlog", 2, "**", "shown", PREC_ATOM, _POWLOG, (),
           ("{a}^({b}-1)·({b}·log({a}) + 1)", "{a}^{b}·log({a})²"),
           lambda sp, a, b: a**b * sp.log(a), N_("a positive base"),
           derivative_ops=("(add (mul (dpow a b) (log a)) (pow a (sub b 1)))",
                           "(mul (powlog a b) (log a))"),
           shown="d({a}**{b})/d{b}"),
    )


HELPER_OPS: tuple[Op, ...] = _helpers()
