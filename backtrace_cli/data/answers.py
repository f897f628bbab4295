"""Reading a student's answers: a JSON file, or a filled-in Markdown worksheet from ``quiz``.

JSON holds any of the sections ``forward`` ({node id or name: value}), ``local`` and
``product`` ({"NODE/INPUT": value}) and ``gradients`` ({variable: value}); the key file that
``quiz --answers`` writes has this shape too (and ``expression``, ``bindings``, ``dz``,
``level`` and ``seed``, which are read past). A worksheet's answers are the "answer" column
of its Answers table, or a blank in a table written over (``[3] -2``).

Every problem is a ``DataError`` with the line and column where it is: broken JSON (from
``json.JSONDecodeError``), an unknown section (with a did-you-mean), a value that is not a
number. The values themselves are matched to the program's cells by ``explain.grading``.
"""

from __future__ import annotations

import json
import re

from backtrace_cli.errors import DataError, did_you_mean
from backtrace_cli.explain.cells import ANSWER_COLUMNS, KIND_NAMES, KINDS, SECTIONS
from backtrace_cli.explain.grading import Answer, Answers
from backtrace_cli.i18n import _, translated
from backtrace_cli.syntax.numbers import (
    TOO_LARGE,
    TOO_LARGE_HINT,
    NestedTooDeeply,
    NumberTooLarge,
    loads,
    shortened,
)
from backtrace_cli.syntax.numbers import decoder as number_decoder

# Keys of a key file that describe the program rather than answer a cell.
ABOUT = ("expression", "bindings", "dz", "level", "seed")
KIND_OF = {section: kind for kind, section in SECTIONS.items()}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FILLED = re.compile(r"\[(\d+)\]\s*=?\s*(.*)")
# What a worksheet's empty answer cell holds, and what may surround a written value.
_PADDING = "_*` \t"


def read_answers(text: str, path: str | None = None) -> Answers:
    """The answers in ``text`` (JSON when it starts with ``{`` or ``[``, else a Markdown
    worksheet)."""
    if text.lstrip().startswith(("{", "[")):
        return read_json(text, path)
    return read_worksheet(text, path)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class NotFinite(str):
    """A JSON number that is no finite float (``NaN``, ``Infinity``, ``1e999``), kept as its
    text until its place is known, then refused there."""


def _float_or_not(text: str):
    value = float(text)
    return NotFinite(text) if value in (float("inf"), float("-inf")) else value


# ----------------------------------------------------------------------------- JSON
def read_json(text: str, path: str | None = None) -> Answers:
    try:
        # NaN, Infinity and 1e999 are kept as NotFinite and refused below, in place
        document = loads(text, parse_constant=NotFinite, parse_float=_float_or_not)
    except NestedTooDeeply as error:
        raise DataError(error.message(_("the answers")), path,
                        *_position(text, error.offset or 0)) from None
    except NumberTooLarge as error:
        raise DataError(error.message(_("the answers")), path,
                        *_position(text, max(text.find(error.text), 0)),
                        translated(TOO_LARGE_HINT)) from None
    except json.JSONDecodeError as error:
        raise DataError(_("not valid JSON: {problem}").format(problem=error.msg), path,
                        error.lineno, error.colno,
                        _("an answers file is a JSON object such as {example}").format(
                            example='{"gradients": {"x": -2}}')) from None
    except (ValueError, RecursionError) as error:
        raise DataError(_("not valid JSON: {problem}").format(problem=error), path) from None
    if not isinstance(document, dict):
        raise DataError(_("the answers must be a JSON object"), path, 1, 1,
                        _("e.g. {example}").format(
                            example='{"forward": {"r": -1}, "gradients": {"x": -2}}'))
    decoder = number_decoder(NotFinite, parse_float=_float_or_not)
    items: list[Answer] = []
    kinds: list[str] = []
    seen: set[str] = set()
    for key, start, value_start in _members(text, _skip(text, 0), decoder):
        line, column = _position(text, start)
        if key in seen:
            raise DataError(_("the section '{key}' is given twice").format(key=key), path, line,
                            column)
        seen.add(key)
        if key in ABOUT:
            continue
        if key not in KIND_OF:
            hint = did_you_mean(key, [*KIND_OF, *ABOUT]) or (
                _("the sections are {sections}").format(sections=", ".join(KIND_OF)))
            raise DataError(_("unknown section '{key}'").format(key=key), path, line, column,
                            hint)
        kind = KIND_OF[key]
        kinds.append(kind)
        if _skip(text, value_start) >= len(text) or text[_skip(text, value_start)] != "{":
            raise DataError(_("the section '{key}' must be an object of cells and values").format(
                key=key), path, *_position(text, value_start),
                _("e.g. {example}").format(example=f'"{key}": {_EXAMPLES[kind]}'))
        cell_keys: set[str] = set()
        for cell_key, cell_start, cell_value in _members(text, _skip(text, value_start),
                                                         decoder):
            line, column = _position(text, cell_start)
            if cell_key in cell_keys:
                raise DataError(_("'{cell}' is given twice in '{key}'").format(
                    cell=cell_key, key=key), path, line, column)
            cell_keys.add(cell_key)
            value, _end = decoder.raw_decode(text, cell_value)
            value_line, value_column = _position(text, cell_value)
            checked = _number_value(value, f"{key} '{cell_key}'", path, value_line,
                                    value_column, text, cell_value)
            items.append(Answer(kind, cell_key, checked, value_line, value_column, path,
                                (line, column)))
    return Answers(tuple(items), tuple(kinds))


