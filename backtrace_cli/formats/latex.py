"""LaTeX for course notes: the forward table, the backward table and the chain rule.

``grad_latex`` reads an ``Explanation`` (see ``grad.py``) and writes a fragment to paste into
a document that loads ``booktabs`` (the tables' rules) and ``amsmath`` (``align*``).
Derivatives use the ``\\frac{\\partial L}{\\partial x}`` notation; unnamed nodes are
Griewank's ``v_{3}``. Expressions and formulas are typeset as code, with every character
LaTeX treats specially escaped. Nothing here depends on the clock or the machine, so the
same explanation always gives the same text.
"""

from __future__ import annotations

import math
import re

from backtrace_cli.engine.tape import CONST
from backtrace_cli.explain.gradient import ChainRule, Explanation
from backtrace_cli.formats.render import check_cells, input_ids, number, one_line, rule_text

# Characters LaTeX reads specially in text, and a few non-ASCII ones our texts use.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "·": r"$\cdot$",
    "²": r"\textsuperscript{2}",
    "σ": r"$\sigma$",
    "–": "--",
    "…": r"\ldots{}",
    "✓": r"$\surd$",
    "✗": r"$\times$",
}

NODE = r"\mathrm{node}"
VARIABLE = r"\mathrm{variable}"
_NODE_ID = re.compile(r"v([0-9]+)")


def latex_escape(text: str) -> str:
    """Text safe in LaTeX's text mode: specials escaped, line breaks as spaces."""
    return "".join(_TEXT_ESCAPES.get(char, char) for char in " ".join(text.split()))


def code(text: str) -> str:
    r"""Text as ``\texttt{...}``, escaped."""
    return r"\texttt{" + latex_escape(text) + "}"


def math_number(value) -> str:
    r"""A number for math mode: ``-2``, ``0.5``, ``1 \times 10^{-5}`` (exact round-trip digits);
    an array as a ``bmatrix`` (a vector as a column) with its elements rounded as the tables
    round them."""
    if getattr(value, "ndim", 0) > 0:
        return _math_array(value)
    value = float(value)
    if math.isnan(value):
        return r"\mathrm{nan}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    text = number(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


def _math_array(value) -> str:
    from backtrace_cli.formats.render import compact_array

    rows = value.reshape(-1, 1) if value.ndim == 1 else value.reshape(value.shape[0], -1)
    body = r" \\ ".join(
        " & ".join(compact_array(row[i : i + 1]).strip("[]") for i in range(len(row)))
        for row in rows
    )
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def math_name(label: str) -> str:
    r"""A label in math mode: ``x``, ``\mathit{y\_hat}``, ``v_{3}``, primes kept (``c'``)."""
    base = label.rstrip("'")
    primes = label[len(base):]
    match = _NODE_ID.fullmatch(base)
    if match:
        return f"v_{{{match.group(1)}}}{primes}"
    if len(base) == 1:
        return base + primes
    return r"\mathit{" + base.replace("_", r"\_") + "}" + primes


def math_label(explanation: Explanation, index: int) -> str:
    """How a node is written in formulas: its label, a constant as its number (or pi)."""
    node = explanation.tape.nodes[index]
    if node.kind == CONST:
        return r"\pi" if node.text == "pi" else (
            "e" if node.text == "e" else math_number(node.value)
        )
    return math_name(explanation.labels[index])


def partial(numerator: str, denominator: str) -> str:
    r"""``\frac{\partial L}{\partial x}``."""
    return f"\\frac{{\\partial {numerator}}}{{\\partial {denominator}}}"


def _loss(explanation: Explanation) -> str:
    return math_name(explanation.loss_label)


