"""Every result of the API in a real Jupyter kernel: a notebook (built here with nbformat) is
run by nbclient in an IPython kernel started on this very Python (a kernel spec written for
the test, so the kernel imports this checkout), and each cell's output is read as Jupyter
reads it: its mime bundle. Every result shows as a picture or a table (HTML, SVG, PNG or
Markdown), never as an escaped string or a dataclass's repr; ``fit()``'s loss chart is one
block under its own table.

Skipped, with the reason, only where nbformat, nbclient or ipykernel is missing (the test
extra installs them: ``pip install -e '.[test]'``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the test extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (the test extra)")

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "backtrace-test"

CELLS = {
    "where": "import sys, backtrace_cli\nprint(sys.executable)\nprint(backtrace_cli.__file__)",
    "imports": "from backtrace_cli import (affine, fit, grad, grade, graph, hessian, jacobian,\n"
               "                          minimize, quiz)\n"
               "from backtrace_cli.api.hessian import derivatives",
    "grad": 'grad("x*w", {"x": 2, "w": 3}, dz=5)',
    "fit": 'fit("x*w", {"x": [1, 2, 3], "y": [2, 4, 6]}, epochs=20)',
    "graph": 'graph("x*w", {"x": 2, "w": 3})',
    "graph_png": 'graph("x*w", {"x": 2, "w": 3}, format="png")',
    "graph_dot": 'graph("x*w", {"x": 2, "w": 3}, format="dot")',
    "graph_text": 'graph("x*w", {"x": 2, "w": 3}, format="text")',
    "affine": 'affine("w2*(w1*x + b1) + b2", {"w1": 2, "b1": 0.5, "w2": 3, "b2": 1, "x": 4})',
    "jacobian": 'jacobian("[x*w, x + w]", {"x": 2, "w": 3})',
    "hessian": 'hessian("x0**3 - 2*x0*x1 - x1**6", {"x0": 1, "x1": 2})',
    "derivatives": 'derivatives("x**4 - 2*x**2", {"x": 2}, 2)',
    "minimize": 'minimize("x**4 - 2*x**2", {"x": 2}, method="newton", steps=3)',
    "quiz": 'quiz("x*w", {"x": 2, "w": 3}, blank="gradient")',
    "grade": 'grade("x*w", {"x": 2, "w": 3}, answers={"gradients": {"x": 3, "w": 3}})',
    "table": 'grad("x*w", {"x": 2, "w": 3}).render("table")',
}
RESULTS = [name for name in CELLS if name not in ("where", "imports", "table")]


def kernel_spec(folder: Path) -> Path:
    """A kernel spec that starts ipykernel on this Python with this checkout importable."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "backtrace tests", "language": "python",
        "env": {"PYTHONPATH": path, "BACKTRACE_LANG": "en"},
    }), encoding="utf-8")
    return folder / "kernels"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, list[dict]]:
    """The outputs of every cell, run once in one kernel."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = kernel_spec(tmp_path_factory.mktemp("jupyter"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source, metadata={"name": name})
                      for name, source in CELLS.items()]
    manager = KernelManager(kernel_name=KERNEL,
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = nbclient.NotebookClient(notebook, km=manager, kernel_name=KERNEL, timeout=300,
                                     allow_errors=False)
    client.execute(cwd=str(ROOT))
    return {cell.metadata["name"]: cell.outputs for cell in notebook.cells}


def bundle(outputs, name: str) -> dict:
    (result,) = [output for output in outputs[name] if output["output_type"] == "execute_result"]
    return result["data"]


def test_the_kernel_runs_this_python_and_this_checkout(outputs):
    (stream,) = outputs["where"]
    executable, module = stream["text"].split()
    assert os.path.realpath(executable) == os.path.realpath(sys.executable)
    assert Path(module).resolve().is_relative_to(ROOT)


@pytest.mark.parametrize("name", RESULTS)
def test_every_result_shows_as_a_picture_or_a_table(outputs, name):
    data = bundle(outputs, name)
    pictures = {"image/svg+xml", "image/png"} & set(data)
    html = data.get("text/html", "")
    markdown = data.get("text/markdown", "")
    assert pictures or "<table" in html or "<svg" in html or "<pre" in html or (
        markdown.startswith("```")) or ("<ul>" in html and name == "affine"), (name, data)
    plain = data["text/plain"]
    assert "dataclass" not in plain and not plain.startswith(("'", '"', "b'")), plain
    if "text/html" in data:  # the notebook's fragment: no page around it, nothing fetched
        assert html.startswith("<style>") and "<!DOCTYPE" not in html
        assert "http" not in html.replace("http://www.w3.org", "")


def test_the_graph_is_a_picture_not_escaped_text(outputs):
    svg = bundle(outputs, "graph")
    assert "<svg" in svg["image/svg+xml"] and "&lt;svg" not in svg["image/svg+xml"]
    png = bundle(outputs, "graph_png")
    assert "image/png" in png and png["text/plain"].startswith("<PNG image, ")
    assert bundle(outputs, "graph_text")["text/plain"].startswith("x*w")  # the tree, printed
    assert bundle(outputs, "graph_dot")["text/markdown"].startswith("```dot\ndigraph backtrace {")
    assert bundle(outputs, "graph_text")["text/markdown"].startswith("```text\n")


def test_a_gradient_shows_its_tables_graph_and_steps(outputs):
    data = bundle(outputs, "grad")
    assert "<table>" in data["text/html"] and "<svg" in data["text/html"]
    assert "<script>" in data["text/html"] and 'data-last-step="2"' in data["text/html"]
    assert data["text/markdown"].startswith("## Forward pass: `x*w`")
    assert data["text/plain"] == "GradResult(output=6.0, gradients={'x': 15.0, 'w': 10.0})"


def test_the_loss_chart_is_one_block_under_its_table(outputs):
    data = bundle(outputs, "fit")
    html = data["text/html"]
    assert html.count('<pre class="bt-chart">') == 1
    chart = html[html.index('<pre class="bt-chart">'):]
    chart = chart[:chart.index("</pre>")]
    assert chart.count("│") == 8 and "└" in chart  # eight rows of bars and the axis, one block
    assert (html.index("Loss per epoch") < html.index('<pre class="bt-chart">')
            < html.index("Parameters"))
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(data["text/markdown"])
    heading = None
    fences = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = tokens[index + 1].content
        if token.type == "fence":
            fences.append((heading, token.info, token.content))
    assert len(fences) == 1
    heading, info, content = fences[0]
    assert heading == "Loss per epoch" and info == "text"
    assert content.count("│") == 8 and "epoch 1" in content


def test_affine_shows_simplifys_report(outputs):
    data = bundle(outputs, "affine")
    assert data["text/plain"] == "AffineResult(affine=True, weight=6.0, bias=2.5)"
    assert "Affine in x" in data["text/html"] and "Affine in x" in data["text/markdown"]
    assert "W = " in data["text/markdown"]


def test_text_renderings_are_text_inside_a_kernel_too(outputs):
    """Rich, asked for text inside a kernel, must not send it to the page instead."""
    assert bundle(outputs, "graph_text")["text/plain"].startswith("x*w\nz = x*w  value 6")
    assert bundle(outputs, "table")["text/plain"].startswith("'Forward pass: x*w")
