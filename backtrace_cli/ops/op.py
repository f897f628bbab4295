"""The ``Op`` class: what one row of the op table holds (``table.py`` has the rows), the
forms its local derivatives are written in, and the code made from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from backtrace_cli.ops.shapes import SHAPE_RULES

# Binding powers, shared by the parser and the printer (Python's precedence).
PREC_ADD = 10
PREC_MUL = 20
PREC_UNARY = 30
PREC_POW = 40
PREC_ATOM = 100


@dataclass(frozen=True)
class Op:
    """One op: how it is written, how it evaluates, and how it differentiates.

    ``code`` is the forward formula, a Python expression over the inputs ``{a}``, ``{b}``, the
    op's own output ``{out}`` and a numeric back end ``m``. An elementwise op's local
    derivatives are written once, as ops (``derivative_ops``: per input a form such as
    ``(neg (sin a))``); ``derivative_code``, the same formula as Python, is made from those
    forms and the forward ``code`` of the ops they use (``derive_codes``, when the table is
    complete), so the first-order sweeps, the training loops' code generator (``compiled.py``)
    and double backprop's derived tapes all compute one definition. An array op, whose
    derivative is not elementwise, gives ``derivative_code`` itself. ``forward`` and
    ``derivatives`` are compiled from the templates once. The templates are constants of the
    op modules; no user text ever enters them.
    """

    name: str
    arity: int
    symbol: str
    notation: str  # "infix" (a + b), "prefix" (-a), "call" (sin(a)), "list" ([a, b]) or
    # "shown" (a helper op of ops/helpers.py, written with the template ``shown``)
    precedence: int
    code: str  # forward, e.g. "m.sin({a})"
    derivative_code: tuple[str, ...]  # per input: d(out)/d(input), e.g. "m.cos({a})"; () for
    # an op with derivative_ops, whose derivative_code derive_codes makes from them
    derivative_text: tuple[str, ...]  # per input, for people: "cos({a})"
    sympy: Callable[..., Any]  # (sp, *args) -> SymPy expression
    domain: str  # what the op needs of its inputs, said in an error message
    right_assoc: bool = False
    kink: Callable[[tuple], bool] | None = None  # true where the derivative is a convention
    kink_note: str = ""
    aliases: tuple[str, ...] = field(default=())
    # True where an inf or nan input always gives an inf or nan output (not so for 1/inf,
    # exp(-inf), sigmoid(inf), ...): the fast loops need not check such an input.
    keeps_nonfinite: bool = False
    # Arrays. ``shape_rule`` names the function of SHAPE_RULES that gives the output's shape
    # from the inputs' shapes (or says why they do not fit). An elementwise op broadcasts as
    # NumPy does, and its gradient is upstream * local, summed back to the input's shape.
    # An op whose derivative is not elementwise (matmul, sum, transpose, ...) has a
    # vector-Jacobian product per input instead: ``vjp_code`` over the upstream gradient
    # ``{g}``, the inputs, ``{out}`` and the input's ``{position}``; its ``derivative_code``
    # is then the factor shown in the "local" column (x for d(W @ x)/dW).
    shape_rule: str = "elementwise"
    vjp_code: tuple[str, ...] = ()
    # Forward mode's counterpart of vjp_code: one Jacobian-vector product per input, over the
    # input's tangent ``{t}``, the inputs, ``{out}`` and ``{position}`` (engine/forward_mode.py).
    # Elementwise ops need none: their tangent is local * tangent, from ``derivative_code``.
    jvp_code: tuple[str, ...] = ()
    # A variadic op ([a, b, c]) takes any number of inputs; its one template per field
    # serves every position.
    variadic: bool = False
    # How the local derivative reads for people when it depends on the shapes (matmul):
    # (position, input shapes) -> a template like derivative_text.
    derivative_text_for: Callable[[int, tuple], str] | None = None
    # Per input, the local derivative written as ops (of the table or ops/helpers.py): an
    # S-expression over a, b, out and numbers, e.g. "(neg (sin a))". Double backprop builds
    # the reverse sweep from these as nodes, so it can be differentiated again; the numeric
    # derivative_code is made from them (derive_codes).
    derivative_ops: tuple[str, ...] = ()
    # A helper op (ops/helpers.py) is no op a user can type, and its name is never shown:
    # its node texts use this template over {a}, {b} in the user's terms ("d({a}**{b})/d{a}"),
    # and its ``symbol`` is the user's op it derives from ("**"), said in its domain hint.
    shown: str = ""
    # Inputs at which the op is a constant whatever its other input: (position, the input's
    # value, the op's value), e.g. dpow(a, 0) = 0 for every a. Double backprop folds such a
    # node into that constant (its forward gives the same number everywhere), so x**0 has
    # the derivatives 0 of every order instead of an undefined 0 * 0**-1 one order later.
    constant_when: tuple[tuple[int, float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.derivative_ops and self.derivative_code:
            raise ValueError(f"op {self.name}: a derivative as ops or as code, not both")
        given = self.derivative_ops or self.derivative_code
        if len(given) != self.arity or len(self.derivative_text) != self.arity:
            raise ValueError(f"op {self.name}: one derivative per input is required")
        if self.vjp_code and len(self.vjp_code) != self.arity:
            raise ValueError(f"op {self.name}: one vector-Jacobian product per input")
        if self.derivative_ops and len(self.derivative_ops) != self.arity:
            raise ValueError(f"op {self.name}: one derivative as ops per input")
        if len(self.jvp_code) != len(self.vjp_code):
            raise ValueError(f"op {self.name}: a Jacobian-vector product beside each vjp")
        if (self.notation == "shown") != bool(self.shown):
            raise ValueError(f"op {self.name}: a template to be shown with, and only then")
        if self.shape_rule not in SHAPE_RULES:
            raise ValueError(f"op {self.name}: unknown shape rule {self.shape_rule}")

    # forward(m, *args), derivatives[k](m, args, out), vjps[k](m, g, args, out, position)
    # and jvps[k](m, t, args, out, position), compiled from the templates when an op is
    # first used (a small command uses a few of the table's ops: start-up compiles no
    # others). Each is compiled once and then kept on the op.

    def _operands(self) -> dict[str, str]:
        return {n: f"args[{i}]" for i, n in enumerate("ab"[: self.arity])}

    @cached_property
    def forward(self) -> Callable[..., Any]:
        if self.variadic:
            return _compile("lambda m, *args: " + self.code.format(args="args"))
        names = "ab"[: self.arity]
        return _compile(f"lambda m, {', '.join(names)}: "
                        + self.code.format(**{n: n for n in names}))

    @cached_property
    def derivatives(self) -> tuple[Callable[..., Any], ...]:
        """derivatives[k](m, args, out), compiled from derivative_code (made by
        derive_codes for an op written with derivative_ops)."""
        operands = self._operands()
        return tuple(
            _compile("lambda m, args, out: " + template.format(out="out", **operands))
            for template in self.derivative_code
        )

    @cached_property
    def vjps(self) -> tuple[Callable[..., Any], ...]:
        operands = {} if self.variadic else self._operands()
        return tuple(
            _compile("lambda m, g, args, out, position: "
                     + template.format(g="g", out="out", position="position", **operands))
            for template in self.vjp_code
        )

    @cached_property
    def jvps(self) -> tuple[Callable[..., Any], ...]:
        operands = {} if self.variadic else self._operands()
        return tuple(
            _compile("lambda m, t, args, out, position: "
                     + template.format(t="t", out="out", position="position", args="args",
                                       **operands))
            for template in self.jvp_code
        )

    def is_kink(self, args: tuple) -> bool:
        if self.kink is None:
            return False
        at = self.kink(args)
        return bool(at.any()) if hasattr(at, "any") else bool(at)  # any element of an array


def _compile(source: str) -> Callable[..., Any]:
    # Safe: ``source`` is one of the op modules' own constant templates (the forward formulas
    # of the rows in table.py and helpers.py, and the derivative formulas made from their
    # constant forms by derive_codes), filled with the fixed names a, b, out. No text a user
    # typed ever reaches here: expressions are parsed by syntax/ into a tree whose ops are
    # looked up in the table by name, and builtins are cut down to abs.
    return eval(source, {"__builtins__": {"abs": abs}})  # noqa: S307


# ----------------------------------------------------------------------------- forms
# A form (an S-expression of ``derivative_ops``) read: a number (float), a name ("a", "b",
# "out") or (op name, *arguments).
Form = float | str | tuple


def parse_form(text: str, ops: Mapping[str, Op]) -> Form:
    """Read one S-expression of a ``derivative_ops`` template (our own constants only).

    Iterative, with an explicit stack; an op not in ``ops``, a stray parenthesis or an unknown
    name is a ValueError (a defect of the table, caught by the tests).
    """
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    stack: list[list] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) < 2 or not stack[-1]:
                raise ValueError(f"unbalanced or empty form in {text!r}")
            items = stack.pop()
            if items[0] not in ops:
                raise ValueError(f"unknown op {items[0]!r} in {text!r}")
            if len(items) - 1 != ops[items[0]].arity:
                raise ValueError(f"{items[0]} takes {ops[items[0]].arity} inputs in {text!r}")
            stack[-1].append(tuple(items))
        elif len(stack) > 1 and not stack[-1]:
            stack[-1].append(token)  # the op's name
        else:
            try:
                stack[-1].append(float(token))
            except ValueError:
                if token not in ("a", "b", "out"):
                    raise ValueError(f"unknown name {token!r} in {text!r}") from None
                stack[-1].append(token)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError(f"not one form: {text!r}")
    return stack[0][0]


def fold_form(form: Form, ops: Mapping[str, Op], number, name, apply):
    """Fold a form bottom-up, with an explicit stack (no recursion): ``number(value)`` at a
    number, ``name(a|b|out)`` at a name, ``apply(op, inputs)`` at an op over its inputs'
    results. The derivative's code (``derive_codes``), its value (``derived.evaluate_form``)
    and its nodes (``engine/higher.py``) are three folds of one form."""
    results: list = []
    stack: list[tuple[Form, bool]] = [(form, False)]
    while stack:
        item, expanded = stack.pop()
        if isinstance(item, float):
            results.append(number(item))
        elif isinstance(item, str):
            results.append(name(item))
        elif not expanded:
            stack.append((item, True))
            stack.extend((argument, False) for argument in reversed(item[1:]))
        else:
            arity = len(item) - 1
            inputs = results[len(results) - arity:]
            del results[len(results) - arity:]
            results.append(apply(ops[item[0]], inputs))
    return results[0]


def _code_number(value: float) -> str:
    return repr(value) if value >= 0 else f"({value!r})"


def _code_apply(op: Op, inputs: list[str]) -> str:
    # Every operand but a bare placeholder or number is parenthesised: the text then groups
    # exactly as the form does, whatever the precedence of the ops around it.
    return op.code.format(**{key: text if _atomic(text) else f"({text})"
                             for key, text in zip("ab", inputs)})


def _atomic(text: str) -> bool:
    if text in ("{a}", "{b}", "{out}"):
        return True
    try:
        return float(text) >= 0
    except ValueError:
        return False


def derive_codes(ops: Sequence[Op]) -> None:
    """Make every op's ``derivative_code`` from its ``derivative_ops`` and the forward
    ``code`` of the ops they use (all of ``ops``), and compile it. Run once, when the table
    and its helpers exist."""
    by_name = {op.name: op for op in ops}
    for op in ops:
        if not op.derivative_ops:
            continue
        forms = [parse_form(text, by_name) for text in op.derivative_ops]
        codes = tuple(
            repr(form) if isinstance(form, float)  # "1.0", "-1.0": the sweeps know these
            else fold_form(form, by_name, _code_number, lambda name: "{" + name + "}",
                           _code_apply)
            for form in forms
        )
        object.__setattr__(op, "derivative_code", codes)
        op.__dict__.pop("derivatives", None)  # compiled from the new code when used
