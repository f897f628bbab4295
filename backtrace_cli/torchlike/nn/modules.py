"""``nn.Module`` and the modules of the subset: Linear, MSELoss, BCELoss, Sigmoid, ReLU, Tanh,
Sequential. Attributes that are Parameters or Modules are registered in order, as PyTorch
does, so ``parameters()``, ``named_parameters()`` and the repr list them in that order."""

from __future__ import annotations

import math

import backtrace_cli.torchlike._dtypes as _dtypes
import backtrace_cli.torchlike.nn.functional as F  # noqa: N812 (PyTorch's name)
import backtrace_cli.torchlike.nn.init as init
from backtrace_cli.torchlike._creation import empty
from backtrace_cli.torchlike._missing import not_in_subset
from backtrace_cli.torchlike.nn.parameter import Parameter

# Methods of PyTorch's Module this one does not have: asking for them is not a typo.
_UNSUPPORTED = ("state_dict", "load_state_dict", "cuda", "apply", "register_buffer",
                "buffers", "named_buffers", "register_forward_hook", "half", "to_empty",
                "register_backward_hook", "register_full_backward_hook", "share_memory")


def _indented(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """The base of every model: registration, parameters, zero_grad, __call__ -> forward."""

    training = True

    def __init__(self, *args, **kwargs) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        parameters = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, Parameter) or isinstance(value, Module):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call"
                                     if isinstance(value, Parameter) else
                                     "cannot assign module before Module.__init__() call")
            for table in (self.__dict__, parameters, modules):
                table.pop(name, None)
            (parameters if isinstance(value, Parameter) else modules)[name] = value
            return
        if parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (torch.nn.Parameter or None expected)")
            parameters[name] = None
            return
        if modules is not None and name in modules:
            modules.pop(name)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        for table in ("_parameters", "_modules"):
            found = self.__dict__.get(table)
            if found is not None and name in found:
                return found[name]
        if name in _UNSUPPORTED:
            raise NotImplementedError(not_in_subset(f"torch.nn.Module.{name}"))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in ("_parameters", "_modules"):
            if name in self.__dict__.get(table, {}):
                del self.__dict__[table][name]
                return
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def register_parameter(self, name: str, param) -> None:
        self._parameters[name] = param

    def add_module(self, name: str, module) -> None:
        self._modules[name] = module

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        seen = set()
        for module_prefix, module in (self.named_modules(prefix) if recurse
                                      else [(prefix, self)]):
            for name, param in module._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                yield (module_prefix + "." if module_prefix else "") + name, param

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_modules(self, prefix: str = "", memo=None):
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in memo:
                continue
            memo.add(id(module))
            yield name, module
            children = [((name + "." if name else "") + key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        yield from ((name, child) for name, child in self._modules.items() if child is not None)

    def children(self):
        for _, child in self.named_children():
            yield child

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if param._grad is not None:
                if set_to_none:
                    param._grad = None
                else:
                    param._grad._value[...] = 0

    def train(self, mode: bool = True):
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def to(self, *args, **kwargs):
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, _dtypes.dtype) and arg is not _dtypes.float32:
                raise NotImplementedError(not_in_subset("Module.to(dtype)"))
        return self

    def cpu(self):
        return self

    float = cpu

    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _indented(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self):
        return sorted(set(dir(type(self))) | set(self.__dict__) | set(self._parameters)
                      | set(self._modules))


class Linear(Module):
    """y = x @ weight.T + bias, initialised as PyTorch does (kaiming-uniform, then the bias
    uniform in +-1/sqrt(in_features)), from PyTorch's generator."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        kind = dtype or _dtypes.DEFAULT
        self.weight = Parameter(empty((out_features, in_features), dtype=kind))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=kind))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F.legacy_reduction(size_average, reduce)
        self.reduction = reduction


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class ReLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sequential(Module):
    def __init__(self, *modules) -> None:
        super().__init__()
        for index, module in enumerate(modules):
            self.add_module(str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index: int):
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
