"""The style sheet and the script of the HTML page, inlined into every page and fragment.

Kept as text here (not fetched, not in separate files a page would link to): the page works
from ``file://`` with no network and in a notebook, where only inline scripts run. The script
is ours and fixed; it reads every step from the page's own markup (``data-`` attributes), so
no user text is ever written into it.
"""

STYLE = """\
.backtrace{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.4;
max-width:100%;overflow-wrap:anywhere}
.backtrace h1,.backtrace h2{font-size:1.15em;margin:0.4em 0}
.backtrace .bt-scroll{overflow-x:auto;max-width:100%}
.backtrace table{border-collapse:collapse;margin:0.3em 0 0.8em}
.backtrace th,.backtrace td{padding:0.15em 0.6em;border-bottom:1px solid #ccc;
overflow-wrap:normal}
.backtrace td.right{text-align:right;font-variant-numeric:tabular-nums}
.backtrace td.center{text-align:center}.backtrace .good{color:#18794e}
.backtrace .bad{color:#c62828}.backtrace .dim{color:#777}
.backtrace caption{text-align:left;font-weight:bold}
.backtrace .bt-stepper{border:1px solid #d1d5db;border-radius:6px;padding:0.5em;
margin:0.5em 0 1em}
.backtrace .bt-controls{display:flex;flex-wrap:wrap;gap:0.4em;align-items:center}
.backtrace .bt-controls button{font:inherit;padding:0.25em 0.8em;border:1px solid #6b7280;
border-radius:4px;background:#f9fafb;color:#111827;cursor:pointer}
.backtrace .bt-controls button:focus-visible{outline:3px solid #2563eb;outline-offset:1px}
.backtrace .bt-controls button:disabled{opacity:0.45;cursor:default}
.backtrace .bt-counter{font-variant-numeric:tabular-nums;min-width:4em;text-align:center}
.backtrace .bt-graph svg{max-width:100%;height:auto}
.backtrace .bt-steps{margin:0.4em 0;padding-left:0.2em;list-style:none}
.backtrace .bt-steps .bt-lines{margin:0.1em 0 0.3em;padding-left:1em;font-family:ui-monospace,
SFMono-Regular,Menlo,Consolas,monospace;font-size:0.92em}
.backtrace.bt-js .bt-steps>li{display:none}
.backtrace.bt-js .bt-steps>li.bt-active{display:list-item}
.backtrace.bt-js g.edge.bt-pending path{stroke:#d1d5db;fill:none}
.backtrace.bt-js g.edge.bt-pending polygon{stroke:#d1d5db;fill:#d1d5db}
.backtrace.bt-js g.edge.bt-pending polygon[fill=none]{fill:none}
.backtrace.bt-js g.edge.bt-pending text{visibility:hidden}
.backtrace.bt-js g.edge.bt-active path{stroke:#dc2626;stroke-width:3;fill:none}
.backtrace.bt-js g.edge.bt-active polygon{stroke:#dc2626;fill:#dc2626}
.backtrace.bt-js g.edge.bt-active text{font-weight:bold;fill:#dc2626}
.backtrace.bt-js g.node.bt-target ellipse,.backtrace.bt-js g.node.bt-target path,
.backtrace.bt-js g.node.bt-target polygon{stroke:#dc2626;stroke-width:3}
.backtrace.bt-js tr.bt-active td{background:#fef3c7}
.backtrace pre.bt-chart{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
line-height:1.15;margin:0.3em 0 0.8em;overflow-x:auto}
"""

SCRIPT = """\
(function () {
  "use strict";
  function start(root) {
    if (root.getAttribute("data-ready") === "yes") { return; }
    root.setAttribute("data-ready", "yes");
    root.classList.add("bt-js");
    var last = parseInt(root.getAttribute("data-last-step"), 10);
    var items = root.querySelectorAll(".bt-steps li[data-step]");
    var counter = root.querySelector(".bt-counter");
    var previous = root.querySelector("button[data-action=previous]");
    var next = root.querySelector("button[data-action=next]");
    var play = root.querySelector("button[data-action=play]");
    var edges = root.querySelectorAll(".bt-graph g.edge[data-step]");
    var rows = root.querySelectorAll("tr[data-step]");
    var label = root.getAttribute("data-gradient-label") || "grad {gradient}";
    var nodes = {};
    root.querySelectorAll(".bt-graph g.node[data-node]").forEach(function (node) {
      var texts = node.querySelectorAll("text");
      var gradient = texts.length ? texts[texts.length - 1] : null;
      nodes[node.getAttribute("data-node")] = {
        group: node, text: gradient, original: gradient ? gradient.textContent : ""
      };
    });
    var step = 0;
    var timer = null;
    function show(k) {
      step = Math.max(0, Math.min(last, k));
      root.setAttribute("data-step", String(step));
      counter.textContent = step + " / " + last;
      previous.disabled = step === 0;
      next.disabled = step === last;
      var gradients = {};
      var active = null;
      items.forEach(function (item) {
        var s = parseInt(item.getAttribute("data-step"), 10);
        var on = s === step;
        item.classList.toggle("bt-active", on);
        if (on) { item.setAttribute("aria-current", "step"); active = item; }
        else { item.removeAttribute("aria-current"); }
        var input = item.getAttribute("data-input");
        if (s > 0 && input !== null) {
          if (!(input in gradients)) { gradients[input] = "\\u2026"; }
          if (s <= step) { gradients[input] = item.getAttribute("data-sum"); }
        }
      });
      edges.forEach(function (edge) {
        var s = parseInt(edge.getAttribute("data-step"), 10);
        edge.classList.toggle("bt-active", s === step);
        edge.classList.toggle("bt-done", s < step);
        edge.classList.toggle("bt-pending", s > step);
        if (s === step) { edge.setAttribute("data-active", "yes"); }
        else { edge.removeAttribute("data-active"); }
      });
      rows.forEach(function (row) {
        row.classList.toggle("bt-active", parseInt(row.getAttribute("data-step"), 10) === step);
      });
      var target = active ? active.getAttribute("data-input") : null;
      Object.keys(nodes).forEach(function (id) {
        var node = nodes[id];
        node.group.classList.toggle("bt-target", id === target);
        if (!node.text) { return; }
        node.text.textContent = (step === last || !(id in gradients))
          ? node.original : label.split("{gradient}").join(gradients[id]);
      });
    }
    function stop() {
      if (timer !== null) { clearInterval(timer); timer = null; }
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
    }
    function toggle() {
      if (timer !== null) { stop(); return; }
      if (step === last) { show(0); }
      play.textContent = "Pause";
      play.setAttribute("aria-pressed", "true");
      timer = setInterval(function () {
        if (step >= last) { stop(); return; }
        show(step + 1);
        if (step >= last) { stop(); }
      }, parseInt(root.getAttribute("data-interval"), 10) || 1000);
    }
    previous.addEventListener("click", function () { stop(); show(step - 1); });
    next.addEventListener("click", function () { stop(); show(step + 1); });
    play.addEventListener("click", toggle);
    document.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") { return; }
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      var alone = document.querySelectorAll(".backtrace[data-last-step]").length === 1;
      var here = root.contains(event.target);
      var page = event.target === document.body || event.target === document.documentElement;
      if (!here && !(alone && page)) { return; }
      event.preventDefault();
      stop();
      show(step + (event.key === "ArrowRight" ? 1 : -1));
    });
    show(0);
  }
  document.querySelectorAll(".backtrace[data-last-step]").forEach(start);
})();
"""
