"""Small programs run with PyTorch and with backtrace's torch: each returns text (a repr, a
printed value, an error's type and message, a warning's text) that must be the same.

``tests/data/torchlike/cases.json`` holds what PyTorch 2.13 gave for every case; regenerate
it with ``python -m tests.torchlike_cases`` (needs torch==2.13.0). The tests compare
backtrace's torch with that capture, and PyTorch with it where PyTorch is installed.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

CAPTURE = Path(__file__).parent / "data" / "torchlike" / "cases.json"


def _error(function):
    def case(torch):
        try:
            function(torch)
        except Exception as error:  # noqa: BLE001 (the error's type and text are the point)
            return f"{type(error).__name__}: {error}"
        return "no error"
    return case


def _warning(function):
    def case(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = function(torch)
        return [f"{w.category.__name__}: {w.message}" for w in caught] + [repr(result)]
    return case


def _grad_fn(function):
    def case(torch):
        result = function(torch)
        fn = result.grad_fn
        if fn is None:
            return "None"
        nexts = [None if f is None else f.name() for f, _ in fn.next_functions]
        return f"{fn.name()} {nexts}"
    return case


def _leaf(torch, values, dtype=None):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


def _backward_twice(torch, build):
    w = torch.tensor([2.0], requires_grad=True)
    out = build(w)
    out.backward()
    out.backward()
    return w.grad


def _retained(torch):
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    y = w * w
    y.retain_grad()
    y.sum().backward()
    return [y.grad, w.grad, y.is_leaf, w.is_leaf, y.retains_grad]


def _accumulates(torch):
    w = torch.tensor(1.5, requires_grad=True)
    for _ in range(3):
        (w * 3.0 + w ** 2).backward()
    return w.grad


def _data_shares(torch):
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    d.mul_(3)
    w.data = w.data - 1
    d.zero_()
    return [w, d, w.data.requires_grad]


def _sgd(torch, momentum):
    torch.manual_seed(3)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    x = torch.rand(4, 3)
    y = torch.rand(4, 2)
    losses = []
    for _ in range(5):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return [losses, model.weight.tolist(), model.bias.tolist(), model.weight.grad]


def _no_grad_update(torch):
    w = torch.tensor([1.0], requires_grad=True)
    for x, y in ((1.0, 2.0), (2.0, 4.0), (3.0, 6.0)):
        loss = (x * w - y) ** 2
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
    return [w, w.grad, (w * 2).requires_grad]


def _forgotten_zero(torch):
    w = torch.tensor([1.0], requires_grad=True)
    grads = []
    for x, y in ((1.0, 2.0), (2.0, 4.0), (3.0, 6.0)):
        ((x * w - y) ** 2).backward()
        grads.append(w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
    return grads


def _non_leaf_update(torch):
    w = torch.tensor([1.0], requires_grad=True)
    loss = (2.0 * w - 4.0) ** 2
    loss.backward()
    w = w - 0.01 * w.grad
    return [w, w.is_leaf, w.grad_fn.name()]


def _graph_kept(torch):
    w = torch.tensor([1.0], requires_grad=True)
    total = 0
    for x in (1.0, 2.0):
        loss = (x * w) ** 2
        total += loss
    return [total, total.grad_fn.name()]


CASES = {
    # printing
    "0-d": lambda t: t.tensor(4.0),
    "0-d negative zero": lambda t: t.tensor(-0.0),
    "1-d integral": lambda t: t.tensor([1.0, 2.0, 3.0]),
    "1-d fixed": lambda t: t.tensor([1.5, -2.25, 3.0]),
    "2-d columns": lambda t: t.tensor([[1.0, -2.5], [3.25, 4.0]]),
    "2-d column vector": lambda t: t.Tensor([[1.0], [2.0], [3.0]]),
    "scientific small": lambda t: t.tensor([1e-5, 1.0]),
    "scientific ratio": lambda t: t.tensor([0.001, 2.0, 3000.0]),
    "scientific large": lambda t: t.tensor([1e10, 1.0]),
    "scientific integral": lambda t: t.tensor([1e9, 1.0]),
    "nan and inf": lambda t: t.tensor([float("nan"), 1.0, float("inf"), -float("inf")]),
    "only nan": lambda t: t.tensor([float("nan")]),
    "zeros": lambda t: t.zeros(2, 3),
    "ones int": lambda t: t.ones(2, dtype=t.int64),
    "int 2-d": lambda t: t.tensor([[1, 22], [-333, 4]]),
    "bool": lambda t: t.tensor([True, False]),
    "float64": lambda t: t.tensor([1.5, 2.0], dtype=t.float64),
    "float64 requires grad": lambda t: t.tensor([[1.5, -2.25], [100.0, 3.0]], dtype=t.float64,
                                                requires_grad=True),
    "requires grad": lambda t: _leaf(t, [1.0]),
    "grad_fn suffix": lambda t: _leaf(t, [1.0, 2.0]) ** 2,
    "empty": lambda t: t.tensor([]),
    "empty int": lambda t: t.tensor([], dtype=t.int64),
    "empty 2-d": lambda t: t.zeros(0, 3),
    "arange": lambda t: t.arange(5),
    "arange float": lambda t: t.arange(0, 1, 0.25),
    "long row wraps": lambda t: t.arange(30) * 1000.5,
    "summarised": lambda t: t.arange(2000.0),
    "summarised 2-d": lambda t: t.arange(3000.0).view(30, 100) / 7,
    "3-d": lambda t: t.arange(12.0).view(2, 3, 2),
    "item": lambda t: t.tensor(0.1).item(),
    "item widened": lambda t: (t.tensor([2.0]) * 2.0 - 4.0 + t.tensor([0.16])).item(),
    "tolist": lambda t: (t.tensor([[0.1, 0.2]]) * 3).tolist(),
    "size": lambda t: [t.zeros(2, 1).size(), t.tensor(3.0).shape, t.zeros(2, 1).shape[0]],
    "dtypes": lambda t: [t.float32, t.float, t.double, t.int64, t.long, t.bool,
                         t.tensor(3).dtype, t.tensor([True]).dtype, t.tensor(1.0).dtype],
    "promotion": lambda t: [t.tensor([1, 2]) / 2, t.tensor([1, 2]) * 1.5,
                            t.tensor([1, 2]) + t.tensor(1.5),
                            t.tensor([1.0], dtype=t.float64) + t.tensor(1.5),
                            t.tensor([1.0, 2.0]) + t.tensor(1.5, dtype=t.float64),
                            t.tensor([1, 2]) > 1, t.tensor([3, 4]) * 2],
    "parameter": lambda t: t.nn.Parameter(t.tensor([[1.0]])),
    "module": lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Sigmoid(), t.nn.ReLU(),
                                        t.nn.Linear(3, 1, bias=False)),
    "losses": lambda t: [t.nn.MSELoss(), t.nn.BCELoss()],
    "sgd repr": lambda t: t.optim.SGD(t.nn.Linear(1, 1).parameters(), lr=0.01),
    "format": lambda t: f"{t.tensor(2.5):.3f} {t.tensor(3.0)}",
    "numpy": lambda t: t.tensor([1.5, 2.0]).numpy(),
    "from_numpy shares": lambda t: _from_numpy(t),
    "Tensor(ndarray)": lambda t: _from_ndarray(t),
    # random numbers
    "rand": lambda t: (t.manual_seed(0), t.rand(3), t.rand(2, 2))[1:],
    "rand float64": lambda t: (t.manual_seed(0), t.rand(3, dtype=t.float64).tolist())[1],
    "randn": lambda t: (t.manual_seed(0), t.randn(3, dtype=t.float64).tolist(),
                        t.randn(2).tolist())[1:],
    "randn 16+": lambda t: (t.manual_seed(0), t.randn(20))[1],
    "linear init": lambda t: (t.manual_seed(0), t.nn.Linear(1, 1).weight.item(),
                              t.nn.Linear(3, 2).bias.tolist())[1:],
    "linear parameters": lambda t: (t.manual_seed(1),
                                    list(t.nn.Linear(2, 2).named_parameters()))[1],
    # grad_fn names
    "add": _grad_fn(lambda t: _leaf(t, [1.0]) + 2),
    "radd": _grad_fn(lambda t: 2 + _leaf(t, [1.0])),
    "sub": _grad_fn(lambda t: _leaf(t, [1.0]) - 2),
    "rsub": _grad_fn(lambda t: 1 - _leaf(t, [1.0])),
    "mul": _grad_fn(lambda t: _leaf(t, [1.0]) * _leaf(t, [2.0])),
    "rmul": _grad_fn(lambda t: 2 * _leaf(t, [1.0])),
    "div": _grad_fn(lambda t: _leaf(t, [1.0]) / 2),
    "rdiv": _grad_fn(lambda t: 2 / _leaf(t, [1.0])),
    "pow": _grad_fn(lambda t: _leaf(t, [1.0]) ** 2),
    "pow tensor": _grad_fn(lambda t: _leaf(t, [1.0]) ** _leaf(t, [2.0])),
    "neg": _grad_fn(lambda t: -_leaf(t, [1.0])),
    "exp log sqrt": lambda t: [_grad_fn(lambda t, f=f: f(_leaf(t, [1.0])))(t)
                               for f in (t.exp, t.log, t.sqrt, t.tanh, t.sigmoid, t.relu,
                                         t.abs, t.nn.functional.sigmoid,
                                         t.nn.functional.relu)],
    "sum mean": lambda t: [_grad_fn(f)(t) for f in (
        lambda t: _leaf(t, [1.0, 2.0]).sum(), lambda t: _leaf(t, [1.0, 2.0]).mean(),
        lambda t: _leaf(t, [[1.0, 2.0]]).sum(dim=1), lambda t: _leaf(t, [[1.0, 2.0]]).mean(0))],
    "matmuls": lambda t: [_grad_fn(f)(t) for f in (
        lambda t: _leaf(t, [1.0, 2.0]) @ _leaf(t, [3.0, 4.0]),
        lambda t: _leaf(t, [[1.0, 2.0]]) @ _leaf(t, [3.0, 4.0]),
        lambda t: _leaf(t, [[1.0, 2.0]]).mm(_leaf(t, [[3.0], [4.0]])),
        lambda t: t.nn.Linear(2, 1)(t.ones(3, 2)))],
    "views": lambda t: [_grad_fn(f)(t) for f in (
        lambda t: _leaf(t, [1.0, 2.0]).view(2, 1), lambda t: _leaf(t, [1.0, 2.0])[0],
        lambda t: _leaf(t, [1.0, 2.0])[1:], lambda t: _leaf(t, [[1.0, 2.0]]).t(),
        lambda t: _leaf(t, [1.0, 2.0]).clone())],
    "losses grad_fn": lambda t: [_grad_fn(f)(t) for f in (
        lambda t: t.nn.MSELoss()(_leaf(t, [0.5]), t.tensor([1.0])),
        lambda t: t.nn.BCELoss()(_leaf(t, [0.5]), t.tensor([1.0])))],
    # autograd
    "grad values": lambda t: _grads(t),
    "retain_grad": _retained,
    "accumulates": _accumulates,
    "data shares storage": _data_shares,
    "add re-runs after backward": lambda t: _backward_twice(t, lambda w: (w + 3).sum()),
    "sgd": lambda t: _sgd(t, 0),
    "sgd momentum": lambda t: _sgd(t, 0.9),
    "no_grad update": _no_grad_update,
    "zero_grad forgotten": _forgotten_zero,
    "w = w - lr * w.grad": _non_leaf_update,
    "total += l": _graph_kept,
    "zero_grad sets None": lambda t: _zero_grad(t),
    "Variable": lambda t: _variable(t),
    "rows of a tensor": lambda t: _rows(t),
    "typed constructors": lambda t: [t.LongTensor([1, 2]), t.FloatTensor([1, 2]),
                                     t.DoubleTensor([1.5]), t.tensor(numpy_float64()),
                                     t.Tensor(2, 3).shape],
    "to and casts": lambda t: [t.tensor([1.7, -2.2]).long(), t.tensor([1, 0]).float(),
                               t.tensor([1.5]).double(), t.tensor([1.5]).to(t.float64),
                               t.tensor([2.5]).int().dtype, _leaf(t, [1.5]).double()],
    "deepcopy": lambda t: _deepcopy(t),
    "types": lambda t: [str(type(item)) for item in (
        t.ones(1), t.nn.Parameter(t.ones(1)), (_leaf(t, [1.0]) * 2).grad_fn,
        t.ones(1).shape, t.float32, t.nn.Linear(1, 1), t.nn.MSELoss(), t.nn.BCELoss(),
        t.nn.Sigmoid(), t.nn.ReLU(), t.nn.Sequential(), t.nn.Module(), t.no_grad(),
        t.optim.SGD([_leaf(t, [1.0])], lr=1), t.device("cpu"), t.default_generator,
        (_leaf(t, [1.0]) * 2).grad_fn.next_functions[0][0])],
    "linear of a list": _error(lambda t: t.nn.Linear(1, 1)([[1.0]])),
    "sigmoid of a list": _error(lambda t: t.sigmoid([1.0])),
    "mse of a list": _error(lambda t: t.nn.MSELoss()([1.0], t.ones(1))),
    "tensor + str": _error(lambda t: t.ones(2) + "a"),
    "Tensor()": lambda t: [t.Tensor(), t.Tensor(2).shape],
    "float of a tensor that requires grad": _warning(lambda t: [float(_leaf(t, [1.5])),
                                                                int(_leaf(t, [2.5]))]),
    # errors
    "index a 0-d tensor": _error(lambda t: t.tensor(2.0)[0]),
    "linear of float64": _error(lambda t: t.nn.Linear(2, 1)(t.ones(3, 2, dtype=t.float64))),
    "linear of int64": _error(lambda t: t.nn.Linear(2, 1)(t.ones(3, 2, dtype=t.int64))),
    "linear of a wrong width": _error(lambda t: t.nn.Linear(2, 1)(t.ones(3, 3))),
    "bce of an int64 target": _error(lambda t: t.nn.BCELoss()(t.tensor([[0.2], [0.7]]),
                                                              t.tensor([[0], [1]]))),
    "mse of an int64 target": lambda t: t.nn.MSELoss()(t.tensor([[0.2], [0.7]]),
                                                       t.tensor([[0], [1]])),
    "accuracy": lambda t: [((t.tensor([[0.2], [0.7]]) > 0.5).float()
                            == t.tensor([[0.0], [1.0]])).sum().item(), t.tensor([7]) // 2,
                           t.tensor([7.5, -1.5]) // 2],
    "gradient of a vector": lambda t: _vector_backward(t),
    "domain": lambda t: [t.tensor([-1.0, 4.0]).sqrt(), t.tensor([0.0, 1.0]).log(),
                         t.tensor([2.0, -1.0]) / t.tensor([0.0, 0.0]),
                         t.exp(t.tensor([100.0])), t.tensor([1.0, 4.0]) ** 0.5,
                         2 ** t.tensor([1.0, 2.0])],
    "item of 3": _error(lambda t: t.ones(3).item()),
    "broadcast": _error(lambda t: t.ones(3) + t.ones(2)),
    "broadcast 2-d": _error(lambda t: t.ones(2, 3) + t.ones(2)),
    "mm shapes": _error(lambda t: t.ones(2, 3).mm(t.ones(2, 3))),
    "matmul shapes": _error(lambda t: t.ones(2, 3) @ t.ones(2, 3)),
    "dot shapes": _error(lambda t: t.ones(3) @ t.ones(2)),
    "mv shapes": _error(lambda t: t.ones(2, 3) @ t.ones(2)),
    "in-place leaf": _error(lambda t: _leaf(t, [1.0]).add_(1)),
    "in-place leaf -=": _error(lambda t: _in_place_minus(t)),
    "numpy requires grad": _error(lambda t: _leaf(t, [1.0]).numpy()),
    "backward non-scalar": _error(lambda t: (_leaf(t, [1.0, 2.0]) * 2).backward()),
    "backward no grad": _error(lambda t: t.ones(3).sum().backward()),
    "backward twice": _error(lambda t: _backward_twice(t, lambda w: (w * w).sum())),
    "requires_grad int": _error(lambda t: t.tensor([1, 2], requires_grad=True)),
    "requires_grad_ int": _error(lambda t: t.tensor([1, 2]).requires_grad_()),
    "requires_grad = True int": _error(lambda t: setattr(t.tensor([1]), "requires_grad", True)),
    "requires_grad non-leaf": _error(lambda t: setattr(_leaf(t, [1.0]) * 2, "requires_grad",
                                                       False)),
    "view size": _error(lambda t: t.ones(3).view(2, 2)),
    "view stride": _error(lambda t: t.ones(2, 3).t().view(6)),
    "index": _error(lambda t: t.ones(3)[3]),
    "mean of ints": _error(lambda t: t.tensor([1, 2]).mean()),
    "bce size": _error(lambda t: t.nn.BCELoss()(t.ones(3, 1) * 0.5, t.ones(3))),
    "bce range": _error(lambda t: t.nn.BCELoss()(t.ones(3) * 2, t.ones(3))),
    "zero_grad then .data": _error(lambda t: _none_data(t)),
    # warnings
    "non-leaf grad": _warning(lambda t: (_leaf(t, [1.0]) * 2).grad),
    "size_average": _warning(lambda t: t.nn.MSELoss(size_average=False)),
    "size_average mean": _warning(lambda t: t.nn.BCELoss(size_average=True).reduction),
    "mse target size": _warning(lambda t: t.nn.MSELoss()(t.ones(3, 1), t.ones(3))),
}


def _grads(torch):
    x = torch.tensor([[1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    b = torch.tensor([0.5, -0.25], requires_grad=True)
    y = ((torch.sigmoid(x @ b) * 3 - 1).tanh() + (x.exp().log() / 7).sqrt().sum()
         + 2 / (x.abs() + 1).mean())
    y = (y ** 2).sum() + torch.relu(x - 2).sum()
    y.backward()
    return [y, x.grad, b.grad]


def _from_numpy(torch):
    import numpy

    array = numpy.array([1.0, 2.0])
    t = torch.from_numpy(array)
    array[0] = 5.0
    return t


def _from_ndarray(torch):
    import numpy

    return torch.Tensor(numpy.linspace(0, 1, 3)).view((3, 1))


def _in_place_minus(torch):
    w = torch.tensor([1.0], requires_grad=True)
    w -= 0.1


def _variable(torch):
    w = torch.autograd.Variable(torch.tensor([1.0, 2.0]), requires_grad=True)
    plain = torch.autograd.Variable(torch.tensor([3.0]))
    (w * w).sum().backward()
    return [w, w.is_leaf, w.grad, plain, plain.requires_grad]


def _rows(torch):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    total = 0
    for row in x:
        total = total + (row * row).sum()
    total.backward()
    return [total, x.grad, [r.grad_fn.name() for r in x]]


def _vector_backward(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = x * x
    z.backward(torch.tensor([1.0, 0.5]), retain_graph=True)
    try:
        z.backward(torch.tensor([1.0, 1.0, 1.0]))
    except RuntimeError as error:
        return [x.grad, str(error)]


def _deepcopy(torch):
    import copy

    model = torch.nn.Linear(2, 1)
    model(torch.ones(1, 2)).sum().backward()
    twin = copy.deepcopy(model)
    twin.weight.data.add_(1)
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    return [twin.weight.grad, type(twin.weight).__name__, twin.weight is not model.weight,
            twin.weight.tolist() != model.weight.tolist(), copy.deepcopy(w).grad]


def numpy_float64():
    import numpy

    return numpy.float64(2.5)


def _zero_grad(torch):
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.ones(1, 1)).sum().backward()
    before = model.weight.grad is not None
    optimizer.zero_grad()
    return [before, model.weight.grad, model.bias.grad]


def _none_data(torch):
    w = torch.tensor([1.0], requires_grad=True)
    (w * 2).sum().backward()
    w = w - 0.01 * w.grad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the non-leaf warning: its own case
        w.grad.data.zero_()


def run_case(torch, name: str):
    """The text of one case under the torch module given."""
    result = CASES[name](torch)
    return result if isinstance(result, str) else _text(result)


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return repr(value)


def capture() -> None:
    """Run every case with PyTorch and write the capture."""
    import torch

    assert torch.__version__.startswith("2.13.0"), torch.__version__
    results = {name: run_case(torch, name) for name in CASES}
    CAPTURE.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")


if __name__ == "__main__":
    capture()
