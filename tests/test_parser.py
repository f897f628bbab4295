"""The parser: precedence as in Python, programs, caret columns, and refusal of code-like input.

Every error test pins the exact message, the span (and so the column) and the text drawn under
the expression by ``render()``, because that text is what a user reads on stderr.
"""

from __future__ import annotations

import sys

import pytest

from backtrace_cli.errors import LimitError, ParseError, Span
from backtrace_cli.syntax.parser import (
    Apply,
    Assign,
    Name,
    Number,
    Program,
    parse,
    tokenize,
    unparse,
)


def expr(source: str):
    return parse(source).output


def num(value: float) -> Number:
    return Number(float(value))


def call(op: str, *args) -> Apply:
    return Apply(op, tuple(args))


x, y, w, a, b, c = (Name(n) for n in "xywabc")


def parse_error(source: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(source)
    assert type(info.value) is ParseError
    return info.value


# ----------------------------------------------------------------------------- precedence
@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("-x**2", call("neg", call("pow", x, num(2)))),
        ("2**3**2", call("pow", num(2), call("pow", num(3), num(2)))),
        ("(2**3)**2", call("pow", call("pow", num(2), num(3)), num(2))),
        ("x^2", call("pow", x, num(2))),
        ("a^b^c", call("pow", a, call("pow", b, c))),
        ("a-b-c", call("sub", call("sub", a, b), c)),
        ("a-(b-c)", call("sub", a, call("sub", b, c))),
        ("a/b/c", call("div", call("div", a, b), c)),
        ("a/b*c", call("mul", call("div", a, b), c)),
        ("a+b*c", call("add", a, call("mul", b, c))),
        ("a*b+c", call("add", call("mul", a, b), c)),
        ("(a+b)*c", call("mul", call("add", a, b), c)),
        ("-a*b", call("mul", call("neg", a), b)),
        ("-a+b", call("add", call("neg", a), b)),
        ("--x", call("neg", call("neg", x))),
        ("+x", call("pos", x)),
        ("-+x", call("neg", call("pos", x))),
        ("2*-x", call("mul", num(2), call("neg", x))),
        ("x**-y", call("pow", x, call("neg", y))),
        ("x**-y**2", call("pow", x, call("neg", call("pow", y, num(2))))),
        ("(-x)**2", call("pow", call("neg", x), num(2))),
        ("sin(x)", call("sin", x)),
        ("sin(x)**2", call("pow", call("sin", x), num(2))),
        ("-sin(x)", call("neg", call("sin", x))),
        ("max(x, y*2)", call("max", x, call("mul", y, num(2)))),
        ("min(a, b) + 1", call("add", call("min", a, b), num(1))),
        ("pow(a, b)", call("pow", a, b)),
        ("pow(a, b+1)", call("pow", a, call("add", b, num(1)))),
        ("sigmoid(softplus(relu(abs(x))))",
         call("sigmoid", call("softplus", call("relu", call("abs", x))))),
        ("exp(log(sqrt(tanh(cos(tan(x))))))",
         call("exp", call("log", call("sqrt", call("tanh", call("cos", call("tan", x))))))),
        ("pi*e", call("mul", Name("pi"), Name("e"))),
        ("0.5 + .25 + 1. + 2e-3 + 1E+2", call("add", call("add", call("add", call("add",
         num(0.5), num(0.25)), num(1.0)), num(0.002)), num(100.0))),
        ("((x))", x),
    ],
)
def test_precedence_and_shape(source, tree):
    assert expr(source) == tree


def test_caret_is_power_like_double_star():
    assert expr("a ^ b") == expr("a ** b")
    assert expr("pow(a, b)") == expr("a ** b")


def test_spans_point_into_the_source():
    tree = expr("sin(x) + 2*y")
    assert tree.span == Span(0, 12)
    left, right = tree.args
    assert left.span == Span(0, 6)
    assert right.span == Span(9, 12)
    assert right.args[1].span == Span(11, 12)
    # Parentheses widen the span of what they hold.
    assert expr("(x + y) * 2").args[0].span == Span(0, 7)


# ----------------------------------------------------------------------------- programs
def test_program_with_semicolons_newlines_and_comments():
    source = "# the lecture\ny_hat = x*w   # prediction\nr = y_hat - y; loss = r**2\n"
    program = parse(source)
    assert program.source == source
    assert program.statements == (
        Assign("y_hat", call("mul", x, w)),
        Assign("r", call("sub", Name("y_hat"), y)),
        Assign("loss", call("pow", Name("r"), num(2))),
    )
    assert program.output == call("pow", Name("r"), num(2))


