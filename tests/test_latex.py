"""LaTeX for course notes: golden files, escaping, notation, and (where TeX is installed) that
the fragment compiles."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy
import pytest
from click.testing import CliRunner
from helpers import assert_golden

from backtrace_cli.cli.main import main
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
    for package in ("booktabs.sty", "longtable.sty", "array.sty", "amssymb.sty", "xcolor.sty"):
        found = subprocess.run(["kpsewhich", package], capture_output=True, text=True)
        if not found.stdout.strip():
            return False
    return True


TEX_READY = _tex_ready()
needs_tex = pytest.mark.skipif(
    not TEX_READY, reason="pdflatex with booktabs, longtable, array, amssymb and xcolor is not "
    "installed (apt-get install texlive-latex-base texlive-latex-recommended "
    "texlive-latex-extra)")
PREAMBLE = [r"\documentclass[a4paper]{article}",
            r"\usepackage{booktabs, amsmath, amssymb, array, longtable, xcolor}",
            r"\begin{document}"]
OVERFULL = re.compile(r"Overfull \\hbox \(([0-9.]+)pt too wide\)")


def compile_latex(tmp_path: Path, body: str) -> str:
    """Compile the fragment in an A4 article; return the log (asserting a clean run)."""
    document = "\n".join([*PREAMBLE, body, r"\end{document}", ""])
    assert document.isascii(), [char for char in document if not char.isascii()][:5]
    (tmp_path / "notes.tex").write_text(document, encoding="ascii")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    log = (tmp_path / "notes.log").read_text(encoding="latin-1")
    assert done.returncode == 0, log[-3000:]
    assert "! " not in log, log[log.index("! "):][:2000]
    too_wide = [float(points) for points in OVERFULL.findall(log)]
    assert all(points <= 1.0 for points in too_wide), (too_wide, _overfull_context(log))
    return log


def _overfull_context(log: str) -> str:
    start = log.find("Overfull")
    return log[start:start + 1500]


def cli_latex(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["grad", *args, "--format", "latex"])
    assert result.stderr == "" or result.exit_code == 1, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.stdout


def failed_check_latex() -> str:
    """A report whose SymPy check disagrees (the check's value replaced by a wrong one)."""
    explanation = explain_text("x*w", 1.0, True, x=2.0, w=3.0)
    variables = dict(explanation.check.variables)
    variables["x"] = dataclasses.replace(variables["x"], sympy_value=4.0, sympy_ok=False)
    check = dataclasses.replace(explanation.check, variables=variables)
    return grad_latex(dataclasses.replace(explanation, check=check))


W = "[[1, 2], [3, 4]]"
CUBE = "[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]"
COMPILED = {
    "scalar": ("x*w", "x=2", "w=3", "--dz", "5"),
    "program": (PROGRAM, "x=1", "y=2", "w=1"),
    "vector": ("sum(x*w)", "x=[1, 2, 3]", "w=[4, 5, 6]"),
    "matrix": ("sum(sigmoid(W @ x + b))", f"W={W}", "x=[1, -1]", "b=[0, 1]"),
    "cube": ("sum(A*A)", f"A={CUBE}"),
    "array seed": ("W @ x", f"W={W}", "x=[1, 1]", "--dz", "[1, -1]"),
    "relu kink": ("relu(x)", "x=0"),
    "abs tie": ("abs(x-y)", "x=1", "y=1"),
    "output is a variable": ("x", "x=2", "--dz", "5"),
    "wide checks": ("tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.88"),
    "long program": (ODD, "x_=3"),
    "many rows": (" + ".join(f"x*{i}" for i in range(1, 21)), "x=2"),  # longtables
    "greek names": ("θ_2*x + α", "x=2", "θ_2=1", "α=1"),
}


def test_greek_names_are_greek_and_other_letters_their_code_points():
    code, text = cli_latex(*COMPILED["greek names"])
    assert code == 0 and text.isascii()
    assert r"$\theta_{2}$" in text and r"$\alpha$" in text
    assert r"\texttt{\ensuremath{\theta}\_2*" in text
    # pdflatex has no Chinese letters (xelatex with ctex has): written by code point, ASCII.
    code, text = cli_latex("权重*x", "x=2", "权重=3")
    assert code == 0 and text.isascii() and r"\text{U+6743U+91CD}" in text


@needs_tex
@pytest.mark.parametrize("case", list(COMPILED), ids=list(COMPILED))
def test_the_fragments_compile(tmp_path, case):
    code, text = cli_latex(*COMPILED[case])
    assert code == 0
    compile_latex(tmp_path, text)


@needs_tex
def test_a_failed_check_compiles(tmp_path):
    text = failed_check_latex()
    assert r"$\times$" in text  # the cross
    assert "the checks disagree for: x" in text
    compile_latex(tmp_path, text)


@needs_tex
def test_the_golden_fragments_compile_together(tmp_path):
    bodies = [grad_latex(explain_text(source, seed, **bindings)) for _, source, bindings, seed
              in CASES]
    compile_latex(tmp_path, "\n".join(bodies))


def test_long_tables_break_across_pages_and_wide_ones_stack():
    _, text = cli_latex(*COMPILED["many rows"])
    assert text.count(r"\begin{longtable}") == 2  # forward (61 rows), backward (78 rows)
    _, text = cli_latex(*COMPILED["wide checks"])
    gradients = text[text.index(r"\paragraph{Gradients}"):]
    assert gradients.count(r"\begin{longtable}") == 1
    assert r"SymPy derivative & \texttt{" in gradients  # one "column & value" line per cell


def test_an_array_seed_is_not_compared_to_one():
    code, text = cli_latex(*COMPILED["array seed"])
    assert code == 0
    assert (r"\paragraph{Backward pass} {\raggedright seed $\frac{\partial L}{\partial z} = "
            r"\begin{bmatrix} 1 \\ -1 \end{bmatrix}$ (the seed, \texttt{-{}-dz})\par}") in text


def test_a_variable_output_says_its_gradient_is_the_seed():
    code, text = cli_latex(*COMPILED["output is a variable"])
    assert code == 0
    assert "No variable reaches the output" not in text
    assert "No edges: the output is the variable x, whose gradient is the seed (5)." in text
    assert r"$x$ & $5$ & " in text


def test_a_cube_is_two_matrices_not_one_wide_one():
    assert math_number(numpy.arange(1.0, 9.0).reshape(2, 2, 2)) == (
        r"\left[ \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}, "
        r"\begin{bmatrix} 5 & 6 \\ 7 & 8 \end{bmatrix} \right]")


def test_no_raw_unicode_and_the_marks_are_mapped():
    texts = [cli_latex(*args)[1] for args in COMPILED.values()] + [failed_check_latex()]
    for text in texts:
        assert text.isascii(), [char for char in text if not char.isascii()][:5]
    assert r"$\surd$" in texts[0]


def test_kink_notes_appear_in_latex():
    _, text = cli_latex(*COMPILED["relu kink"])
    assert r"\item x: at a kink, relu'(0) = 0 (PyTorch's convention)" in text


def test_the_matrix_chain_rule_is_a_product_with_a_transpose():
    _, text = cli_latex("sum(W @ x)", f"W={W}", "x=[1, -1]")
    line = next(line for line in text.splitlines()
                if line.startswith(r"\frac{\partial L}{\partial x} &= "))
    assert line.startswith(
        r"\frac{\partial L}{\partial x} &= W^{\mathsf{T}}\,\frac{\partial L}{\partial v_{3}} = ")
