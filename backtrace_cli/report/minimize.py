"""The report of ``backtrace minimize``: what was minimised, the steps (a table, sampled as
``train`` samples its epochs), the parameters, the traced updates, the explained step; ``data``
is the JSON document of docs/cli.md (schema: docs/schema/minimize.json)."""

from __future__ import annotations

import re

from backtrace_cli.engine.values import shape_of
from backtrace_cli.engine.values import to_plain as plain
from backtrace_cli.i18n import N_, _, ngettext
from backtrace_cli.report.model import Column, Lines, Report, Table, Text, joined, text
from backtrace_cli.report.text import number
from backtrace_cli.report.train import epoch_sample

# The symbols of the written updates, as LaTeX math (the other writers show them as they are).
_SYMBOLS = {"←": r"\leftarrow", "−": "-", "→": r"\rightarrow", "∂": r"\partial",
            "⁻¹": "^{-1}", "√": r"\surd", "ε": r"\varepsilon", "m̂": r"\hat{m}",
            "v̂": r"\hat{v}"}
_SYMBOL_RUNS = re.compile("(" + "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len,
                                                                      reverse=True)) + ")")


def written(line: str) -> Text:
    """A line of text whose update symbols (←, −, ∂, ⁻¹, ...) are math runs for LaTeX."""
    pieces = [piece for piece in _SYMBOL_RUNS.split(line) if piece]
    if len(pieces) <= 1 and line not in _SYMBOLS:
        return text(line)
    return joined(*(Text(piece, _SYMBOLS[piece]) if piece in _SYMBOLS else piece
                    for piece in pieces))


def _signed(value) -> str:
    shown = number(value)
    return f"({shown})" if shown.startswith("-") else shown


def listed(items) -> str:
    """Items of a list inside a sentence, with the reader's separator (Chinese: 、, so that a
    sentence does not mix , and ，)."""
    return _(", ").join(items)


def settings_text(settings) -> str:
    """method newton, 7 steps / method adam, lr 0.1 (beta1 0.9, beta2 0.999, eps 1e-08),
    100 steps."""
    method = settings.method
    extra = {"momentum": _(" (momentum {momentum})").format(momentum=f"{settings.momentum:g}"),
             "adam": _(" (beta1 {beta1}, beta2 {beta2}, eps {eps})").format(
                 beta1=f"{settings.beta1:g}", beta2=f"{settings.beta2:g}",
                 eps=f"{settings.eps:g}")}.get(method, "")
    rate = _(", lr {lr}").format(lr=f"{settings.rate:g}") if settings.rate is not None else ""
    return _("method {method}{rate}{extra}, {count}").format(
        method=method, rate=rate, extra=extra, count=_steps(settings.steps))


def header_lines(outcome, initial) -> list[str]:
    """What is about to be minimised, from where, how."""
    start = listed(f"{name}={number(value)}" for name, value in initial.items())
    where = _(" from {start}").format(start=start) if start else ""
    lines = [_("Minimising {label} = {source}{where}").format(
                 label=outcome.label, source=_one_line(outcome.source), where=where),
             settings_text(outcome.settings)]
    if outcome.settings.wrt:
        lines.append(_("over {wrt} only; the rest stays as bound").format(
            wrt=", ".join(outcome.settings.wrt)))
    return lines


def _one_line(source: str) -> str:
    return "; ".join(line.strip() for line in source.strip().splitlines() if line.strip())


