"""The training problem: the model and the loss joined into one program and one tape.

``build_problem`` joins the model and the loss into one program (``y_hat = <model>;
loss = <loss in y_hat and y>``) and compiles it to one tape, so every update is an ordinary
forward and reverse sweep over that tape: the same engine that ``backtrace grad`` explains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.backends import numpy_backend
from backtrace_cli.engine.tape import (
    CONST,
    Tape,
    compile_program,
    forward,
    infer_shapes,
)
from backtrace_cli.engine.values import shape_of
from backtrace_cli.errors import DataError, ShapeError, UsageError, did_you_mean
from backtrace_cli.i18n import _
from backtrace_cli.ops.table import CONSTANTS, shape_text
from backtrace_cli.syntax.parser import Apply, Assign, Name, Program, parse, unparse

BUILTIN_LOSSES = {
    "mse": "(y_hat - y)**2",
    "mae": "abs(y_hat - y)",
    "bce": "-(y*log(y_hat) + (1 - y)*log(1 - y_hat))",
}
# bce on a model that ends in sigmoid(z) is computed from the logit z, which never overflows
# or takes log(0): -(y log s(z) + (1-y) log(1-s(z))) = softplus(z) - y*z.
BCE_FROM_LOGIT = "softplus({logit}) - y*{logit}"
RESERVED = ("y_hat", "loss")


# ----------------------------------------------------------------------------- the problem
@dataclass(frozen=True)
class Problem:
    """The model and loss as tapes, and which names are data and which are parameters."""

    model_source: str
    loss_name: str  # "mse", "mae", "bce" or the loss expression as given
    tape: Tape  # model and loss: output is the per-row loss
    model_tape: Tape  # the model alone: output is y_hat
    inputs: tuple[str, ...]  # CSV columns the model reads, in order of first appearance
    target: str
    params: tuple[str, ...]  # everything else the model names, in order of first appearance

    @property
    def data_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.tape.variables if name not in self.params)


def _rename(expr, mapping: Mapping[str, str]):
    """A copy of ``expr`` with names replaced (iterative, like every tree walk here)."""
    done: dict[int, Any] = {}
    stack = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if isinstance(node, Name):
            done[id(node)] = Name(mapping.get(node.name, node.name), node.span)
        elif isinstance(node, Apply):
            if expanded:
                done[id(node)] = Apply(node.op, tuple(done[id(a)] for a in node.args), node.span)
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args)
        else:
            done[id(node)] = node
    return done[id(expr)]


def _free_names(program: Program) -> list[str]:
    tape = compile_program(program)
    return list(tape.variables)


def _loss_text(loss: str, target: str, logit: str | None) -> str:
    """The loss statement's right-hand side, in y_hat and the target column."""
    if loss == "bce" and logit is not None:
        text = BCE_FROM_LOGIT.format(logit=logit)
    else:
        text = BUILTIN_LOSSES.get(loss, loss)
    tree = parse(text)
    if len(tree.statements) != 1 or isinstance(tree.statements[0], Assign):
        raise UsageError(_("--loss must be one expression in y_hat and y, e.g. '(y_hat - y)**2'"))
    names = _free_names(tree)
    unknown = [n for n in names if n not in ("y_hat", "y") and n != logit]
    if unknown:
        raise UsageError(
            _("--loss may use only y_hat and y, not '{unknown}'").format(unknown=unknown[0]),
            _("for example --loss '(y_hat - y)**2', or one of: mse, mae, bce"),
        )
    return unparse(_rename(tree.output, {"y": target}))


def _column_hint(name: str, columns: Sequence[str]) -> str | None:
    """'did you mean ...?' for a column name, also when only the case differs."""
    same_but_case = [column for column in columns if column.lower() == name.lower()]
    if same_but_case:
        return f"did you mean '{same_but_case[0]}'? (names are case-sensitive)"
    return did_you_mean(name, columns)


