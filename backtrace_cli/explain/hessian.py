"""A Hessian, explained: the data behind ``backtrace hessian`` and ``grad --order K``.

``explain_hessian`` runs double backprop (``engine/higher.py``): the gradient's own tape is
built once and evaluated once, then swept in reverse once per variable; row i of the Hessian
is the sweep from dL/d(variable i), and each entry is that sweep's adjoint of a variable, the
sum of the edges into it (kept for ``--explain``). Around it: the symmetry check, the
eigenvalues and what they say, and the cross-checks (``checks/second.py``).

``explain_orders`` gives the derivatives of order 0..K in one variable, each from the reverse
sweep of the previous order's tape written out again, with every tape's size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.checks.kinks import kink_notes
from backtrace_cli.checks.second import HessianCheck, OrderCheck, check_hessian, check_orders
from backtrace_cli.engine.higher import HessianResult, derivative_tapes, hessian_at
from backtrace_cli.engine.nodes import OP, Tape
from backtrace_cli.engine.sweeps import Edge, forward
from backtrace_cli.errors import BindingError
from backtrace_cli.i18n import N_, _
from backtrace_cli.limits import MAX_HESSIAN_ENTRIES

# Relative size under which an eigenvalue counts as 0, and an asymmetry as rounding.
ZERO_EIGENVALUE = 1e-12
SYMMETRY_RTOL = 1e-12


@dataclass(frozen=True)
class HessianExplanation:
    source: str
    bindings: dict[str, Any]  # as given (arrays stay arrays)
    result: HessianResult
    eigenvalues: list[float]  # ascending
    definiteness: str  # "positive definite", "indefinite", ...
    meaning: str  # what the eigenvalues say, in words
    asymmetry: float  # max |H[i][j] - H[j][i]|
    symmetric: bool
    check: HessianCheck | None
    scalar_size: int  # nodes of the program taken element by element
    gradient_size: int  # nodes of the gradient's tape

    @property
    def variables(self) -> tuple[str, ...]:
        return self.result.variables

    def edges(self, row: int, column: int) -> list[Edge]:
        """The edges of row ``row``'s sweep into the variable of ``column``: their products
        add up to the entry."""
        target = self.result.derived.tape.variable_nodes[self.variables[column]]
        return [edge for edge in self.result.rows[row].edges if edge.input == target]


def definiteness(eigenvalues: Sequence[float], gradient: Sequence[float]) -> tuple[str, str]:
    """(name, what it says here) from the eigenvalues and whether the gradient is 0."""
    if not eigenvalues:
        return N_("empty"), N_("there is no variable to differentiate by")
    scale = max(abs(value) for value in eigenvalues)
    if scale == 0.0:
        return N_("zero"), N_("every second derivative is 0: the second derivatives cannot "
                              "tell what kind of point this is")
    tolerance = ZERO_EIGENVALUE * scale
    positive = sum(value > tolerance for value in eigenvalues)
    negative = sum(value < -tolerance for value in eigenvalues)
    stationary = all(value == 0.0 for value in gradient)
    n = len(eigenvalues)
    if positive == n:
        return N_("positive definite"), (
            N_("a local minimum here") if stationary else
            N_("it curves up in every direction (a minimum would need the gradient to be 0 as "
               "well)"))
    if negative == n:
        return N_("negative definite"), (
            N_("a local maximum here") if stationary else
            N_("it curves down in every direction (a maximum would need the gradient to be 0 "
               "as well)"))
    if positive and negative:
        return N_("indefinite"), (N_("a saddle point here") if stationary else
                                  N_("it curves up in some directions and down in others"))
    kind = N_("positive semidefinite") if positive else N_("negative semidefinite")
    return kind, N_("flat in some direction: the second derivatives cannot tell whether this "
                    "is a minimum, a maximum or neither")


def explain_hessian(tape: Tape, bindings: Mapping[str, Any], wrt: Sequence[str] | None = None,
                    check: bool = True, check_timeout: float = 5.0) -> HessianExplanation:
    """Value, gradient, Hessian, symmetry, eigenvalues and, if asked, the cross-checks."""
    import numpy

    result = hessian_at(tape, bindings, wrt, record=True, entries=MAX_HESSIAN_ENTRIES)
    hessian = numpy.array(result.hessian, dtype=float).reshape(len(result.variables),
                                                               len(result.variables))
    asymmetry = float(numpy.max(numpy.abs(hessian - hessian.T), initial=0.0))
    scale = float(numpy.max(numpy.abs(hessian), initial=0.0))
    symmetric = asymmetry <= SYMMETRY_RTOL * max(1.0, scale)
    if hessian.size and numpy.isfinite(hessian).all():
        eigenvalues = sorted(float(v) for v in numpy.linalg.eigvalsh((hessian + hessian.T) / 2))
    else:
        eigenvalues = []
    name, meaning = definiteness(eigenvalues, result.gradient)
    derived = result.derived
    scalar_size = derived.original_size
    report = None
    if check:
        scalar = _scalar_tape(result)
        point = {n: result.values[i] for n, i in scalar.variable_nodes.items()}
        kinks = [node.index for node in scalar.nodes if node.kind == OP and node.op.is_kink(
            [result.values[j] for j in node.inputs])]
        report = check_hessian(scalar, point, result.variables, result.hessian,
                               kink_notes(scalar, kinks), check_timeout)
    return HessianExplanation(
        source=tape.source, bindings=dict(bindings), result=result, eigenvalues=eigenvalues,
        definiteness=name, meaning=meaning, asymmetry=asymmetry, symmetric=symmetric,
        check=report, scalar_size=scalar_size, gradient_size=len(derived.tape),
    )


def _scalar_tape(result: HessianResult) -> Tape:
    """The program element by element: the first nodes of the gradient's tape."""
    from dataclasses import replace

    derived = result.derived
    return replace(derived.tape, nodes=derived.tape.nodes[:derived.original_size],
                   output=derived.value_node)