def update_text(outcome, update, say=str) -> str:
    """The update written out, parameter by parameter (scalars; an array compactly):
    x ← x − lr·dz/dx = 2 − 0.01·24 = 1.76. ``say`` translates its one sentence (the JSON
    keeps it English)."""
    if update.after is None:
        return ""
    settings, f = outcome.settings, outcome.label
    method, lr = settings.method, settings.rate
    parts = []
    directions = {}
    if update.direction is not None:
        from backtrace_cli.train.newton import unflatten

        directions = unflatten(update.direction, update.before, list(update.before),
                               update.elements or None)
    for name in update.before:
        old, new, grad = update.before[name], update.after[name], update.gradients.get(name)
        d = f"d{f}/d{name}"
        if method == "gd":
            parts.append(f"{name} ← {name} − lr·{d} = {number(old)} − {lr:g}·{_signed(grad)} "
                         f"= {number(new)}")
        elif method == "momentum":
            buffer = update.state["buffer"][name]
            parts.append(f"v_{name} ← {settings.momentum:g}·v_{name} + {d} = {number(buffer)}; "
                         f"{name} ← {name} − lr·v_{name} = {number(old)} − {lr:g}·"
                         f"{_signed(buffer)} = {number(new)}")
        elif method == "adam":
            first, second = update.state["first"][name], update.state["second"][name]
            parts.append(f"{name} ← {name} − lr·m̂/(√v̂ + ε) = {number(old)} → {number(new)} "
                         f"(m = {number(first)}, v = {number(second)}, "
                         f"t = {update.state['steps']})")
        elif len(update.before) == 1 and not shape_of(old):
            second = update.hessian[0][0]
            parts.append(f"{name} ← {name} − {d} / d²{f}/d{name}² = {number(old)} − "
                         f"{_signed(grad)}/{_signed(second)} = {number(new)}")
        else:
            step = directions[name]
            parts.append(f"{name} ← {name} + d_{name} = {number(old)} + {_signed(step)} = "
                         f"{number(new)}")
    if method == "newton" and (len(parts) > 1 or shape_of(old)):
        parts.insert(0, say(N_SOLVED))
    return "; ".join(parts)


# Kept English in the JSON ("update_text"); the views translate it.
N_SOLVED = N_("d = −H⁻¹·g (H·d = −g solved)")


def trace_line(outcome, update) -> str:
    """One step as --trace prints it: where, the value, the gradient, then the update."""
    f = outcome.label
    where = " ".join(f"{name}={number(value)}" for name, value in update.before.items())
    grads = " ".join(f"d{f}/d{name}={number(g)}" for name, g in update.gradients.items())
    line = _("step {step}: {where} {f}={value} {grads}").format(
        step=update.step, where=where, f=f, value=number(update.value), grads=grads)
    if update.hessian is not None and len(update.hessian) == 1:
        name = next(iter(update.before))
        line += f" d²{f}/d{name}²={number(update.hessian[0][0])}"
    update_line = update_text(outcome, update, _)
    return f"{line}  [{update_line}]" if update_line else line


def build(outcome, *, live: bool = False) -> Report:
    """The report of a finished run. ``live``: the header and the trace lines were already
    printed while minimising (the CLI does so), so the sections leave them out."""
    result = outcome.result
    history, names = result.history, result.variables
    opening: list[str] = []
    if not live:
        start = {name: {**result.fixed, **result.initial}[name]
                 for name in outcome.tape.variables}
        opening = header_lines(outcome, start) + [""]
        opening += [trace_line(outcome, update) for update in outcome.traced]
    # The start, then steps 1..N sampled as train samples its epochs 1..N.
    shown = [0] + [index + 1 for index in epoch_sample(len(history) - 1)]
    notes = ()
    if len(shown) < len(history):
        notes = (text(_("{shown} of {total} steps shown (--format json lists all)").format(
            shown=len(shown), total=len(history))),)
    sections = [Table(
        text(_("Steps")),
        (Column(text(_("step")), "right"), Column(text(outcome.label), "right"),
         *(Column(text(name), "right") for name in names)),
        tuple((text(str(history[i].step)), text(number(history[i].value)),
               *(text(number(history[i].params[name])) for name in names)) for i in shown),
        before=tuple(written(line) for line in opening), notes=notes, cut=False, key="steps",
    )]
    final = _("At the start {label} = {initial}; after {steps} {label} = {final}").format(
        label=outcome.label, initial=number(history[0].value), steps=_steps(history[-1].step),
        final=number(history[-1].value))
    sections.append(Table(
        text(_("Parameters")),
        (Column(text(_("name"))), Column(text(_("initial")), "right"),
         Column(text(_("final")), "right")),
        tuple((text(name), text(number(result.initial[name])), text(number(result.params[name])))
              for name in names),
        after=(text(final),), cut=False, key="params",
        notes=tuple(text(_("held fixed: {name} = {value}").format(name=name, value=number(value)))
                    for name, value in result.fixed.items()),
    ))
    if outcome.explanation is not None:
        sections += explained_sections(outcome)
    return Report("minimize", text(_("Minimising {label} = {source}").format(
                      label=outcome.label, source=_one_line(outcome.source))),
                  tuple(sections), document(outcome))


