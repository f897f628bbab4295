"""Numerics at the edges: each op near its limits (±1000, 1e-308, 0, subnormals), 0**0,
powers of negative numbers, huge and tiny bindings. Every case runs through the command line
with the cross-checks on and either gives the right value and gradient (compared with mpmath
at 60 digits, from formulas written out here, not from our op table) with exit 0, or a clear
domain error with exit 2.

The same cases make the table in docs/numerics.md (``pytest --update-golden`` rewrites it);
a test checks the file is current, so the documented table is what the code does.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import NamedTuple

import mpmath
import pytest
import sympy  # noqa: F401  (imported once, so the SymPy check's forked child starts warm)
from click.testing import CliRunner

from backtrace_cli.cli.main import main
from backtrace_cli.syntax.parser import format_number

mp = mpmath.mp
TABLE = Path(__file__).parent.parent / "docs" / "numerics.md"
TINY = 5e-324  # the smallest subnormal
SMALLEST_NORMAL = 2.2250738585072014e-308


def sigmoid(t):
    return 1 / (1 + mpmath.exp(-t))


def value_and_gradients(value, **gradients):
    return value, gradients


class Case(NamedTuple):
    source: str
    bindings: dict
    reference: object  # mpmath point -> (value, {name: gradient}); None for an error
    note: str
    error: str | None = None  # a piece of the message, for a domain error
    options: tuple = ()
    atol: float = 0.0  # where a documented rounding differs from the exact gradient


def _s(x):
    return value_and_gradients(sigmoid(x), x=sigmoid(x) * (1 - sigmoid(x)))


def _softplus(x):
    return value_and_gradients(mpmath.log(1 + mpmath.exp(x)), x=sigmoid(x))


def _tanh(x):
    return value_and_gradients(mpmath.tanh(x), x=1 - mpmath.tanh(x) ** 2)


def _exp(x):
    return value_and_gradients(mpmath.exp(x), x=mpmath.exp(x))


def _log(x):
    return value_and_gradients(mpmath.log(x), x=1 / x)


def _sqrt(x):
    return value_and_gradients(mpmath.sqrt(x), x=1 / (2 * mpmath.sqrt(x)))


def _power(x, y):
    return value_and_gradients(x**y, x=y * x ** (y - 1), y=x**y * mpmath.log(x))


ROUNDS_TO_ONE = ("sigmoid(x) rounds to 1, so PyTorch's formula out·(1 − out) gives 0; "
                 "the exact gradient is below 1e-17")
CASES = [
    # sigmoid: never exp of a large positive number
    Case("sigmoid(x)", {"x": 1000.0}, lambda x: _s(x), "no overflow; the exact gradient "
         "(5e-435) is below the smallest float"),
    Case("sigmoid(x)", {"x": -1000.0}, lambda x: _s(x), "no overflow; exact value and "
         "gradient underflow to 0"),
    Case("sigmoid(x)", {"x": 40.0}, lambda x: _s(x), ROUNDS_TO_ONE, atol=1e-17),
    Case("sigmoid(x)", {"x": -40.0}, lambda x: _s(x), "tiny value and gradient, exact"),
    Case("sigmoid(x)", {"x": -745.0}, lambda x: _s(x), "a subnormal value and gradient"),
    Case("sigmoid(x)", {"x": 0.0}, lambda x: _s(x), ""),
    Case("sigmoid(x)", {"x": TINY}, lambda x: _s(x), "a subnormal input"),
    # softplus: max(a, 0) + log1p(exp(-|a|))
    Case("softplus(x)", {"x": 1000.0}, lambda x: _softplus(x), "no overflow"),
    Case("softplus(x)", {"x": -1000.0}, lambda x: _softplus(x), "exact value 5e-435 "
         "underflows to 0"),
    Case("softplus(x)", {"x": 40.0}, lambda x: _softplus(x), ""),
    Case("softplus(x)", {"x": -40.0}, lambda x: _softplus(x), "log1p keeps the tiny value"),
    Case("softplus(x)", {"x": -745.0}, lambda x: _softplus(x), "a subnormal value"),
    Case("softplus(x)", {"x": 1e-308}, lambda x: _softplus(x), ""),
    # tanh
    Case("tanh(x)", {"x": 1000.0}, lambda x: _tanh(x), "saturates; the exact gradient "
         "underflows"),
    Case("tanh(x)", {"x": -1000.0}, lambda x: _tanh(x), "saturates"),
    Case("tanh(x)", {"x": 20.0}, lambda x: _tanh(x), "tanh(x) rounds to 1, so 1 − out² "
         "gives 0 (PyTorch's formula); the exact gradient is 1.7e-17", atol=1e-16),
    Case("tanh(x)", {"x": 1e-308}, lambda x: _tanh(x), ""),
    Case("tanh(x)", {"x": TINY}, lambda x: _tanh(x), "a subnormal input"),
    # exp
    Case("exp(x)", {"x": 709.78}, lambda x: _exp(x), "just below the overflow; the finite "
         "differences are skipped (x + h overflows)"),
    Case("exp(x)", {"x": 709.79}, None, "the largest float is about 1.8e308",
         error="exp(709.79) overflows a float"),
    Case("exp(x)", {"x": 1000.0}, None, "", error="exp(1000) overflows a float"),
    Case("exp(x)", {"x": -708.0}, lambda x: _exp(x), "the smallest normal range"),
    Case("exp(x)", {"x": -745.0}, lambda x: _exp(x), "the smallest subnormal"),
    Case("exp(x)", {"x": -1000.0}, lambda x: _exp(x), "underflows to 0, no error"),
    Case("exp(x)", {"x": TINY}, lambda x: _exp(x), ""),
    # log
    Case("log(x)", {"x": 1e308}, lambda x: _log(x), ""),
    Case("log(x)", {"x": 1e-308}, lambda x: _log(x), "gradient 1e308 still fits"),
    Case("log(x)", {"x": SMALLEST_NORMAL}, lambda x: _log(x), "the smallest normal float"),
    Case("log(x)", {"x": TINY}, None, "the value (−744.4) is fine, its gradient 1/x is not",
         error="the derivative of log(5e-324) with respect to x is too large for a float"),
    Case("log(x)", {"x": 0.0}, None, "", error="log(0) is undefined"),
    Case("log(x)", {"x": -1.0}, None, "", error="log(-1) is undefined"),
    # sqrt
    Case("sqrt(x)", {"x": 1e308}, lambda x: _sqrt(x), ""),
    Case("sqrt(x)", {"x": TINY}, lambda x: _sqrt(x), "gradient 2.2e161"),
    Case("sqrt(x)", {"x": 0.0}, None, "sqrt(0) = 0 but its gradient is infinite",
         error="the derivative of sqrt(0) with respect to x is undefined or infinite"),
    Case("sqrt(x)", {"x": -4.0}, None, "", error="sqrt(-4) is undefined"),
    # powers
    Case("0**0", {}, lambda: (mpmath.mpf(1), {}), "as in Python and PyTorch"),
    Case("x**y", {"x": 0.0, "y": 0.0}, lambda x, y: (mpmath.mpf(1), {"x": 0, "y": 0}),
         "1; both gradients 0 by PyTorch's convention (a power with exponent 0 is the "
         "constant 1; d/dy is masked to 0 at x = 0)"),
    Case("x**y", {"x": 0.0, "y": 2.0}, lambda x, y: (mpmath.mpf(0), {"x": 0, "y": 0}),
         "d/dy = 0·log(0) is masked to 0 (PyTorch), the limit from y > 0"),
    Case("x**y", {"x": 0.0, "y": -1.0}, None, "", error="0**(-1) is undefined"),
    Case("x**y", {"x": 0.0, "y": 0.5}, None, "the value 0 is fine, d/dx is infinite",
         error="the derivative of 0**0.5 with respect to x is undefined or infinite"),
    Case("x**3", {"x": -2.0}, lambda x: value_and_gradients(x**3, x=3 * x**2),
         "a negative base with a whole-number exponent"),
    Case("x**-1", {"x": -2.0}, lambda x: value_and_gradients(1 / x, x=-1 / x**2), ""),
    Case("x**y", {"x": -2.0, "y": 3.0}, None,
         "d/dy = x**y·log(x) needs x > 0; `--wrt x` asks only for d/dx (next row)",
         error="the derivative of (-2)**3 with respect to y is undefined or infinite"),
    Case("x**y", {"x": -2.0, "y": 3.0},
         lambda x, y: value_and_gradients(x**y, x=y * x ** (y - 1)),
         "with --wrt x", options=("--wrt", "x")),
    Case("x**y", {"x": -8.0, "y": 1 / 3}, None, "a real cube root of a negative number is "
         "not a power in floats (as in PyTorch: nan)", error="(-8)**0.3333333333333333 is "
         "undefined"),
    Case("x**0.5", {"x": -4.0}, None, "", error="(-4)**0.5 is undefined"),
    Case("x**y", {"x": 2.0, "y": 1024.0}, None, "", error="2**1024 overflows a float"),
    Case("x**y", {"x": 2.0, "y": -1075.0}, lambda x, y: _power(x, y),
         "underflows to 0; d/dx is −1075·2^−1076 = −1.3e-321 exactly, but 2^−1076 alone "
         "underflows first, so the engine gives −0.0", atol=2e-321),
    # huge and tiny bindings
    Case("x*x", {"x": 1e308}, None, "", error="1e+308*1e+308 overflows a float"),
    Case("x + x", {"x": 1e308}, None, "", error="1e+308 + 1e+308 overflows a float"),
    Case("x*w", {"x": 1e308, "w": 1.0}, lambda x, w: value_and_gradients(x * w, x=w, w=x), ""),
    Case("x*w", {"x": 1e308, "w": 1e-308}, lambda x, w: value_and_gradients(x * w, x=w, w=x),
         ""),
    Case("x/w", {"x": 1e308, "w": 1e-308}, None, "", error="1e+308/1e-308 overflows a float"),
    Case("x*w", {"x": 1e10, "w": 1.0}, None, "the seed times the gradient overflows",
         error="the gradient with respect to w overflows a float", options=("--dz", "1e300")),
    Case("x*x", {"x": TINY}, lambda x: value_and_gradients(x * x, x=2 * x),
         "the value underflows to 0, the gradient 2x does not"),
    Case("x/2", {"x": TINY}, lambda x: value_and_gradients(x / 2, x=mpmath.mpf(0.5)),
         "half the smallest subnormal rounds to 0 (to even)"),
    Case("1/x", {"x": TINY}, None, "", error="1/5e-324 overflows a float"),
    Case("abs(x)", {"x": TINY}, lambda x: value_and_gradients(abs(x), x=mpmath.sign(x)),
         "not the kink; finite differences are skipped (their step crosses it)"),
    Case("relu(x)", {"x": -TINY}, lambda x: value_and_gradients(mpmath.mpf(0), x=0),
         "as above"),
    Case("sin(x)", {"x": 1e308}, lambda x: value_and_gradients(mpmath.sin(x), x=mpmath.cos(x)),
         "correctly reduced; finite differences are skipped (a step of 6e302 is meaningless)"),
    Case("cos(x)", {"x": 1e22}, lambda x: value_and_gradients(mpmath.cos(x), x=-mpmath.sin(x)),
         "as above"),
    Case("sin(x)", {"x": TINY}, lambda x: value_and_gradients(mpmath.sin(x), x=mpmath.cos(x)),
         ""),
    Case("tan(x)", {"x": math.pi / 2},
         lambda x: value_and_gradients(mpmath.tan(x), x=1 + mpmath.tan(x) ** 2),
         "beside the pole: finite differences are skipped, SymPy agrees"),
]


def _invoke(case: Case):
    arguments = [f"{name}={value!r}" for name, value in case.bindings.items()]
    return CliRunner().invoke(
        main, ["grad", case.source, *arguments, *case.options, "--format", "json"])


def _close(ours: float, exact, atol: float) -> bool:
    exact = float(exact)  # the exact value rounded to the nearest float
    return abs(ours - exact) <= 1e-14 * abs(exact) + 2 * TINY + atol


def _id(case: Case) -> str:
    values = ",".join(f"{k}={v!r}" for k, v in case.bindings.items())
    return f"{case.source} at {values}{' ' + ' '.join(case.options) if case.options else ''}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_value_and_gradient_or_a_domain_error(case):
    result = _invoke(case)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    if case.error is not None:
        assert result.exit_code == 2, (result.stdout[-300:], result.stderr)
        assert result.stdout == ""
        assert case.error in result.stderr
        assert "hint: " in result.stderr  # what the op needs, or what to change
        return
    assert result.exit_code == 0, result.stderr  # and not 1: the checks agree at the edges
    document = json.loads(result.stdout)
    assert document["check"]["ok"] is True
    with mpmath.workdps(60):
        point = {name: mpmath.mpf(value) for name, value in case.bindings.items()}
        value, gradients = case.reference(**point)
        assert _close(document["output"], value, 0.0), (document["output"], value)
        assert set(document["gradients"]) == set(gradients)
        for name, exact in gradients.items():
            ours = document["gradients"][name]
            assert _close(ours, exact, case.atol), (name, ours, mpmath.nstr(exact, 17))


# ----------------------------------------------------------------------------- the table
def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_row(case: Case) -> str:
    result = _invoke(case)
    values = ", ".join(f"{name} = {value!r}" for name, value in case.bindings.items()) or "–"
    if case.options:
        values += f" ({' '.join(case.options)})"
    if result.exit_code == 0:
        document = json.loads(result.stdout)
        output = format_number(document["output"])
        gradient = ", ".join(f"d/d{name} = {format_number(value)}"
                             for name, value in document["gradients"].items()) or "–"
    else:
        message = result.stderr.splitlines()[0].removeprefix("Error: ")
        message = message.split(" at node ")[0].split(" (at column")[0]
        output, gradient = f"error (exit {result.exit_code}): {message}", "–"
    return (f"| `{_cell(case.source)}` | {_cell(values)} | {_cell(output)} | {_cell(gradient)} "
            f"| {_cell(case.note)} |")


# What the tests may pin, said once here and in the generated file (tests/helpers.py reads
# the same rule as NUMPY_ULPS).
WHICH_DIGITS_ARE_FIXED = """## Which digits are fixed