@dataclass(frozen=True)
class OrdersExplanation:
    source: str
    bindings: dict[str, Any]
    variable: str
    derivatives: list[float]  # order 0 first
    tape_sizes: list[int]
    tapes: list[Tape]
    checks: list[OrderCheck] | None
    sympy_note: str | None

    @property
    def ok(self) -> bool:
        return self.checks is None or all(c.ok is not False for c in self.checks)


def explain_orders(tape: Tape, bindings: Mapping[str, Any], order: int,
                   wrt: Sequence[str] | None = None, check: bool = True,
                   check_timeout: float = 5.0) -> OrdersExplanation:
    """Derivatives of order 0..``order`` in one variable (the only one, or ``wrt``)."""
    program, variable, point = one_variable(tape, bindings, wrt)
    tapes = derivative_tapes(program.tape, variable, order)
    derivatives = [float(forward(t, point)[t.output]) + 0.0 for t in tapes]
    checks, note = (None, None)
    if check:
        checks, note = check_orders(program.tape, point, variable, derivatives, check_timeout)
    return OrdersExplanation(tape.source, dict(bindings), variable, derivatives,
                             [len(t) for t in tapes], tapes, checks, note)


def one_variable(tape: Tape, bindings: Mapping[str, Any], wrt: Sequence[str] | None):
    """(the program element by element, its one variable, the element bindings) for a
    derivative of higher order: the only variable, or the one ``wrt`` names."""
    from backtrace_cli.engine.elements import element_bindings, scalar_program
    from backtrace_cli.engine.tape import check_bindings

    check_bindings(tape, bindings)
    program = scalar_program(tape, bindings)
    names = program.select(wrt) if wrt else tuple(
        e for elements in program.elements.values() for e in elements)
    if len(names) != 1:
        listed = ", ".join(program.elements) or "none"
        error = BindingError(
            _("derivatives of higher order are taken in one variable; the expression has "
              "{count} ({listed})").format(count=len(names), listed=listed) if not wrt else
            _("wrt names {count} variables; derivatives of higher order need one").format(
                count=len(names)),
            _("pick one with wrt=NAME"),
        )
        error.field = "wrt"
        raise error
    return program, names[0], element_bindings(bindings)


def order_tape(tape: Tape, bindings: Mapping[str, Any], order: int,
               wrt: Sequence[str] | None = None) -> tuple[Tape, dict[str, float], str]:
    """For ``graph --order K``: the tape whose reverse sweep gives the K-th derivative (the
    (K-1)-th derivative's tape; the program itself for K = 1 is not asked for here), with
    the element bindings and the variable."""
    from dataclasses import replace

    program, variable, point = one_variable(tape, bindings, wrt)
    derived = derivative_tapes(program.tape, variable, order - 1)[-1]
    # The output is f' (f'' ...), as DeZero writes it: the legend then reads df'/d(node).
    taken = set(derived.variables) | {n.name for n in derived.nodes if n.name}
    base = next((c for c in ("f", "g", "h", "F") if c not in taken), "f")
    nodes = list(derived.nodes)
    nodes[derived.output] = nodes[derived.output]._replace(name=base + "'" * (order - 1))
    return replace(derived, nodes=tuple(nodes)), point, variable