def build_problem(
    model: str,
    loss: str,
    columns: Sequence[str],
    target: str,
) -> Problem:
    """Parse the model, check its names against the CSV columns, and join model and loss."""
    model_program = parse(model)
    if target not in columns:
        raise DataError(
            _("the target column '{target}' is not in the data (columns: {value})").format(
                target=target, value=", ".join(columns)
            ),
            hint=_column_hint(target, columns) or "name the label column with --target",
        )
    if target in RESERVED:
        raise UsageError(
            _(
                "the target column may not be named '{target}'; that name is the training's own"
            ).format(target=target),
            _("rename the column in the CSV header"),
        )
    model_names = _free_names(model_program)
    for node in compile_program(model_program).nodes:
        if node.kind == CONST and node.text in CONSTANTS and node.text in columns:
            raise UsageError(
                _(
                    "the model cannot read the column '{text}': in an expression '{text}' is the "
                    "constant {CONSTANTS!r}"
                ).format(text=node.text, CONSTANTS=CONSTANTS[node.text]),
                _("rename the column in the CSV header"),
            )
    for name in RESERVED:
        if name in model_names:
            raise UsageError(
                _("the model may not use the name '{name}'; it is the training's own").format(
                    name=name
                )
            )
    if target in model_names:
        raise UsageError(
            _(
                "the model reads the target column '{target}': it would be fitted to itself, and "
                "there is no target to read when predicting").format(target=target),
            _("use only input columns and parameters in the model, or name another --target"),
        )
    inputs = tuple(name for name in model_names if name in columns)
    if not inputs:
        close = [
            f"'{name}': {hint}"
            for name in model_names
            for hint in [_column_hint(name, columns)]
            if hint
        ]
        raise DataError(
            _("the model uses no column of the data (columns: {value})").format(
                value=", ".join(columns)
            ),
            hint=("; ".join(close) if close else "use a column name in the model, e.g. x*w"),
        )

    # The model's output becomes y_hat; its statements keep their spans in the model text.
    statements = model_program.statements
    last = statements[-1]
    output = last.value if isinstance(last, Assign) else last
    head = model[: last.span.start]
    logit = None
    if loss == "bce" and isinstance(output, Apply) and output.op == "sigmoid":
        logit = "logit"
        while logit in model_names or logit in columns:
            logit += "_"
        inner = output.args[0]
        result_name = last.name if isinstance(last, Assign) else "y_hat"
        body = f"{logit} = {model[inner.span.start:inner.span.end]}\n"
        body += f"{result_name} = sigmoid({logit})"
        if result_name != "y_hat":
            body += f"\ny_hat = {result_name}"
    elif isinstance(last, Assign):
        body = model[last.span.start : last.span.end]
        if last.name != "y_hat":
            body += f"\ny_hat = {last.name}"
    else:
        body = "y_hat = " + model[last.span.start : last.span.end]
    model_source = head + body
    loss_source = f"{model_source}\nloss = {_loss_text(loss, target, logit)}"
    model_tape = compile_program(parse(model_source))
    tape = compile_program(parse(loss_source))
    params = tuple(
        name for name in tape.variables if name not in columns and name != target
    )
    if not params:
        raise UsageError(
            _("the model has no parameters to train: every name in it is a column of the data"),
            _("add a parameter, e.g. --model 'x*w'"),
        )
    return Problem(model, loss, tape, model_tape, inputs, target, params)


# ----------------------------------------------------------------------------- arrays
def array_shapes(problem: Problem, initial: Mapping[str, Any]) -> list[tuple]:
    """Each node's shape for one row (``()`` for a scalar; arrays when a parameter is one or
    the model builds one: [x1, x2], W @ v). The model must give one number per row."""
    given = {name: shape_of(value) for name, value in initial.items()}
    model_shapes = infer_shapes(problem.model_tape, given)
    shape = model_shapes[problem.model_tape.output]
    if shape != ():
        output = problem.model_tape.nodes[problem.model_tape.output]
        raise ShapeError(
            _("the model gives a {value} array per row; y_hat must be one number").format(
                value=shape_text(shape)
            ),
            problem.model_tape.source,
            output.span,
            _("reduce it, e.g. sum(...), or end the model with a vector @ (...)"),
        )
    return infer_shapes(problem.tape, given)


def predict(problem: Problem, params: Mapping[str, float], inputs: Mapping[str, float],
            dtype: str = "float64") -> float:
    """y_hat for one set of input values with the given parameters."""
    bindings = {**inputs, **params}
    arrays = any(shape_of(v) for v in params.values()) or any(
        node.op is not None and node.op.shape_rule != "elementwise"
        for node in problem.model_tape.nodes
    )
    if dtype == "float64" and not arrays:
        return float(forward(problem.model_tape, bindings)[problem.model_tape.output])
    m = numpy_backend(dtype)
    converted = {name: m.number(value) for name, value in bindings.items()}
    with m.np.errstate(all="ignore"):
        return float(forward(problem.model_tape, converted, m)[problem.model_tape.output])


