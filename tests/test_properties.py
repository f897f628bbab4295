"""Properties over generated expressions: our gradient agrees with SymPy and with central
differences; printing a tree and parsing it back gives the same tree; any text at all either
parses or raises ParseError/LimitError with a span inside the input.

Generated expressions stay inside every op's domain by construction (log(e*e + 1),
sqrt(e*e + 1), e / (e*e + 1), a positive base for a variable exponent) and bounded
(exp(sin(e)), small integer powers, values in [-2, 2]). Kinks are avoided by discarding
examples where a relu/abs input or a min/max difference comes near zero.

``HYPOTHESIS_PROFILE=long`` (see conftest.py) searches far longer than the default "ci".
"""

from __future__ import annotations

import keyword

import pytest
import sympy
from hypothesis import assume, given, note
from hypothesis import strategies as st

from backtrace_cli.checks.verify import (
    NUMERIC_ATOL,
    NUMERIC_RTOL,
    finite_difference,
    sympy_expression,
)
from backtrace_cli.engine.tape import backward, compile_program, forward, gradients
from backtrace_cli.errors import LimitError, ParseError
from backtrace_cli.ops.table import FUNCTIONS
from backtrace_cli.syntax.parser import Apply, Assign, Name, Number, Program, parse, unparse

VARIABLES = ("x", "y", "w")


def apply(op: str, *args) -> Apply:
    return Apply(op, tuple(args))


def one_plus_square(e) -> Apply:
    return apply("add", apply("mul", e, e), Number(1.0))


# ----------------------------------------------------------------------------- strategies
leaves = st.one_of(
    st.sampled_from([Name(v) for v in VARIABLES]),
    st.sampled_from([Number(v) for v in (0.5, 1.0, 2.0, 3.0)]),
    st.just(Name("pi")),
)


def extend(children):
    unary = st.sampled_from(["neg", "pos", "sin", "cos", "tanh", "sigmoid", "softplus",
                             "relu", "abs"])
    binary = st.sampled_from(["add", "sub", "mul", "min", "max"])
    return st.one_of(
        st.builds(apply, unary, children),
        st.builds(apply, binary, children, children),
        st.builds(lambda e: apply("log", one_plus_square(e)), children),
        st.builds(lambda e: apply("sqrt", one_plus_square(e)), children),
        st.builds(lambda e: apply("exp", apply("sin", e)), children),
        st.builds(lambda a, b: apply("div", a, one_plus_square(b)), children, children),
        st.builds(lambda e, k: apply("pow", e, Number(k)), children, st.sampled_from([2.0, 3.0])),
        # var**var: a positive base and a bounded exponent.
        st.builds(lambda a, b: apply("pow", apply("sqrt", one_plus_square(a)), apply("tanh", b)),
                  children, children),
    )


expressions = st.recursive(leaves, extend, max_leaves=8)
values = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)
bindings = st.fixed_dictionaries({name: values for name in VARIABLES})


def near_a_kink(tape, point_values, margin: float = 1e-3) -> bool:
    """Whether any relu/abs input or min/max difference is within ``margin`` of its kink."""
    for node in tape.nodes:
        if node.op is None:
            continue
        args = [point_values[j] for j in node.inputs]
        if node.op.name in ("relu", "abs") and abs(args[0]) < margin:
            return True
        if node.op.name in ("min", "max") and abs(args[0] - args[1]) < margin:
            return True
    return False


def sympy_gradient(expression, symbols, at_values, name) -> float:
    at = {symbols[n]: sympy.Float(at_values[n], 30) for n in symbols}
    return float(sympy.N(sympy.diff(expression, symbols[name]).xreplace(at), 30))


