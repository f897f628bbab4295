"""The HTML page as text: self-contained, escaped, deterministic, and written where asked.
(The browser tests, test_html_browser.py, click through it.)"""

from __future__ import annotations

import re

import pytest
from helpers import assert_bad_input, invoke

from backtrace_cli import grad
from backtrace_cli.formats import html, html_steps
from backtrace_cli.report.model import Column, Report, Table, Text

SLIDE = ("x*w", "x=2", "w=3", "--dz", "5")


def page_of(*args: str) -> str:
    result = invoke("grad", *args, "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_the_page_is_self_contained():
    page = page_of(*SLIDE)
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")
    assert page.endswith("</body>\n</html>\n")
    # no address to fetch: no src, href, @import or url(); the only http is SVG's namespace
    for fetch in ("src=", "href=", "@import", "url(", "<link", "<iframe", "fetch(",
                  "XMLHttpRequest"):
        assert fetch not in page, fetch
    assert re.findall(r"https?://[^\s\"']*", page) == ["http://www.w3.org/2000/svg",
                                                       "http://www.w3.org/1999/xlink"]
    assert page.count("<script>") == 1 and page.count("<style>") == 1
    assert "<!--" not in page and "<?xml" not in page  # the SVG's prolog is dropped
    # the four sections and the picture, with the step-through in front
    for part in ("Forward pass", "Backward pass", "Chain rule", "Gradients", "<svg",
                 'data-last-step="2"', "Step 2: edge z → w"):
        assert part in page, part
    assert page.index('class="bt-stepper"') < page.index("<table>")


def test_every_backward_row_carries_its_step_and_every_edge_its_arrow():
    page = page_of("a = x*x; a + sin(a)", "x=3")
    assert re.findall(r'<tr data-step="(\d+)">', page) == ["1", "2", "3", "4", "5"]
    assert re.findall(r'<li data-step="(\d+)"', page) == ["0", "1", "2", "3", "4", "5"]
    # x*x: two arrows between v1 and v2, told apart by their edge number and step
    arrows = re.findall(r'<g data-id="edge\d+" class="edge" data-edge="(\d+)"'
                        r'(?: data-step="(\d+)")?><title>([^<]*)</title>', page)
    assert arrows == [("0", "4", "v1&#45;&gt;v2"), ("1", "5", "v1&#45;&gt;v2"),
                      ("2", "3", "v2&#45;&gt;v3"), ("3", "1", "v2&#45;&gt;v4"),
                      ("4", "2", "v3&#45;&gt;v4")]
    # no id is left from the SVG: two results on one notebook page must not share ids
    assert re.findall(r'\sid="', page) == []


def test_an_edge_to_a_constant_has_an_arrow_but_no_step():
    page = page_of("x*2", "x=3")
    assert re.findall(r'class="edge"( data-edge="\d+")( data-step="\d+")?>', page) == [
        (' data-edge="0"', ' data-step="1"'), (' data-edge="1"', "")]


def test_user_text_is_escaped_everywhere(tmp_path):
    """A comment is the one place the parser lets markup through; it must arrive as text."""
    program = tmp_path / "program.txt"
    payload = "</script><img src=x onerror=alert(1)> \"q\" & 'a'"
    program.write_text(f"x*w # {payload}\n", encoding="utf-8")
    page = page_of(f"@{program}", "x=2", "w=3")
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert page.count("</script>") == 1
    assert ("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &quot;q&quot; &amp; "
            "&#x27;a&#x27;") in page


def test_the_writer_escapes_titles_cells_notes_and_steps():
    evil = '<b onclick="x()">&</b>'
    steps = Report("steps", Text(evil), (), {"steps": [
        {"step": 0, "title": evil, "lines": [evil]},
        {"step": 1, "title": evil, "lines": [evil], "node_id": evil, "input_id": evil,
         "sum": evil, "graph_edge": 0},
    ]})
    table = Table(Text(evil), (Column(Text(evil)),), ((Text(evil, code=True),),),
                  before=(Text(evil),), notes=(Text(evil),))
    report = Report("x", Text(evil), (table,), views={"steps": lambda: steps})
    page = html.write(report)
    assert "<b onclick" not in page and "</b>" not in page
    escaped = "&lt;b onclick=&quot;x()&quot;&gt;&amp;&lt;/b&gt;"
    # <title>, <h1>, caption, header, cell, before, note, two step titles, two step lines,
    # and the three data- attributes (node, input, sum) of step 1
    assert page.count(escaped) == 14
    assert page.count(f'"{escaped}"') == 3


def test_the_same_program_gives_the_same_bytes():
    assert page_of(*SLIDE) == page_of(*SLIDE)
    first = grad("x*w", {"x": 2, "w": 3})._repr_html_()
    assert first == grad("x*w", {"x": 2, "w": 3})._repr_html_()


def test_the_notebook_fragment_is_the_page_without_its_document():
    result = grad("x*w", {"x": 2, "w": 3}, dz=5)
    fragment = result._repr_html_()
    assert fragment.startswith("<style>") and "<!DOCTYPE" not in fragment
    assert "<script>" in fragment and 'data-last-step="2"' in fragment
    page = result.render("html")
    assert page.startswith("<!DOCTYPE html>")
    body = page[page.index("<style>"):page.index("</body>")]
    root = ('<div class="backtrace" data-last-step="2" data-step="0" data-interval="1200" '
            'data-gradient-label="grad {gradient}">')
    assert body == fragment.replace(root, root + '\n<h1>' + result.report.title.plain
                                    + "</h1>", 1)


def test_a_report_without_steps_has_no_script():
    from backtrace_cli import fit

    fragment = fit("x*w", epochs=2)._repr_html_()
    assert "<script>" not in fragment and "<table>" in fragment


def test_minus_o_picks_the_format_from_the_suffix(tmp_path):
    page = tmp_path / "page.html"
    result = invoke("grad", *SLIDE, "-o", str(page))
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    assert page.read_text(encoding="utf-8") == page_of(*SLIDE)
    notes = tmp_path / "notes.md"
    assert invoke("grad", *SLIDE, "-o", str(notes)).exit_code == 0
    assert notes.read_text(encoding="utf-8").startswith("## Forward pass")
    other = tmp_path / "report.out"  # a suffix that names no format: --format (table)
    assert invoke("grad", *SLIDE, "-o", str(other), "--format", "json").exit_code == 0
    assert other.read_text(encoding="utf-8").startswith('{\n  "expression": "x*w"')
    assert invoke("grad", *SLIDE, "-o", "-", "--format", "html").stdout == page_of(*SLIDE)


def test_minus_o_first_is_still_the_expression_minus_o(tmp_path):
    result = invoke("grad", "-o", "o=2", "--no-check", "-o", str(tmp_path / "page.html"))
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "<title>backtrace grad: -o  with o = 2</title>" in page


def test_minus_o_refusals(tmp_path):
    assert_bad_input(invoke("grad", *SLIDE, "-o", str(tmp_path / "p.html"), "--format", "md"),
                     "'md' is not one of")
    assert_bad_input(invoke("grad", *SLIDE, "-o", str(tmp_path / "missing" / "p.html")),
                     "the folder", "does not exist")
    assert_bad_input(invoke("grad", *SLIDE, "-o", "a.html", "-o", "b.html"),
                     "--output is given 2 times (a.html, b.html)")


def test_graph_writes_the_page_too(tmp_path):
    result = invoke("graph", *SLIDE, "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>") and "<table>" not in result.stdout
    assert 'data-last-step="2"' in result.stdout and "<svg" in result.stdout


def test_too_many_nodes_for_a_picture_or_edges_for_steps(monkeypatch):
    monkeypatch.setattr(html_steps, "MAX_PICTURE_NODES", 2)
    page = page_of(*SLIDE)
    assert "The graph has 3 nodes, too many to draw here (at most 2)" in page
    assert "<svg" not in page and 'data-last-step="2"' in page
    monkeypatch.setattr(html_steps, "MAX_STEPS", 1)
    page = page_of(*SLIDE)
    assert "The backward pass has 2 edges, too many to step through here (at most 1)" in page
    assert "<script>" not in page and "data-last-step" not in page


def test_a_picture_that_cannot_be_drawn_leaves_the_steps(monkeypatch):
    from backtrace_cli.errors import OutputError
    from backtrace_cli.formats import graph_image

    def refuse(*args, **kwargs):
        raise OutputError("no Graphviz layout engine found to draw svg")

    monkeypatch.setattr(graph_image, "render_image", refuse)
    page = page_of(*SLIDE)
    assert "No picture of the graph: no Graphviz layout engine found to draw svg" in page
    assert 'data-last-step="2"' in page


@pytest.mark.parametrize("args", [("2*3",), ("x", "x=4")])
def test_no_edge_no_stepper(args):
    page = page_of(*args)
    assert "class=\"bt-stepper\"" not in page and "<script>" not in page and "<svg" in page


def test_the_page_in_chinese():
    english, chinese = page_of(*SLIDE, "--lang", "en"), page_of(*SLIDE, "--lang", "zh")
    assert chinese.startswith("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n")
    for part in ('aria-label="逐步浏览反向传播"', "&larr; 上一步</button>",
                 "下一步 &rarr;</button>", 'aria-pressed="false">播放</button>',
                 'play.textContent = "播放"', 'play.textContent = "暂停"',
                 "<strong>第 2 步: 边 z → w</strong>",
                 "<li>上游 dL/dz = 5</li><li>局部 dz/dw = x = 2</li>"
                 "<li>上游 × 局部 = 5 × 2 = 10</li>",
                 '<svg role="img" aria-label="计算图" ', "前向传播", "反向传播"):
        assert part in chinese, part
    for part in ("Previous", "Next", '"Play"', '"Pause"', "Step 2:", "upstream "):
        assert part not in chinese, part
    # the structure the script reads is the same in both languages
    marks = re.compile(r'data-(?!gradient-label)[a-z-]+="[^"]*"')
    assert marks.findall(english) == marks.findall(chinese)
    # but for the words the script writes into the picture's nodes while stepping
    assert 'data-gradient-label="梯度 {gradient}"' in chinese
    assert 'data-gradient-label="grad {gradient}"' in english
    assert 'play.textContent = "Play"' in english and "<html lang=\"en\">" in english