_EXAMPLES = {"forward": '{"v3": 1, "r": -1}', "local": '{"v7/v5": -2, "r/y_hat": 1}',
             "product": '{"loss/r": -2}', "gradient": '{"x": -2, "w": -2}'}


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\n\r":
        index += 1
    return index


def _members(text: str, index: int, decoder: json.JSONDecoder):
    """(key, where the key starts, where its value starts) of the object at ``index`` (text
    already known to be valid JSON)."""
    from json.decoder import scanstring

    index = _skip(text, index + 1)  # past "{"
    while index < len(text) and text[index] != "}":
        start = index
        key, index = scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past ":"
        yield key, start, index
        _value, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)


def _number_value(value, what: str, path, line, column, text: str = "", start: int = 0):
    """A number, or a list of numbers (a vector, a matrix), as JSON gave it; ``text`` and
    ``start`` (where the value begins in it) place a non-finite item of a list."""
    if isinstance(value, NotFinite):
        if text:  # the item's own place: its text, searched from where the value starts
            found = text.find(value, start)
            line, column = _position(text, found) if found >= 0 else (line, column)
        raise DataError(_("{what}: {shown} is not a finite number").format(
            what=what, shown=str(value)), path, line, column,
            _("write a finite number such as -2 or 0.25"))
    if isinstance(value, bool) or not isinstance(value, (int, float, list)):
        shown = json.dumps(value)
        hint = (_("write the number without quotes") if isinstance(value, str)
                and _NUMBER.fullmatch(value.strip()) else _("write a number such as -2 or 0.25"))
        raise DataError(_("{what}: {shown} is not a number").format(what=what, shown=shown),
                        path, line, column, hint)
    if isinstance(value, list):
        for item in value:
            _number_value(item, what, path, line, column, text, start)
        return value
    if isinstance(value, int) and abs(value) > 2**1023:
        raise DataError(_("{what}: {value} is too large for a float").format(
            what=what, value=value), path, line, column)
    return float(value)


# ----------------------------------------------------------------------------- Markdown
def read_worksheet(text: str, path: str | None = None) -> Answers:
    """A filled-in worksheet: its Answers table (# | kind | cell | ... | answer), and any
    blank written over in the other tables (``[3] -2``)."""
    rows = list(_table_rows(text))
    spelled = _spellings()
    header = next(((number, cells) for number, cells in rows
                   if len(cells) >= 4 and cells[0][0].strip() == "#"
                   and cells[1][0].strip().lower() in spelled["kind"]
                   and cells[2][0].strip().lower() in spelled["cell"]
                   and cells[-1][0].strip().lower() in spelled["answer"]), None)
    if header is None:
        raise DataError(_("no answers found: neither a JSON object nor a worksheet's Answers "
                          "table"), path, 1, 1,
                        _("give the JSON answers, or the Markdown worksheet of backtrace quiz "
                          "--format markdown with its answer column filled in"))
    blanks: dict[int, tuple[str, str]] = {}
    written: dict[int, tuple[str, int, int]] = {}
    kinds: list[str] = []
    for line, cells in _answer_rows(text, rows, header, path):
        number_text, kind_written, key = (_unescaped(cells[i][0].strip()) for i in range(3))
        kind = spelled["kinds"].get(kind_written.lower())
        if not (number_text.isascii() and number_text.isdigit()) or len(number_text) > 9:
            raise DataError(_("the Answers table's row has {text!r} in its # column, not the "
                              "number of a blank").format(text=shortened(number_text)), path,
                            line, cells[0][1], _("keep the rows as quiz wrote them"))
        if kind is None:
            raise DataError(_("the Answers table's row {number} has the kind {kind!r}; the "
                              "kinds are {kinds}").format(number=number_text, kind=kind_written,
                                                         kinds=", ".join(KINDS)),
                            path, line, cells[1][1], _("keep the rows as quiz wrote them"))
        if int(number_text) in blanks:
            raise DataError(_("the Answers table has row {number} twice").format(
                number=number_text), path, line, cells[0][1], _("keep one of them"))
        blanks[int(number_text)] = (kind, key)
        kinds.append(kind)
        answer, column = cells[-1]
        value = answer.strip(_PADDING)
        if value:
            written[int(number_text)] = (value, line, column + _offset(answer, _PADDING))
    for line, cells in rows:  # blanks written over in the tables themselves
        for cell, column in cells:
            match = _FILLED.fullmatch(cell.strip())
            if match is None or len(match.group(1)) > 9 or int(match.group(1)) not in blanks:
                continue
            value = match.group(2).strip(_PADDING)
            if not value:
                continue
            number = int(match.group(1))
            if number in written and written[number][0] != value:
                raise DataError(_("blank [{number}] has two answers, {first} (line {line}) "
                                  "and {second}").format(number=number,
                                                         first=written[number][0],
                                                         line=written[number][1], second=value),
                                path, line, column + _offset(cell, " \t"),
                                _("keep one of them"))
            written.setdefault(number, (value, line, column + cell.find(match.group(2))))
    items = []
    for number in sorted(written):
        value, line, column = written[number]
        kind, key = blanks[number]
        what = _("blank [{number}]").format(number=number)
        items.append(Answer(kind, key, _parse_number(value, what, path, line, column), line,
                            column, path))
    return Answers(tuple(items), tuple(dict.fromkeys(kinds)))


