"""Fuzzing in the suite, where tests/test_properties.py and tests/test_data.py stop.

(a) Token soups (the grammar's tokens glued with junk: keywords, dunders, quotes, look-alike
    and invisible Unicode, control characters) and mutated valid programs go into
    ``parser.parse``: only ParseError or LimitError may come out, with a span inside the input,
    a line and column that count the newlines before it, and a ``render()`` safe to print.
    What does parse holds no character that acts on a terminal, and prints back to itself.
(b) Random valid programs of several statements (reassignment, names that shadow variables,
    every op, the constants): each printed at random (``^`` or ``**`` or ``pow()``, redundant
    parentheses, spaces, tabs, ``;`` or newlines, comments, CRLF) parses back to the same tree,
    and the gradient agrees with SymPy (built here, independently of the engine's tape and of
    ``check.py``) and with central differences, away from kinks.
(c) Random CSV files with defects (tests/test_data.py's generator) through ``backtrace train``,
    in memory and with ``--stream``: a DataError naming the right line and column, or a load
    whose row count and values the training report shows.
(d) Random argument lists for ``grad`` and ``graph``: exit 0, 1 or 2, never a traceback.

Example counts follow the Hypothesis profile in conftest.py ("ci" by default,
``HYPOTHESIS_PROFILE=long`` for release checks); cheap tests run a multiple of it.
"""

from __future__ import annotations

import json
import math

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from test_data import csv_files
from test_properties import VARIABLES, near_a_kink, one_plus_square, programs
from test_properties import apply as apply_op
from test_properties import extend as safe_extend
from test_properties import values as point_values

from backtrace_cli.checks.verify import NUMERIC_ATOL, NUMERIC_RTOL, finite_difference
from backtrace_cli.cli.main import main
from backtrace_cli.engine.tape import backward, compile_program, forward, gradients
from backtrace_cli.errors import LimitError, ParseError, is_unsafe_character, visible
from backtrace_cli.ops.table import BY_NAME, FUNCTIONS, OPS, PREC_ATOM
from backtrace_cli.syntax.parser import Assign, Name, Number, Program, parse, unparse

CHEAP = settings(max_examples=5 * settings.default.max_examples)

# ----------------------------------------------------------------------------- (a) soups
GRAMMAR_TOKENS = [
    "x", "y", "w", "a", "b", "y_hat", "_t1", "X2",
    "0", "2", "3.5", ".5", "1.", "1e3", "2E-3", "007", "1e400", "1e308",
    "+", "-", "*", "/", "**", "^", "(", ")", ",", "=",
    *sorted(FUNCTIONS), "pi", "e",
    ";", "\n", "\r\n", "# a comment", "#",
]
JUNK_TOKENS = [
    "lambda", "import", "if", "None", "True", "not", "__import__", "__class__", "_",
    "'", '"', "f'", "'{0}'", ".", "[", "]", "{", "}", "@", "$", "`", "\\", ":", ":=", "!",
    "**" * 2, "//", "%", "<", "==", "~", "|", "&", "->",
    "\x00", "\x1b[2J", "\x07", "\x0b", "\x0c", "\r", "\x85", "\u2028",
    "\u202e", "\u200b", "\ufeff", "\u00a0", "\u0445", "\uff58", "\u212f", "\u0663", "\u2212",
    "\u00d7", "\u00b2", "\U0001d465", "x\u0301",
]
soup = st.lists(
    st.one_of(st.sampled_from(GRAMMAR_TOKENS), st.sampled_from(GRAMMAR_TOKENS),
              st.sampled_from(JUNK_TOKENS)),
    max_size=40,
).flatmap(lambda tokens: st.lists(st.sampled_from(["", "", " ", "\t"]),
                                  min_size=len(tokens), max_size=len(tokens))
          .map(lambda gaps: "".join(g + t for g, t in zip(gaps, tokens, strict=True))))


def assert_parses_or_fails_cleanly(text: str):
    try:
        program = parse(text)
    except (ParseError, LimitError) as error:
        span = error.span
        assert 0 <= span.start <= len(text), (span, len(text))
        assert span.start < span.end <= len(text) + 1, (span, len(text))
        assert error.line == text.count("\n", 0, span.start) + 1
        rendered = error.render()
        assert error.message in rendered
        assert "^" in rendered
        shown = visible(rendered)
        assert not any(is_unsafe_character(char) for char in shown if char not in "\n\t")
        event(type(error).__name__)
        return None
    event("parsed")
    assert program.statements
    for position, char in enumerate(text):
        if char in "\t\n" or not is_unsafe_character(char):
            continue
        assert char == "\r" and text[position + 1: position + 2] in ("\n", ""), repr(text)
    assert parse(unparse(program)) == program
    compile_program(program)
    return program


