"""The HTML page in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright. Every step is clicked through and checked against the engine's numbers; no
request may leave the page, no console error may appear, and it must read at 400 px.

Skipped, with the reason, only where Playwright or /usr/bin/chromium is missing (``.ci/run``
installs Chromium with apt-get; Playwright comes with the test extra).
"""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import invoke

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")

CHROMIUM = os.environ.get("BACKTRACE_CHROMIUM", "/usr/bin/chromium")
if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)",
                allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

LECTURE = ("y_hat = x*w; r = y_hat - y; loss = r**2", "x=1", "y=2", "w=1")
SLIDE = ("x*w", "x=2", "w=3", "--dz", "5")
TWICE = ("a = x*x; a + sin(a)", "x=3")
ARRAYS = ("sum(sigmoid(W @ x + b))", "W=[[1, 2], [3, 4]]", "x=[1, -1]", "b=[0, 1]")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """One page of ours in a fresh tab, with every request but the file itself refused and
    recorded, and every console message and page error recorded."""

    def __init__(self, browser, path, width: int = 1000):
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.tab = browser.new_page(viewport={"width": width, "height": 900})
        self.tab.route("**/*", self._route)
        self.tab.on("console", lambda message: self.console.append((message.type,
                                                                     message.text)))
        self.tab.on("pageerror", lambda error: self.console.append(("pageerror", str(error))))
        self.tab.goto(self.url)

    def _route(self, route):
        if route.request.url == self.url:
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def state(self) -> dict:
        return self.tab.evaluate("""() => {
            const root = document.querySelector('.backtrace[data-last-step]');
            const active = root.querySelectorAll('.bt-graph g.edge.bt-active');
            const item = root.querySelector('.bt-steps > li.bt-active');
            const row = root.querySelectorAll('tr.bt-active');
            const gradients = {};
            root.querySelectorAll('.bt-graph g.node[data-node]').forEach(node => {
                const texts = node.querySelectorAll('text');
                gradients[node.getAttribute('data-node')] = texts[texts.length - 1].textContent;
            });
            return {
                step: root.getAttribute('data-step'),
                counter: root.querySelector('.bt-counter').textContent,
                active: Array.from(active).map(edge => edge.getAttribute('data-step')),
                active_edge: Array.from(active).map(edge => edge.getAttribute('data-edge')),
                item: item ? item.getAttribute('data-step') : null,
                text: item ? item.innerText : '',
                rows: Array.from(row).map(r => r.getAttribute('data-step')),
                gradients: gradients,
                previous: root.querySelector('button[data-action=previous]').disabled,
                next: root.querySelector('button[data-action=next]').disabled,
            };
        }""")

    def close(self):
        self.tab.close()


def write_page(tmp_path, *args, name="page.html"):
    path = tmp_path / name
    result = invoke("grad", *args, "--format", "html", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def engine_steps(*args) -> tuple[list[dict], dict]:
    """The backward rows and the graph nodes as the JSON and graph report give them."""
    from backtrace_cli.api.grad import explanation_of
    from backtrace_cli.cli.parsing import parse_bindings, parse_value
    from backtrace_cli.report.grad import build

    args = list(args)
    seed = "1"
    if "--dz" in args:
        seed = args.pop(args.index("--dz") + 1)
        args.remove("--dz")
    explanation = explanation_of(args[0], parse_bindings(tuple(args[1:])),
                                 dz=parse_value(seed, "--dz"), cross_check=False)
    report = build(explanation)
    return report.views["steps"]().data["steps"], report.views["graph"]().data


def click_through(page: Page, steps: list[dict], graph: dict, table: bool = True) -> list[dict]:
    """Next through every step; at each, the one active edge, list item and (``table``: the
    page has the backward table) table row are the step's, and its numbers are on the page.
    Returns the states seen."""
    last = len(steps) - 1
    seen = []
    for k, entry in enumerate(steps):
        state = page.state()
        seen.append(state)
        assert state["step"] == str(k) and state["counter"] == f"{k} / {last}"
        assert state["item"] == str(k)
        assert state["previous"] == (k == 0) and state["next"] == (k == last)
        if k == 0:
            assert state["active"] == [] and state["rows"] == []
            assert "Forward pass done" in state["text"]
        else:
            assert state["active"] == [str(k)]
            assert state["active_edge"] == [str(entry["graph_edge"])]
            assert state["rows"] == ([str(k)] if table else [])
            for number in (entry["upstream"], entry["local"], entry["product"], entry["sum"]):
                assert number in state["text"], (number, state["text"])
            # the input's gradient on the picture is the running sum
            assert state["gradients"][entry["input_id"]] == f"grad {entry['sum']}"
        if k < last:
            page.tab.click("button[data-action=next]")
    static = {node["id"]: f"grad {node['gradient']}" for node in graph["nodes"]}
    assert seen[-1]["gradients"] == static  # the last step is the static picture
    return seen


def test_the_chain_rule_slide_step_by_step(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, *SLIDE))
    steps, graph = engine_steps(*SLIDE)
    assert len(steps) == 3  # two edges + step 0
    seen = click_through(page, steps, graph)
    assert seen[0]["gradients"] == {"v1": "grad …", "v2": "grad …", "v3": "grad 5"}
    assert "upstream × local = 5 × 3 = 15" in seen[1]["text"]
    assert "dL/dx = 15" in seen[1]["text"]
    assert "upstream × local = 5 × 2 = 10" in seen[2]["text"]
    assert seen[2]["gradients"] == {"v1": "grad 15", "v2": "grad 10", "v3": "grad 5"}
    assert page.console == [] and page.requests == []
    page.close()


