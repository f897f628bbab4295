"""The gradient workloads: big-graph (a long straight-line tape) and sympy-1000."""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Sequence

from .context import Context, collect_errors
from .processes import PYTHON
from .results import SEED, Goal, Report, Row, relative_difference


# ============================================================================ big-graph
def graph_constants(terms: int) -> list[str]:
    rng = random.Random(SEED + terms)
    return [f"{rng.uniform(0.5, 1.5):.6f}" for _ in range(terms)]


def graph_expression(constants: Sequence[str]) -> str:
    """x*c1 + x*c2 + ...: per term a constant and a product, and an add between terms."""
    return " + ".join(f"x*{constant}" for constant in constants)


def graph_terms(nodes: int) -> int:
    # Nodes on the tape: x once, then per term a constant and a product, and terms - 1 adds:
    # 1 + 2k + (k - 1) = 3k.
    return max(2, round(nodes / 3))


def graph_straight_line(constants: Sequence[str], torch: bool) -> str:
    """Generated straight-line Python: forward, then (without torch) the reverse sweep by hand.

    Every constant is one we formatted ourselves, so the generated text is only numbers and
    our own names.
    """
    lines = ["import json, sys, time"]
    lines += ["import torch"] if torch else []
    lines += ["", "", "def gradient(x):"]
    lines.append(f"    p1 = x * {constants[0]}")
    lines.append("    s1 = p1")
    for index, constant in enumerate(constants[1:], start=2):
        lines.append(f"    p{index} = x * {constant}")
        lines.append(f"    s{index} = s{index - 1} + p{index}")
    last = f"s{len(constants)}"
    if torch:
        lines.append(f"    {last}.backward()")
        lines.append(f"    return {last}.item(), x.grad.item()")
    else:
        # Reverse sweep: an add passes its adjoint through unchanged (copy-propagated), so each
        # product x*c adds upstream * c to x's adjoint.
        lines.append("    upstream = 1.0")
        lines.append(f"    adjoint_x = upstream * {constants[0]}")
        for constant in constants[1:]:
            lines.append(f"    adjoint_x += upstream * {constant}")
        lines.append(f"    return {last}, adjoint_x")
    if torch:
        make_x = "torch.tensor(float(sys.argv[1]), dtype=torch.float64, requires_grad=True)"
    else:
        make_x = "float(sys.argv[1])"
    lines += [
        "",
        "",
        "times = []",
        "for _ in range(int(sys.argv[2])):",
        f"    x = {make_x}",
        "    start = time.perf_counter()",
        "    value, derivative = gradient(x)",
        "    times.append(time.perf_counter() - start)",
        'print(json.dumps({"value": value, "gradient": derivative, "seconds": sorted(times)}))',
        "",
    ]
    return "\n".join(lines)


def big_graph(context: Context, report: Report) -> None:
    results = {}
    for nodes in context.sizes.graph_nodes:
        constants = graph_constants(graph_terms(nodes))
        expression = context.workdir / f"graph-{nodes}.txt"
        expression.write_text(graph_expression(constants) + "\n", encoding="utf-8")
        baseline = context.workdir / f"graph_{nodes}_baseline.py"
        baseline.write_text(graph_straight_line(constants, torch=False), encoding="utf-8")
        commands = {
            "backtrace": [*context.backtrace, "grad", f"@{expression}", "x=1.5", "--no-check",
                          "--format", "json"],
            "baseline": [PYTHON, str(baseline), "1.5", "5"],
        }
        if context.torch:
            script = context.workdir / f"graph_{nodes}_torch.py"
            script.write_text(graph_straight_line(constants, torch=True), encoding="utf-8")
            commands["torch"] = [PYTHON, str(script), "1.5", "5"]
        timings = context.runner.measure(commands)
        error = collect_errors(report, "big-graph", timings)
        document = timings["backtrace"].last_json() or {}
        counted = len(document.get("forward", [])) or 3 * len(constants)
        results[nodes] = (timings, counted, error)

        def in_process(key: str, timings=timings) -> float | None:
            timing = timings.get(key)
            if timing is None or not timing.outputs:
                return None
            return statistics.median(json.loads(output)["seconds"][0] for output in timing.outputs)

        goal = None
        if nodes == max(context.sizes.graph_nodes):
            goal = Goal("<= 1 s (backtrace)", 1.0, measure="seconds")
        report.rows.append(Row("big-graph", f"big-graph {counted:,} nodes",
                               timings["backtrace"].seconds, timings["baseline"].seconds,
                               timings["torch"].seconds if "torch" in timings else None,
                               goal, error=error, against="straight-line Python"))
        per_op = []
        for label, seconds in (("straight-line Python", in_process("baseline")),
                               ("PyTorch", in_process("torch"))):
            if seconds is not None:
                per_op.append(f"{label} {seconds * 1e6 / counted:.3f}")
        if per_op:
            report.notes.append(f"big-graph {counted:,} nodes: µs per node for one gradient, "
                                f"in process (best of 5 calls): {', '.join(per_op)}.")
        baseline_value = timings["baseline"].last_json()
        if document and baseline_value:
            difference = relative_difference(document.get("gradients", {}),
                                             {"x": baseline_value["gradient"]})
            report.notes.append(f"big-graph {counted:,} nodes: gradient agrees with the "
                                f"straight-line code to {difference:.1e} (relative).")

    small, large = sorted(results)
    (small_timings, small_nodes, small_error) = results[small]
    (large_timings, large_nodes, large_error) = results[large]
    report.rows.append(Row(
        "big-graph",
        "big-graph growth",
        large_timings["backtrace"].seconds, small_timings["backtrace"].seconds, None,
        Goal("ratio <= 12", 12.0),  # the sizes are 10x apart: linear growth would be 10
        error=small_error or large_error,
        against=f"backtrace, {small_nodes:,} nodes",
    ))
    large_seconds = large_timings["backtrace"].seconds
    small_seconds = small_timings["backtrace"].seconds
    if large_seconds is not None and small_seconds is not None:
        marginal = (large_seconds - small_seconds) / (large_nodes - small_nodes)
        report.notes.append(f"big-graph: backtrace's marginal cost, whole process, "
                            f"{marginal * 1e6:.3f} µs per node (difference of the two sizes).")
    report.notes.append("big-graph: the baseline column is the generated straight-line "
                        "script's whole process (compiling it included); PyTorch runs the "
                        "same straight-line forward on a tensor, then backward().")


