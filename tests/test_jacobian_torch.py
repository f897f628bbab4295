"""Forward mode and Jacobians against PyTorch: ``torch.autograd.functional.jacobian`` and
``torch.func.jvp`` (skipped where torch is not installed)."""

from __future__ import annotations

import numpy
import pytest

torch = pytest.importorskip("torch")

from backtrace_cli import jacobian  # noqa: E402
from backtrace_cli.engine.backends import numpy_backend  # noqa: E402
from backtrace_cli.engine.forward_mode import tangent_sweep  # noqa: E402
from backtrace_cli.engine.sweeps import forward  # noqa: E402
from backtrace_cli.engine.tape import compile_program  # noqa: E402
from backtrace_cli.engine.values import numeric_setting  # noqa: E402
from backtrace_cli.syntax.parser import parse  # noqa: E402

RANDOM = numpy.random.default_rng(7)
W = RANDOM.normal(size=(3, 2))
X = RANDOM.normal(size=2)
B = RANDOM.normal(size=3)
V = RANDOM.normal(size=(2, 2))

# (our program, the same in torch, bindings)
PROGRAMS = [
    ("sigmoid(W @ x + b)", lambda W, x, b: torch.sigmoid(W @ x + b), {"W": W, "x": X, "b": B}),
    ("tanh(W @ x) * b - exp(b) / 3", lambda W, x, b: torch.tanh(W @ x) * b - torch.exp(b) / 3,
     {"W": W, "x": X, "b": B}),
    ("transpose(V) @ V + V * V", lambda V: V.T @ V + V * V, {"V": V}),
    ("[sum(x * x), mean(x), sin(sum(x))]",
     lambda x: torch.stack([torch.sum(x * x), torch.mean(x), torch.sin(torch.sum(x))]),
     {"x": X}),
    ("softplus(W @ x) ** 2 + [1, 2, 3]", lambda W, x: torch.nn.functional.softplus(W @ x) ** 2
     + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), {"W": W, "x": X}),
]


def _tensors(bindings):
    return tuple(torch.tensor(value, dtype=torch.float64) for value in bindings.values())


@pytest.mark.parametrize(("source", "function", "bindings"), PROGRAMS,
                         ids=[p[0] for p in PROGRAMS])
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_matches_torch_autograd_functional_jacobian(source, function, bindings, mode):
    ours = jacobian(source, bindings, mode=mode, cross_check=False).jacobian
    theirs = torch.autograd.functional.jacobian(function, _tensors(bindings))
    for name, block in zip(bindings, theirs):
        assert numpy.allclose(ours[name], block.numpy(), rtol=1e-13, atol=1e-15), name


@pytest.mark.parametrize(("source", "function", "bindings"), PROGRAMS,
                         ids=[p[0] for p in PROGRAMS])
def test_one_tangent_sweep_matches_torch_func_jvp(source, function, bindings):
    # All inputs seeded at once with random tangents: the output's tangent is J @ t.
    tape = compile_program(parse(source))
    values_in, shapes, m = numeric_setting(tape, bindings)
    values = forward(tape, values_in, m)
    tangents_in = {name: RANDOM.normal(size=numpy.shape(value))
                   for name, value in bindings.items()}
    seeds = {tape.variable_nodes[name]: t for name, t in tangents_in.items()}
    ours = tangent_sweep(tape, values, seeds, numpy_backend("float64"), shapes)
    _, theirs = torch.func.jvp(function, _tensors(bindings), _tensors(tangents_in))
    assert numpy.allclose(ours.tangents[tape.output], theirs.numpy(), rtol=1e-13, atol=1e-15)
