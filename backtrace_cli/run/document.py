"""The whole record of a run as a document: JSON (docs/schema/run.json), Markdown and HTML.

Each backward() call is ``grad``'s report made from the recorded numbers (``explained.py``),
written by ``grad``'s own writers; the HTML page puts a chooser over the calls ("k of N,
line L") and the script's source beside them, the current call's line marked.
"""

from __future__ import annotations

import json
import math
import re
from html import escape

from backtrace_cli.formats import html as html_format
from backtrace_cli.formats.registry import render
from backtrace_cli.i18n import N_, _, language, translated
from backtrace_cli.report.grad import build
from backtrace_cli.report.grad_json import grad_document
from backtrace_cli.run import messages
from backtrace_cli.run.explained import explanation, output_name, shown, statement
from backtrace_cli.run.record import Recorder

CHOOSER = N_("{index} of {count}, line {line}")


def _plain(value):
    value = shown(value)
    return value if isinstance(value, float) else value.tolist()


def title(call, count: int) -> str:
    line, text = statement(call)
    return translated(messages.TITLE).format(index=call.index, count=count,
                                             line=line if line is not None else "?", text=text)


def diagnosis_lines(recorder: Recorder) -> list[str]:
    return messages.diagnosis_lines(recorder.diagnoses)


def json_document(recorder: Recorder, script: str, exit_code: int) -> dict:
    calls = []
    for call in recorder.calls:
        document = grad_document(explanation(call))
        output = call.nodes[call.output]
        calls.append({
            "index": call.index,
            "line": call.line,
            "output": {"name": output_name(call), "value": _plain(output.value)},
            "forward": document.get("forward"),
            "backward": document.get("backward"),
            "leaves": {leaf.name: {"before": None if leaf.before is None else
                                   _plain(leaf.before),
                                   "added": _plain(leaf.added), "after": _plain(leaf.after)}
                       for leaf in call.leaves},
        })
    diagnoses = [{"kind": d.kind, "line": d.line,
                  "message": messages.message(d.kind, d.fields)} for d in recorder.diagnoses]
    return {"script": script, "exit_code": exit_code, "backward_calls": calls,
            "diagnoses": diagnoses}


def finite(data):
    """``data`` with every number that is not finite (nan, inf) as None: valid JSON."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, list):
        return [finite(item) for item in data]
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    return data


def json_text(recorder: Recorder, script: str, exit_code: int) -> str:
    return json.dumps(finite(json_document(recorder, script, exit_code)), ensure_ascii=False,
                      indent=1, allow_nan=False) + "\n"


def markdown_text(recorder: Recorder, script: str, exit_code: int) -> str:
    count = len(recorder.calls)
    out = [f"# backtrace run {script}", "",
           _("exit code {code}, {count} backward() calls").format(code=exit_code, count=count),
           ""]
    lines = diagnosis_lines(recorder)
    if lines:
        out += ["## " + _("Mistakes"), ""] + [f"- {line}" for line in lines] + [""]
    for call in recorder.calls:
        out += ["## " + title(call, count), ""]
        tables = render(build(explanation(call)), "markdown").rstrip("\n")
        out.append(re.sub(r"(?m)^(#+) ", r"#\1 ", tables))  # its sections under the call
        out.append("")
    return "\n".join(out) + "\n"


PAGE_SCRIPT = """
(function () {
  var chooser = document.getElementById("bt-call");
  function show() {
    var k = chooser.value;
    document.querySelectorAll(".bt-call").forEach(function (el) {
      el.hidden = el.getAttribute("data-call") !== k;
    });
    var line = chooser.options[chooser.selectedIndex].getAttribute("data-line");
    document.querySelectorAll(".bt-source li").forEach(function (li) {
      li.classList.toggle("bt-current", li.getAttribute("data-line") === line);
    });
  }
  chooser.addEventListener("change", show);
  show();
})();
"""
PAGE_STYLE = (".bt-source{font-family:monospace;white-space:pre;font-size:0.85em}"
              ".bt-source li.bt-current{background:#ffe08a}"
              ".bt-diagnoses{color:#8a1c00}")


# The page holds at most this many backward() calls (each is a step-through of its own): the
# first and last halves, and every call --explain names; the JSON has them all.
PAGE_CALLS = 100
PAGE_NOTE = N_("This page has {shown} of the {count} backward() calls: the first {half}, the "
               "last {half} and those --explain names; -o FILE.json has them all.")


def page_calls(recorder: Recorder, wanted=()) -> list:
    """The calls the page shows (all of them up to PAGE_CALLS)."""
    calls = recorder.calls
    if len(calls) <= PAGE_CALLS:
        return list(calls)
    half = PAGE_CALLS // 2
    keep = set(range(1, half + 1)) | set(range(len(calls) - half + 1, len(calls) + 1))
    keep |= {len(calls) if k == "last" else k for k in wanted}
    return [call for call in calls if call.index in keep]


def html_text(recorder: Recorder, script: str, exit_code: int, source: str,
              wanted=()) -> str:
    count = len(recorder.calls)
    options = []
    sections = []
    shown = page_calls(recorder, wanted)
    note = "" if len(shown) == count else "<p>" + escape(translated(PAGE_NOTE).format(
        shown=len(shown), count=count, half=PAGE_CALLS // 2)) + "</p>"
    # every call's fragment has the step-through's style and script: the page has them once
    style = f"<style>{html_format.STYLE}</style>"
    step_script = f"<script>{html_format.script()}</script>"
    for call in shown:
        line = call.line if call.line is not None else 0
        label = translated(CHOOSER).format(index=call.index, count=count, line=line)
        options.append(f'<option value="{call.index}" data-line="{line}">{escape(label)}'
                       "</option>")
        sections.append(f'<section class="bt-call" data-call="{call.index}" hidden>'
                        f"<h2>{escape(title(call, count))}</h2>"
                        + html_format.fragment(build(explanation(call)))
                        .replace(style, "").replace(step_script, "") + "</section>")
    listing = "".join(f'<li data-line="{n}">{escape(text) or " "}</li>'
                      for n, text in enumerate(source.splitlines(), start=1))
    diagnoses = "".join(f"<li>{escape(line)}</li>" for line in diagnosis_lines(recorder))
    lang = html_format.PAGE_LANGUAGE.get(language(), "en")
    return "\n".join([
        "<!DOCTYPE html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">',
        f"<title>backtrace run {escape(script)}</title>", style,
        f"<style>{PAGE_STYLE}</style>",
        "</head>", "<body>", f"<h1>backtrace run {escape(script)}</h1>",
        "<p>" + escape(_("exit code {code}, {count} backward() calls").format(
            code=exit_code, count=count)) + "</p>",
        f'<ul class="bt-diagnoses">{diagnoses}</ul>' if diagnoses else "", note,
        f'<label>backward() <select id="bt-call">{"".join(options)}</select></label>'
        if options else "",
        f'<ol class="bt-source">{listing}</ol>',
        "".join(sections),
        f"<script>{PAGE_SCRIPT}</script>{step_script}" if options else "",
        "</body>", "</html>"]) + "\n"
