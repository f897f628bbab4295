"""Newton's method for ``minimize``: the Hessian by double backprop, then ``H d = -g``.

The gradient and the Hessian come from ``engine.higher.hessian_at`` (the reverse sweep
differentiated again, no hand-written second derivatives, no finite differences). A step is
taken only where the Hessian is positive definite: elsewhere ``d`` does not lead towards a
minimum (a saddle point or a maximum), or does not exist (a singular Hessian), and the run
stops with a message saying what a user can do instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backtrace_cli.engine.values import is_array
from backtrace_cli.i18n import N_

# Why newton refuses a step, in English (the JSON keeps it; the CLI shows it translated
# through these templates). {step} is filled in by the loop, {shown} with the eigenvalues.
_REFUSALS = {
    (True, "singular"): N_("newton cannot take step {step}: the second derivative is zero "
                           "({shown}), so the Newton step H·d = −g has no unique solution (the "
                           "curvature is zero in some direction)"),
    (True, "negative definite"): N_("newton cannot take step {step}: the second derivative is "
                                    "negative ({shown}), so the Newton step heads for a "
                                    "maximum, not a minimum"),
    (False, "singular"): N_("newton cannot take step {step}: the Hessian is singular "
                            "(eigenvalues {shown}), so the Newton step H·d = −g has no unique "
                            "solution (the curvature is zero in some direction)"),
    (False, "negative definite"): N_("newton cannot take step {step}: the Hessian is negative "
                                     "definite (eigenvalues {shown}), so the Newton step heads "
                                     "for a maximum, not a minimum"),
    (False, "indefinite"): N_("newton cannot take step {step}: the Hessian is indefinite "
                              "(eigenvalues {shown}), so the Newton step heads for a saddle "
                              "point, not a minimum"),
}
NOT_FINITE = N_("the gradient or the Hessian is not finite (inf or nan) at step {step}")
REFUSALS = (*_REFUSALS.values(), NOT_FINITE)
NEWTON_HINT = N_("use method gd (or momentum, adam), or start where the Hessian is positive "
                 "definite, nearer a minimum")


@dataclass
class NewtonStep:
    """What one Newton step found. ``refusal`` is (reason, hint, eigenvalues) when no step
    was taken (hint None: the numbers were not finite, a divergence); ``reason`` holds
    ``{step}`` for the step's number."""

    elements: tuple[str, ...]  # the variables element by element (W[0,1]), Hessian order
    gradients: dict[str, Any]
    hessian: list
    direction: list | None = None  # d, in element order
    steps: dict[str, Any] | None = None  # d as {name: value}
    refusal: tuple[str, str | None, list[float] | None] | None = None


def newton_direction(gradient, hessian):
    """d with H d = -g. One variable: d = -g/h, the 1x1 system's solution in one correctly
    rounded division (LAPACK's getrs may multiply by the pivot's reciprocal instead, two
    roundings, depending on the BLAS build: the iterates would then differ from Newton's
    x - f'(x)/f''(x) in the last bit). More: numpy.linalg.solve (LU with partial pivoting)."""
    import numpy as np

    g = np.asarray(gradient, dtype=np.float64).reshape(-1)
    h = np.asarray(hessian, dtype=np.float64).reshape(g.size, g.size)
    if g.size == 1:
        return np.array([-(float(g[0]) / float(h[0, 0]))])
    return np.linalg.solve(h, -g)


def definiteness(eigenvalues: Sequence[float]) -> str:
    """What a symmetric matrix's eigenvalues say: positive definite, negative definite,
    indefinite, or singular (an eigenvalue zero within rounding: |λ| <= n·2⁻⁵²·max|λ|)."""
    values = [float(v) for v in eigenvalues]
    largest = max(abs(v) for v in values)
    tiny = largest * len(values) * 2.0 ** -52
    if largest == 0 or any(abs(v) <= tiny for v in values):
        return "singular"
    if all(v > 0 for v in values):
        return "positive definite"
    if all(v < 0 for v in values):
        return "negative definite"
    return "indefinite"


def newton_step(tape, params: Mapping[str, Any], names: Sequence[str],
                wrt: Sequence[str] | None = None) -> NewtonStep:
    """The Newton step at ``params`` (not applied) in the variables ``names`` (only the
    elements ``wrt`` picks, when given), or why there is none."""
    import numpy as np

    from backtrace_cli.engine.higher import hessian_at

    second = hessian_at(tape, dict(params), wrt)
    elements = tuple(second.variables)
    g = np.asarray(second.gradient, dtype=np.float64).reshape(-1)
    h = np.asarray(second.hessian, dtype=np.float64).reshape(g.size, g.size)
    found = NewtonStep(elements, unflatten(g, params, names, elements), h.tolist())
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        found.refusal = (NOT_FINITE, None, None)
        return found
    if not g.any():  # a stationary point: d = 0 solves H d = 0 whatever H is
        direction = np.zeros_like(g)
    else:
        eigenvalues = np.linalg.eigvalsh(h)
        kind = definiteness(eigenvalues)
        if kind != "positive definite":
            shown = ", ".join(f"{v:.6g}" for v in eigenvalues)
            # one variable: the Hessian is the second derivative
            reason = _REFUSALS[g.size == 1, kind].format(step="{step}", shown=shown)
            found.refusal = (reason, NEWTON_HINT, [float(v) for v in eigenvalues])
            return found
        direction = newton_direction(g, h)
    found.direction = direction.tolist()
    found.steps = unflatten(direction, params, names, elements)
    return found


def unflatten(flat, params: Mapping[str, Any], names: Sequence[str],
              elements: Sequence[str] | None = None) -> dict[str, Any]:
    """A vector in element order (each variable's elements row-major) as {name: value};
    with ``elements`` (the vector's element names, W[0,1]), an element not among them is 0."""
    import numpy as np

    if elements is not None:
        from backtrace_cli.engine.picks import parse_pick

        out = {name: np.zeros(np.shape(params[name])) if is_array(params[name]) else 0.0
               for name in names}
        for value, element in zip(flat, elements, strict=True):
            pick = parse_pick(element) if element not in out else None
            if pick is None:
                out[element] = float(value)
            else:
                out[pick[0]][pick[1]] = value
        return out
    out, position = {}, 0
    for name in names:
        value = params[name]
        if is_array(value):
            size = int(np.size(value))
            out[name] = np.asarray(flat[position:position + size]).reshape(np.shape(value))
            position += size
        else:
            out[name] = float(flat[position])
            position += 1
    return out