def test_blank_statements_and_a_trailing_separator_are_ignored():
    assert parse(";;\n a = x ;\n\n a*2 ;\n").statements == (
        Assign("a", x), call("mul", Name("a"), num(2)),
    )


def test_reassignment_is_allowed():
    program = parse("c = a + b; c = c + c + 1; c")
    assert program.statements == (
        Assign("c", call("add", a, b)),
        Assign("c", call("add", call("add", Name("c"), Name("c")), num(1))),
        Name("c"),
    )


def test_the_last_statement_is_the_output():
    assert parse("a = x; b = a*2").output == call("mul", Name("a"), num(2))
    assert parse("x").output == x


def test_statement_span_covers_the_assignment():
    program = parse("x = 1\nyy = x + 2")
    assert program.statements[1].span == Span(6, 16)


# ----------------------------------------------------------------------------- errors
def assert_error(source, message, span, rendered, hint=None, kind=ParseError):
    with pytest.raises(kind) as info:
        parse(source)
    error = info.value
    assert type(error) is kind
    assert error.message == message
    assert error.span == span
    assert error.hint == hint
    assert error.render() == rendered
    assert "Traceback" not in error.render()
    return error


def test_two_operators_in_a_row():
    assert_error(
        "x +* w", "expected a value, found '*'", Span(3, 4),
        "expected a value, found '*' (at column 4)\n  x +* w\n     ^",
    )


def test_unclosed_call():
    error = assert_error(
        "sin(x", "expected ')' to close the '(' at column 4, found the end of the input",
        Span(5, 6),
        "expected ')' to close the '(' at column 4, found the end of the input (at column 6)\n"
        "  sin(x\n       ^",
    )
    assert error.column == 6


def test_assignment_without_a_value():
    assert_error(
        "y = ; x", "expected an expression after '='", Span(4, 5),
        "expected an expression after '=' (at column 5)\n  y = ; x\n      ^",
    )


def test_unknown_function_with_did_you_mean():
    assert_error(
        "sinn(x)", "unknown function 'sinn'", Span(0, 4),
        "unknown function 'sinn' (at column 1)\n  sinn(x)\n  ^^^^\n  hint: did you mean 'sin'?",
        hint="did you mean 'sin'?",
    )


def test_unknown_function_without_a_close_name_lists_the_functions():
    error = parse_error("foo(x)")
    assert error.message == "unknown function 'foo'"
    assert error.hint.startswith("functions: abs, cos, exp, log, max, mean, min, pow, relu")


def test_wrong_number_of_arguments():
    assert_error(
        "min(x)", "min takes 2 arguments, got 1", Span(0, 6),
        "min takes 2 arguments, got 1 (at column 1)\n  min(x)\n  ^^^^^^",
    )
    assert parse_error("1 + sin(x, y)").message == "sin takes 1 argument, got 2"
    assert parse_error("1 + sin(x, y)").span == Span(4, 13)
    assert parse_error("max(x, y, w)").message == "max takes 2 arguments, got 3"
    assert parse_error("pow(x)").message == "pow takes 2 arguments, got 1"


def test_number_followed_by_a_name():
    assert_error(
        "2x", "malformed number '2x'", Span(0, 2),
        "malformed number '2x' (at column 1)\n  2x\n  ^^\n  hint: write 2*x for a product",
        hint="write 2*x for a product",
    )
    assert parse_error("1.2.3").message == "malformed number '1.2.3'"


@pytest.mark.parametrize("source", ["'a'", '"os"', "x + 'a'"])
def test_strings_are_refused(source):
    error = parse_error(source)
    assert error.message == "strings are not allowed in expressions"
    assert source[error.span.start] in "'\""


def test_attribute_access_is_refused():
    message = "'.' is not allowed here (no attribute access; numbers are written like 0.5)"
    assert_error("x.real", message, Span(1, 2), f"{message} (at column 2)\n  x.real\n   ^")
    assert_error(
        "(1).__class__", message, Span(3, 4), f"{message} (at column 4)\n  (1).__class__\n     ^"
    )


def test_dunder_names_are_refused():
    message = "names starting with '__' are not allowed ('__import__')"
    assert_error(
        "__import__('os').system('ls')", message, Span(0, 10),
        f"{message} (at column 1)\n  __import__('os').system('ls')\n  ^^^^^^^^^^",
    )