A scalar expression is computed with Python floats and the `math` module: `+ - * /`, `sqrt`
and the squares are correctly rounded, and the transcendental functions (`exp`, `log`, `tanh`,
`sin`, ...) are those of the C library, so a result is the same to the last bit on every run
on a machine (and in the table above, which is compared to 12 digits, since another C
library's `tanh` may round differently).

Arrays, batches (`--batch-size` over 1) and `--dtype float32` go through NumPy instead.
NumPy's own loops for `exp`, `log`, `log1p`, `tanh`, `sin`, `cos`, `tan` and `power` are
within 4 ulp of the exact value and differ in the last bits between CPUs (SIMD) and NumPy
versions. A number that went through them is reproducible on one machine, but not to the
last bit across machines: the tests compare such numbers within 64 ulp in their own dtype
(`tests/helpers.py`, `NUMPY_ULPS`), measured at 1 where a formula cancels against 1
(`1 - tanh²`, `out·(1 - out)`). `BACKTRACE_NUDGE_NUMPY=4` (or `-4`, or `mixed`: -4 to 4 by
the input) moves every such NumPy result that many ulps while the tests run, as another
machine would: the suite passes so.
"""


def numerics_table() -> str:
    lines = [
        "<!-- Generated by tests/test_numerics.py; `pytest --update-golden` rewrites it. -->",
        "",
        "| expression | values | result | gradient | notes |",
        "| --- | --- | --- | --- | --- |",
        *(table_row(case) for case in CASES),
        "",
        WHICH_DIGITS_ARE_FIXED,
    ]
    return "\n".join(lines)


def test_the_documented_table_is_what_the_code_does(request):
    text = numerics_table()
    if request.config.getoption("--update-golden", default=False) or os.environ.get(
        "BACKTRACE_UPDATE_GOLDEN"
    ):
        TABLE.parent.mkdir(exist_ok=True)
        TABLE.write_text(text, encoding="utf-8")
    assert TABLE.exists(), f"missing {TABLE}; run pytest with --update-golden"
    # Numbers are compared to 12 digits: another C library's sin or tanh may differ in the
    # last bit (see the tanh xfail in test_tape.py), which is not what this test is about.
    assert _to_12_digits(TABLE.read_text(encoding="utf-8")) == _to_12_digits(text)


_NUMBER = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?|-?\d+e[+-]?\d+")


def _to_12_digits(text: str) -> str:
    return _NUMBER.sub(lambda found: f"{float(found.group()):.12g}", text)


def test_the_readme_holds_the_numerics_table():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "numerics.md").read_text()
    table = "\n".join(line for line in text.splitlines() if line.startswith("|"))
    assert table in (root / "README.md").read_text()
