"""``backtrace run``'s record of every backward(): the numbers against PyTorch's, --explain,
the diagnoses, and -o (JSON against docs/schema/run.json, Markdown, HTML).

The scripts and what PyTorch 2.13 printed for them are in ``tests/data/run/`` (see its
README): a recorded number is compared bit for bit with the float PyTorch printed for the
same ``.grad.item()`` or ``.item()`` at that point of the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from helpers import validate

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "run"
CAPTURED = DATA / "captured"


def record(name: str, capsys=None):
    """Run ``tests/data/run/NAME`` in this process with a recorder; (recorder, exit code)."""
    from backtrace_cli.run.record import Recorder
    from backtrace_cli.run.script import run_script

    recorder = Recorder()
    recorder.install()
    try:
        code = run_script(str(DATA / name))
    finally:
        recorder.remove()
    recorder.finish()
    if capsys is not None:
        capsys.readouterr()
    return recorder, code


def captured(name: str) -> list[str]:
    return (CAPTURED / f"{Path(name).stem}.stdout").read_text().splitlines()


def cli(*args: str, cwd: Path = DATA) -> tuple[bytes, str, int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-m", "backtrace_cli", "run", *args], cwd=cwd,
                          env=env, capture_output=True)
    return done.stdout, done.stderr.decode(), done.returncode


def item(array) -> float:
    return float(numpy.asarray(array).reshape(()))


# ----------------------------------------------------------------------------- the numbers
def test_lecture04_every_gradient_and_loss_is_pytorchs(capsys):
    recorder, code = record("lecture04.py", capsys)
    assert code == 0 and len(recorder.calls) == 300
    lines = captured("lecture04.py")
    grads = [float(line.split()[-1]) for line in lines if line.startswith("\tgrad:")]
    losses = [float(line.split()[-1]) for line in lines if line.startswith("progress:")]
    assert len(grads) == 300 and len(losses) == 100
    for call, printed in zip(recorder.calls, grads):
        (leaf,) = call.leaves
        assert leaf.name == "w"
        assert item(leaf.after) == printed  # bit for bit: w.grad.item() under PyTorch
        assert item(leaf.added) == printed
        assert leaf.before is None if call.index == 1 else item(leaf.before) == 0.0
    for epoch, printed in enumerate(losses):
        call = recorder.calls[3 * epoch + 2]  # l.item() after the epoch's last backward()
        assert item(call.nodes[call.output].value) == printed
    first = recorder.calls[0]
    assert first.index == 1 and first.line == 25 and first.dtype == numpy.float32


def test_lecture04_homework_three_leaves(capsys):
    recorder, _ = record("lecture04_homework.py", capsys)
    grads = [[float(v) for v in line.split()[-3:]]
             for line in captured("lecture04_homework.py") if line.startswith("\tgrad:")]
    assert len(grads) == len(recorder.calls) == 300
    for call, printed in zip(recorder.calls, grads):
        assert [item(call.leaves_by_name()[n].after) for n in ("w1", "w2", "b")] == printed


def test_lecture05_losses_are_pytorchs(capsys):
    recorder, _ = record("lecture05_seed.py", capsys)
    losses = [float(line.split()[1]) for line in captured("lecture05_seed.py")
              if re.fullmatch(r"\d+ \S+", line)]
    assert len(losses) == len(recorder.calls) == 100
    for call, printed in zip(recorder.calls, losses):
        assert item(call.nodes[call.output].value) == printed
    names = {leaf.name for leaf in recorder.calls[0].leaves}
    assert names == {"model.linear.weight", "model.linear.bias"}
    from backtrace_cli.run.explained import explanation

    nodes = explanation(recorder.calls[0]).tape.nodes
    assert [(node.name, node.text) for node in nodes if node.name or node.kind == "const"] == [
        ("model.linear.weight", "model.linear.weight"), ("model.linear.bias",
                                                        "model.linear.bias"),
        (None, "x_data"), ("y_pred", "self.linear(x)"), (None, "y_data"),
        ("loss", "criterion(y_pred, y_data)")]


@pytest.mark.parametrize("name", ["lecture04.py", "lecture04_homework.py", "no_grad_update.py"])
def test_every_edge_product_is_upstream_times_local_in_the_dtype(name, capsys):
    recorder, _ = record(name, capsys)
    checked = 0
    for call in recorder.calls:
        for edge in call.edges:
            if edge.local is None:
                continue
            dtype = edge.product.dtype
            expected = edge.upstream.astype(dtype) * edge.local.astype(dtype)
            assert expected.dtype == dtype
            if expected.shape != edge.product.shape:
                continue  # brought back to the input's shape by a sum
            assert numpy.array_equal(expected, edge.product), (call.index, edge)
            checked += 1
    assert checked >= 3 * len(recorder.calls)


# ----------------------------------------------------------------------------- names, text
def test_the_script_s_names_and_source_text(capsys):
    from backtrace_cli.run.explained import explanation, statement

    recorder, _ = record("lecture04.py", capsys)
    call = recorder.calls[1]
    assert statement(call) == (24, "l = loss(x, y)")
    explained = explanation(call)
    names = [node.name for node in explained.tape.nodes]
    texts = [node.text for node in explained.tape.nodes]
    assert names == ["w", None, "y_pred", None, None, None, "l"]
    assert texts[2] == "x * w" and texts[4] == "y_pred - y" and texts[6] == "(y_pred - y) ** 2"
    assert explained.gradients == {"w": -7.840000152587891}


# ----------------------------------------------------------------------------- diagnoses
MISTAKES = {
    "zero_grad_forgotten.py": ("grad-not-zeroed", 23,
                               "w.grad was -2.0 from the last step; this backward added -7.84, "
                               "so the update uses -9.84. Call w.grad.zero_() (or "
                               "optimizer.zero_grad()) after each update."),
    "non_leaf_update.py": ("non-leaf-update", 16, None),
    "backward_twice.py": ("backward-twice", 17, None),
    "error_inplace_leaf.py": ("in-place-leaf", None, None),
    "graph_kept.py": ("graph-kept", 13, None),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_is_found_at_its_line(name, capsys):
    from backtrace_cli.run.messages import message

    kind, line, text = MISTAKES[name]
    recorder, _ = record(name, capsys)
    assert [d.kind for d in recorder.diagnoses] == [kind]
    (found,) = recorder.diagnoses
    if line is not None:
        assert found.line == line
    if text is not None:
        assert message(found.kind, found.fields) == text
    if kind == "backward-twice":
        assert found.fields["first"] == 15


def test_in_place_on_a_leaf_is_found_even_when_caught(tmp_path, capsys):
    script = tmp_path / "caught.py"
    script.write_text("import torch\nw = torch.ones(2, requires_grad=True)\ntry:\n"
                      "    w.add_(1)\nexcept RuntimeError as error:\n    print('caught')\n")
    from backtrace_cli.run.record import Recorder
    from backtrace_cli.run.script import run_script

    recorder = Recorder()
    recorder.install()
    try:
        assert run_script(str(script)) == 0
    finally:
        recorder.remove()
    recorder.finish()
    assert [(d.kind, d.line, d.fields["name"]) for d in recorder.diagnoses] == [
        ("in-place-leaf", 4, "w")]
    assert capsys.readouterr().out == "caught\n"


@pytest.mark.parametrize("name", ["lecture04.py", "lecture04_homework.py", "lecture05_seed.py",
                                  "lecture05_set_weights.py", "lecture06.py",
                                  "batch_mean_loss.py", "no_grad_update.py", "sgd_momentum.py"])
def test_a_correct_program_gets_no_diagnosis(name, capsys):
    recorder, _ = record(name, capsys)
    assert recorder.calls and recorder.diagnoses == []


# ----------------------------------------------------------------------------- the command
def test_explain_leaves_stdout_byte_for_byte(tmp_path):
    plain = cli("-q", "lecture04.py")
    explained = cli("-q", "--explain", "2,last", "lecture04.py")
    assert plain[0] == explained[0] == (CAPTURED / "lecture04.stdout").read_bytes()
    assert plain[1] == "" and plain[2] == explained[2] == 0
    stderr = explained[1]
    assert stderr.startswith("backward() 2 of 300, line 24: l = loss(x, y)\n")
    assert "\nbackward() 300 of 300, line 24: l = loss(x, y)\n" in stderr
    assert "-7.840000152587891" in stderr and "Chain rule" in stderr


def test_explain_in_chinese_and_the_diagnosis():
    stdout, stderr, code = cli("-q", "--lang", "zh", "--explain", "2", "zero_grad_forgotten.py")
    assert stdout == (CAPTURED / "zero_grad_forgotten.stdout").read_bytes() and code == 0
    assert stderr.splitlines()[0] == (
        "第 23 行: grad-not-zeroed: w.grad 里还留着上一步的 -2.0；这次 backward 又加上了 -7.84，"
        "所以更新用的是 -9.84。每次更新之后请调用 w.grad.zero_()（或 optimizer.zero_grad()）。")
    assert "backward() 第 2 次（共 30 次），第 22 行: l = loss(x, y)" in stderr
    assert "前向传播" in stderr


def test_diagnoses_go_to_stderr_after_the_run_unless_quiet():
    stdout, stderr, code = cli("non_leaf_update.py")
    assert code == 1
    assert stderr.splitlines()[-1].startswith("line 16: non-leaf-update: w held a leaf")
    assert stderr.splitlines()[-2].startswith("AttributeError: 'NoneType' object has no")
    assert cli("-q", "non_leaf_update.py")[1].splitlines()[-1].startswith("AttributeError")


@pytest.mark.parametrize("value", ["0", "two", "1,,2", "-1"])
def test_a_bad_explain_value_is_a_usage_error(value):
    stdout, stderr, code = cli("--explain", value, "lecture04.py")
    assert code == 2 and stdout == b""
    assert "--explain" in stderr.splitlines()[-1] and "Traceback" not in stderr


def test_explain_past_the_last_call_says_so():
    _, stderr, code = cli("-q", "--explain", "400", "zero_grad_forgotten.py")
    assert code == 0
    assert stderr.splitlines()[-1] == "--explain 400: the script made 30 backward() calls"


def test_output_json_follows_the_schema(tmp_path):
    target = tmp_path / "run.json"
    stdout, stderr, code = cli("-q", "-o", str(target), "zero_grad_forgotten.py")
    assert code == 0 and stdout == (CAPTURED / "zero_grad_forgotten.stdout").read_bytes()
    document = json.loads(target.read_text())
    validate("run", document)
    assert document["script"] == "zero_grad_forgotten.py" and document["exit_code"] == 0
    calls = document["backward_calls"]
    assert len(calls) == 30
    second = calls[1]
    assert second["index"] == 2 and second["line"] == 23
    assert second["output"] == {"name": "l", "value": 3.841600179672241}
    assert second["leaves"] == {"w": {"before": -2.0, "added": -7.840000152587891,
                                      "after": -9.84000015258789}}
    assert [row["name"] for row in second["forward"]][:3] == ["w", None, "y_pred"]
    assert document["diagnoses"] == [{"kind": "grad-not-zeroed", "line": 23, "message": (
        "w.grad was -2.0 from the last step; this backward added -7.84, so the update uses "
        "-9.84. Call w.grad.zero_() (or optimizer.zero_grad()) after each update.")}]


def test_output_json_of_a_fused_op_has_null_locals(tmp_path):
    target = tmp_path / "run.json"
    assert cli("-q", "-o", str(target), "lecture05_seed.py")[2] == 0
    document = json.loads(target.read_text())
    validate("run", document)
    assert len(document["backward_calls"]) == 100


def test_output_markdown_and_a_bad_suffix(tmp_path):
    target = tmp_path / "run.md"
    assert cli("-q", "-o", str(target), "backward_twice.py")[2] == 1
    text = target.read_text()
    assert text.startswith("# backtrace run backward_twice.py\n")
    assert "- line 17: backward-twice: backward() ran through a graph already freed by the " \
           "backward() of line 15." in text
    assert "## backward() 1 of 4, line 7: shift = w + 3" in text
    assert "\n### Forward pass: `w + 3`\n" in text
    stdout, stderr, code = cli("-o", str(tmp_path / "run.txt"), "lecture04.py")
    assert code == 2 and stdout == b"" and "must end in .json, .md or .html" in stderr
    assert not (tmp_path / "run.txt").exists()


# ----------------------------------------------------------------------------- the page
def test_the_page_in_headless_chromium(tmp_path):
    """The -o page clicked through: the chooser shows one backward() at a time and marks its
    line in the script's source, the step-through of that call steps, no console error, no
    request leaves the page."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="no Playwright")
    from test_html_browser import ARGS, CHROMIUM, Page

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    target = tmp_path / "run.html"
    stdout, stderr, code = cli("-q", "-o", str(target), "zero_grad_forgotten.py")
    assert code == 0, stderr
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = Page(browser, target)
            tab = page.tab

            def shown() -> dict:
                return tab.evaluate("""() => {
                    const visible = Array.from(document.querySelectorAll('.bt-call'))
                        .filter(s => !s.hidden);
                    const marked = Array.from(document.querySelectorAll(
                        '.bt-source li.bt-current')).map(li => li.getAttribute('data-line'));
                    return {calls: visible.map(s => s.getAttribute('data-call')),
                            title: visible.length ? visible[0].querySelector('h2').textContent
                                                  : null,
                            marked: marked,
                            options: document.querySelectorAll('#bt-call option').length};
                }""")

            state = shown()
            assert state == {"calls": ["1"], "title": "backward() 1 of 30, line 22: "
                             "l = loss(x, y)", "marked": ["23"], "options": 30}
            assert tab.locator("#bt-call option").nth(1).text_content() == "2 of 30, line 23"
            tab.select_option("#bt-call", "2")
            state = shown()
            assert state["calls"] == ["2"] and state["marked"] == ["23"]
            assert state["title"] == "backward() 2 of 30, line 22: l = loss(x, y)"
            section = tab.locator('.bt-call[data-call="2"] .backtrace[data-last-step]')
            assert section.get_attribute("data-step") == "0"
            section.locator("button[data-action=next]").click()
            assert section.get_attribute("data-step") == "1"
            section.locator("button[data-action=next]").click()
            assert section.get_attribute("data-step") == "2"
            assert "-7.840000152587891" in tab.locator('.bt-call[data-call="2"]').inner_text()
            assert "grad-not-zeroed" in tab.locator(".bt-diagnoses").inner_text()
            assert page.console == [] and page.requests == []
            page.close()
        finally:
            browser.close()