@CHEAP
@given(text=soup)
def test_token_soups_parse_or_fail_cleanly(text):
    assert_parses_or_fails_cleanly(text)


MUTATION = st.tuples(
    st.sampled_from(["delete", "insert", "swap", "duplicate"]),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.sampled_from(GRAMMAR_TOKENS + JUNK_TOKENS),
)


def mutate(text: str, mutations) -> str:
    for kind, first, second, token in mutations:
        if not text:
            text = token
            continue
        i, j = sorted((first % len(text), second % len(text)))
        if kind == "delete":
            text = text[:i] + text[j + 1:]
        elif kind == "insert":
            text = text[:i] + token + text[i:]
        elif kind == "swap":
            text = text[:i] + text[j] + text[i + 1:j] + text[i] + text[j + 1:]
        else:
            text = text[:j] + text[i:j + 1] + text[j:]
    return text


@CHEAP
@given(program=programs, mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_programs_parse_or_fail_cleanly(program, mutations):
    text = mutate(unparse(program), mutations)
    note(repr(text))
    assert_parses_or_fails_cleanly(text)


# ----------------------------------------------------------------------------- (b) programs
def every_op_extend(children):
    """test_properties' domain-safe constructions, plus the ops and constants it leaves out."""
    return st.one_of(
        safe_extend(children),
        st.builds(lambda e: apply_op("tan", apply_op("sin", e)), children),  # |arg| <= 1
        st.builds(lambda e: apply_op("exp", apply_op("tanh", e)), children),
        st.builds(lambda a, b: apply_op("pow", one_plus_square(a), b), children,
                  st.sampled_from([Number(0.5), apply_op("neg", Number(1.0)), Number(0.0),
                                   Name("e")])),
    )


def leaves_with(assigned: list[str]):
    base = [Name(v) for v in VARIABLES] + [Number(v) for v in (0.5, 1.0, 2.0, 3.0)]
    base += [Name("pi"), Name("e")]
    return st.sampled_from(base + [Name(n) for n in assigned])


@st.composite
def valid_programs(draw):
    """Statements that name steps, reassign them, and shadow a variable (x = x*2)."""
    assigned: list[str] = []
    statements = []
    for _ in range(draw(st.integers(0, 3))):
        value = draw(st.recursive(leaves_with(assigned), every_op_extend, max_leaves=5))
        name = draw(st.sampled_from(["a", "b", "y_hat", "x"]))
        statements.append(Assign(name, value))
        assigned.append(name)
    last = draw(st.recursive(leaves_with(assigned), every_op_extend, max_leaves=6))
    if draw(st.booleans()):
        last = Assign(draw(st.sampled_from(["loss", "a"])), last)
    return Program((*statements, last))


# -- an independent reference: SymPy from the syntax tree, by our own table of forms
SYMPY_FORMS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a**b, "neg": lambda a: -a,
    "pos": lambda a: a, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp,
    "log": sp.log, "sqrt": sp.sqrt, "tanh": sp.tanh, "abs": sp.Abs,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)), "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "relu": lambda a: sp.Max(a, 0), "min": sp.Min, "max": sp.Max,
}


def test_the_reference_knows_every_op():
    # Every scalar op; the array ops (@, [..], sum, mean, transpose) have tests of their own.
    assert set(SYMPY_FORMS) == {op.name for op in OPS if op.shape_rule == "elementwise"}


def sympy_of_program(program: Program):
    symbols = {name: sp.Symbol(name, real=True) for name in VARIABLES}
    environment: dict = {}

    def build(expr):
        if isinstance(expr, Number):
            return sp.Rational(expr.value) if expr.value.is_integer() else sp.Float(expr.value)
        if isinstance(expr, Name):
            if expr.name in environment:
                return environment[expr.name]
            if expr.name == "pi":
                return sp.pi
            if expr.name == "e":
                return sp.E
            return symbols[expr.name]
        return SYMPY_FORMS[expr.op](*(build(arg) for arg in expr.args))

    for statement in program.statements[:-1]:
        environment[statement.name] = build(statement.value)
    return build(program.output), symbols


