"""The public Python API: the same numbers, documents and refusals as the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy
import pytest
from helpers import invoke, run_json

import backtrace_cli
from backtrace_cli import BacktraceError, affine, fit, grad, graph


def test_grad_to_dict_is_the_cli_json():
    result = grad("x*w", {"x": 2, "w": 3}, dz=5)
    assert result.gradients == {"x": 15.0, "w": 10.0} and result.output == 6.0
    assert result.to_dict() == run_json("grad", "x*w", "x=2", "w=3", "--dz", "5")


def test_grad_takes_numpy_arrays_and_lists_alike():
    W = numpy.array([[1.0, 2.0], [3.0, 4.0]])
    from_array = grad("sum(W @ x)", {"W": W, "x": numpy.array([1.0, -1.0])}, cross_check=False)
    from_lists = grad("sum(W @ x)", {"W": W.tolist(), "x": [1, -1]}, cross_check=False)
    assert from_array.gradients == from_lists.gradients == {
        "W": [[1.0, -1.0], [1.0, -1.0]], "x": [4.0, 6.0]}


@pytest.mark.parametrize(("call", "cli", "words"), [
    (lambda: grad("x*w", {"x": float("nan"), "w": 1}), ("grad", "x*w", "x=nan", "w=1"),
     "'nan' is not allowed; values must be finite numbers"),
    (lambda: grad("x*w", {"x": 1, "w": 1}, wrt="q"), ("grad", "x*w", "x=1", "w=1", "--wrt", "q"),
     "names 'q', which is not a variable of the expression"),
    (lambda: affine("w*x", {"w": 2, "x": 1}, timeout=float("inf")),
     ("simplify", "w*x", "w=2", "x=1", "--timeout", "inf"),
     "must be a finite number of seconds from 0.1 to 86,400, not inf"),
    (lambda: fit("x*w", lr=-1.0), ("train", "--lr", "-1"), "must be a finite number above 0"),
])
def test_the_api_refuses_what_the_cli_refuses_with_the_same_words(call, cli, words):
    with pytest.raises(BacktraceError) as refused:
        call()
    result = invoke(*cli)
    assert result.exit_code == 2
    assert words in refused.value.render() and words in result.stderr


def test_the_api_names_fields_where_the_cli_names_flags():
    with pytest.raises(BacktraceError, match=r"^wrt names 'q'"):
        grad("x*w", {"x": 1, "w": 1}, wrt="q")
    assert invoke("grad", "x*w", "x=1", "w=1", "--wrt", "q").stderr.startswith(
        "Error: --wrt names 'q'")


def test_fit_reproduces_the_lecture_from_every_kind_of_data(tmp_path):
    csv = tmp_path / "lecture.csv"
    csv.write_text("x,y\n1,2\n2,4\n3,6\n")
    for data in (None, str(csv), {"x": [1, 2, 3], "y": [2, 4, 6]}):
        trained = fit("x*w", data)
        assert trained.params == {"w": 1.9999999999999236}
        assert trained.predict(4) == 7.9999999999996945
    assert fit("x*w", None, dtype="float32").predict(4) == 7.999998569488525
    document = fit("x*w").to_dict()
    assert document["params"] == run_json("train")["params"]


def test_fit_refuses_ragged_or_unknown_input():
    with pytest.raises(BacktraceError, match="column 'y' has 1 values where the first"):
        fit("x*w", {"x": [1, 2], "y": [1]})
    with pytest.raises(BacktraceError) as refused:
        fit("x*w", lrr=0.1)
    assert refused.value.render() == "fit() has no setting 'lrr'\n  hint: did you mean 'lr'?"


def test_graph_and_affine():
    assert graph("x*w", {"x": 2, "w": 3}, format="dot").startswith("digraph backtrace {")
    collapse = affine("w2*(w1*x + b1) + b2", {"w1": 2, "b1": 0.5, "w2": 3, "b2": 1, "x": 4})
    assert collapse.affine and float(collapse.weight) == 6.0 and float(collapse.bias) == 2.5


def test_notebook_display_holds_the_tables_and_the_graph():
    html = grad("x*w", {"x": 2, "w": 3})._repr_html_()
    assert "<table>" in html and "<svg" in html and "http" not in html.replace(
        "http://www.w3.org", "")
    assert grad("x*w", {"x": 2, "w": 3})._repr_markdown_().startswith("## Forward pass")


def test_importing_the_package_loads_no_api_module():
    code = ("import sys, backtrace_cli; "
            "print(any(m.startswith('backtrace_cli.api') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
    assert "grad" in dir(backtrace_cli)


# ------------------------------------------------------------ one name per idea: dz
def test_dz_is_the_gradients_seed_in_grad_graph_and_grade():
    from backtrace_cli import grade, quiz

    assert grad("x*w", {"x": 2, "w": 3}, dz=5).gradients == {"x": 15.0, "w": 10.0}
    assert "grad 15" in graph("x*w", {"x": 2, "w": 3}, dz=5, format="dot")
    made = quiz("x*w", {"x": 2, "w": 3}, dz=5)
    assert made.key["dz"] == 5.0
    marked = grade("x*w", made.bindings, answers=made.key, dz=made.key["dz"])
    assert marked.passed and marked.score["wrong"] == 0
    # a random quiz's seed draws the program; grade's dz is a different thing, by name
    drawn = quiz(random=True, seed=7, level=2)
    assert grade(drawn.expression, drawn.bindings, answers=drawn.key).passed


@pytest.mark.parametrize("call", [
    lambda **seed: grad("x*w", {"x": 2, "w": 3}, **seed).gradients,
    lambda **seed: graph("x*w", {"x": 2, "w": 3}, format="dot", **seed),
    lambda **seed: __import__("backtrace_cli").grade(
        "x*w", {"x": 2, "w": 3}, answers={"gradients": {"x": 15, "w": 10}}, **seed).score,
], ids=["grad", "graph", "grade"])
def test_the_old_seed_keyword_still_works_with_a_deprecation_warning(call):
    with pytest.warns(DeprecationWarning, match=r"\(seed=\.\.\.\) is now \w+\(dz=\.\.\.\)"):
        old = call(seed=5)
    assert old == call(dz=5)
    with pytest.raises(TypeError, match="both dz and seed"):
        call(seed=5, dz=5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sead'"):
        call(sead=5)


def test_errors_about_dz_name_dz_in_the_api_and_the_flag_on_the_command_line():
    with pytest.raises(BacktraceError, match=r"^dz has shape 3 but z has shape 2"):
        grad("z = x*w", {"x": [1, 2], "w": 3}, dz=[1, 2, 3])
    with pytest.raises(BacktraceError) as refused:
        grad("z = x*w", {"x": [1, 2], "w": 3})
    assert "give dz as an array of shape 2" in refused.value.render()
    result = invoke("grad", "z = x*w", "x=[1, 2]", "w=3", "--dz", "[1, 2, 3]")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --dz has shape 3 but z has shape 2")


# ------------------------------------------------------------ what a notebook shows
def test_graph_shows_itself_as_a_picture_or_a_code_block_of_its_format():
    svg = graph("x*w", {"x": 2, "w": 3})
    assert isinstance(svg, str) and svg._repr_svg_() == str(svg) and "<svg" in svg
    assert svg._repr_markdown_() is None
    dot = graph("x*w", {"x": 2, "w": 3}, format="dot")
    assert dot._repr_svg_() is None
    assert dot._repr_markdown_() == "```dot\n" + dot.rstrip("\n") + "\n```\n"
    assert graph("x*w", {"x": 2, "w": 3}, format="mermaid")._repr_markdown_().startswith(
        "```mermaid\nflowchart")
    png = graph("x*w", {"x": 2, "w": 3}, format="png")
    assert isinstance(png, bytes) and png._repr_png_().startswith(b"\x89PNG")


def test_affine_is_a_result_with_simplifys_report():
    collapse = affine("w2*(w1*x + b1) + b2", {"w1": 2, "b1": 0.5, "w2": 3, "b2": 1, "x": 4})
    assert repr(collapse) == "AffineResult(affine=True, weight=6.0, bias=2.5)"
    assert collapse.to_dict() == run_json("simplify", "w2*(w1*x + b1) + b2", "w1=2", "b1=0.5",
                                          "w2=3", "b2=1", "x=4")
    assert "Affine in x" in collapse._repr_markdown_()
    assert "Affine in x" in collapse._repr_html_() and "dataclass" not in repr(collapse)
    assert collapse.render("table") == invoke("simplify", "w2*(w1*x + b1) + b2", "w1=2",
                                              "b1=0.5", "w2=3", "b2=1", "x=4").stdout
    not_affine = affine("sigmoid(w*x)", {"w": 2, "x": 1})
    assert not not_affine.affine and "AffineResult(affine=False" in repr(not_affine)
