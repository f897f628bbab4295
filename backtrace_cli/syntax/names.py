"""What a name may be, and how math-style text is mended into ours.

A name is an identifier as Python reads it: letters of any script (``θ``, ``权重``), digits
and ``_`` after the first character, normalised with NFKC as Python does (so ``µ`` MICRO SIGN
and ``μ`` GREEK SMALL LETTER MU are one name, and a decomposed ``é`` is the composed one).
Three kinds of letters are refused although Python takes them, each with a did-you-mean:

- look-alikes of ASCII letters (Cyrillic ``х``, fullwidth ``ｘ``, script ``ℯ``, math italic
  ``𝑥``): they read as another name than the one a person sees;
- a letter with a hat (``ŷ``): math's estimate, which backtrace writes ``y_hat`` (the name
  ``train`` gives a model's output);
- the middle dot ``·`` inside a name (``w·x``): math's product, ``w*x``.

``latex_name`` gives a name's LaTeX form (``θ`` -> ``\\theta``, ``w_1`` -> ``w_{1}``).
"""

from __future__ import annotations

import unicodedata

# Letters that pass for ASCII ones in common fonts -> the ASCII letter they pass for.
_CYRILLIC = "аАВеЕКМНоОрРсСТуУхХѕЅіІјЈһԁԛԝӏү"
_CYRILLIC_LATIN = "aABeEKMHoOpPcCTyYxXsSiIjJhdqwly"
_GREEK = "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοϲϳ"
_GREEK_LATIN = "ABEZHIKMNOPTYXocj"
LOOKALIKES = dict(zip(_CYRILLIC + _GREEK, _CYRILLIC_LATIN + _GREEK_LATIN, strict=True))

# Characters Python lets into a name that backtrace reads as math instead.
_PRODUCT_DOTS = "\u00b7\u0387"  # MIDDLE DOT, GREEK ANO TELEIA
_HAT = "\u0302"  # COMBINING CIRCUMFLEX ACCENT, in the decomposed form of ŷ, x̂, ...

# Math-style characters outside names -> what backtrace writes for them.
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
_OPERATORS = {
    "\u00b7": "*", "\u0387": "*", "\u00d7": "*", "\u22c5": "*", "\u2219": "*", "\u2217": "*",
    "\u00f7": "/", "\u2215": "/", "\u2212": "-", "\u2013": "-", "\u2796": "-", "\u2795": "+",
}
# Function names from other notations -> ours.
FUNCTION_ALIASES = {"ln": "log", "σ": "sigmoid"}

GREEK_LATEX = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "ϑ": "vartheta", "ϕ": "varphi", "ϵ": "varepsilon",
    "ς": "varsigma", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi",
    "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
_GREEK_BY_SPELLING = {spelling: spelling for spelling in GREEK_LATEX.values()}


def starts_name(char: str) -> bool:
    """Whether a name may begin with ``char`` (as Python's identifiers may)."""
    return char.isidentifier()


def continues_name(char: str) -> bool:
    """Whether ``char`` may stand inside a name (not the product dot, which is math's ``*``)."""
    return char not in _PRODUCT_DOTS and ("a" + char).isidentifier()


def name_end(source: str, start: int) -> int:
    """Where the name that begins at ``start`` ends (an identifier of any script)."""
    end = start + 1
    length = len(source)
    while end < length and continues_name(source[end]):
        end += 1
    return end