def test_the_lecture_graph_step_by_step(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, *LECTURE))
    steps, graph = engine_steps(*LECTURE)
    assert len(steps) == 6  # loss->r, r->y_hat, r->y, y_hat->x, y_hat->w: 5 edges + 1
    seen = click_through(page, steps, graph)
    assert "upstream × local = 1 × (-2) = -2" in seen[1]["text"]
    assert seen[-1]["gradients"]["v2"] == "grad -2"  # w
    assert page.console == [] and page.requests == []
    page.close()


def test_a_variable_used_twice_sums_its_products(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, *TWICE))
    steps, graph = engine_steps(*TWICE)
    assert len(steps) == 6
    seen = click_through(page, steps, graph)
    # a gets 1 from z, then cos(a) from sin(a): the running sum, complete at use 2 of 2
    assert "dL/da = 1 (so far: use 1 of 2)" in seen[1]["text"]
    assert ("dL/da = 1 + (-0.9111302618846769) = 0.08886973811532306 (complete: use 2 of 2)"
            in seen[3]["text"])
    # x*x: two edges between the same nodes, each its own step and its own arrow
    assert seen[4]["active_edge"] != seen[5]["active_edge"]
    assert seen[4]["gradients"]["v1"] == "grad 0.2666092143459692"
    assert seen[5]["gradients"]["v1"] == "grad 0.5332184286919384"
    assert page.console == [] and page.requests == []
    page.close()


def test_an_array_program_step_by_step(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, *ARRAYS))
    steps, graph = engine_steps(*ARRAYS)
    assert len(steps) == 7  # six edges + step 0
    seen = click_through(page, steps, graph)
    assert "local dv3/dW = upstream ⊗ x = [1, -1]" in seen[5]["text"]
    assert "dL/dW = [[0.1966, -0.1966], [0.25, -0.25]]" in seen[5]["text"]
    assert seen[6]["gradients"]["v2"] == "grad [0.9466, 1.393]"  # x
    assert page.console == [] and page.requests == []
    page.close()


def test_keys_previous_and_play(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, *TWICE))
    page.tab.keyboard.press("ArrowRight")
    page.tab.keyboard.press("ArrowRight")
    assert page.state()["counter"] == "2 / 5"
    page.tab.keyboard.press("ArrowLeft")
    assert page.state()["active"] == ["1"]
    page.tab.click("button[data-action=previous]")
    assert page.state()["step"] == "0"
    page.tab.keyboard.press("ArrowLeft")  # stays at 0
    assert page.state()["step"] == "0"
    page.tab.focus("button[data-action=next]")  # the keys work with a button focused too
    page.tab.keyboard.press("ArrowRight")
    assert page.state()["step"] == "1"
    page.tab.evaluate("document.querySelector('.backtrace[data-last-step]')"
                      ".setAttribute('data-interval', '20')")
    play = page.tab.locator("button[data-action=play]")
    assert play.get_attribute("aria-pressed") == "false"
    play.click()
    page.tab.wait_for_function(
        "document.querySelector('.backtrace[data-last-step]').getAttribute('data-step') === '5'")
    page.tab.wait_for_function(
        "document.querySelector('button[data-action=play]').getAttribute('aria-pressed')"
        " === 'false'")
    assert page.state()["counter"] == "5 / 5" and play.inner_text() == "Play"
    play.click()  # at the end, Play starts again from step 0
    page.tab.wait_for_function(
        "document.querySelector('.backtrace[data-last-step]').getAttribute('data-step') === '5'")
    assert page.console == [] and page.requests == []
    page.close()