def test_keywords_are_refused():
    message = "'lambda' is a Python keyword; backtrace expressions have no keywords"
    assert_error(
        "lambda: 1", message, Span(0, 6),
        f"{message} (at column 1)\n  lambda: 1\n  ^^^^^^\n  hint: use another name",
        hint="use another name",
    )
    assert parse_error("import os").span == Span(0, 6)
    assert parse_error("x if y else w").message.startswith("'if' is a Python keyword")


@pytest.mark.parametrize(
    ("source", "column", "char", "unicode_name"),
    [
        ("x \u2212 y", 3, "\u2212", "MINUS SIGN"),
        ("x + \u0663", 5, "\u0663", "ARABIC-INDIC DIGIT THREE"),  # a digit, but not ASCII
        ("\uff12*x", 1, "\uff12", "FULLWIDTH DIGIT TWO"),
        ("x\u00b2", 2, "\u00b2", "SUPERSCRIPT TWO"),
    ],
)
def test_non_ascii_look_alikes_are_refused(source, column, char, unicode_name):
    # Names may be Unicode letters now (tests/test_unicode.py); numbers and operators not.
    error = parse_error(source)
    code = f"U+{ord(char):04X}"
    assert error.message == (
        f"unexpected character '{char}' ({code} {unicode_name}); "
        "numbers and operators are plain ASCII"
    )
    assert error.column == column
    assert error.span == Span(column - 1, column)


@pytest.mark.parametrize(
    ("source", "column", "char", "unicode_name", "ascii_twin", "mended"),
    [
        ("\u0455in(x)", 1, "\u0455", "CYRILLIC SMALL LETTER DZE", "s", "sin"),
        ("x + \u0430", 5, "\u0430", "CYRILLIC SMALL LETTER A", "a", "a"),
        ("\uff58*2", 1, "\uff58", "FULLWIDTH LATIN SMALL LETTER X", "x", "x"),
        ("w\u03bf", 2, "\u03bf", "GREEK SMALL LETTER OMICRON", "o", "wo"),
    ],
)
def test_letters_that_pass_for_ascii_ones_are_refused(source, column, char, unicode_name,
                                                      ascii_twin, mended):
    error = parse_error(source)
    assert error.message == (
        f"'{char}' (U+{ord(char):04X} {unicode_name}) looks like the ASCII '{ascii_twin}' "
        "but is another character"
    )
    assert error.hint == (f"did you mean '{mended}'? (type ASCII letters as ASCII; other "
                          "letters, such as θ, are fine in names)")
    assert error.column == column
    assert error.span == Span(column - 1, column)


@pytest.mark.parametrize("source", ["", "   ", "\n\n", "# only a comment", ";", " ; \n ;"])
def test_empty_input(source):
    error = parse_error(source)
    assert error.message == "the expression is empty"
    assert error.span.start == 0


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("x +", "expected a value after '+', found the end of the input", 4),
        ("x ** ", "expected a value after '**', found the end of the input", 6),
        ("x y", "unexpected 'y'", 3),
        ("1 2", "unexpected '2'", 3),
        ("x)", "unexpected ')'", 2),
        ("()", "empty parentheses", 1),
        ("max(x,)", "expected a value, found ')'", 7),
        ("sin", "'sin' is a function; call it as sin(...)", 1),
        ("sin = 2", "cannot assign to the function name 'sin'", 1),
        ("a = b = 1", "unexpected '='", 7),
        ("x == 1", "unexpected '='", 4),
        ("x $ y", "unexpected character '$'", 3),
        ("x % y", "unexpected character '%'", 3),
        ("x[0]", "indexing is not supported: '[' is not allowed in expressions after a value",
         2),
        ("1e400", "the number 1e400 is too large for a float", 1),
        ("x; y", "this statement's value is never used", 1),
    ],
)
def test_other_errors_point_at_the_right_column(source, message, column):
    error = parse_error(source)
    assert error.message == message
    assert error.column == column
    caret_line = error.render().split("\n")[2]
    assert caret_line.index("^") - 2 == column - 1


def test_missing_operator_hint():
    assert parse_error("x y").hint == "did you forget an operator such as '*'?"


def test_error_on_a_later_line_names_line_and_column():
    error = parse_error("x = 1\ny = x +* 2")
    assert error.line == 2
    assert error.column == 8
    assert error.render() == (
        "expected a value, found '*' (at line 2, column 8)\n  y = x +* 2\n         ^"
    )


def test_caret_in_a_long_line_stays_under_the_column():
    source = "x + " * 400 + "*"
    error = parse_error(source)
    assert error.span == Span(1600, 1601)
    _, line, carets = error.render().split("\n")
    assert line.startswith("  ...")
    assert len(line) < 100
    assert line[carets.index("^")] == "*"