# -- a random printer: every way of writing the same tree
@st.composite
def renderings(draw, program: Program) -> str:
    def text_of(expr) -> tuple[str, int]:
        """(text, precedence) with redundant parentheses, spaces and aliases at random."""
        space = st.sampled_from(["", "", " ", "  ", "\t"])
        if isinstance(expr, Name):
            text, precedence = expr.name, PREC_ATOM
        elif isinstance(expr, Number):
            number = expr.value
            text = draw(st.sampled_from(sorted({unparse(expr), repr(number), f"{number:.17g}",
                                                f"{number:.16e}", f"{number:.16E}"})))
            assert float(text) == number
            text, precedence = text, PREC_ATOM
        else:
            op = BY_NAME[expr.op]
            parts = [text_of(arg) for arg in expr.args]
            if op.name == "pow" and draw(st.integers(0, 3)) == 0:
                text = f"pow({draw(space)}{parts[0][0]},{draw(space)}{parts[1][0]})"
                precedence = PREC_ATOM
            elif op.notation == "call":
                inner = f",{draw(space)}".join(part for part, _ in parts)
                text, precedence = f"{op.symbol}({draw(space)}{inner}{draw(space)})", PREC_ATOM
            elif op.notation == "prefix":
                (operand, operand_power), = parts
                if operand_power < op.precedence:
                    operand = f"({operand})"
                text, precedence = op.symbol + draw(space) + operand, op.precedence
            else:
                (left, left_power), (right, right_power) = parts
                left_needed = op.precedence + 1 if op.right_assoc else op.precedence
                right_needed = op.precedence if op.right_assoc else op.precedence + 1
                if left_power < left_needed:
                    left = f"({left})"
                if right_power < right_needed:
                    right = f"({right})"
                symbol = op.symbol
                if op.name == "pow":
                    symbol = draw(st.sampled_from(["**", "^"]))
                text = f"{left}{draw(space)}{symbol}{draw(space)}{right}"
                precedence = op.precedence
        if draw(st.integers(0, 5)) == 0:
            text, precedence = f"({draw(space)}{text}{draw(space)})", PREC_ATOM
        return text, precedence

    lines = []
    for statement in program.statements:
        if isinstance(statement, Assign):
            space = draw(st.sampled_from(["", " "]))
            lines.append(f"{statement.name}{space}={space}{text_of(statement.value)[0]}")
        else:
            lines.append(text_of(statement)[0])
    separators = st.sampled_from(["; ", ";", "\n", "\r\n", " # note\n", "\n\n", ";\n"])
    text = draw(st.sampled_from(["", "# a program\n", "\n"]))
    for index, line in enumerate(lines):
        text += line + (draw(separators) if index < len(lines) - 1 else "")
    return text + draw(st.sampled_from(["", "\n", ";", " # end", "\r\n"]))


@settings(max_examples=2 * settings.default.max_examples)
@given(data=st.data(), program=st.one_of(valid_programs(), programs))
def test_any_way_of_writing_a_program_parses_to_its_tree(data, program):
    text = data.draw(renderings(program))
    note(repr(text))
    assert parse(text).statements == program.statements
    assert parse(unparse(program)).statements == program.statements


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(program=valid_programs(),
       point=st.fixed_dictionaries({name: point_values for name in VARIABLES}),
       seed=st.sampled_from([1.0, -2.5, 0.5]))
def test_program_gradients_agree_with_sympy_and_central_differences(program, point, seed):
    source = unparse(program)
    note(source)
    tape = compile_program(parse(source))
    used = {name: point[name] for name in tape.variables}
    values = forward(tape, used)
    assume(not near_a_kink(tape, values))
    assume(all(abs(value) < 1e6 for value in values))  # compounding powers: keep it tame
    result = backward(tape, values, seed, record=True)
    ours = gradients(tape, result, tape.variables)
    scale = max([abs(edge.product) for edge in result.edges] + [1.0])

    expression, symbols = sympy_of_program(program)
    at = {symbols[name]: sp.Float(point[name], 30) for name in VARIABLES}
    assert float(sp.N(expression.xreplace(at), 30)) == pytest.approx(
        values[tape.output], rel=1e-9, abs=1e-9)
    for name in VARIABLES:
        reference = float(sp.N((seed * sp.diff(expression, symbols[name])).xreplace(at), 30))
        if name not in tape.variables:
            assert reference == 0.0, name  # not read by the program (or only shadowed)
            continue
        assert ours[name] == pytest.approx(reference, rel=1e-9, abs=1e-12 * scale), name
        numeric, rounding, why = finite_difference(tape, used, name, seed)
        assert why is None, why
        tolerance = NUMERIC_ATOL + rounding + NUMERIC_RTOL * max(abs(numeric), abs(ours[name]))
        assert abs(ours[name] - numeric) <= tolerance, (name, ours[name], numeric)


