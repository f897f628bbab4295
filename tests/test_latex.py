"""LaTeX for course notes: golden files, escaping, notation, and (where TeX is installed) that
the fragment compiles."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import assert_golden

from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.gradient import explain
from backtrace_cli.formats.latex import (
    grad_latex,
    latex_escape,
    math_name,
    math_number,
)
from backtrace_cli.syntax.parser import parse

GOLDEN = Path(__file__).parent / "golden"
LECTURE = "(x*w - y)**2"
PROGRAM = "y_hat = x*w; r = y_hat - y; loss = r**2"
ODD = "a_1 = x_*x_*1e-05; a_1 = a_1 + sin(a_1); a_1 - -2.5e-7 + pi"


def explain_text(source: str, seed: float = 1.0, check: bool = False, **bindings: float):
    return explain(compile_program(parse(source)), bindings, seed, None, check)


CASES = [
    ("latex_program.tex", PROGRAM, {"x": 1.0, "w": 1.0, "y": 2.0}, 1.0),
    ("latex_seed.tex", LECTURE, {"x": 1.0, "w": 1.0, "y": 2.0}, 5.0),
    ("latex_odd.tex", ODD, {"x_": 3.0}, 1.0),
]


@pytest.mark.parametrize(("name", "source", "bindings", "seed"), CASES)
def test_latex_matches_golden(request, name, source, bindings, seed):
    assert_golden(request, name, grad_latex(explain_text(source, seed, **bindings)))


def test_latex_is_deterministic():
    first = grad_latex(explain_text(ODD, x_=3.0))
    assert first == grad_latex(explain_text(ODD, x_=3.0))


def test_tables_are_booktabs_and_derivatives_are_fractions():
    text = grad_latex(explain_text(PROGRAM, x=1.0, w=1.0, y=2.0))
    assert text.count(r"\toprule") == text.count(r"\midrule") == text.count(r"\bottomrule") == 3
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") == 3
    assert r"\frac{\partial \mathit{loss}}{\partial x} &= " in text
    assert r"\mathit{y\_hat}" in text
    # one backward row per edge, one forward row per node
    explanation = explain_text(PROGRAM, x=1.0, w=1.0, y=2.0)
    forward = text.split(r"\midrule")[1].split(r"\bottomrule")[0]
    assert forward.count(r"\\") == len(explanation.tape.nodes)
    backward = text.split(r"\midrule")[2].split(r"\bottomrule")[0]
    assert backward.count(r"\\") == len(explanation.edges)


def test_the_seed_is_written_as_dl_dz():
    text = grad_latex(explain_text(LECTURE, 5.0, x=1.0, w=1.0, y=2.0))
    assert r"\frac{\partial L}{\partial z} &= 5" in text
    assert r"\frac{\partial L}{\partial x} &= " in text
    assert r"(the seed, \texttt{-{}-dz})" in text


def test_a_shared_variable_sums_its_contributions():
    text = grad_latex(explain_text("x*x", x=3.0))
    start = r"\frac{\partial L}{\partial x}"
    line = next(line for line in text.splitlines() if line.startswith(start))
    assert line.endswith("= (1)(3) + (1)(3) = 6")


def test_checks_add_columns():
    text = grad_latex(explain_text("x*w", check=True, x=2.0, w=3.0))
    assert "SymPy derivative" in text and r"\texttt{w}" in text and r"$\surd$" in text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("y_hat", r"y\_hat"),
        ("50% & #1", r"50\% \& \#1"),
        ("$x$ {a} ~b^c", r"\$x\$ \{a\} \textasciitilde{}b\textasciicircum{}c"),
        ("back\\slash", r"back\textbackslash{}slash"),
        ("a < b > c | d", r"a \textless{} b \textgreater{} c \textbar{} d"),
        ("2·x²", r"2$\cdot$x\textsuperscript{2}"),
        ("two\nlines", "two lines"),
    ],
)
def test_latex_escape(text, escaped):
    assert latex_escape(text) == escaped


@pytest.mark.parametrize(
    ("value", "text"),
    [(-2.0, "-2"), (0.5, "0.5"), (1e-05, r"1 \times 10^{-5}"), (-2.5e-07, r"-2.5 \times 10^{-7}"),
     (1.5e20, r"1.5 \times 10^{20}"), (float("inf"), r"\infty")],
)
def test_math_number(value, text):
    assert math_number(value) == text


@pytest.mark.parametrize(
    ("label", "text"),
    [("x", "x"), ("v12", "v_{12}"), ("y_hat", r"\mathit{y\_hat}"), ("c''", "c''"),
     ("a_1'", r"\mathit{a\_1}'"), ("loss", r"\mathit{loss}")],
)
def test_math_name(label, text):
    assert math_name(label) == text


def _tex_ready() -> bool:
    if not shutil.which("pdflatex") or not shutil.which("kpsewhich"):
        return False
    found = subprocess.run(["kpsewhich", "booktabs.sty"], capture_output=True, text=True)
    return bool(found.stdout.strip())


@pytest.mark.skipif(not _tex_ready(), reason="pdflatex with booktabs is not installed")
def test_the_fragments_compile(tmp_path):
    bodies = [grad_latex(explain_text(source, seed, **bindings)) for _, source, bindings, seed
              in CASES]
    bodies.append(grad_latex(explain_text("x*w", check=True, x=2.0, w=3.0)))
    document = "\n".join([
        r"\documentclass{article}", r"\usepackage{booktabs}", r"\usepackage{amsmath}",
        r"\begin{document}", *bodies, r"\end{document}", "",
    ])
    (tmp_path / "notes.tex").write_text(document, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:]
