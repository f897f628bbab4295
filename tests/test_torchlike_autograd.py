"""backtrace's torch records through the engine: nodes carry table ops, values, inputs and
where the user's code made them; listeners see each backward(); the graph becomes a Tape.
Also: the fused multiply-add of SGD is exact, and what is outside the subset says so."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy
import pytest

import backtrace_cli.torchlike as torch
from backtrace_cli.engine import recording
from backtrace_cli.torchlike import _autograd
from backtrace_cli.torchlike._autograd import source_position
from backtrace_cli.torchlike._ops import fused_add


def _loss(x, y, w):
    y_pred = x * w
    return (y_pred - y) ** 2


def test_each_node_knows_its_op_inputs_value_and_source_segment():
    w = torch.tensor([1.0], requires_grad=True)
    loss = _loss(2.0, 4.0, w)
    power = loss.grad_fn
    assert power.op.name == "pow" and power.name() == "PowBackward0"
    difference = power.inputs[0]
    assert difference.op.name == "sub" and difference.value.tolist() == [-2.0]
    product = difference.inputs[0]
    # a number times a tensor is recorded as PyTorch records it: tensor first
    assert product.op.name == "mul" and product.inputs[0] is w._accumulator()
    filename, line, column, end_line, end_column = source_position(power.site)
    assert filename == __file__
    source = open(__file__, encoding="utf-8").read().splitlines()[line - 1]
    assert source[column:end_column] == "(y_pred - y) ** 2"
    _, line, column, _, end_column = source_position(product.site)
    assert open(__file__).read().splitlines()[line - 1][column:end_column] == "x * w"


def test_a_listener_sees_every_backward_before_the_graph_is_freed():
    calls = []
    _autograd.LISTENERS.append(calls.append)
    _autograd.RECORD_EDGES[0] = True
    try:
        w = torch.tensor([1.0], requires_grad=True)
        for x, y in ((1.0, 2.0), (2.0, 4.0)):
            _loss(x, y, w).backward()
    finally:
        _autograd.LISTENERS.remove(calls.append)
        _autograd.RECORD_EDGES[0] = False
    assert len(calls) == 2
    second = calls[1]
    assert [node.name() for node in second.nodes] == ["PowBackward0", "SubBackward0",
                                                     "MulBackward0"]
    products = [(node.name(), position, float(product[0]))
                for node, position, _, product in second.edges]
    assert products == [("PowBackward0", 0, -4.0), ("SubBackward0", 0, -4.0),
                        ("MulBackward0", 0, -8.0)]
    tensor, before, added = second.leaves[0]
    assert tensor is w and before.tolist() == [-2.0] and added.tolist() == [-8.0]
    assert w.grad.tolist() == [-10.0]


def test_a_torch_graph_is_an_engine_tape():
    w = torch.tensor(1.0, requires_grad=True)
    loss = _loss(torch.tensor(3.0), 6.0, w)
    tape, bindings = recording.to_tape(loss.grad_fn)
    assert [node.op_name for node in tape.nodes] == ["const", "var", "mul", "const", "sub",
                                                    "const", "pow"]
    assert tape.nodes[-1].text == "(3*x1 - 6)**2"
    assert list(bindings) == ["x1"] and bindings["x1"].dtype == numpy.float32


def test_the_float32_gradient_is_the_engines_table_step():
    w = torch.tensor([0.7], requires_grad=True)
    loss = _loss(torch.tensor([1.1]), torch.tensor([2.3]), w)
    adjoints = recording.reverse(loss.grad_fn, numpy.ones(1, numpy.float32))
    loss.backward()
    assert adjoints[w._accumulator()].tolist() == w.grad.tolist()
    assert w.grad.dtype is torch.float32


def test_nodes_that_saved_nothing_run_again_and_the_rest_raise():
    w = torch.tensor([1.0], requires_grad=True)
    total = (w + 3).sum()
    total.backward()
    total.backward()
    assert w.grad.tolist() == [2.0]
    square = (w * w).sum()
    square.backward(retain_graph=True)
    square.backward()
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second"):
        square.backward()


@pytest.mark.parametrize("seed", range(4))
def test_fused_add_rounds_once(seed):
    """a + alpha*b rounded once to float32: checked against exact rational arithmetic,
    with values chosen so that rounding twice would often be wrong."""
    generator = numpy.random.default_rng(seed)
    a = generator.standard_normal(4000).astype(numpy.float32)
    b = generator.standard_normal(4000).astype(numpy.float32) * numpy.float32(2.0**-12)
    alpha = float(numpy.float32(-0.01))
    result = fused_add(a, b, alpha)
    for x, y, got in zip(a.tolist(), b.tolist(), result.tolist()):
        exact = Fraction(x) + Fraction(alpha) * Fraction(y)
        candidates = sorted({float(numpy.float32(float(exact))),
                             float(numpy.nextafter(numpy.float32(float(exact)), numpy.inf,
                                                   dtype=numpy.float32)),
                             float(numpy.nextafter(numpy.float32(float(exact)), -numpy.inf,
                                                   dtype=numpy.float32))},
                            key=lambda c: (abs(Fraction(c) - exact), int(numpy.float32(c)
                                                                          .view(numpy.int32)) & 1))
        assert got == candidates[0]


def test_outside_the_subset_says_so():
    messages = []
    for thing in (lambda: torch.nn.Conv2d, lambda: torch.optim.Adam, lambda: torch.cat,
                  lambda: torch.ones(2).max(), lambda: torch.nn.functional.softmax,
                  lambda: torch.autograd.grad, lambda: torch.nn.Linear(1, 1).state_dict()):
        with pytest.raises(NotImplementedError) as caught:
            thing()
        messages.append(str(caught.value))
    assert messages[0] == ("backtrace's torch has no torch.nn.Conv2d: run this script with "
                           "PyTorch itself")
    assert messages[2] == ("backtrace's torch has no torch.cat: run this script with PyTorch "
                           "itself")
    assert all(m.endswith(": run this script with PyTorch itself") for m in messages)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nonexistent'"):
        _ = torch.nn.Linear(1, 1).nonexistent


def test_torch_imports_no_click_rich_or_sympy():
    code = ("import sys, backtrace_cli.torchlike; "
            "print(sorted(m for m in ('click', 'rich', 'sympy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_backtraces_own_words_follow_the_readers_language():
    from backtrace_cli.i18n import use_language

    with use_language("zh"), pytest.raises(NotImplementedError) as caught:
        torch.nn.Conv2d  # noqa: B018 (the attribute access is what raises)
    assert str(caught.value) == ("backtrace 的 torch 没有 torch.nn.Conv2d：请用 PyTorch 本身运行"
                                 "这个脚本")


def test_the_seeded_numbers_of_the_issue():
    torch.manual_seed(0)
    assert repr(torch.rand(3)) == "tensor([0.4963, 0.7682, 0.0885])"
    torch.manual_seed(0)
    linear = torch.nn.Linear(1, 1)
    assert linear.weight.item() == -0.007486820220947266
    assert linear.bias.item() == 0.5364435911178589
    assert torch.tensor(0.1).item() == 0.10000000149011612
