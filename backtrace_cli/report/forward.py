"""The report of ``backtrace grad --mode forward|both``: the tangent traces beside the
adjoint trace (Baydin et al. 2018, Tables 2 and 3) and what each mode costs.

``--mode reverse`` (the default) is ``report.grad.build`` itself, byte for byte. ``forward``
shows the evaluation trace, one tangent trace per seed (``v̇4 = ẋ1·x2 + ẋ2·x1 = 1·5 + 0·2 =
5``) and the gradients read from the tangents, checked; ``both`` adds the reverse sweep, the
order in which each adjoint accumulates (``dz/dx2 = dz/dx2 + dz/dv4 · dv4/dx2``), the two
modes' gradients side by side and the cost of each on this tape.
"""

from __future__ import annotations

import json

from backtrace_cli.engine.nodes import CONST, VAR
from backtrace_cli.engine.values import is_array
from backtrace_cli.explain.cost import Cost
from backtrace_cli.explain.forward import ForwardMode, Sweep, rule_terms
from backtrace_cli.explain.gradient import Explanation
from backtrace_cli.i18n import _, use_language
from backtrace_cli.report.grad import (
    backward_section,
    chain_rule_section,
    forward_section,
    gradients_section,
    math_label,
    value_cell,
)
from backtrace_cli.report.grad_json import grad_json_text
from backtrace_cli.report.grad_text import CHECK_MARK, reference, rule_text, seed_line
from backtrace_cli.report.model import Column, Lazy, LazyData, Lines, Report, Table, Text, joined
from backtrace_cli.report.notation import formula_math, math_name, math_number, partial
from backtrace_cli.report.text import number, plain
from backtrace_cli.syntax.unparse import apply_text

DOT = "\u0307"  # combining dot above: ẋ, v̇ (Newton's notation for a tangent)
# Past this many sweeps (the elements of large arrays) the tables show the first ones; the
# JSON has every sweep.
SWEEPS_SHOWN = 12


def dotted(label: str) -> str:
    """A tangent's name: x1 -> ẋ1, v4 -> v̇4, y_hat -> ẏ_hat (NFC: a precomposed letter
    where Unicode has one, as a person types it)."""
    import unicodedata

    return unicodedata.normalize("NFC", label[:1] + DOT) + label[1:]


def dotted_math(explanation: Explanation, index: int) -> str:
    return r"\dot{" + math_name(explanation.labels[index]) + "}"


def build(explanation: Explanation, modes: ForwardMode, mode: str) -> Report:
    """The report of ``--mode forward`` or ``--mode both``."""
    from backtrace_cli.report.grad import build as reverse_build

    base = reverse_build(explanation)
    text = modes_json_text(explanation, modes, mode)
    return Report(
        command="grad",
        title=base.title,
        sections=Lazy(lambda: sections(explanation, modes, mode)),
        data=LazyData(lambda: text),
        json_text=lambda: text,
        compact=base.compact,
    )


def sections(explanation: Explanation, modes: ForwardMode, mode: str) -> tuple:
    shown = modes.sweeps[:SWEEPS_SHOWN]
    tangent_tables = [tangent_section(explanation, sweep, k + 1, len(modes.sweeps))
                      for k, sweep in enumerate(shown)]
    if mode == "forward":
        return (forward_section(explanation), *tangent_tables,
                gradients_section(explanation))
    return (forward_section(explanation), *tangent_tables, backward_section(explanation),
            chain_rule_section(explanation), adjoint_trace_section(explanation),
            gradients_section(explanation), comparison_section(explanation, modes),
            cost_section(modes))


