"""The run workloads: `backtrace run` on the course's own PyTorch programs against `python`
running the same file with real PyTorch 2.13 (issue 23's two ratios).

Both sides are whole processes (start-up and imports included: PyTorch's import alone takes
about a second), interleaved, medians of N runs. The PyTorch side is skipped when ``import
torch`` fails; the row then has no ratio. A note says whether the two printed the same.
"""

from __future__ import annotations

from .context import Context, collect_errors
from .processes import PYTHON
from .results import Goal, Report, Row

LECTURE_04 = """\
    import torch

    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]

    w = torch.Tensor([1.0])
    w.requires_grad = True


    def forward(x):
        return x * w


    def loss(x, y):
        y_pred = forward(x)
        return (y_pred - y) ** 2


    print("predict (before training)", 4, forward(4).item())
    for epoch in range(100):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            print('\\tgrad:', x, y, w.grad.item())
            w.data = w.data - 0.01 * w.grad.data
            w.grad.data.zero_()
        print("progress:", epoch, l.item())
    print("predict (after training)", 4, forward(4).item())
"""

LECTURE_05 = """\
    import torch

    torch.manual_seed(0)
    x_data = torch.Tensor([[1.0], [2.0], [3.0]])
    y_data = torch.Tensor([[2.0], [4.0], [6.0]])


    class LinearModel(torch.nn.Module):
        def __init__(self):
            super(LinearModel, self).__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, x):
            y_pred = self.linear(x)
            return y_pred


    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(100):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        print(epoch, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print('w = ', model.linear.weight.item())
    print('b = ', model.linear.bias.item())
    x_test = torch.Tensor([[4.0]])
    y_test = model(x_test)
    print('y_pred = ', y_test.data)
"""

PROGRAMS = (
    ("lecture04.py", LECTURE_04, "run lecture 04 (100 epochs, 300 backward())"),
    ("lecture05.py", LECTURE_05, "run lecture 05 (nn.Linear, MSELoss, SGD, 100 epochs)"),
)


def run_programs(context: Context, report: Report) -> None:
    for name, source, label in PROGRAMS:
        script = context.write_script(name, source)
        commands = {"backtrace": [*context.backtrace, "run", "--quiet", str(script)]}
        if context.torch:
            commands["torch"] = [PYTHON, str(script)]
        timings = context.runner.measure(commands)
        error = collect_errors(report, "run", timings)
        mine = timings["backtrace"].seconds
        theirs = timings["torch"].seconds if "torch" in timings else None
        report.rows.append(Row("run", label, mine, theirs, theirs, Goal("ratio <= 0.3", 0.3),
                               error=error, against="python + PyTorch, same file"))
        if theirs is None:
            report.notes.append(f"run {name}: PyTorch is not importable here; only backtrace "
                                "was timed.")
            continue
        ours, pytorch = timings["backtrace"].outputs, timings["torch"].outputs
        same = bool(ours) and bool(pytorch) and ours[-1] == pytorch[-1]
        lines = len(ours[-1].splitlines()) if ours else 0
        report.notes.append(f"run {name}: backtrace's stdout ({lines} lines) is "
                            f"{'identical to' if same else 'NOT identical to'} PyTorch's.")