def test_controls_are_labelled():
    from backtrace_cli import grad

    html = grad("x*w", {"x": 2, "w": 3}).render("html")
    for label in ('aria-label="Previous step"', 'aria-label="Next step"',
                  'aria-label="Play the steps"', 'aria-live="polite"',
                  'aria-label="the computation graph"',
                  'aria-label="Step through the backward pass"'):
        assert label in html


def test_readable_at_400_pixels(browser, tmp_path):
    long_program = ("first_hidden_value = x*w + b; second_hidden_value = tanh(first_hidden_"
                    "value); loss = (second_hidden_value - y)**2")
    path = write_page(tmp_path, long_program, "x=1.5", "w=-0.25", "b=0.125", "y=1")
    page = Page(browser, path, width=400)
    widths = page.tab.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.body.scrollWidth]")
    assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
    picture = page.tab.evaluate(
        "document.querySelector('.bt-graph svg').getBoundingClientRect().width")
    assert 0 < picture <= 400
    assert page.console == [] and page.requests == []
    page.close()


def test_the_graph_command_writes_the_same_stepping_page(browser, tmp_path):
    path = tmp_path / "graph.html"
    result = invoke("graph", *SLIDE, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    page = Page(browser, path)
    steps, graph = engine_steps(*SLIDE)
    click_through(page, steps, graph, table=False)
    assert page.tab.locator("table").count() == 0  # the graph's page: picture and steps
    assert page.console == [] and page.requests == []
    page.close()


def test_the_notebook_fragment_steps_inside_a_page(browser, tmp_path):
    """Two results in one notebook page: each steps on its own, with the inline script."""
    from backtrace_cli import grad

    first = grad("x*w", {"x": 2, "w": 3}, dz=5)._repr_html_()
    second = grad("a = x*x; a + sin(a)", {"x": 3})._repr_html_()
    path = tmp_path / "notebook.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"<div class='cell'>{first}</div><div class='cell'>{second}</div>"
                    "</body></html>", encoding="utf-8")
    page = Page(browser, path)
    counters = page.tab.locator(".bt-counter")
    page.tab.locator("button[data-action=next]").nth(1).click()
    page.tab.locator("button[data-action=next]").nth(1).click()
    assert counters.nth(0).inner_text() == "0 / 2"
    assert counters.nth(1).inner_text() == "2 / 5"
    page.tab.locator("button[data-action=next]").nth(0).click()
    assert counters.nth(0).inner_text() == "1 / 2"
    active = page.tab.locator(".backtrace[data-last-step]").nth(0).locator("g.edge.bt-active")
    assert active.get_attribute("data-step") == "1"
    page.tab.keyboard.press("ArrowRight")  # the focused button's result takes the key
    assert counters.nth(0).inner_text() == "2 / 2" and counters.nth(1).inner_text() == "2 / 5"
    assert page.console == [] and page.requests == []
    page.close()


def test_a_page_without_edges_has_no_stepper_and_no_error(browser, tmp_path):
    page = Page(browser, write_page(tmp_path, "2*3"))
    assert page.tab.locator(".bt-stepper").count() == 0
    assert page.tab.locator(".bt-graph svg").count() == 1
    assert page.console == [] and page.requests == []
    page.close()


def test_the_request_guard_sees_a_request(browser, tmp_path):
    """The guard the tests above rely on: a page that asks for anything is caught."""
    path = tmp_path / "asks.html"
    path.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/a.png">'
                    "<script>console.error('seen')</script></body></html>", encoding="utf-8")
    page = Page(browser, path)
    page.tab.wait_for_timeout(100)
    assert page.requests == ["http://example.invalid/a.png"]
    assert ("error", "seen") in page.console
    page.close()