# ============================================================================ sympy-1000
SYMPY_TERMS = (
    # (template, nodes it adds besides the shared x and y)
    ("{a}*sin({b}*x + {c}*y)", 8),
    ("tanh({a}*x - y*{b})*{c}", 8),
    ("{b}*exp(-x*y*{a})", 7),
    ("cos(x*y + {a})*({b} + x)", 7),
)

SYMPY_BASELINE = """\
    # SymPy by itself: parse the expression, differentiate for x and y, evaluate.
    import json, sys

    import sympy

    x, y = sympy.symbols("x y")
    with open(sys.argv[1]) as file:
        expression = sympy.sympify(file.read(), locals={"x": x, "y": y})
    values = {}
    for name, symbol in (("x", x), ("y", y)):
        derivative = sympy.diff(expression, symbol)
        values[name] = float(sympy.lambdify((x, y), derivative, "math")(0.5, 1.5))
    print(json.dumps(values))
"""


def sympy_expression(nodes: int) -> str:
    """A sum of varied terms in x and y with about ``nodes`` nodes on backtrace's tape."""
    rng = random.Random(SEED + nodes)
    terms, count = [], 2  # x and y
    while count < nodes:
        template, added = SYMPY_TERMS[len(terms) % len(SYMPY_TERMS)]
        numbers = {key: f"{rng.uniform(0.2, 2.0):.3f}" for key in "abc"}
        terms.append(template.format(**numbers))
        count += added + (1 if len(terms) > 1 else 0)  # the add that joins the term
    return " + ".join(terms)


def sympy_check(context: Context, report: Report) -> None:
    expression = context.workdir / f"sympy-{context.sizes.sympy_nodes}.txt"
    expression.write_text(sympy_expression(context.sizes.sympy_nodes) + "\n", encoding="utf-8")
    baseline = context.write_script("sympy_baseline.py", SYMPY_BASELINE)
    commands = {
        "backtrace": [*context.backtrace, "grad", f"@{expression}", "x=0.5", "y=1.5",
                      "--format", "json"],
        "baseline": [PYTHON, str(baseline), str(expression)],
    }
    timings = context.runner.measure(commands)
    error = collect_errors(report, "sympy-1000", timings)
    document = timings["backtrace"].last_json() or {}
    nodes = len(document.get("forward", []))
    check = document.get("check") or {}
    notes = [entry.get("note") for entry in (check.get("sympy") or {}).values()]
    skipped = [note for note in notes if note and note.startswith("skipped")]
    if not document:
        outcome = "no JSON output"
    elif skipped:
        outcome = f"the SymPy check was {skipped[0]}"
    else:
        outcome = f"the SymPy check ran (ok: {check.get('ok')})"
    report.notes.append(f"sympy-1000: {outcome}.")
    report.notes.append("sympy-1000: the baseline is SymPy alone: sympify, diff for x and y, "
                        "lambdify and evaluate.")
    report.rows.append(Row("sympy-1000", f"sympy-1000 {nodes:,} nodes, check on",
                           timings["backtrace"].seconds, timings["baseline"].seconds, None,
                           Goal("<= 3 s or skipped", 3.0, measure="seconds"),
                           met_otherwise=bool(skipped), error=error,
                           against="SymPy diff + lambdify"))