# ----------------------------------------------------------------------------- (c) CSV
@settings(max_examples=3 * settings.default.max_examples,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(case=csv_files(), stream=st.booleans())
def test_csv_defects_through_train(tmp_path_factory, case, stream):
    text, delimiter, columns, rows, expected_error = case
    assume(len(columns) >= 2)  # a target and at least one input
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    # y_hat is always 0 and the loss |y_hat - y|: any finite data trains without overflow,
    # the gradient is 0 and the mean loss of the epoch is the mean of |y|.
    model = "w*(x*0)" + (" + v*(z*0)" if "z" in columns else "")
    arguments = ["train", str(path), "--model", model, "--loss", "mae", "--epochs", "1",
                 "--delimiter", delimiter, "--format", "json",
                 "--stream" if stream else "--no-stream"]
    result = CliRunner().invoke(main, arguments)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    if expected_error is None and not math.isfinite(sum(abs(row[1]) for row in rows)):
        # Every loss is finite, their sum (in the engine's order) is not: that is divergence.
        assert result.exit_code == 1, result.stderr
        assert "diverged" in result.stderr
        assert json.loads(result.stdout)["diverged"] is not None
        event("the epoch's loss overflows")
        return
    if expected_error is None:
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["data"]["rows"] == len(rows)
        assert document["data"]["columns"] == list(columns)
        mean_abs_y = math.fsum(abs(row[1]) for row in rows) / len(rows)
        assert document["history"][0]["loss"] == pytest.approx(mean_abs_y, rel=1e-12)
        event("loaded")
        return
    assert result.exit_code == 2, (result.stdout[-300:], result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {path}")
    if expected_error == "no data rows":
        assert "no data rows" in result.stderr
        event("no data rows")
    else:
        line, column = expected_error
        assert f", line {line}" in result.stderr.splitlines()[0], result.stderr
        if column is not None:
            assert f", column {column}: " in result.stderr.splitlines()[0], result.stderr
        event("bad cell" if column is not None else "ragged row")


# ----------------------------------------------------------------------------- (d) arguments
ARGUMENT_POOL = [
    "x=1", "x=0", "w=2", "y=-1", "x=1e308", "x=5e-324", "x=-0", "x=+.5", "x=1e-400", "x=1e400",
    "x=", "=1", "=", "x==1", "x=1=2", "pi=1", "e=2", "--x", "1", "--x=2", "--w", "--y",
    "--dz", "0", "--dz", "1e308", "--dz", "nan", "--dz=-3", "--wrt", "x", "--wrt", ",",
    "--wrt", "q", "--wrt", "x,x,w", "--format", "json", "--format", "markdown", "--format",
    "latex", "--no-check", "--check-timeout", "0.1", "--check-timeout", "nan", "--",
    "-x", "oops", "\x00", "\u0445=1",
    # a leading '-' is data, never flags; names in other scripts; math-style text
    "-h", "-o", "--x", "-h", "x=-h", "--width", "40", "\u03b8=1", "--\u03b8", "x\u00b2=1",
]
EXPRESSIONS = ["x*w", "x", "sin(x)", "1/x", "x**y", "log(x)", "a = x; a*w", "2", "pi", "x+",
               "", "(", "x;", "1e308*x", "x/0", "relu(x) + abs(w)", "max(x, w)",
               "-tanh(x)", "-log(x)", "- x*h", "\u03b8*x", "x\u00b2", "w\u00b7x", "-"]


@CHEAP
@given(command=st.sampled_from(["grad", "graph"]), expression=st.sampled_from(EXPRESSIONS),
       arguments=st.lists(st.sampled_from(ARGUMENT_POOL), max_size=6))
def test_any_arguments_end_in_an_exit_code_not_a_traceback(command, expression, arguments):
    if command == "grad" and "--no-check" not in arguments:
        arguments = [*arguments, "--no-check"]  # keep SymPy out of this fast loop
    result = CliRunner().invoke(main, [command, expression, *arguments])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception, result.stderr)
    assert result.exit_code in (0, 1, 2), result.exit_code
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert "Error: " in result.stderr
    event(f"exit {result.exit_code}")