def test_tokens_keep_their_positions():
    tokens = tokenize("a1 = 2.5e-3**x\n")
    assert [(t.kind, t.text, t.start) for t in tokens] == [
        ("NAME", "a1", 0), ("OP", "=", 3), ("NUMBER", "2.5e-3", 5), ("OP", "**", 11),
        ("NAME", "x", 13), ("SEP", "\n", 14), ("END", "", 15),
    ]


# ----------------------------------------------------------------------------- limits
@pytest.mark.parametrize(
    "source",
    [
        "(" * 5_000 + "x" + ")" * 5_000,
        "-" * 5_000 + "x",
        "sin(" * 5_000 + "x" + ")" * 5_000,
        "2**" * 5_000 + "2",
        "(" * 5_000,
    ],
    ids=["parentheses", "unary", "calls", "powers", "unclosed"],
)
def test_deep_nesting_is_refused_cleanly(source):
    with pytest.raises(LimitError) as info:
        parse(source)
    error = info.value
    assert error.message == "the expression is nested too deeply (limit 200 levels)"
    assert error.hint == "raise it with BACKTRACE_MAX_DEPTH"
    assert 0 <= error.span.start < len(source)
    assert "^" in error.render()


def test_depth_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_DEPTH", "10")
    assert parse("(" * 8 + "x" + ")" * 8).output == x
    with pytest.raises(LimitError, match=r"limit 10 levels"):
        parse("(" * 12 + "x" + ")" * 12)


def test_parsing_at_the_depth_limit_needs_no_more_stack_than_python_gives():
    limit_before = sys.getrecursionlimit()
    tree = expr("(" * 190 + "x" + ")" * 190)
    assert tree == x
    assert sys.getrecursionlimit() >= limit_before


def test_length_limit(monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_LENGTH", "50")
    with pytest.raises(LimitError) as info:
        parse("x+" * 30 + "x")
    assert info.value.message == "the expression is too long (61 characters, limit 50)"
    assert info.value.hint == "raise it with BACKTRACE_MAX_LENGTH"


def test_statement_limit(monkeypatch):
    monkeypatch.setenv("BACKTRACE_MAX_STATEMENTS", "3")
    assert len(parse("a = x; b = a; c = b").statements) == 3
    with pytest.raises(LimitError, match=r"too many statements \(limit 3\)"):
        parse("a = x; b = a; c = b; d = c")


def test_a_100000_term_sum_parses_without_recursion():
    terms = 100_000
    source = "+".join(["x"] * terms)
    root = tree = expr(source)
    # Left-associative: walk down the left spine (iteratively; == on so deep a tree would
    # itself recurse).
    depth = 0
    while isinstance(tree, Apply):
        assert tree.op == "add"
        assert tree.args[1] == x
        tree = tree.args[0]
        depth += 1
    assert tree == x
    assert depth == terms - 1
    # Printing it back is linear too (no text built per subtree).
    assert unparse(root) == " + ".join(["x"] * terms)


# ----------------------------------------------------------------------------- round trip
@pytest.mark.parametrize(
    "source",
    [
        "-x**2", "(-x)**2", "2**3**2", "(2**3)**2", "a - b - c", "a - (b - c)", "a/(b*c)",
        "a*(b/c)", "--x", "x - -y", "2**-1", "-(x + y)*z", "sin(x + 1)*max(x, y**2)",
        "+x", "1e-05*x + 1e+16 + 0.1", "-2**-x**-y", "(a + b)**(c + d)", "pow(a, b)",
        "y_hat = x*w; r = y_hat - y; loss = r**2",
        "c = a + b; c = c + c + 1; c", "pi*e + relu(-x)", "abs(x)/(1 + x*x)",
    ],
)
def test_unparse_round_trips(source):
    tree = parse(source)
    assert parse(unparse(tree)) == tree


def test_unparse_writes_python_precedence():
    assert unparse(parse("(x)*(w)")) == "x*w"
    assert unparse(parse("2**(-1)")) == "2**(-1)"
    assert unparse(parse("x - (y - w)")) == "x - (y - w)"
    assert unparse(parse("(-x)**2")) == "(-x)**2"
    assert unparse(parse("pow(a,b)")) == "a**b"
    assert unparse(parse("a = 1\nb = a")) == "a = 1; b = a"


def test_the_tree_is_frozen():
    tree = expr("x*w")
    with pytest.raises(AttributeError):
        tree.op = "add"  # type: ignore[misc]
    assert isinstance(parse("x"), Program)