def _steps(count: int) -> str:
    return ngettext("{count} step", "{count} steps", count).format(count=f"{count:,}")


def explained_sections(outcome) -> list:
    """--explain-step K: grad's forward, backward and chain-rule sections at the parameters
    before step K, then the update written out."""
    from backtrace_cli.report.grad import build as grad_report

    update = outcome.result.explained
    where = listed(f"{name}={number(value)}" for name, value in update.before.items())
    lines = [text(_("Step {step} starts from {where}; its gradient, as backtrace grad "
                    "computes it:").format(step=update.step, where=where))]
    update_line = update_text(outcome, update, _)
    after = (written(_("The update: {update}").format(update=update_line)),) if update_line \
        else ()
    sections = [Lines(text(_("Step {step} explained").format(step=update.step)), tuple(lines),
                      key="explain"),
                *grad_report(outcome.explanation).sections]
    if update.hessian is not None:  # newton: the second derivatives the step solved with
        elements, f = outcome.result.elements, outcome.label
        sections.append(Table(
            text(_("Hessian of {f} at step {step} (second derivatives by double "
                   "backprop)").format(f=f, step=update.step)),
            (Column(text("a \\ b")), *(Column(text(b), "right") for b in elements)),
            tuple((text(a), *(text(number(v)) for v in row))
                  for a, row in zip(elements, update.hessian)),
            cut=False, key="hessian"))
    sections.append(Lines(None, after or (text(_("The update could not be made.")),),
                          key="explain_update"))
    return sections


def _stop(stop) -> dict | None:
    if stop is None:
        return None
    data = {"step": stop.step, "reason": stop.reason}
    if stop.hint is not None:
        data["hint"] = stop.hint
    if stop.eigenvalues is not None:
        data["eigenvalues"] = stop.eigenvalues
    return data


def document(outcome) -> dict:
    """The JSON object of docs/cli.md."""
    result, settings = outcome.result, outcome.settings
    data = {
        "expression": outcome.source,
        "output": outcome.label,
        "method": settings.method,
        "settings": {"method": settings.method, "lr": settings.rate, "steps": settings.steps,
                     **({"momentum": settings.momentum} if settings.method == "momentum"
                        else {}),
                     **({"beta1": settings.beta1, "beta2": settings.beta2, "eps": settings.eps}
                        if settings.method == "adam" else {})},
        "variables": list(result.variables),
        "wrt": list(result.wrt),
        "fixed": {name: plain(value) for name, value in result.fixed.items()},
        "initial": {name: plain(value) for name, value in result.initial.items()},
        "params": {name: plain(value) for name, value in result.params.items()},
        "initial_value": result.history[0].value,
        "value": result.value,
        "steps": result.steps,
        "history": [{"step": point.step, "value": point.value,
                     "params": {name: plain(v) for name, v in point.params.items()}}
                    for point in result.history],
        "diverged": _stop(result.diverged),
        "blocked": _stop(result.blocked),
        "interrupted": result.interrupted,
        "warnings": list(outcome.warnings),
    }
    if outcome.traced:
        data["trace"] = [_update_document(outcome, update) for update in outcome.traced]
    if outcome.explanation is not None:
        from backtrace_cli.report.grad import build as grad_report

        update = _update_document(outcome, result.explained)
        data["explain"] = {**update, "grad": dict(grad_report(outcome.explanation).data)}
    return data


def _update_document(outcome, update) -> dict:
    data = {
        "step": update.step, "value": update.value,
        "params": {name: plain(v) for name, v in update.before.items()},
        "gradients": {name: plain(g) for name, g in update.gradients.items()},
        "after": None if update.after is None else {name: plain(v)
                                                    for name, v in update.after.items()},
    }
    if update.hessian is not None:
        data["hessian"] = update.hessian
        data["direction"] = update.direction
    data["update_text"] = update_text(outcome, update) or None
    return data