def normalize_name(text: str) -> str:
    """The name Python would read for ``text``: its NFKC normal form."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _dehatted(text: str) -> str:
    """``ŷ`` -> ``y_hat``, ``x̂1`` -> ``x_hat1``: every hatted letter as backtrace writes it."""
    out = []
    for char in unicodedata.normalize("NFD", text):
        if char == _HAT:
            out.append("_hat")
        else:
            out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def name_problem(text: str) -> tuple[int, str, str] | None:
    """Why the name ``text`` (as typed) is refused, as (offset of the culprit, message, hint),
    or None when it is a good name. Only non-ASCII names can have a problem here."""
    if text.isascii():
        return None
    for offset, char in enumerate(text):
        if char.isascii():
            continue
        described = f"'{char}' (U+{ord(char):04X} {unicodedata.name(char, 'unknown')})"
        folded = unicodedata.normalize("NFKC", char)
        ascii_twin = LOOKALIKES.get(char) or (folded if folded.isascii() else None)
        if ascii_twin is not None:
            mended = "".join(
                LOOKALIKES.get(c) or (unicodedata.normalize("NFKC", c)
                                      if unicodedata.normalize("NFKC", c).isascii() else c)
                for c in text)
            return (offset, f"{described} looks like the ASCII '{ascii_twin}' but is another "
                    "character", f"did you mean '{mended}'? (type ASCII letters as ASCII; "
                    "other letters, such as θ, are fine in names)")
        if _HAT in unicodedata.normalize("NFD", char):
            if char == _HAT and offset > 0:  # a letter, then the hat as a mark of its own
                offset -= 1
                described = f"'{text[offset:offset + 2]}'"
            return (offset, f"{described} is math's hat; backtrace writes it '_hat'",
                    f"did you mean '{_dehatted(text)}'?")
    return None


def math_style_hint(source: str, position: int) -> str | None:
    """A did-you-mean for the math-style character at ``position`` (``x²``, ``w·x``, ``a×b``,
    ``x − y``, ``w₁``), mending every such character of the line, or None."""
    char = source[position]
    if char not in _SUPERSCRIPTS and char not in _SUBSCRIPTS and char not in _OPERATORS:
        return None
    line_start = source.rfind("\n", 0, position) + 1
    line_end = source.find("\n", position)
    line = source[line_start:line_end if line_end != -1 else len(source)]
    mended = mend(line)
    if len(mended) > 80:
        return {"*": "write * for a product", "/": "write / for a division",
                "-": "write - for a minus", "+": "write + for a plus"}.get(
            _OPERATORS.get(char, ""),
            "write ** for a power (x**2)" if char in _SUPERSCRIPTS else "write w_1 for w₁")
    return f"did you mean '{mended.strip()}'?"


def mend(text: str) -> str:
    """Math-style text as backtrace writes it: ``x²`` -> ``x**2``, ``w·x`` -> ``w*x``,
    ``w₁`` -> ``w_1``, ``ŷ`` -> ``y_hat``, ``ln(`` -> ``log(``."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in _SUPERSCRIPTS:
            run = ""
            while index < len(text) and text[index] in _SUPERSCRIPTS:
                run += _SUPERSCRIPTS[text[index]]
                index += 1
            out.append(f"**{run}")
            continue
        if char in _SUBSCRIPTS:
            run = ""
            while index < len(text) and text[index] in _SUBSCRIPTS:
                run += _SUBSCRIPTS[text[index]]
                index += 1
            out.append(f"_{run}")
            continue
        out.append(_OPERATORS.get(char, char))
        index += 1
    mended = _dehatted("".join(out))
    for theirs, ours in FUNCTION_ALIASES.items():
        mended = mended.replace(f"{theirs}(", f"{ours}(")
    return mended


def latex_name(name: str) -> str:
    r"""A name in LaTeX math mode: ``x`` -> ``x``, ``θ`` and ``theta`` -> ``\theta``,
    ``w_1`` -> ``w_{1}``, ``y_hat`` -> ``\hat{y}``, ``θ_2`` -> ``\theta_{2}``, ``loss`` ->
    ``\mathit{loss}``, ``权重`` -> ``\text{权重}``. Underscores split base and subscript once."""
    base, _, subscript = name.partition("_")
    if subscript == "hat" and base:
        return rf"\hat{{{_latex_word(base)}}}"
    if base and subscript:
        return f"{_latex_word(base)}_{{{_latex_subscript(subscript)}}}"
    return _latex_word(name)


def _latex_word(word: str) -> str:
    if word in GREEK_LATEX:
        return "\\" + GREEK_LATEX[word]
    if word in _GREEK_BY_SPELLING:
        return "\\" + word
    if len(word) == 1 and word.isascii():
        return word
    escaped = word.replace("_", r"\_")
    if word.isascii():
        return rf"\mathit{{{escaped}}}"
    if all(char in GREEK_LATEX for char in word):
        return " ".join("\\" + GREEK_LATEX[char] for char in word)
    return rf"\text{{{escaped}}}"


def _latex_subscript(subscript: str) -> str:
    if subscript.isdigit() and subscript.isascii():
        return subscript
    return ",".join(_latex_word(part) if part else r"\_" for part in subscript.split("_"))
