r"""The ``latex`` format: every section of a report as a LaTeX fragment for course notes.

The fragment compiles inside an A4 ``article`` with default margins that loads ``booktabs``,
``amsmath``, ``amssymb``, ``array`` and ``longtable``. Cells are typeset from the report's
``Text``: its ``math`` form in math mode, program text as ``\texttt``, the rest escaped (no
raw Unicode reaches LaTeX). A table that fits the line is a ``tabular`` with booktabs rules;
a wider one gets wrapping ``p{}`` columns; one that cannot fit even so is set as a stacked
``longtable``, one block of "column: value" lines per row. Long tables break across pages.
Equations too wide for the line are broken at their ``=`` and ``+`` signs. Nothing here
depends on the clock or the machine.
"""

from __future__ import annotations

import re

from backtrace_cli.formats.registry import PLAIN, Options
from backtrace_cli.i18n import language
from backtrace_cli.report.model import Lines, Report, Table, Text
from backtrace_cli.report.notation import math_name, math_number  # noqa: F401  (re-exported)
from backtrace_cli.syntax.names import GREEK_LATEX

PACKAGES = "booktabs, amsmath, amssymb, array, longtable"

# Characters LaTeX reads specially in text, and the non-ASCII ones our texts use.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "·": r"$\cdot$",
    "²": r"\textsuperscript{2}",
    "σ": r"$\sigma$",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "✓": r"$\surd$",
    "✗": r"$\times$",
    "⊗": r"$\otimes$",
    "ᵀ": r"$^{\mathsf{T}}$",
    "π": r"$\pi$",
    "′": "'",
    "’": "'",
    "×": r"$\times$",
    "≈": r"$\approx$",
}

# Where program text may break across lines in a narrow column.
_BREAK_AFTER = set(",*+;=")

# Sizes in points of the page the fragment is made for (A4 article, 10pt, default margins),
# and rough widths of what is typeset on it. Estimates err on the wide side.
LINE_WIDTH = 345.0
COLUMN_PADDING = 12.0  # 2 \tabcolsep
CHAR = 5.0  # a letter of running text, on the wide side
CAPITAL = 7.5
MATH_CHAR = 5.0
CODE_CHAR = 5.25
LONG_TABLE_ROWS = 40
P_SLACK = 3.0  # added to a wrapping column's narrowest width: the estimates are rough
# An equation of align* gets less than the line: the estimate undercounts operators and
# spacing around them (a 345-point estimate was seen 15 points too wide).
EQUATION_WIDTH = LINE_WIDTH - 40.0


def latex_escape(text: str) -> str:
    """Text safe in LaTeX's text mode: specials escaped, line breaks as spaces, ``--`` kept as
    two hyphens, any other non-ASCII character replaced by ``?``."""
    flat = re.sub(r"\s+", " ", text)
    return "".join(_escape_char(flat, i) for i in range(len(flat)))


def _escape_char(text: str, i: int) -> str:
    char = text[i]
    if char == "-":  # "--" is an en dash in TeX; "--dz" must stay two hyphens
        return "-{}" if text[i + 1 : i + 2] == "-" else "-"
    escaped = _TEXT_ESCAPES.get(char)
    if escaped is None:
        escaped = char if char.isascii() or _raw_wide(char) else _unicode_char(char)
    return escaped


def _raw_wide(char: str) -> bool:
    """In Chinese, CJK text is written as it is, for xelatex with ``ctex`` (see ``write``);
    in English every non-ASCII letter stays a readable code point for pdflatex."""
    import unicodedata

    return language() == "zh" and unicodedata.east_asian_width(char) in "WF"


def _unicode_char(char: str) -> str:
    r"""A letter pdflatex cannot take raw: Greek as math (``\ensuremath{	heta}``), any other
    by its code point (``U+6743``), so the text stays ASCII and readable."""
    if char in GREEK_LATEX:
        return "\\ensuremath{\\" + GREEK_LATEX[char] + "}"
    return f"U+{ord(char):04X}"


def code(text: str, breakable: bool = True) -> str:
    r"""Text as ``\texttt{...}``, escaped, with places to break after ``, * + ; =``."""
    flat = re.sub(r"\s+", " ", text)
    pieces = []
    for i, char in enumerate(flat):
        pieces.append(_escape_char(flat, i))
        if breakable and char in _BREAK_AFTER:
            pieces.append(r"\allowbreak{}")
    return r"\texttt{" + "".join(pieces) + "}"


def inline(text: Text) -> str:
    """A cell, a title or a note in running text."""
    if text.parts:
        return "".join(inline(part) for part in text.parts)
    if text.math is not None:
        return f"${text.math}$"
    if text.code and text.plain:
        return code(text.plain)
    return latex_escape(text.plain)


