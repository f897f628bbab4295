"""backtrace: see reverse-mode automatic differentiation work on your own expression.

>>> from backtrace_cli import grad
>>> grad("x*w", {"x": 2, "w": 3}, dz=5).gradients
{'x': 15.0, 'w': 10.0}

The functions are imported on first use, so ``import backtrace_cli`` (and ``backtrace
--help``) stays as fast as before.
"""

__version__ = "0.1.0"

# public name -> the module under backtrace_cli that defines it
_API = {
    "grad": "api.grad",
    "GradResult": "api.grad",
    "fit": "api.train",
    "TrainResult": "api.train",
    "jacobian": "api.jacobian",
    "JacobianResult": "api.jacobian",
    "graph": "api.graph",
    "affine": "api.graph",
    "minimize": "api.minimize",
    "MinimizeResult": "api.minimize",
    "quiz": "api.quiz",
    "QuizResult": "api.quiz",
    "grade": "api.quiz",
    "GradeResult": "api.quiz",
    "hessian": "api.hessian",
    "HessianResult": "api.hessian",
    "BacktraceError": "errors",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(f"backtrace_cli.{_API[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'backtrace_cli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