def test_the_schema_is_valid_and_docs_cli_md_names_its_keys():
    from helpers import schema
    from jsonschema import Draft202012Validator
    from test_schemas import DOCS, required_keys

    Draft202012Validator.check_schema(schema("run"))
    text = DOCS.read_text(encoding="utf-8")
    named = set()
    for span in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", text):
        named.add(span)
    assert sorted(required_keys(schema("run")) - named) == []
    assert "`run.json`" in text


def test_a_failure_of_the_record_never_reaches_the_script(monkeypatch, capsys):
    from backtrace_cli.run.record import Recorder

    def broken(self, call):
        raise ValueError("a bug of the record")

    monkeypatch.setattr(Recorder, "_record", broken)
    recorder, code = record("lecture04.py")
    assert code == 0
    assert capsys.readouterr().out.encode() == (CAPTURED / "lecture04.stdout").read_bytes()
    assert recorder.failure == (0, "ValueError: a bug of the record") and recorder.calls == []


def test_explain_and_output_do_not_combine_with_compare(tmp_path):
    for option in (("--explain", "1"), ("-o", str(tmp_path / "run.json"))):
        stdout, stderr, code = cli("--compare", *option, "lecture04.py")
        assert code == 2 and stdout == b""
        assert stderr.splitlines()[-1] == ("Error: --explain and -o record a run of "
                                           "backtrace's torch; they do not combine with "
                                           "--compare")


