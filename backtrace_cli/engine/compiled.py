"""Training loops generated from the tape as Python source, compiled once per run.

The reference engine (``tape.forward``/``tape.backward``) walks the tape for every row and
pays for a Python call per node. For per-row SGD on Python floats this module writes the
whole epoch as one function, a straight line of statements per row with the update inlined,
and compiles it.

Why this is safe: the source is assembled only from (1) the op table's constant templates
(``Op.code``, ``Op.derivative_code``), (2) identifiers made from node indices and positions
(``v3``, ``g3``, ``d0``, ``p1``) and (3) numbers written by ``repr(float)``. No name or text a
user typed appears in it: data columns and parameters are passed by position. ``compile``
never sees user text.

Why the numbers are the reference engine's, bit for bit: the statements are the reference
sweep's operations in the same order, with only rewrites that change no bit: a product with
a local derivative of 1.0 is the upstream itself and with -1.0 its negation; the seed 1.0
times a local derivative is that derivative; ``pow(a, 2.0)`` is ``a * a`` (as
``FloatBackend.pow`` computes it) and its derivative ``2.0 * pow(a, 1.0)`` is ``2.0 * a``.
The reference engine checks every node for inf/nan and names it; the compiled loop does not.
Instead the caller replays an epoch with the reference engine whenever the compiled epoch
raised a math error or ended with anything non-finite, so errors and divergence are reported
exactly as before (see ``train.train``). Values that an op could hide (1/inf = 0, exp(-inf) =
0, ...) are folded into a check sum that turns nan when any of them is not finite.
"""

from __future__ import annotations

from collections.abc import Callable

from backtrace_cli.engine.backends import FLOAT64
from backtrace_cli.engine.nodes import CONST, OP, Tape
from backtrace_cli.engine.sweeps import needs_gradient, unguarded_nodes


def _literal(value: float) -> str:
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def _square_exponent(tape: Tape, node) -> bool:
    """A power whose exponent is the constant 2: forward a*a, derivative 2.0*a."""
    if node.op.name != "pow":
        return False
    exponent = tape.nodes[node.inputs[1]]
    return exponent.kind == CONST and exponent.value == 2.0


def _simple(expression: str) -> bool:
    """A name or a literal: copying it costs nothing, so no statement is needed."""
    return expression.replace(".", "").replace("-", "").replace("(", "").replace(")", "").isalnum()


def row_sgd_source(tape: Tape, data_names: tuple[str, ...], params: tuple[str, ...]) -> str:
    """The source of ``epoch(rows, p0, ..., lr, total) -> (p0, ..., total, last, check)``:
    one pass over ``rows`` (tuples of data values), adding each row's loss to ``total``."""
    names: dict[int, str] = {}
    for position, name in enumerate(data_names):
        names[tape.variable_nodes[name]] = f"d{position}"
    for position, name in enumerate(params):
        names[tape.variable_nodes[name]] = f"p{position}"
    for node in tape.nodes:
        if node.kind == CONST:
            names[node.index] = _literal(node.value)
        elif node.kind == OP:
            names[node.index] = f"v{node.index}"

    unguarded = unguarded_nodes(tape)
    body: list[str] = []
    checked: list[str] = []
    for node in tape.nodes:
        if node.kind != OP:
            continue
        operands = {key: names[j] for key, j in zip("ab", node.inputs)}
        if _square_exponent(tape, node):
            expression = f"{operands['a']} * {operands['a']}"
        else:
            expression = node.op.code.format(**operands)
        body.append(f"v{node.index} = {expression}")
        if node.index in unguarded:
            checked.append(f"v{node.index}")

    # Reverse sweep, in the reference engine's order. ``adjoint`` holds the expression of each
    # adjoint so far: a name or a literal; a copy (product == upstream) emits no statement.
    needs = needs_gradient(tape, params)
    adjoint: dict[int, str] = {tape.output: "1.0"}
    for index in range(len(tape.nodes) - 1, -1, -1):
        node = tape.nodes[index]
        if node.kind != OP or index not in adjoint:
            continue
        upstream = adjoint[index]
        for position, j in enumerate(node.inputs):
            if not needs[j]:
                continue
            if _square_exponent(tape, node) and position == 0:
                local = f"2.0 * {names[node.inputs[0]]}"
            else:
                operands = {key: names[k] for key, k in zip("ab", node.inputs)}
                local = node.op.derivative_code[position].format(out=f"v{index}", **operands)
            if local == "1.0":
                product = upstream
            elif local == "-1.0":
                product = f"-{upstream}" if upstream != "1.0" else "-1.0"
            elif upstream == "1.0":
                product = f"({local})"
            else:
                product = f"{upstream} * ({local})"
            target = f"g{j}"
            if j in adjoint:
                body.append(f"{target} = {adjoint[j]} + {product}")
                adjoint[j] = target
            elif _simple(product):
                adjoint[j] = product
            else:
                body.append(f"{target} = {product}")
                adjoint[j] = target

    parameters = [f"p{k}" for k in range(len(params))]
    for k, name in enumerate(params):
        node_index = tape.variable_nodes[name]
        if node_index in adjoint:
            body.append(f"p{k} = p{k} - lr * {adjoint[node_index]}")
    output = names[tape.output]
    body.append(f"total += {output}")
    if checked:
        # One flat call, not a chain of additions: thousands of terms would make Python's
        # compiler recurse too deeply on a nested a + b + c + ... expression.
        body.append(f"check += sum(({', '.join(checked)},)) * 0.0")

    unpack = ", ".join(f"d{k}" for k in range(len(data_names)))
    lines = [
        f"def epoch(rows, {', '.join(parameters)}, lr, total):",
        "    check = 0.0",
        f"    for {unpack}, in rows:",
        *(f"        {line}" for line in body),
        f"    return ({', '.join(parameters)}, total, {output}, check)",
    ]
    return "\n".join(lines) + "\n"


def row_sgd_epoch(
    tape: Tape, data_names: tuple[str, ...], params: tuple[str, ...]
) -> Callable[..., tuple]:
    """Compile ``row_sgd_source`` into a function (see the module's note on safety)."""
    source = row_sgd_source(tape, data_names, params)
    namespace: dict = {"m": FLOAT64, "__builtins__": {"abs": abs, "sum": sum}}
    # Safe: ``source`` is generated from our own validated tape, never from user text. It holds
    # only the op templates of the op table (ops/table.py and ops/helpers.py; a derivative's
    # code is made by ops/op.py derive_codes from the table's own constant forms),
    # identifiers we make from node indices (v12, g3)
    # and constants written by repr() of floats the parser already checked to be finite; a
    # node's source text and the user's names never appear in it. Builtins: abs and sum only.
    exec(compile(source, "<backtrace compiled epoch>", "exec"), namespace)  # noqa: S102
    return namespace["epoch"]

