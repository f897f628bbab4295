"""The Hessian workload: a Hessian of n variables by double backprop against one gradient
sweep of the same tape, timed in one process (medians), for several n.

The issue's goal: at most about (n + 2) one-gradient sweeps. The row times a Hessian whose
gradient tape was built by an earlier call (``hessian_at`` keeps it, as a Newton loop
needs); a note gives the first call too, which builds that tape.
"""

from __future__ import annotations

from .context import Context, collect_errors
from .processes import PYTHON
from .results import QUICK, Goal, Report, Row

SIZES = (2, 8, 32)
QUICK_SIZES = (2, 4)

CHILD = """\
    import json, statistics, sys, time

    from backtrace_cli.engine import higher
    from backtrace_cli.engine.higher import gradient_tape, hessian_at
    from backtrace_cli.engine.sweeps import backward, forward
    from backtrace_cli.engine.tape import compile_program
    from backtrace_cli.syntax.parser import parse

    n, repeat = int(sys.argv[1]), int(sys.argv[2])
    # Coupled neighbours and a curved term per variable: a dense band of second derivatives.
    terms = [f"tanh(x{i}*x{(i + 1) % n}) + x{i}**2*sin(x{i})" for i in range(n)]
    tape = compile_program(parse(" + ".join(terms)))
    point = {f"x{i}": 0.1 + 0.05 * i for i in range(n)}

    def median(function):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    one = median(lambda: backward(tape, forward(tape, point)))
    hessian_at(tape, point)
    repeated = median(lambda: hessian_at(tape, point))  # the gradient's tape kept
    first = median(lambda: (higher._PREPARED.clear(), hessian_at(tape, point)))
    derived = gradient_tape(tape)
    print(json.dumps({"n": n, "gradient": one, "hessian": repeated, "first": first,
                      "nodes": len(tape), "gradient_nodes": len(derived.tape)}))
"""


def hessian(context: Context, report: Report) -> None:
    script = context.write_script("hessian_child.py", CHILD)
    quick = context.sizes == QUICK
    repeat = 5 if quick else 51
    for n in QUICK_SIZES if quick else SIZES:
        timings = context.runner.measure({"backtrace": [PYTHON, str(script), str(n),
                                                        str(repeat)]}, repeat=1)
        error = collect_errors(report, "hessian", timings)
        document = timings["backtrace"].last_json() or {}
        if error or not document:
            report.rows.append(Row("hessian", f"hessian n={n}", None, None, error=error or
                                   "no output"))
            continue
        report.rows.append(Row(
            "hessian", f"hessian n={n} ({document['nodes']:,} nodes)",
            document["hessian"], document["gradient"], None,
            Goal(f"ratio <= {n + 2} (n + 2)", float(n + 2)),
            against="one gradient sweep, same tape",
        ))
        report.notes.append(
            f"hessian n={n}: in one process, medians of {repeat}: one gradient (forward and "
            f"reverse sweep, {document['nodes']:,} nodes) {document['gradient'] * 1e3:.3f} ms; "
            f"the Hessian {document['hessian'] * 1e3:.3f} ms "
            f"({document['hessian'] / document['gradient']:.1f} gradients) with the gradient's "
            f"tape ({document['gradient_nodes']:,} nodes) kept from an earlier call, "
            f"{document['first'] * 1e3:.3f} ms "
            f"({document['first'] / document['gradient']:.1f} gradients) building it first.")