# ----------------------------------------------------------------------------- widths
_FRACTION = re.compile(r"\\frac\{\\partial\s*([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}"
                       r"\{\\partial\s*([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def _matrix_width(body: str) -> float:
    rows = [[_math_width(cell) for cell in row.split("&")] for row in body.split(r"\\")]
    columns = max(len(row) for row in rows)
    widths = [max((row[i] for row in rows if i < len(row)), default=0.0) for i in range(columns)]
    return sum(widths) + 10.0 * columns + 10.0


def _math_width(math: str) -> float:
    """A rough width of inline math: fractions as their wider part, matrices by columns."""
    math = _MATRIX.sub(lambda m: "#" * int(_matrix_width(m.group(1)) / MATH_CHAR + 1), math)
    math = _FRACTION.sub(lambda m: "d" + max(m.group(1), m.group(2), key=len), math)
    math = _COMMAND.sub("x", math)
    return MATH_CHAR * len(re.sub(r"[{}_^&\s]", "", math)) + 2.0 * math.count(" ")


def width(text: Text) -> float:
    """The estimated width of a cell on one line."""
    if text.parts:
        return sum(width(part) for part in text.parts)
    if text.math is not None:
        return _math_width(text.math)
    if text.code:
        return CODE_CHAR * _shown_length(text.plain)
    return _text_width(text.plain)


def least_width(text: Text) -> float:
    """The widest piece of a cell that cannot break (a number, a formula, a word)."""
    if text.parts:
        return max((least_width(part) for part in text.parts), default=0.0)
    if text.math is not None:
        return _math_width(text.math)
    if text.code:
        pieces = re.split(r"[,*+;= ]", text.plain)
        return CODE_CHAR * (max((_shown_length(p) for p in pieces), default=0) + 1)
    return max((_text_width(word) for word in text.plain.split()), default=0.0)


def _text_width(text: str) -> float:
    return sum(CAPITAL if char.isupper() else CHAR for char in text) + CHAR * (
        _shown_length(text) - len(text))


def _shown_length(text: str) -> int:
    """Characters as typeset: a letter written by its code point (``U+6743``) takes six."""
    return sum(2 if _raw_wide(char) else
               6 if char.isalpha() and not char.isascii() and char not in GREEK_LATEX else 1
               for char in text)


# ----------------------------------------------------------------------------- tables
_ALIGN = {"left": "l", "right": "r", "center": "c"}
_P_ALIGN = {"left": r"\raggedright", "right": r"\raggedleft", "center": r"\centering"}


def _environment(spec: str, head: list[str], body: list[str], long: bool,
                 size: str = "") -> list[str]:
    spec = "@{}" + spec + "@{}"
    if not long:
        start = [r"\begin{center}"] + ([size] if size else [])
        return [*start, f"\\begin{{tabular}}{{{spec}}}", r"\toprule", *head,
                *([r"\midrule"] if head else []), *body, r"\bottomrule", r"\end{tabular}",
                r"\end{center}"]
    repeat = [*head, r"\midrule"] if head else []
    lines = [f"\\begin{{longtable}}{{{spec}}}", r"\toprule", *repeat, r"\endfirsthead",
             r"\toprule", *repeat, r"\endhead", r"\bottomrule", r"\endlastfoot", *body,
             r"\end{longtable}"]
    return ["{" + size] + lines + ["}"] if size else lines


def _row(cells: list[str]) -> str:
    return " & ".join(cells) + r" \\"


# A table too wide for the line is tried in smaller type first (the factor is how much
# narrower its text gets), then with wrapping columns, then stacked.
SIZES = (("", 1.0), (r"\small", 0.92), (r"\footnotesize", 0.83))


def table_lines(section: Table) -> list[str]:
    """A table as the narrowest layout it needs: natural, wrapped, or stacked."""
    columns = section.columns
    cells = [[inline(cell) for cell in row] for row in section.rows]
    head = [_row([inline(column.header) for column in columns])]
    body = [_row(row) for row in cells]
    natural = [max([width(column.header)] + [width(row[i]) for row in section.rows])
               for i, column in enumerate(columns)]
    least = [max([least_width(column.header)] + [least_width(row[i]) for row in section.rows])
             for i, column in enumerate(columns)]
    room = LINE_WIDTH - COLUMN_PADDING * (len(columns) - 1)
    long = len(section.rows) > LONG_TABLE_ROWS
    for size, factor in SIZES:
        if sum(natural) * factor <= room:
            spec = "".join(_ALIGN[column.align] for column in columns)
            return _environment(spec, head, body, long, size)
    for size, factor in SIZES:
        narrowest = [m * factor + P_SLACK for m in least]
        if sum(narrowest) <= room:
            spare = room - sum(narrowest)
            wanted = [max(n * factor + P_SLACK - m, 0.0) for n, m in zip(natural, narrowest)]
            total = sum(wanted) or 1.0
            widths = [m + spare * w / total for m, w in zip(narrowest, wanted)]
            spec = "".join(
                f">{{{_P_ALIGN[column.align]}\\arraybackslash}}p{{{width_:.0f}pt}}"
                for column, width_ in zip(columns, widths))
            return _environment(spec, head, body, long, size)
    return _stacked(section, cells)


def _stacked(section: Table, cells: list[list[str]]) -> list[str]:
    """Each row as a block of "header & value" lines: for tables wider than the page."""
    headers = [inline(column.header) for column in section.columns]
    label = min(max(least_width(column.header) for column in section.columns) + 4.0, 120.0)
    value = LINE_WIDTH - label - COLUMN_PADDING
    spec = (f">{{\\raggedright\\arraybackslash}}p{{{label:.0f}pt}}"
            f">{{\\raggedright\\arraybackslash}}p{{{value:.0f}pt}}")
    body = []
    for index, row in enumerate(cells):
        if index:
            body.append(r"\midrule")
        body += [_row([header, cell]) for header, cell in zip(headers, row)]
    return _environment(spec, [], body, True)


# ----------------------------------------------------------------------------- equations
def _split(math: str, separator: str) -> list[str]:
    """Split at a separator outside braces and environments."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(math):
        char = math[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and math.startswith(r"\begin", i):
            depth += 1
        elif depth == 0 and math.startswith(separator, i):
            parts.append(math[start:i])
            start = i + len(separator)
            i = start
            continue
        if math.startswith(r"\end{", i):
            depth -= 1
        i += 1
    parts.append(math[start:])
    return parts


def equation_lines(math: str) -> list[str]:
    """One ``align*`` equation, broken at ``=`` (then ``+``) where it is wider than the line."""
    if _math_width(math) <= EQUATION_WIDTH or "&=" not in math:
        return [math]
    left, right = math.split("&=", 1)
    lines = []
    for index, side in enumerate(_split(right, " = ")):
        prefix = (left + "&= ") if index == 0 else "&= "
        chunk = ""
        for term in _split(side, " + "):
            candidate = f"{chunk} + {term}" if chunk else term
            if chunk and _math_width(prefix + candidate) > EQUATION_WIDTH:
                lines.append(prefix + chunk)
                prefix, chunk = r"&\quad + ", term
            else:
                chunk = candidate
        lines.append(prefix + chunk.strip())
    return lines


def _equations(section: Lines) -> list[str]:
    equations = []
    for line in section.lines:
        if line.math is not None:
            equations += equation_lines(line.math)
        else:
            equations.append(r"&\text{" + latex_escape(line.plain) + "}")
    body = [equation + r" \\" for equation in equations[:-1]] + equations[-1:]
    return [r"\begin{align*}", *body, r"\end{align*}"]


def _items(texts) -> list[str]:
    return [r"\begin{itemize}", *(r"\item " + inline(text) for text in texts), r"\end{itemize}"]


# ----------------------------------------------------------------------------- the document
def _paragraph(title: Text | None) -> str:
    r"""``\paragraph{Forward pass} \texttt{x*w}``: a title's first run is the heading."""
    if title is None:
        return ""
    if not title.parts:
        return rf"\paragraph{{{inline(title)}}}"
    rest = list(title.parts[1:])
    if rest and rest[0].plain.startswith(":") and not rest[0].parts and rest[0].math is None:
        rest[0] = Text(rest[0].plain[1:].lstrip())
    # The rest of the title may hold long program text: set ragged, so that it can break.
    return (rf"\paragraph{{{inline(title.parts[0])}}} {{\raggedright "
            + "".join(inline(p) for p in rest) + r"\par}")


def _sentence(text: Text) -> str:
    written = inline(text)
    return written[:1].upper() + written[1:]


def write(report: Report, options: Options = PLAIN) -> str:
    """The report as a LaTeX fragment (see the module's docstring for what it needs)."""
    lines = [f"% {latex_escape(report.title.plain)}",
             f"% needs \\usepackage{{{PACKAGES}}}", ""]
    if language() == "zh":  # Chinese text needs ctex, which needs xelatex (or lualatex)
        lines[1:2] = [f"% needs \\usepackage{{ctex, {PACKAGES}}}", "% compile with xelatex"]
    for section in report.sections:
        if isinstance(section, Lines) and section.preformatted:
            continue  # a drawing in box characters (train's chart); its numbers are tabled
        lines += [_paragraph(section.title), ""]
        if isinstance(section, Table):
            lines += [_sentence(line) + "\n" for line in section.before]
            if section.rows or section.empty is None:
                lines += table_lines(section) + [""]
            else:
                lines += [_sentence(section.empty), ""]
            lines += [_sentence(line) + "." for line in section.after]
            lines += [""] if section.after else []
        elif isinstance(section, Lines) and section.lines:
            lines += (_equations(section) if section.equations else _items(section.lines))
            lines.append("")
        if section.notes:
            lines += _items(section.notes) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def grad_latex(explanation) -> str:
    """``backtrace grad``'s report as LaTeX (the same text as ``--format latex``)."""
    from backtrace_cli.report.grad import build

    return write(build(explanation))
