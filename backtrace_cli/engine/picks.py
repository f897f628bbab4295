"""The names a ``wrt`` list holds: whole variables, or elements and rows of an array.

``"W[0,1], b"`` is two names, not three: the list is split at the commas outside brackets.
``W[0,1]`` picks one element of a 2-D ``W``, ``W[1]`` its second row (a prefix of the
indices: the elements below it, row-major). Indices are whole numbers from 0; one out of
range is an error naming its position and the variable's shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from backtrace_cli.errors import BindingError
from backtrace_cli.i18n import _
from backtrace_cli.ops.table import shape_text


def _wrt_error(message: str, hint: str | None = None) -> BindingError:
    error = BindingError(message, hint)
    error.field = "wrt"  # the CLI says --wrt
    return error


def split_names(text: str | Iterable[str] | None) -> list[str] | None:
    """``"a, W[0,1]"`` -> ``["a", "W[0,1]"]``: split at the commas outside brackets (None or
    nothing named: None, every variable). A list is taken as its names, each stripped."""
    if text is None:
        return None
    if not isinstance(text, str):
        names = [str(name).strip() for name in text]
        return [name for name in names if name] or None
    names, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise _wrt_error(_("wrt: ']' at character {position} closes no '['").format(
                    position=position + 1), _("write an element as W[0,1]"))
        elif char == "," and depth == 0:
            names.append(text[start:position])
            start = position + 1
    if depth:
        raise _wrt_error(_("wrt: '[' is not closed in {text!r}").format(text=text),
                         _("write an element as W[0,1]"))
    names.append(text[start:])
    names = ["".join(name.split()) for name in names]
    return [name for name in names if name] or None


def parse_pick(name: str) -> tuple[str, tuple[int, ...]] | None:
    """``"W[0,1]"`` -> ``("W", (0, 1))``; a plain name -> None; a bad index is an error."""
    if not name.endswith("]") or "[" not in name:
        return None
    base, _bracket, inner = name[:-1].partition("[")
    parts = inner.split(",")
    index = []
    for position, part in enumerate(parts, start=1):
        if not part.isascii() or not part.isdigit():
            raise _wrt_error(
                _("wrt names '{name}': index {position} ({part!r}) is not a whole number "
                  "from 0").format(name=name, position=position, part=part),
                _("write an element as W[0,1]"))
        index.append(int(part))
    return base, tuple(index)


def check_pick(name: str, base: str, index: tuple[int, ...], shape: Sequence[int]) -> None:
    """Refuse an index that ``shape`` does not have, naming its position (from 1)."""
    if not shape:
        raise _wrt_error(
            _("wrt names '{name}', but {base} is a number, not an array").format(
                name=name, base=base), _("name it as {base}").format(base=base))
    if len(index) > len(shape):
        raise _wrt_error(
            _("wrt names '{name}' with {count} indices, but {base} has {axes} (shape "
              "{shape})").format(name=name, count=len(index), base=base, axes=len(shape),
                                 shape=shape_text(tuple(shape))))
    for position, (i, size) in enumerate(zip(index, shape, strict=False), start=1):
        if i >= size:
            raise _wrt_error(
                _("wrt names '{name}': index {value} at position {position} is out of range "
                  "for {base} (shape {shape}: 0 to {last} there)").format(
                    name=name, position=position, value=i, base=base,
                    shape=shape_text(tuple(shape)), last=size - 1))


def pick_name(base: str, index: tuple[int, ...]) -> str:
    """The canonical text of a pick: ``W[0,1]`` (no spaces)."""
    return f"{base}[{','.join(str(i) for i in index)}]"
