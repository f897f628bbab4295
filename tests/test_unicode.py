"""Names in any script, and math-style input mended by a did-you-mean.

Names are identifiers as Python reads them, normalised with NFKC as Python does; look-alikes
of ASCII letters, hatted letters (ŷ) and the product dot (w·x) are refused with a hint.
"""

from __future__ import annotations

import unicodedata

import pytest
from helpers import invoke, run_json

from backtrace_cli.errors import ParseError
from backtrace_cli.syntax.names import latex_name, mend
from backtrace_cli.syntax.parser import Name, parse, tokenize


def parse_error(source: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(source)
    return info.value


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["θ", "权重", "α1", "x_θ", "θ_2", "é", "Δw", "λ", "ρ", "ñ",
                                  "ψ_hat_2", "δ"])
def test_unicode_letters_are_names(name):
    assert parse(f"{name}*2").output.args[0] == Name(name)


def test_names_are_normalised_with_nfkc_as_python_does():
    decomposed = "e\u0301"  # e and a combining acute accent
    assert parse(decomposed).output == Name("\u00e9")
    assert parse("\u00b5").output == Name("\u03bc")  # MICRO SIGN is GREEK SMALL LETTER MU
    assert unicodedata.normalize("NFKC", "\u00b5") == "\u03bc"
    # the span still covers what was typed, for the caret
    token = tokenize(f"1 + {decomposed}")[2]
    assert (token.text, token.span.start, token.span.end) == ("\u00e9", 4, 6)


def test_a_name_may_go_on_in_another_script():
    assert parse("wθ + 1").output.args[0] == Name("wθ")
    assert parse("θw").output == Name("θw")


def test_grad_with_unicode_names_in_expression_and_bindings():
    document = run_json("grad", "θ*x + 权重", "θ=2", "x=3", "--权重", "0.5")
    assert document["bindings"] == {"θ": 2.0, "x": 3.0, "权重": 0.5}
    assert document["gradients"] == {"θ": 3.0, "x": 2.0, "权重": 1.0}
    assert document["output"] == 6.5
    assert document["check"]["ok"] is True


@pytest.mark.parametrize("binding", [["--θ", "2"], ["--θ=2"], ["θ=2"]])
def test_every_binding_form_takes_a_unicode_name(binding):
    document = run_json("grad", "θ**2", *binding, "--no-check")
    assert document["gradients"] == {"θ": 4.0}


def test_a_binding_name_is_normalised_like_the_expression():
    document = run_json("grad", "\u03bc*2", "\u00b5=3", "--no-check")  # µ=3 binds μ
    assert document["bindings"] == {"\u03bc": 3.0}


def test_unicode_names_in_train():
    document = run_json("train", "--model", "x*θ", "--param", "θ=0.5", "--epochs", "1")
    assert document["initial"] == {"θ": 0.5}
    assert list(document["params"]) == ["θ"]


# ----------------------------------------------------------------------------- refused
@pytest.mark.parametrize(("source", "offset", "message", "hint"), [
    ("\u0445 + 1", 0, "'\u0445' (U+0445 CYRILLIC SMALL LETTER HA) looks like the ASCII 'x'",
     "did you mean 'x'?"),
    ("\u212f**x", 0, "'\u212f' (U+212F SCRIPT SMALL E) looks like the ASCII 'e'",
     "did you mean 'e'?"),
    ("\U0001d465*2", 0, "(U+1D465 MATHEMATICAL ITALIC SMALL X) looks like the ASCII 'x'",
     "did you mean 'x'?"),
    ("w\u0441", 1, "CYRILLIC SMALL LETTER ES) looks like the ASCII 'c'", "did you mean 'wc'?"),
    ("\u0176 + 1", 0, "is math's hat; backtrace writes it '_hat'", "did you mean 'Y_hat'?"),
    ("y\u0302 = x*w; y\u0302", 0, "is math's hat", "did you mean 'y_hat'?"),
])
def test_names_python_takes_but_backtrace_refuses(source, offset, message, hint):
    error = parse_error(source)
    assert message in error.message
    assert error.hint.startswith(hint)
    assert error.span.start == offset


@pytest.mark.parametrize(("typed", "message"), [
    ("\u0445=1", "the binding name '\u0445': '\u0445' (U+0445 CYRILLIC SMALL LETTER HA) looks "
                 "like the ASCII 'x'"),
    ("\u0177=1", "is math's hat"),
    ("w\u00b7x=1", "'w\u00b7x' is not a valid variable name"),
    ("x\u00b2=1", "'x\u00b2' is not a valid variable name"),
    ("__θ=1", "'__θ' is not a valid variable name"),
])
def test_binding_names_are_refused_as_expression_names_are(typed, message):
    result = invoke("grad", "x", "x=1", typed)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


# ----------------------------------------------------------------------------- math style
@pytest.mark.parametrize(("source", "suggestion"), [
    ("x²", "x**2"),
    ("(a + b)³", "(a + b)**3"),
    ("x⁻¹", "x**-1"),
    ("w·x", "w*x"),
    ("w×x", "w*x"),
    ("w⋅x + b", "w*x + b"),
    ("a ÷ b", "a / b"),
    ("x − y", "x - y"),
    ("w₁*x₁ + b", "w_1*x_1 + b"),
    ("ŷ = x*w; (ŷ − y)²", "y_hat = x*w; (y_hat - y)**2"),
])
def test_math_style_input_gets_a_did_you_mean(source, suggestion):
    error = parse_error(source)
    assert error.hint == f"did you mean '{suggestion}'?" or (
        source.startswith("ŷ") and error.hint == "did you mean 'y_hat'?")
    assert mend(source) == suggestion


@pytest.mark.parametrize(("source", "hint"), [
    ("ln(x)", "did you mean 'log'?"),
    ("σ(x)", "did you mean 'sigmoid'?"),
])
def test_function_names_of_other_notations(source, hint):
    error = parse_error(source)
    assert error.message == f"unknown function '{source[:-3]}'"
    assert error.hint == hint


def test_math_style_hint_reaches_the_command_line():
    result = invoke("grad", "x²", "x=3")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: unexpected character '²' (U+00B2 SUPERSCRIPT TWO); numbers and operators are "
        "plain ASCII (at column 2)\n  x²\n   ^\n  hint: did you mean 'x**2'?\n")


def test_a_long_line_gets_a_short_hint():
    error = parse_error("x" * 100 + "·y")
    assert error.hint == "write * for a product"


# ----------------------------------------------------------------------------- LaTeX
@pytest.mark.parametrize(("name", "latex"), [
    ("x", "x"), ("θ", r"\theta"), ("theta", r"\theta"), ("Ω", r"\Omega"), ("w_1", "w_{1}"),
    ("θ_2", r"\theta_{2}"), ("y_hat", r"\hat{y}"), ("θ_hat", r"\hat{\theta}"),
    ("loss", r"\mathit{loss}"), ("权重", r"\text{权重}"), ("w_in", r"w_{\mathit{in}}"),
    ("a_b_c", "a_{b,c}"), ("αβ", r"\alpha \beta"),
])
def test_latex_name(name, latex):
    assert latex_name(name) == latex
