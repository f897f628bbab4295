"""The chain-rule section derives every adjoint it uses, in order from the output: named steps
by name, the others by id; with arrays, a line that would only repeat the result is left out.
"""

from __future__ import annotations

import pytest

from backtrace_cli.engine.tape import compile_program
from backtrace_cli.explain.gradient import explain
from backtrace_cli.syntax.parser import parse

NEURON = "(sigmoid(x*w + b) - y)**2"
NEURON_BINDINGS = {"x": 1.0, "w": 2.0, "b": 0.5, "y": 1.0}


def explained(source: str, bindings: dict, seed=1.0):
    return explain(compile_program(parse(source)), bindings, seed, check=False)


def derived(explanation) -> list[str]:
    return [explanation.labels[rule.target] for rule in explanation.chain_rules]


def test_the_neuron_derives_each_unnamed_step_from_the_output_down():
    explanation = explained(NEURON, NEURON_BINDINGS)
    assert derived(explanation) == ["v8", "y", "v6", "v5", "b", "v3", "w", "x"]
    rules = {explanation.labels[rule.target]: rule for rule in explanation.chain_rules}
    assert rules["v5"].total == pytest.approx(-0.01063588069967406, rel=1e-15)
    (edge,) = rules["v5"].contributions
    assert explanation.labels[edge.node] == "v6"
    assert edge.upstream == rules["v6"].total  # dL/dv6, derived on the line before
    assert edge.product == rules["v5"].total


@pytest.mark.parametrize(("source", "bindings"), [
    (NEURON, NEURON_BINDINGS),
    ("x*x + 2*x", {"x": 3.0}),
    ("h = x*w; r = h - y; loss = r**2", {"x": 2.0, "w": 3.0, "y": 1.0}),
    ("a = x*1e-5; a = a + sin(a); a - -2.5e-7 + pi", {"x": 3.0}),
    ("exp(x*y) / (1 + x*y) + tanh(x - y)", {"x": 0.3, "y": -0.7}),
])
def test_every_adjoint_a_line_uses_is_derived_above_it(source, bindings):
    explanation = explained(source, bindings, seed=2.0)
    output = explanation.tape.output
    available = {output}
    for rule in explanation.chain_rules:
        for edge in rule.contributions:
            assert edge.node in available, (explanation.labels[edge.node], derived(explanation))
        available.add(rule.target)
    # Every variable's gradient is among the lines.
    variables = {explanation.tape.variable_nodes[name] for name in explanation.tape.variables}
    assert variables <= available


def test_a_line_uses_the_names_of_named_steps():
    explanation = explained("h = x*w; r = h - y; loss = r**2", {"x": 2.0, "w": 3.0, "y": 1.0})
    assert derived(explanation) == ["r", "y", "h", "w", "x"]


def test_with_arrays_a_single_unnamed_step_is_left_out():
    import numpy

    bindings = {"W": numpy.array([[1.0, 2.0], [3.0, 4.0]]), "x": numpy.array([1.0, -1.0]),
                "b": numpy.array([0.5, 0.0])}
    explanation = explained("sum(sigmoid(W @ x + b))", bindings)
    assert derived(explanation) == ["b", "x", "W"]
    named = explained("h = W @ x + b; sum(sigmoid(h))", bindings)
    assert derived(named) == ["h", "b", "x", "W"]
