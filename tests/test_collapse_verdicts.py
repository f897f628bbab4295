"""`simplify`'s verdict where the tape rule is too strict (x*x - x*x + 3*x is 3x): SymPy's
expansion decides, and says so (``decided_by``); the sentence about stacked linear layers
only where the program has them (``stacked_layers``)."""

from __future__ import annotations

import json

import pytest
import sympy  # noqa: F401  (imported once, so the forked SymPy child starts warm)
from helpers import invoke

from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.affine import stacked_layers
from backtrace_cli.syntax.parser import parse

STACKED_SENTENCE = "Stacked linear layers add nothing"


def simplify(*args: str):
    result = invoke("simplify", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def simplify_json(*args: str) -> dict:
    return json.loads(simplify(*args, "--format", "json"))


def test_terms_that_cancel_are_affine_by_sympys_expansion():
    document = simplify_json("x*x - x*x + 3*x", "x=2")
    assert document["affine"] is True and document["reason"] is None
    assert document["decided_by"] == "sympy expansion"
    assert document["expanded"] == "3*x"
    assert document["W"] == {"symbolic": "3", "value": 3.0}
    assert document["b"] == {"symbolic": "0", "value": 0.0}
    assert document["note"] == ("SymPy's expansion shows it affine, though by the tape rule "
                                "v2 (x*x) multiplies two values that depend on x")
    assert document["stacked_layers"] is False


def test_an_identity_inside_a_nonlinearity_is_affine_too():
    document = simplify_json("sin(x)**2 + cos(x)**2 + x*w", "x=1", "w=2")
    assert (document["affine"], document["decided_by"]) == (True, "sympy expansion")
    assert document["W"]["value"] == 2.0
    assert document["b"]["value"] == pytest.approx(1.0, abs=1e-15)


def test_a_real_nonlinearity_is_confirmed_by_sympy_and_named_by_the_rule():
    document = simplify_json("x*x + 3*x", "x=2")
    assert document["affine"] is False
    assert document["decided_by"] == "sympy expansion"
    assert document["reason"] == "v2 (x*x) multiplies two values that depend on x"
    assert document["note"] is None


def test_the_tape_rule_decides_an_affine_program_alone():
    document = simplify_json("x*w + b", "x=1", "w=2", "b=3")
    assert (document["affine"], document["decided_by"]) == (True, "tape rule")


def test_without_sympy_in_time_the_tape_rule_decides(monkeypatch):
    from backtrace_cli.checks import sandbox

    monkeypatch.setattr(sandbox, "in_child", lambda *args: (None, "skipped: SymPy took longer "
                                                            "than 5 s"))
    document = simplify_json("x*x - x*x + 3*x", "x=2")
    assert (document["affine"], document["decided_by"]) == (False, "tape rule")
    assert document["note"] == "SymPy skipped: SymPy took longer than 5 s; the tape rule decided"


@pytest.mark.parametrize(("source", "bindings", "stacked"), [
    ("w2*(w1*x + b1) + b2", ("w1=2", "b1=0.5", "w2=3", "b2=1", "x=4"), True),
    ("h = w1*x + b1; y_hat = w2*h + b2", ("w1=2", "b1=0.5", "w2=3", "b2=1", "x=4"), True),
    ("(x*w)/v", ("x=1", "w=2", "v=4"), True),
    ("x/w", ("x=1", "w=2"), False),
    ("3*x", ("x=1",), False),
    ("x*w + b", ("x=1", "w=2", "b=3"), False),
    ("x/w - 3*x", ("x=1", "w=2"), False),  # two maps side by side, not stacked
    ("2*(3*x + 1)", ("x=1",), False),  # constant factors are no layers
])
def test_the_stacked_layers_sentence_only_where_there_are_stacked_layers(
    source, bindings, stacked
):
    assert stacked_layers(compile_program(parse(source)), "x") is stacked
    assert (STACKED_SENTENCE in simplify(source, *bindings)) is stacked
    assert simplify_json(source, *bindings)["stacked_layers"] is stacked


def test_matrix_layers_are_stacked():
    matrices = ["W1=[[1, 2], [3, 4]]", "b1=[0, 1]", "W2=[[1, -1]]", "b2=[0.5]", "x=[1, 2]"]
    document = simplify_json("W2 @ (W1 @ x + b1) + b2", *matrices)
    assert document["stacked_layers"] is True and document["decided_by"] == "tape rule"
    assert simplify_json("W1 @ x + b1", *matrices[:2], matrices[4])["stacked_layers"] is False