def _answer_rows(text: str, rows, header, path):
    """The rows of the Answers table: the table lines right below its header, each with
    as many cells as the header (a row with fewer or more is refused with its line; an
    empty row is skipped)."""
    lines = text.splitlines()
    end = header[0]  # 1-based line of the header; the table runs while lines start with |
    while end < len(lines) and lines[end].strip().startswith("|"):
        end += 1
    for line, cells in rows:
        if not header[0] < line <= end:
            continue
        if not any(cell.strip(_PADDING) for cell, _column in cells):
            continue
        if len(cells) != len(header[1]):
            raise DataError(
                _("the Answers table's row has {count} cells; its header has {expected}")
                .format(count=len(cells), expected=len(header[1])), path, line, 1,
                _("write the answer in the last column and keep the other cells as quiz "
                  "wrote them (a | inside an answer is written \\|)"))
        yield line, cells


def _spellings() -> dict:
    """How a worksheet may spell the Answers table's titles and the kinds of cells: in
    English or in any language of the catalogues, whatever the reader's language is now
    (a worksheet made in Chinese is graded in English too)."""
    from backtrace_cli.i18n import LANGUAGES, translations

    spelled: dict = {"kinds": {kind: kind for kind in KINDS}}
    for title in ANSWER_COLUMNS:
        spelled[title] = {title}
    for language in LANGUAGES:
        catalogue = translations(name=language)
        for title in ANSWER_COLUMNS:
            spelled[title].add(catalogue.gettext(title).lower())
        for kind, name in KIND_NAMES.items():
            spelled["kinds"].setdefault(catalogue.gettext(name).lower(), kind)
    return spelled


def _unescaped(text: str) -> str:
    """A cell's text as Markdown shows it: ``\\_a`` is ``_a``, ``&lt;`` is ``<`` (the
    worksheet escapes what Markdown would read as markup)."""
    import html

    return html.unescape(_MARKDOWN_ESCAPE.sub(r"\1", text))


_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _offset(text: str, padding: str) -> int:
    return len(text) - len(text.lstrip(padding))


def _table_rows(text: str):
    """(line number, [(cell text, column of the cell's first character)]) of every row of a
    pipe table (the separator rows left out)."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("|") or set(stripped) <= set("|-: "):
            continue
        start = line.index("|") + 1
        cells = []
        index = start
        while index <= len(line):
            end = index
            while end < len(line) and (line[end] != "|" or line[end - 1] == "\\"):
                end += 1
            if end >= len(line):
                break
            cells.append((line[index:end], index + 1))
            index = end + 1
        yield number, cells


def _parse_number(text: str, what: str, path, line, column):
    """A number as a student writes it (a Unicode minus is a minus), or a vector [1, -2]."""
    cleaned = text.replace("\u2212", "-").replace(" ", "")
    if cleaned.startswith("["):
        try:
            value = loads(cleaned, parse_constant=NotFinite, parse_float=_float_or_not)
        except (NestedTooDeeply, NumberTooLarge) as error:
            raise DataError(error.message(what), path, line, column) from None
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, list):
            return _number_value(value, what, path, line, column)
    elif _NUMBER.fullmatch(cleaned):
        value = float(cleaned)
        if value not in (float("inf"), float("-inf")):
            return value
        raise DataError(translated(TOO_LARGE).format(what=what, text=shortened(text)), path,
                        line, column, translated(TOO_LARGE_HINT))
    raise DataError(_("{what}: '{text}' is not a number").format(what=what, text=shortened(text)),
                    path,
                    line, column,
                    _("write a decimal number such as -2 or 0.25 (or [1, -2] for a vector)"))