# ------------------------------------------------------------ what the eye sees at each step
EDGE_PAINT = """() => Array.from(document.querySelectorAll('.bt-graph g.edge')).map(edge => ({
    step: edge.getAttribute('data-step'),
    pending: edge.classList.contains('bt-pending'),
    paths: Array.from(edge.querySelectorAll('path')).map(p => {
        const style = getComputedStyle(p);
        return {fill: style.fill, stroke: style.stroke, d: p.getAttribute('d')};
    }),
    heads: Array.from(edge.querySelectorAll('polygon')).map(p => getComputedStyle(p).fill),
}))"""


@pytest.mark.parametrize("args", [LECTURE, TWICE, ARRAYS, SLIDE],
                         ids=["lecture", "twice", "arrays", "slide"])
def test_no_edge_is_painted_as_a_filled_shape_at_any_step(browser, tmp_path, args):
    """An edge is a line: its path is never filled (a filled curve is a grey blob), at every
    step, whether the edge is pending, active or done; pending ones are grey lines."""
    page = Page(browser, write_page(tmp_path, *args))
    last = len(engine_steps(*args)[0]) - 1
    curved = 0
    for k in range(last + 1):
        edges = page.tab.evaluate(EDGE_PAINT)
        assert edges and all(edge["paths"] for edge in edges)
        pending = [edge for edge in edges if edge["pending"]]
        assert len(pending) == sum(1 for edge in edges
                                   if edge["step"] is not None and int(edge["step"]) > k)
        for edge in edges:
            for path in edge["paths"]:
                assert path["fill"] == "none", (k, edge)
                curved += "C" in path["d"]
        for edge in pending:
            assert all(path["stroke"] == "rgb(209, 213, 219)" for path in edge["paths"])
            assert all(head == "rgb(209, 213, 219)" for head in edge["heads"]), edge
        if k < last:
            page.tab.click("button[data-action=next]")
    assert curved, "no curved edge was seen: the test would not see a filled curve"
    assert page.console == [] and page.requests == []
    page.close()


VISIBLE_TEXT = """() => {
    const seen = [document.title, document.body.innerText];
    document.querySelectorAll('svg text').forEach(text => {
        const style = getComputedStyle(text);
        if (style.visibility !== 'hidden' && style.display !== 'none') {
            seen.push(text.textContent);
        }
    });
    document.querySelectorAll('[aria-label]').forEach(element => {
        seen.push(element.getAttribute('aria-label'));
    });
    return seen.join('\\n');
}"""


@pytest.mark.parametrize("args", [LECTURE, TWICE, ARRAYS], ids=["lecture", "twice", "arrays"])
def test_the_chinese_page_has_no_english_at_any_step(browser, tmp_path, args):
    """Under --lang zh every text the page shows, at every step and while playing, is
    Chinese (names, numbers and notation aside); the gradients on the picture too."""
    from test_i18n import ALLOWED, english_words

    path = tmp_path / "zh.html"
    result = invoke("grad", *args, "--format", "html", "-o", str(path), "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    page = Page(browser, path)
    last = len(engine_steps(*args)[0]) - 1
    # the picture says 梯度, never grad; function names are names
    allowed = (ALLOWED - {"grad"}) | {"sin", "cos"}

    def english() -> list[str]:
        seen = page.tab.evaluate(VISIBLE_TEXT)
        seen = seen.replace("backtrace grad", " ")  # the title names the command
        return sorted(set(english_words(seen, allowed)))

    for k in range(last + 1):
        assert page.state()["step"] == str(k)
        assert english() == [], (k, english())
        gradients = page.state()["gradients"]
        assert all(label.startswith("梯度 ") for label in gradients.values()), gradients
        if k < last:
            page.tab.click("button[data-action=next]")
    page.tab.evaluate("document.querySelector('.backtrace[data-last-step]')"
                      ".setAttribute('data-interval', '600000')")  # no step while we look
    play = page.tab.locator("button[data-action=play]")
    play.click()  # the button reads Pause while playing, in Chinese too
    assert play.inner_text() == "暂停" and english() == []
    play.click()
    assert play.inner_text() == "播放"
    assert page.console == [] and page.requests == []
    page.close()
