"""The sweeps of one block of rows on NumPy arrays, generated from the tape as Python source.

``sweeps.forward`` and ``sweeps.backward`` walk the tape for every block of a batch and pay,
per node, for the walk itself: argument lists, the checks of every local derivative, the
search for the nodes that need a gradient. Over a block of 65,536 rows that costs about as
much as the arithmetic (measured: 1.7x the same NumPy operations written out). This module
writes the block's forward sweep, reverse sweep and sums as one straight-line function.

Why the numbers are the reference sweep's, bit for bit: every statement is the operation the
reference sweep performs with the NumPy back end, on the same operands in the same order:
the op table's own templates (``Op.code``, ``Op.derivative_code``), constants made by the
back end's ``number``, the seed ``number(1.0)``, each product through ``_product`` (the
reference sweep's rule: a local derivative of exactly 1.0 passes the upstream on, the seed
1 passes the local derivative on, else upstream * local), adjoints accumulated as
``previous + product`` in the reverse sweep's order, and ``numpy.sum`` in the batch's dtype.

Nothing is checked on the way. The function returns the sums and whether the nodes whose inf
or nan could hide from the sums (``sweeps.unguarded_nodes``) are finite; on any doubt the
caller sweeps the block again with the reference engine, which names the node that failed.

Why this is safe to compile: as in ``compiled.py``, the source holds only the op table's
templates, identifiers made from node indices and positions (``v3``, ``g3``, ``d0``, ``p1``,
``c7``) and no text a user typed; constants are passed in the namespace, not written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from backtrace_cli.engine.nodes import CONST, OP, VAR, Tape
from backtrace_cli.engine.sweeps import needs_gradient, unguarded_nodes
from backtrace_cli.engine.values import is_array


def _product(upstream, local):
    """upstream * local, as ``sweeps.backward`` forms it (the same objects where it copies)."""
    if local.__class__ is float and local == 1.0:
        return upstream
    if not is_array(upstream) and upstream == 1.0:
        return local
    return upstream * local


def block_sweep_source(
    tape: Tape, data_names: tuple[str, ...], params: tuple[str, ...]
) -> str | None:
    """The source of ``sweep(d0, ..., p0, ...) -> (loss_sum, (grad_sum, ...), finite)``, or
    None for a tape this generator does not cover (ops with array rules or many inputs)."""
    for node in tape.nodes:
        if node.kind == OP and (node.op.variadic or node.op.vjps or len(node.inputs) > 2):
            return None
    if tape.nodes[tape.output].kind != OP:
        return None
    names: dict[int, str] = {}
    for node in tape.nodes:
        if node.kind == CONST:
            names[node.index] = f"c{node.index}"
        elif node.kind == OP:
            names[node.index] = f"v{node.index}"
    for position, name in enumerate(data_names):
        names[tape.variable_nodes[name]] = f"d{position}"
    for position, name in enumerate(params):
        names[tape.variable_nodes[name]] = f"p{position}"
    if any(node.kind == VAR and node.index not in names for node in tape.nodes):
        return None  # a name that is neither data nor parameter: the reference sweep says so

    body: list[str] = []
    for node in tape.nodes:
        if node.kind == OP:
            operands = {key: names[j] for key, j in zip("ab", node.inputs)}
            body.append(f"v{node.index} = {node.op.code.format(**operands)}")

    needs = needs_gradient(tape, params)
    adjoint: dict[int, str] = {}
    if needs[tape.output]:
        adjoint[tape.output] = "one"
    for index in range(len(tape.nodes) - 1, -1, -1):
        node = tape.nodes[index]
        if node.kind != OP or index not in adjoint:
            continue
        upstream = adjoint[index]
        operands = {key: names[k] for key, k in zip("ab", node.inputs)}
        for position, j in enumerate(node.inputs):
            if not needs[j]:
                continue
            template = node.op.derivative_code[position]
            local = template.format(out=f"v{index}", **operands)
            product = upstream if local == "1.0" else f"_product({upstream}, {local})"
            if j in adjoint:
                body.append(f"g{j} = {adjoint[j]} + {product}")
            else:
                body.append(f"g{j} = {product}")
            adjoint[j] = f"g{j}"

    body.insert(_defined_at(body, f"v{tape.output}") + 1,
                f"loss_sum = np.sum(v{tape.output}, dtype=dtype)")
    sums = []
    for name in params:
        node_index = tape.variable_nodes[name]
        sums.append(f"np.sum({adjoint[node_index]}, dtype=dtype)" if node_index in adjoint
                    else "zero")
    # The nodes an inf or nan could hide in are checked where they are made, so that they can
    # be let go of early.
    for index in sorted(unguarded_nodes(tape), reverse=True):
        body.insert(_defined_at(body, f"v{index}") + 1, f"finite = finite and isfinite(v{index})")
    body.insert(0, "finite = True")
    body.append(f"sums = ({''.join(item + ', ' for item in sums)})")
    arguments = [f"d{k}" for k in range(len(data_names))] + [f"p{k}" for k in range(len(params))]
    lines = [
        f"def sweep({', '.join(arguments)}):",
        *(f"    {line}" for line in _let_go(body)),
        "    return loss_sum, sums, finite",
    ]
    return "\n".join(lines) + "\n"


_TEMPORARY = re.compile(r"\b[vg][0-9]+\b")


def _defined_at(body: list[str], name: str) -> int:
    return next(i for i, line in enumerate(body) if line.startswith(f"{name} = "))


def _let_go(body: list[str]) -> list[str]:
    """The statements with a ``del`` after the last use of each temporary (``v3``, ``g3``):
    a block's arrays are let go of as soon as possible, so fewer of them compete for the
    CPU's cache (the values are the same; only their lifetime changes)."""
    last_use: dict[str, int] = {}
    for position, line in enumerate(body):
        target, _, expression = line.partition(" = ")
        for name in _TEMPORARY.findall(expression):
            last_use[name] = position
        if _TEMPORARY.fullmatch(target):
            last_use.setdefault(target, position)  # made and never read: let go at once
    done: dict[int, list[str]] = {}
    for name, position in last_use.items():
        done.setdefault(position, []).append(name)
    lines = []
    for position, line in enumerate(body):
        lines.append(line)
        if position in done:
            lines.append(f"del {', '.join(sorted(done[position]))}")
    return lines


def block_sweep(
    tape: Tape, data_names: tuple[str, ...], params: tuple[str, ...], m
) -> Callable[..., tuple] | None:
    """Compile ``block_sweep_source`` for the NumPy back end ``m`` (None if not covered)."""
    source = block_sweep_source(tape, data_names, params)
    if source is None:
        return None
    namespace: dict = {
        "m": m, "np": m.np, "dtype": m.dtype, "_product": _product, "isfinite": m.isfinite,
        "one": m.number(1.0), "zero": m.number(0.0),
        "__builtins__": {"abs": abs, "sum": sum},  # as compiled.py: templates may use them
    }
    for node in tape.nodes:
        if node.kind == CONST:
            namespace[f"c{node.index}"] = m.number(node.value)
    # Safe: ``source`` is generated from our own validated tape, never from user text: the op
    # templates of the op table (derivatives made from its constant forms, ops/op.py) and
    # identifiers we make from node indices; the constants are values in the namespace, not
    # text. Builtins: abs and sum only.
    exec(compile(source, "<backtrace compiled block>", "exec"), namespace)  # noqa: S102
    return namespace["sweep"]
