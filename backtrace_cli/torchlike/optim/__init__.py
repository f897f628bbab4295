"""``torch.optim``: SGD (lr, momentum, dampening, weight_decay, nesterov, maximize).

``step()`` updates each parameter as PyTorch's single-tensor SGD does on the CPU:
``p.add_(d_p, alpha=-lr)``, a fused multiply-add (one rounding per element); momentum's
buffer is ``buf * momentum + (1 - dampening) * d_p``. ``zero_grad()`` sets the gradients to
None (PyTorch 2.x's default).
"""

from __future__ import annotations

from backtrace_cli.torchlike._autograd import GradMode
from backtrace_cli.torchlike._missing import not_in_subset
from backtrace_cli.torchlike._ops import fused_add
from backtrace_cli.torchlike._tensor import Tensor


class Optimizer:
    """Parameter groups and zero_grad, shared by the optimizers."""

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self.state: dict = {}
        self.param_groups: list[dict] = []
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(dict(group))

    def add_param_group(self, group: dict) -> None:
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                if param._grad is not None:
                    if set_to_none:
                        param._grad = None
                    else:
                        param._grad._value[...] = 0

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += "\n" + f"Parameter Group {index}"
            for key in sorted(group):
                if key != "params":
                    text += "\n" + f"    {key}: {group[key]}"
        return text + "\n)"

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotImplementedError(not_in_subset(f"torch.optim.Optimizer.{name}"))


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused})

    def step(self, closure=None):
        loss = None
        if closure is not None:
            previous, GradMode.enabled = GradMode.enabled, True
            try:
                loss = closure()
            finally:
                GradMode.enabled = previous
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                step = param._grad._value
                if group["maximize"]:
                    step = -step
                if group["weight_decay"]:
                    step = fused_add(step, param._value, group["weight_decay"])
                if momentum:
                    buffer = self.state.get(id(param))
                    if buffer is None:
                        buffer = step.copy()
                    else:
                        buffer = buffer * buffer.dtype.type(momentum)
                        buffer = fused_add(buffer, step, 1 - group["dampening"])
                    self.state[id(param)] = buffer
                    step = fused_add(step, buffer, momentum) if group["nesterov"] else buffer
                param._value[...] = fused_add(param._value, step, -lr)
        return loss


def __getattr__(name: str):
    from backtrace_cli.torchlike._missing import missing

    return missing(__name__, "torch.optim", name)