# ----------------------------------------------------------------------------- gradients
@given(tree=expressions, point=bindings, seed=st.sampled_from([1.0, -2.5, 0.5]))
def test_gradient_agrees_with_sympy_and_central_differences(tree, point, seed):
    source = unparse(tree)
    note(source)
    tape = compile_program(parse(source))
    used = {name: point[name] for name in tape.variables}
    values = forward(tape, used)
    assume(not near_a_kink(tape, values))
    result = backward(tape, values, seed, record=True)
    assert result.kinks == []
    ours = gradients(tape, result, tape.variables)
    # Rounding in our sweeps is relative to the size of the terms summed, not of the sum.
    scale = max([abs(edge.product) for edge in result.edges] + [1.0])

    expression, symbols = sympy_expression(tape, seed)
    for name in tape.variables:
        reference = sympy_gradient(expression, symbols, used, name)
        assert ours[name] == pytest.approx(reference, rel=1e-9, abs=1e-12 * scale), name

        numeric, rounding, why = finite_difference(tape, used, name, seed)
        assert why is None
        tolerance = NUMERIC_ATOL + rounding + NUMERIC_RTOL * max(abs(numeric), abs(ours[name]))
        assert abs(ours[name] - numeric) <= tolerance, name


@given(tree=expressions, point=bindings)
def test_the_forward_value_agrees_with_sympy(tree, point):
    tape = compile_program(parse(unparse(tree)))
    used = {name: point[name] for name in tape.variables}
    ours = forward(tape, used)[tape.output]
    expression, symbols = sympy_expression(tape, 1.0)
    at = {symbols[n]: sympy.Float(used[n], 30) for n in symbols}
    reference = float(sympy.N(expression.xreplace(at), 30))
    assert ours == pytest.approx(reference, rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------------------- round trip
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: not n.startswith("__") and not keyword.iskeyword(n)
    and not keyword.issoftkeyword(n) and n not in FUNCTIONS
)
numbers = st.floats(min_value=0.0, max_value=1e300, allow_nan=False, allow_infinity=False)
any_leaves = st.one_of(st.builds(Name, names), st.builds(Number, numbers))


def any_extend(children):
    ops = st.sampled_from(["add", "sub", "mul", "div", "pow", "neg", "pos", "sin", "cos",
                           "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs",
                           "softplus", "min", "max"])

    def build(op, first, second):
        arity = 1 if op in ("neg", "pos") or op not in ("add", "sub", "mul", "div", "pow",
                                                         "min", "max") else 2
        return apply(op, first) if arity == 1 else apply(op, first, second)

    return st.builds(build, ops, children, children)


syntax_trees = st.recursive(any_leaves, any_extend, max_leaves=12)
programs = st.builds(
    lambda assigned, last: Program((*(Assign(n, e) for n, e in assigned), last)),
    st.lists(st.tuples(names, syntax_trees), max_size=3),
    syntax_trees,
)


@given(tree=syntax_trees)
def test_unparse_then_parse_gives_the_same_tree(tree):
    text = unparse(tree)
    note(text)
    assert parse(text).output == tree
    assert unparse(parse(text)) == text


@given(program=programs)
def test_programs_round_trip(program):
    text = unparse(program)
    assert parse(text).statements == program.statements


# ----------------------------------------------------------------------------- any text
ALPHABET = "xyw_01239.eE+-*/^()=,;#\n \t'\"[]@$%&|~`\\{}<>!?:" + "ѕа−²٣"
texts = st.one_of(st.text(alphabet=ALPHABET, max_size=40), st.text(max_size=20))


@given(text=texts)
def test_any_text_parses_or_fails_cleanly(text):
    try:
        program = parse(text)
    except (ParseError, LimitError) as error:
        assert 0 <= error.span.start <= len(text)
        assert error.span.start < error.span.end <= len(text) + 1
        rendered = error.render()
        assert error.message in rendered
        assert "^" in rendered
    else:
        assert program.statements
        assert parse(unparse(program)) == program


@given(depth=st.integers(min_value=150, max_value=3_000),
       opener=st.sampled_from(["(", "-", "sin(", "2**", "+"]))
def test_deep_nesting_never_raises_recursion_error(depth, opener):
    closer = ")" if opener.endswith("(") else ""
    text = opener * depth + "x" + closer * depth
    try:
        program = parse(text)
    except LimitError as error:
        assert "nested too deeply" in error.message
        assert depth > 200  # each level of nesting counts once: 200 levels are allowed
    else:
        assert depth <= 200
        assert program.output is not None
