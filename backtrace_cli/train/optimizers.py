"""Update rules, one registry: a name -> (init, update) pair with its own hyper-parameters,
as optax keeps them. Adding an optimizer touches this file only.

SGD is the lecture's ``w - lr * grad``; momentum and Adam follow ``torch.optim``'s documented
rules (PyTorch fuses some of their steps into one rounding, so they agree with it to about
1e-15, not bit for bit). ``number`` converts a Python float to the run's number type (float,
or a NumPy float32/float64), ``m`` is the back end (its ``sqrt``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

State = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """One optimizer: ``init(settings, number, m)`` gives its state (hyper-parameters
    converted, per-parameter buffers empty); ``update(state, params, grads)`` changes
    ``params`` in place. ``hyper`` names the settings it reads besides ``lr``."""

    name: str
    hyper: tuple[str, ...]
    init: Callable[[Any, Callable[[float], Any], Any], State]
    update: Callable[[State, dict[str, Any], Mapping[str, Any]], None]
    description: str = ""


def _sgd_init(settings, number, m) -> State:
    return {"lr": number(settings.lr)}


def _sgd_update(state: State, params: dict[str, Any], grads: Mapping[str, Any]) -> None:
    lr = state["lr"]
    for name, grad in grads.items():
        params[name] = params[name] - lr * grad


def _momentum_init(settings, number, m) -> State:
    return {"lr": number(settings.lr), "momentum": number(settings.momentum), "buffers": {}}


def _momentum_update(state: State, params: dict[str, Any], grads: Mapping[str, Any]) -> None:
    lr, momentum, buffers = state["lr"], state["momentum"], state["buffers"]
    for name, grad in grads.items():
        buffer = buffers.get(name)
        buffer = grad if buffer is None else buffer * momentum + grad
        buffers[name] = buffer
        params[name] = params[name] - lr * buffer


def _adam_init(settings, number, m) -> State:
    return {"lr": float(number(settings.lr)), "beta1": settings.beta1, "beta2": settings.beta2,
            "eps": number(settings.eps), "number": number, "sqrt": m.sqrt, "steps": 0,
            "moments": {}}


def _adam_update(state: State, params: dict[str, Any], grads: Mapping[str, Any]) -> None:
    """Adam, in the order of torch.optim.adam's single-tensor loop."""
    number, moments = state["number"], state["moments"]
    state["steps"] += 1
    beta1, beta2 = state["beta1"], state["beta2"]
    correction1 = 1 - beta1 ** state["steps"]
    correction2 = 1 - beta2 ** state["steps"]
    step_size = number(state["lr"] / correction1)
    root2 = number(math.sqrt(correction2))
    one_minus_1 = number(1 - beta1)
    one_minus_2 = number(1 - beta2)
    b2 = number(beta2)
    for name, grad in grads.items():
        first, second = moments.get(name, (grad * 0, grad * 0))
        first = first + (grad - first) * one_minus_1  # exp_avg.lerp_(grad, 1 - beta1)
        second = second * b2 + (grad * grad) * one_minus_2
        moments[name] = (first, second)
        denominator = state["sqrt"](second) / root2 + state["eps"]
        params[name] = params[name] - step_size * (first / denominator)


OPTIMIZERS: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("sgd", (), _sgd_init, _sgd_update, "w - lr * grad, as the lecture computes it"),
        Rule("momentum", ("momentum",), _momentum_init, _momentum_update,
             "torch.optim.SGD with momentum"),
        Rule("adam", ("beta1", "beta2", "eps"), _adam_init, _adam_update, "torch.optim.Adam"),
    )
}


class Optimizer:
    """A rule and its state for one run: ``step(params, grads)`` applies one update."""

    def __init__(self, rule: Rule, state: State) -> None:
        self.rule = rule
        self.state = state

    def step(self, params: dict[str, Any], grads: Mapping[str, Any]) -> None:
        self.rule.update(self.state, params, grads)


def make_optimizer(settings, number: Callable[[float], Any], m) -> Optimizer:
    """The optimizer ``settings.optimizer`` names, initialised for a run's number type."""
    rule = OPTIMIZERS[settings.optimizer]
    return Optimizer(rule, rule.init(settings, number, m))


def written_state(state: dict, names, copy) -> dict[str, Any]:
    """What momentum and Adam keep per parameter after an update (for the written update),
    each value through ``copy``; plain SGD keeps nothing."""
    if "buffers" in state:
        return {"buffer": {n: copy(state["buffers"][n]) for n in names}}
    if "moments" in state:
        return {"steps": state["steps"],
                "first": {n: copy(state["moments"][n][0]) for n in names},
                "second": {n: copy(state["moments"][n][1]) for n in names}}
    return {}
