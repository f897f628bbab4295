"""The helper ops of double backprop (ops/helpers.py: dpow, powlog, step, sign, less) are
internal: no command that derives tapes (grad --order, graph --order, hessian, minimize
--method newton) ever shows their names, in node texts, tables, graphs, JSON or errors. They
read in the user's terms: dpow(x, y) is d(x**y)/dx, and its domain hint names **.

And x**0 is the constant 1: its derivatives of every order are 0 (PyTorch's pow masks the
exponent-0 gradient to 0 too), also at x = 0, where 0**-1 would be undefined.
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import invoke

from backtrace_cli.ops.helpers import HELPER_OPS

HELPER_NAMES = tuple(op.name for op in HELPER_OPS)
# A helper's name as an op: "dpow(", "step(", or as an op field of JSON; dpow and powlog
# are no English words, so they may not appear at all.
SHOWN_AS_OP = re.compile(r"\b(" + "|".join(HELPER_NAMES) + r")\(|\"op\": *\"("
                         + "|".join(HELPER_NAMES) + r")\"")
NEVER = ("dpow", "powlog")

# (expression, bindings): each makes derived tapes with one helper op, at an ordinary point,
# at a kink, or where the helper's derivative is undefined (an error naming it).
POINTS = [
    ("x**y", ("x=2", "y=3")),  # dpow, powlog
    ("x**y", ("x=0", "y=0")),  # d(x**y)/dx is undefined one order later
    ("x**y", ("x=0", "y=1")),
    ("x**0.5", ("x=0", "y=1")),
    ("(x*y)**3", ("x=1", "y=2")),
    ("relu(x)*x", ("x=1",)),  # step
    ("relu(x)*x*x", ("x=0",)),  # at step's kink
    ("abs(x)*x", ("x=-1",)),  # sign
    ("abs(x)*x*x", ("x=0",)),
    ("min(x, y)*x", ("x=1", "y=2")),  # less
    ("max(x, y)*x*y", ("x=1", "y=1")),  # less at a tie
]


def _wrt(bindings) -> tuple[str, ...]:
    return ("--wrt", "x") if len(bindings) > 1 else ()


COMMANDS = [
    pytest.param(lambda e, b: ("hessian", e, *b), id="hessian"),
    pytest.param(lambda e, b: ("hessian", e, *b, "--explain"), id="hessian-explain"),
    pytest.param(lambda e, b: ("hessian", e, *b, "--format", "markdown", "--explain"),
                 id="hessian-markdown"),
    pytest.param(lambda e, b: ("hessian", e, *b, "--format", "json"), id="hessian-json"),
    pytest.param(lambda e, b: ("grad", e, *b, *_wrt(b), "--order", "3"), id="grad-order"),
    pytest.param(lambda e, b: ("grad", e, *b, *_wrt(b), "--order", "2", "--format", "json"),
                 id="grad-order-json"),
    pytest.param(lambda e, b: ("grad", e, *b, *_wrt(b), "--order", "2", "--format",
                               "markdown"), id="grad-order-markdown"),
    pytest.param(lambda e, b: ("graph", e, *b, *_wrt(b), "--order", "2", "--format", "text"),
                 id="graph-text"),
    pytest.param(lambda e, b: ("graph", e, *b, *_wrt(b), "--order", "2", "--format", "dot"),
                 id="graph-dot"),
    pytest.param(lambda e, b: ("graph", e, *b, *_wrt(b), "--order", "3", "--format",
                               "mermaid"), id="graph-mermaid"),
    pytest.param(lambda e, b: ("graph", e, *b, *_wrt(b), "--order", "2", "--format", "html",
                               "-o", "-"), id="graph-html"),
    pytest.param(lambda e, b: ("minimize", e, *b, "--method", "newton", "--steps", "2",
                               "--trace"), id="minimize-newton"),
    pytest.param(lambda e, b: ("minimize", e, *b, "--method", "newton", "--steps", "1",
                               "--format", "json"), id="minimize-newton-json"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("expression, bindings", POINTS)
def test_no_command_shows_a_helper_ops_name(command, expression, bindings):
    args = command(expression, bindings)
    result = invoke(*args)
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    shown = result.stdout + result.stderr
    assert not SHOWN_AS_OP.search(shown), (args, SHOWN_AS_OP.search(shown).group())
    for name in NEVER:
        assert name not in shown, (args, name)


def test_every_helper_op_is_written_in_the_users_terms():
    from backtrace_cli.ops.op import PREC_ATOM
    from backtrace_cli.syntax.parser import apply_text

    for op in HELPER_OPS:
        text = apply_text(op, [("x", PREC_ATOM), ("y", PREC_ATOM)][: op.arity])
        assert op.name not in re.findall(r"\w+", text), (op.name, text)
        assert re.fullmatch(r"d\(.+\)/d[xy]", text), text  # a derivative, in d/dx notation
        assert op.name not in op.symbol  # the hint names the user's op
    dpow = next(op for op in HELPER_OPS if op.name == "dpow")
    assert apply_text(dpow, [("x + 1", 10), ("-1", 30)]) == "d((x + 1)**(-1))/d(x + 1)"


def test_an_undefined_helper_derivative_is_said_in_the_users_terms():
    result = invoke("hessian", "x**y", "x=0", "y=0")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "Error: the derivative of d(x**y)/dx at x = 0, y = 0 with respect to x is undefined "
        "or infinite at node v4 ('dL/dx'): d(x**y)/dx (at column 1)")
    assert "hint: ** needs a positive base, or a whole-number exponent for a negative base" in (
        result.stderr)


# --- x**0 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("x", ["0", "2", "-3"])
def test_x_to_the_zero_has_derivatives_zero_of_every_order(x):
    grad = json.loads(invoke("grad", "x**0", f"x={x}", "--order", "4", "--format",
                             "json").stdout)
    assert grad["derivatives"] == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert grad["check"]["ok"] is True
    hessian = invoke("hessian", "x**0", f"x={x}", "--format", "json")
    assert hessian.exit_code == 0, hessian.stderr
    document = json.loads(hessian.stdout)
    assert (document["output"], document["gradient"], document["hessian"]) == (1.0, [0.0],
                                                                               [[0.0]])


def test_the_powers_of_x_at_zero_have_their_factorial_derivatives():
    # d^k/dx^k x**n at 0 is n! where k == n, else 0: every order folds or evaluates exactly.
    for n, expected in ((1, [0.0, 1.0, 0.0, 0.0]), (2, [0.0, 0.0, 2.0, 0.0]),
                        (3, [0.0, 0.0, 0.0, 6.0])):
        document = json.loads(invoke("grad", f"x**{n}", "x=0", "--order", "3", "--format",
                                     "json").stdout)
        assert document["derivatives"] == expected, n


def test_newton_on_a_power_with_exponent_zero():
    result = invoke("minimize", "x**0 + (x - 1)**2", "x=0", "--method", "newton", "--steps",
                    "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["params"] == {"x": 1.0}