def test_a_long_run_s_page_has_the_first_and_last_calls(monkeypatch, capsys):
    from backtrace_cli.run import document

    recorder, _ = record("lecture04.py", capsys)
    monkeypatch.setattr(document, "PAGE_CALLS", 10)
    shown = [call.index for call in document.page_calls(recorder, [150, "last"])]
    assert shown == [1, 2, 3, 4, 5, 150, 296, 297, 298, 299, 300]
    page = document.html_text(recorder, "lecture04.py", 0, "", [150])
    assert page.count("<option ") == 11
    assert ("This page has 11 of the 300 backward() calls: the first 5, the last 5 and those "
            "--explain names; -o FILE.json has them all.") in page


STUDENTS = ROOT / "tests" / "data" / "explain"
STUDENT_MISTAKES = {
    "sgd_no_zero_grad.py": [("grad-not-zeroed", 13, "model.bias"),
                            ("grad-not-zeroed", 13, "model.weight")],
    "non_leaf_in_function.py": [("non-leaf-update", 8, "w")],
    "kept_then_in_place.py": [("graph-kept", 11, "losses"), ("in-place-leaf", 13, "w")],
}


@pytest.mark.parametrize("name", sorted(STUDENT_MISTAKES))
def test_student_scripts_mistakes_inside_functions_and_modules(name):
    from backtrace_cli.run.record import Recorder
    from backtrace_cli.run.script import run_script

    recorder = Recorder(keep=False)
    recorder.install()
    try:
        run_script(str(STUDENTS / name))
    finally:
        recorder.remove()
    recorder.finish()
    found = sorted((d.kind, d.line, d.fields["name"]) for d in recorder.diagnoses)
    assert found == STUDENT_MISTAKES[name] and recorder.calls == []


@pytest.mark.parametrize("name", sorted(STUDENT_MISTAKES))
def test_student_scripts_print_what_pytorch_prints(name):
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("PyTorch is not importable: the scripts' output is not compared")
    theirs = subprocess.run([sys.executable, name], cwd=STUDENTS, capture_output=True)
    ours, stderr, code = cli("-q", name, cwd=STUDENTS)
    assert (ours, code) == (theirs.stdout, theirs.returncode)
    expected = theirs.stderr.decode().splitlines()
    assert stderr.splitlines()[-1:] == expected[-1:]