# ----------------------------------------------------------------------------- tangents
def tangent_rule(explanation: Explanation, sweep: Sweep, index: int) -> Text:
    """v̇4 = ẋ1·x2 + ẋ2·x1 = 1·5 + 0·2 = 5: the rule, its numbers and the tangent (and the
    same as math for LaTeX, ``\\dot{v}_{4} = ...``; an array op's row has none)."""
    tape = explanation.tape
    node = tape.nodes[index]
    labels = explanation.labels
    tangent = sweep.tangents.tangents[index]
    own, own_math = dotted(labels[index]), dotted_math(explanation, index)

    def said(words: str, math_words: str) -> Text:
        return Text(f"{own} = {words}", f"{own_math} = {math_words}", code=True)

    if index in sweep.tangents.seeds:
        seed = "1" if not sweep.element else _("1 at [{element}]").format(
            element=", ".join(map(str, sweep.element)))
        why = _("the seed") if node.kind == VAR else _(
            "the seed: {name} taken as an input").format(name=labels[index])
        return said(f"{seed} ({why})", rf"1 \ \text{{({why.replace('_', ' ')})}}")
    if node.kind == VAR:
        return said("0", "0")
    if node.kind == CONST:
        constant = _("a constant")
        return said(f"0 ({constant})", rf"0 \ \text{{({constant})}}")
    if tangent is None:
        return said(_("0 (no path from {name})").format(name=sweep.wrt),
                    r"0 \ \text{(" + _("no path from the seed") + ")}")
    terms = rule_terms(explanation, sweep, index)
    op = node.op
    if op.jvps and explanation.shapes is not None:  # linear in each input: the op on a tangent
        symbols = []
        for term in terms:
            operands = []
            for position, j in enumerate(node.inputs):
                if position == term.position:
                    operands.append((dotted(labels[j]), 100))
                elif op.variadic:
                    operands.append(("0", 100))
                else:
                    operands.append((reference(explanation, j), tape.nodes[j].precedence))
            symbols.append(apply_text(op, operands))
        values = [number(term.product) for term in terms]
        return Text(f"{own} = {' + '.join(symbols)} = {' + '.join(values)} = "
                    f"{number(tangent)}", code=True)
    symbols, values, symbols_math, values_math = [], [], [], []
    for term in terms:
        local = rule_text(explanation, index, term.input, term.position)
        input_tangent = dotted(labels[term.input])
        input_math = dotted_math(explanation, term.input)
        if local in ("1", "-1"):
            sign = "-" if local == "-1" else ""
            symbols.append(sign + input_tangent)
            values.append(sign + number(term.tangent))
            symbols_math.append(sign + input_math)
            values_math.append(sign + math_number(term.tangent))
            continue
        wrapped = f"({local})" if any(c in local for c in " +-/") else local
        local_math = formula_math(local) or r"\text{" + local.replace("_", " ") + "}"
        symbols.append(f"{input_tangent}·{wrapped}")
        symbols_math.append(rf"{input_math} \cdot \left({local_math}\right)"
                            if wrapped != local else rf"{input_math} \cdot {local_math}")
        if term.local is None:
            values.append("0")
            values_math.append("0")
        else:
            values.append(f"{number(term.tangent)}·{number(term.local)}")
            values_math.append(rf"{math_number(term.tangent)} \cdot {_math_factor(term.local)}")
    plain_text = f"{own} = {_sum(symbols)} = {_sum(values)} = {number(tangent)}"
    math = (f"{own_math} = {_sum(symbols_math)} = {_sum(values_math)} = "
            f"{math_number(tangent)}")
    return Text(plain_text, math, code=True)


def _seeded(sweep: Sweep) -> str:
    """The seeded element in math: x_1, or W_{[0,1]}."""
    name = math_name(sweep.wrt)
    return name + (f"_{{[{','.join(map(str, sweep.element))}]}}" if sweep.element else "")


def _math_factor(value) -> str:
    r"""A number after a dot: negative ones in parentheses, 1 \cdot (-2)."""
    text = math_number(value)
    return f"({text})" if text.startswith("-") else text


def _sum(terms: list[str]) -> str:
    """a + b, and a - b for a term written with its minus."""
    text = terms[0]
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