def _table(columns: str, headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = [f"\\begin{{tabular}}{{{columns}}}", r"\toprule", " & ".join(headers) + r" \\",
             r"\midrule"]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return lines


def _ids_math(text: str) -> str:
    """'v1, v2' as '$v_{1}, v_{2}$' (empty stays empty)."""
    if not text:
        return ""
    return "$" + ", ".join(math_name(part.strip()) for part in text.split(",")) + "$"


def _number_cell(text: str) -> str:
    """A table cell that holds a number as text (or a dash when there is none)."""
    try:
        return f"${math_number(float(text))}$"
    except ValueError:
        return latex_escape(text)


def seed_equation(explanation: Explanation, aligned: bool = True) -> str:
    r"""``\frac{\partial L}{\partial z} = 5`` (with ``&`` for ``align*`` when ``aligned``)."""
    output = math_label(explanation, explanation.tape.output)
    equals = "&=" if aligned else "="
    if explanation.loss_label == explanation.labels[explanation.tape.output]:
        return f"{partial(output, output)} {equals} 1"
    return f"{partial(_loss(explanation), output)} {equals} {math_number(explanation.seed)}"


def chain_rule_equation(explanation: Explanation, rule: ChainRule) -> str:
    r"""dL/dx as a sum over the consumers of x: symbols, then (upstream)(local), then the total."""
    loss = _loss(explanation)
    target = math_label(explanation, rule.target)
    symbols = " + ".join(
        f"{partial(loss, math_label(explanation, t.node))} \\cdot "
        f"{partial(math_label(explanation, t.node), target)}"
        for t in rule.contributions
    )
    values = " + ".join(
        f"({math_number(t.upstream)})({math_number(t.local)})" for t in rule.contributions
    )
    return f"{partial(loss, target)} &= {symbols} = {values} = {math_number(rule.total)}"


def _centered(table: list[str]) -> list[str]:
    return [r"\begin{center}", *table, r"\end{center}", ""]


def _forward_lines(explanation: Explanation) -> list[str]:
    tape = explanation.tape
    rows = []
    for node in tape.nodes:
        named = node.name is not None or node.index == tape.output
        rows.append([
            f"${math_name(node.id)}$",
            f"${math_label(explanation, node.index)}$" if named else "",
            code(node.op_name),
            _ids_math(input_ids(explanation, node.index)),
            code(node.text),
            f"${math_number(explanation.values[node.index])}$",
        ])
    headers = ["id", "name", "op", "inputs", "expression", "value"]
    output = math_label(explanation, tape.output)
    return [
        r"\paragraph{Forward pass} " + code(one_line(tape.source, 200)),
        "",
        *_centered(_table("lllllr", headers, rows)),
        f"Output ${output} = {math_number(explanation.output)}$.",
        "",
    ]


def _backward_lines(explanation: Explanation) -> list[str]:
    seed_note = "" if explanation.seed == 1 else r" (the seed, \texttt{-{}-dz})"
    lines = [rf"\paragraph{{Backward pass}} Seed ${seed_equation(explanation, False)}${seed_note}.",
             ""]
    if not explanation.edges:
        return lines + ["No variable reaches the output; every gradient is $0$.", ""]
    rows = []
    for edge in explanation.edges:
        node = math_label(explanation, edge.node)
        input_ = math_label(explanation, edge.input)
        rows.append([
            f"${node}$",
            f"${input_}$",
            f"${math_number(edge.upstream)}$",
            f"${partial(node, input_)} = $ {code(rule_text(explanation, edge.node, edge.input))}",
            f"${math_number(edge.local)}$",
            f"${math_number(edge.product)}$",
        ])
    headers = [
        "node",
        "input",
        f"upstream ${partial(_loss(explanation), NODE)}$",
        r"local $\frac{\partial\,\mathrm{node}}{\partial\,\mathrm{input}}$",
        "",
        "product",
    ]
    return lines + _centered(_table("llrlrr", headers, rows))


def _chain_rule_lines(explanation: Explanation) -> list[str]:
    equations = [seed_equation(explanation)]
    equations += [chain_rule_equation(explanation, rule) for rule in explanation.chain_rules]
    body = [equation + r" \\" for equation in equations[:-1]] + [equations[-1]]
    return [r"\paragraph{Chain rule}", "", r"\begin{align*}", *body, r"\end{align*}", ""]


def _gradient_lines(explanation: Explanation) -> list[str]:
    checked = explanation.check is not None
    headers = ["variable", f"${partial(_loss(explanation), VARIABLE)}$"]
    if checked:
        headers += ["SymPy derivative", "SymPy value", "finite difference", "check"]
    rows = []
    for name, value in explanation.gradients.items():
        row = [f"${math_name(name)}$", f"${math_number(value)}$"]
        if checked:
            derivative, sympy_value, numeric, verdict = check_cells(explanation, name)
            row += [code(derivative), _number_cell(sympy_value), _number_cell(numeric),
                    latex_escape(verdict)]
        rows.append(row)
    columns = "lr" + ("lrrc" if checked else "")
    return [r"\paragraph{Gradients}", "", *_centered(_table(columns, headers, rows))]


def grad_latex(explanation: Explanation) -> str:
    """Forward table, backward table, chain rule and gradients as a LaTeX fragment."""
    source = one_line(explanation.tape.source, 200)
    bindings = ", ".join(
        f"{name} = {number(value)}" for name, value in explanation.bindings.items()
    )
    lines = [
        r"% backtrace grad --format latex; needs \usepackage{booktabs} and \usepackage{amsmath}",
        f"% {source}" + (f"  with {bindings}" if bindings else ""),
        "",
        *_forward_lines(explanation),
        *_backward_lines(explanation),
        *_chain_rule_lines(explanation),
        *_gradient_lines(explanation),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
