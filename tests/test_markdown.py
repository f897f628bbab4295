"""Markdown that reads back as what was written, whatever the user typed.

Every command that writes Markdown is run with hostile text in every place user text
reaches (the program and its comments, the names, a data file's path, the headers built
from them), and the output is parsed as a renderer would (markdown-it-py, CommonMark with
GitHub's tables; it comes with Rich): no raw HTML, no link or image, no emphasis may come out
of user text, every table row keeps its cells, and the program text comes back whole from
one code span (``|`` too, which a table holds escaped).
"""

from __future__ import annotations

import pytest
from helpers import invoke

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (Rich's) is missing")

HOSTILE = [
    "`<img src=x onerror=alert(1)>`",
    "``<script>alert(1)</script>``",
    "a|b and a\\|b and ||",
    "*em* _em_ __strong__ ~~gone~~",
    "[link](javascript:alert(1)) ![img](x.png) [1]: http://x",
    "<b>bold</b> &lt;tag&gt; &amp; \\` \\",
    "` leading and trailing `",
]
# Text that is a whole paragraph or item when it stands first: a heading, a quote, a list.
LEADING = ["# heading", "> quote", "- item", "1. item", "---", "<!-- c -->"]


def parser():
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


def tokens(text: str):
    """Every token of the document, children included."""
    out = []
    for token in parser().parse(text):
        out.append(token)
        out += token.children or []
    return out


def check_safe(text: str) -> tuple[list[str], str]:
    """The document has no HTML, link, image, emphasis or broken table row; returns the
    code spans and the text as a reader sees them."""
    found = tokens(text)
    kinds = {token.type for token in found}
    for bad in ("html_inline", "html_block", "link_open", "image", "em_open", "strong_open",
                "s_open", "blockquote_open", "hr"):
        assert bad not in kinds, (bad, text)
    widths = []
    for token in found:
        if token.type in ("thead_open", "tbody_open"):
            continue
        if token.type == "tr_open":
            widths.append(0)
        elif token.type in ("th_open", "td_open"):
            widths[-1] += 1
        elif token.type == "table_close":
            assert len(set(widths)) == 1, (widths, text)
            widths = []
    code = [token.content for token in found if token.type == "code_inline"]
    shown = " ".join(token.content for token in found if token.type in ("text", "code_inline"))
    return code, shown


def markdown(*args) -> str:
    result = invoke(*args, "--format", "markdown")
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


# Each command, and how it shows the program: as code, as text, or not at all.
COMMANDS = [
    (("grad",), "code"), (("quiz",), "code"), (("grad", "--mode", "both"), "code"),
    (("simplify",), "text"), (("minimize", "--steps", "2"), "text"),
    (("hessian",), None), (("jacobian",), None), (("grad", "--order", "2", "--wrt", "x"), None),
]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("command, shown_as", COMMANDS, ids=lambda c: "-".join(c or ""))
def test_a_hostile_comment_stays_inside_its_code(command, shown_as, hostile):
    program = f"x*w # {hostile}"
    text = markdown(command[0], program, "x=1", "w=2", *command[1:])
    code, shown = check_safe(text)
    if shown_as == "code":  # the program comes back whole from one code span
        assert program in code, (program, code)
    elif shown_as == "text":  # as text: it reads back as it was typed
        assert program in shown, (program, shown)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_grade_and_the_grading_command_keep_a_hostile_program(hostile, tmp_path):
    program = f"x*w # {hostile}"
    key = tmp_path / "key.json"
    assert invoke("quiz", program, "x=1", "w=2", "--answers", str(key),
                  "-o", str(tmp_path / "sheet.md")).exit_code == 0
    code, _shown = check_safe((tmp_path / "sheet.md").read_text(encoding="utf-8"))
    # the grade command a student runs holds the program, quoted for a shell
    assert any(program.replace("'", "'\\''") in span and span.startswith("backtrace grade")
               for span in code), code
    text = markdown("grade", program, "x=1", "w=2", "--answers", str(key))
    check_safe(text)


@pytest.mark.parametrize("hostile", HOSTILE + LEADING)
def test_a_hostile_data_path_is_text_in_train(hostile, tmp_path):
    name = hostile.replace("/", "_").replace("\\", "_") + ".csv"
    path = tmp_path / name
    path.write_text("x,y\n1,2\n2,4\n", encoding="utf-8")
    text = markdown("train", str(path), "--epochs", "3")
    _code, shown = check_safe(text)
    assert str(path) in shown


@pytest.mark.parametrize("hostile", LEADING)
def test_text_at_the_start_of_a_line_starts_no_block(hostile):
    from backtrace_cli.formats.markdown import write
    from backtrace_cli.report.model import Lines, Report, Table, text

    report = Report("grad", text("t"), (
        Table(text(hostile), (), (), before=(text(hostile),), after=(text(hostile),),
              notes=(text(hostile),), empty=text(hostile)),
        Lines(text(hostile), (text(hostile), text(hostile, code=True))),
    ))
    written = write(report)
    found = tokens(written)
    kinds = {token.type for token in found}
    assert kinds <= {"heading_open", "heading_close", "inline", "text", "paragraph_open",
                     "paragraph_close", "bullet_list_open", "bullet_list_close",
                     "list_item_open", "list_item_close", "code_inline", "softbreak"}, (
        kinds, written)
    texts = [token.content for token in found if token.type in ("text", "code_inline")]
    assert texts.count(hostile) == 7 + 1, (texts, written)  # seven as text, one as code


@pytest.mark.parametrize("content", ["a", "`", "``", "a`b", "a``b", " a", "a ", "` a `", "|",
                                     "a|b", "a\\|b", "\\", "   "])
def test_a_code_span_holds_anything(content):
    from backtrace_cli.formats.markdown import code_span

    span = code_span(content)
    (found,) = [t for t in tokens(f"x {span} y") if t.type == "code_inline"]
    assert found.content == content
    # and in a table cell, with its | escaped
    cell = span.replace("|", "\\|")
    table = f"| h |\n| --- |\n| {cell} |\n"
    (found,) = [t for t in tokens(table) if t.type == "code_inline"]
    assert found.content == content


def test_the_table_cell_pipe_is_escaped_once_and_headings_keep_it_plain():
    text = markdown("grad", "x*w # a|b", "x=1", "w=2")
    assert "## Forward pass: `x*w # a|b`" in text  # a heading is no table: | as it is
    assert "\\\\|" not in text


def test_the_notebook_markdown_is_the_same_safe_text():
    from backtrace_cli import grad, quiz

    program = "x*w # `<img src=x onerror=alert(1)>` a|b"
    for result in (grad(program, {"x": 1, "w": 2}), quiz(program, {"x": 1, "w": 2})):
        code, _shown = check_safe(result._repr_markdown_())
        assert program in code


def test_a_worksheet_with_escaped_names_grades(tmp_path):
    """Names the worksheet must escape (``_a`` could start emphasis) read back as names."""
    sheet = tmp_path / "sheet.md"
    assert invoke("quiz", "_a*w_", "_a=2", "w_=3", "--blank", "gradient",
                  "-o", str(sheet)).exit_code == 0
    text = sheet.read_text(encoding="utf-8")
    assert "| \\_a |" in text
    sheet.write_text(text.replace("| ________ |", "| 3 |"), encoding="utf-8")
    graded = invoke("grade", "_a*w_", "_a=2", "w_=3", "--answers", str(sheet))
    assert graded.exit_code == 1, graded.stderr  # _a right (3), w_ wrong (2 expected)
    assert "1 of 2 cells right" in graded.stdout


def test_trains_loss_chart_is_a_code_block_under_its_own_table():
    text = markdown("train", "--epochs", "5")
    found = parser().parse(text)
    heading, fences = None, []
    for index, token in enumerate(found):
        if token.type == "heading_open":
            heading = found[index + 1].content
        elif token.type == "fence":
            fences.append((heading, token.info, token.content))
    assert [(where, info) for where, info, _content in fences] == [("Loss per epoch", "text")]
    assert fences[0][2].count("│") == 8 and "epoch 1" in fences[0][2]
    # each line above the table is a paragraph of its own, not one run-on paragraph
    paragraphs = ["".join(child.content for child in found[i + 1].children)
                  for i, token in enumerate(found) if token.type == "paragraph_open"]
    assert paragraphs[:3] == [
        "Training y_hat = x*w on the lecture's data (3 rows; inputs x; target y)",
        "Loss mse, sgd lr 0.01, 5 epochs, batch 1, float64",
        "Predict (before training): x=4 -> y_hat = 4"]


def test_arrays_and_blanks_keep_their_brackets_and_links_are_broken():
    from backtrace_cli.formats.markdown import escape

    assert escape("[0.1966, 0.2288]") == "[0.1966, 0.2288]"
    assert escape("[3] -2") == "[3] -2"
    assert escape("[a](javascript:x) [b][c] [d]: e") == "[a\\](javascript:x) [b\\][c] [d\\]: e"
    text = markdown("grad", "sum(sigmoid(W @ x + b))", "W=[[1, 2], [3, 4]]", "x=[1, -1]",
                    "b=[0, 1]")
    assert "| b | 2 | [0.1966, 0.25] |" in text
    check_safe(text)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_model_comment_is_text_in_train(hostile):
    model = f"x*w # {hostile}"
    text = markdown("train", "--model", model, "--epochs", "2")
    _code, shown = check_safe(text)
    assert model in shown


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("graph_format", ["dot", "mermaid", "text"])
def test_the_notebook_graph_text_is_one_code_block(hostile, graph_format):
    from backtrace_cli import graph

    shown = graph(f"x*w # {hostile}", {"x": 1, "w": 2}, format=graph_format)
    found = tokens(shown._repr_markdown_())
    assert [token.type for token in found] == ["fence"]
    assert found[0].content == str(shown).rstrip("\n") + "\n"