def tangent_section(explanation: Explanation, sweep: Sweep, k: int, total: int) -> Table:
    tape = explanation.tape
    labels = explanation.labels
    columns = (Column(Text(_("id"))), Column(Text(_("name"))), Column(Text(_("value")), "right"),
               Column(Text(_("tangent rule"))), Column(Text(_("tangent")), "right"))
    rows = []
    for node in tape.nodes:
        i = node.index
        named = node.name is not None or i == tape.output
        tangent = sweep.tangents.tangents[i]
        rows.append((
            Text(node.id, math_name(node.id)),
            Text(labels[i], math_label(explanation, i)) if named else Text(""),
            value_cell(explanation.values[i]),
            tangent_rule(explanation, sweep, i),
            value_cell(0.0 if tangent is None else tangent),
        ))
    seeded = tape.nodes[next(iter(sweep.tangents.seeds))]
    others = _("the other inputs 0") if seeded.kind == VAR else _("its inputs ignored")
    seed_math = (r"\dot{" + math_name(sweep.wrt) + "}"
                 + (f"_{{[{','.join(map(str, sweep.element))}]}}" if sweep.element else ""))
    title = joined(_("Tangent sweep {k} of {total}: seed ").format(k=k, total=total),
                   Text(f"{dotted(sweep.label)} = 1", f"{seed_math} = 1"),
                   _(" ({others})").format(others=others))
    output = labels[tape.output]
    loss = explanation.loss_label
    out_tangent = sweep.tangents.tangents[tape.output]
    out_tangent = 0.0 if out_tangent is None else out_tangent
    loss_math = math_name(loss)
    out_math = r"\dot{" + math_name(output) + "}"
    if loss == output:
        after = Text(f"d{loss}/d{sweep.label} = {dotted(output)} = {number(sweep.gradient)}",
                     f"{partial(loss_math, _seeded(sweep))} = "
                     f"{out_math} = {math_number(sweep.gradient)}", code=True)
    else:
        after = Text(f"d{loss}/d{sweep.label} = d{loss}/d{output} · {dotted(output)} = "
                     f"{number(explanation.seed)} · {number(out_tangent)} = "
                     f"{number(sweep.gradient)}",
                     f"{partial(loss_math, _seeded(sweep))} = "
                     rf"{partial(loss_math, math_name(output))} \cdot {out_math} = "
                     rf"{math_number(explanation.seed)} \cdot {_math_factor(out_tangent)} = "
                     f"{math_number(sweep.gradient)}", code=True)  # math: never "DL/dx"
    notes = ()
    if k == SWEEPS_SHOWN and total > SWEEPS_SHOWN:
        notes = (Text(_("… {count:,} more sweeps, one per element (--format json has every "
                        "one)").format(count=total - SWEEPS_SHOWN)),)
    return Table(title=title, columns=columns, rows=tuple(rows), after=(after,), notes=notes,
                 key=f"tangents_{k}")


# ----------------------------------------------------------------------------- reverse
def adjoint_trace_section(explanation: Explanation) -> Lines:
    """The reverse sweep as Baydin's Table 3 writes it: each adjoint as it accumulates, in the
    order the sweep adds to it (dz/dx2 = dz/dx2 + dz/dv4 · dv4/dx2 = -0.2837 + 1 · 2)."""
    loss = explanation.loss_label
    labels = explanation.labels
    arrays = explanation.shapes is not None
    running: dict[int, object] = {}
    lines = [Text(seed_line(explanation), code=True)]
    for edge in explanation.edges:
        target, via = labels[edge.input], labels[edge.node]
        step = f"d{loss}/d{via} · d{via}/d{target}"
        if arrays:
            numbers = number(edge.product)
        else:
            numbers = f"{number(edge.upstream)} · {number(edge.local)}"
        previous = running.get(edge.input)
        if previous is None:
            total = edge.product
            line = f"d{loss}/d{target} = {step} = {numbers} = {number(total)}"
        else:
            total = previous + edge.product
            line = (f"d{loss}/d{target} = d{loss}/d{target} + {step} = {number(previous)} + "
                    f"{numbers} = {number(total)}")
        running[edge.input] = total
        lines.append(Text(line, code=True))
    return Lines(title=Text(_("Adjoint trace (each adjoint as it accumulates)")),
                 lines=tuple(lines), key="adjoint_trace")


def comparison_section(explanation: Explanation, modes: ForwardMode) -> Table:
    columns = (Column(Text(_("name"))), Column(Text(_("forward mode (tangents)")), "right"),
               Column(Text(_("reverse mode (adjoints)")), "right"),
               Column(Text(_("agree")), "center"))
    rows = []
    for name, reverse in explanation.gradients.items():
        forward = modes.gradients[name]
        same = _agree(forward, reverse)
        rows.append((Text(name, math_name(name)), value_cell(forward), value_cell(reverse),
                     Text(CHECK_MARK if same else "✗", tone="good" if same else "bad")))
    return Table(title=Text(_("Forward and reverse mode")), columns=columns, rows=tuple(rows),
                 key="modes")


def _agree(forward, reverse) -> bool:
    """Equal up to the rounding of a different order of sums."""
    import numpy

    a, b = numpy.asarray(forward, float), numpy.asarray(reverse, float)
    return bool((numpy.abs(a - b) <= 1e-12 + 1e-9 * numpy.maximum(abs(a), abs(b))).all())


def cost_section(modes: ForwardMode | Cost) -> Table:
    """Sweeps, multiplications and values stored per mode, and which wins (explain.cost)."""
    cost = modes if isinstance(modes, Cost) else modes.cost
    columns = (Column(Text(_("mode"))), Column(Text(_("sweeps")), "right"),
               Column(Text(_("multiplications")), "right"),
               Column(Text(_("values stored")), "right"))
    rows = tuple(
        (Text(name), Text(f"{each.sweeps:,}"), Text(f"{each.multiplications:,}"),
         Text(f"{each.stored:,}"))
        for name, each in ((_("forward"), cost.forward), (_("reverse"), cost.reverse)))
    notes = (Text(_("multiplications: the chain-rule products on this tape (local × tangent, "
                    "upstream × local), none for a local derivative of 1 or -1; stored: a value "
                    "and a tangent per node until its last reader (forward), every value and "
                    "adjoint (reverse)")),)
    return Table(title=Text(_("Cost on this tape")), columns=columns, rows=rows,
                 after=(Text(cost.sentence()),), notes=notes, key="cost")


# ----------------------------------------------------------------------------- JSON
def cost_document(modes: ForwardMode | Cost) -> dict:
    cost = modes if isinstance(modes, Cost) else modes.cost
    return {
        "forward": vars(cost.forward).copy(),
        "reverse": vars(cost.reverse).copy(),
        "inputs": cost.inputs,
        "outputs": cost.outputs,
        "winner": cost.winner,
        "sentence": english_sentence(cost),
    }


def english_sentence(cost: Cost) -> str:
    """The JSON keeps the verdict in English whatever the language."""
    with use_language("en"):
        return cost.sentence()


def tangents_document(explanation: Explanation, modes: ForwardMode) -> list:
    nodes = explanation.tape.nodes
    zero = 0.0
    return [
        {"wrt": sweep.wrt, "element": list(sweep.element), "gradient": sweep.gradient,
         "rows": [{"id": node.id, "value": plain(explanation.values[node.index]),
                   "tangent": plain(zero if sweep.tangents.tangents[node.index] is None
                                    else _full(explanation, node.index,
                                               sweep.tangents.tangents[node.index]))}
                  for node in nodes]}
        for sweep in modes.sweeps
    ]


def _full(explanation: Explanation, index: int, tangent):
    return tangent if is_array(tangent) or explanation.shapes is None else float(tangent)


def modes_json_text(explanation: Explanation, modes: ForwardMode, mode: str) -> str:
    """grad's JSON document with ``mode``, ``tangents`` and ``cost``; in forward mode the
    ``gradients`` are the ones read from the tangents."""
    document = json.loads(grad_json_text(explanation))
    if mode == "forward":
        document["gradients"] = {name: plain(value) for name, value in modes.gradients.items()}
    document["mode"] = mode
    document["tangents"] = tangents_document(explanation, modes)
    document["cost"] = cost_document(modes)
    return json.dumps(document, ensure_ascii=False)

