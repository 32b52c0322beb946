"""Tokens of math text and simple LaTeX, for the safe parser in validators.text.mathparse.

Plain text and LaTeX (inside math delimiters) differ: in LaTeX, spaces carry no meaning
and `xy` is x times y; in plain text, a line break ends a formula and words separate
formulas. Anything that would make a formula ambiguous (`8th`, `x2`, `30 -55`, `±`,
an unknown command) becomes a POISON token, and a formula holding one is not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_GROUP_SCAN = 300  # characters searched for the closing brace of \text{...}


def _names(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string."""
    return frozenset(text.split())


@dataclass(slots=True)
class Tok:
    """One token: kind (NUM VAR PI OP EQ REL LP RP FRAC SQRT ROOT SUP SUB SEP WORD POISON,
    and in LaTeX BINOM TRIG LOG FACT DEG PCT)."""

    kind: str
    val: str
    start: int
    end: int
    space: bool = False  # whitespace before this token


_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    # (`10{,}000`: LaTeX's thousands separator, a comma in braces so that no space follows it)
    r"|(?P<num>\d+(?:(?:,|\{,\})\d{3})+(?!\d)(?:\.\d+)?|\d{1,2}(?:,\d\d){1,6},\d{3}(?!\d)(?:\.\d+)?"
    r"|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<cmd>\\[A-Za-z]+|\\.)"
    r"|(?P<word>[^\W\d_²³¹⁰-₟¼-¾]+(?:['’][^\W\d_²³¹⁰-₟¼-¾]+)*)"
    r"|(?P<arrow>=>|->|→|⇒|⟹|⟶|⇔|↔|⟺)"
    r"|(?P<rel><=|>=|!=|≠|≈|≃|≅|≤|≥|⩽|⩾|<|>|~)"
    r"|(?P<eq>==?)"
    r"|(?P<op>\*\*|[-+*/^×·⋅÷−])"
    r"|(?P<lp>[(\[{])"
    r"|(?P<rp>[)\]}])"
    r"|(?P<other>.)",
    re.S,
)
_OPS = {"**": "^", "×": "*", "·": "*", "⋅": "*", "÷": "/", "−": "-"}
_CHARS = {"√": "ROOT", "²": "SUP", "³": "SUP", "_": "SUB"}
_CHARS.update(dict.fromkeys("!|'′°%∞∛∜±∓–", "POISON"))
_CURRENCY = "$€£¥₹"
_SUPERSCRIPTS = frozenset("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
# Punctuation that ends a formula; any other unknown character makes its formula unsafe.
_PUNCTUATION = set(',;:?."“”‘’`#@*…⋯()[]{}\n\t')
_FRAC = {"frac", "dfrac", "tfrac", "cfrac"}
_IGNORED = _names("left right big Big bigg Bigg bigl bigr Bigl Bigr displaystyle textstyle")
_IGNORED |= {",", ";", ":", "!", " ", "$"}
_RELATIONS = _names("approx neq ne le leq ge geq lt gt sim simeq cong leqslant geqslant")
# Commands whose brace argument is prose or a label: the whole thing separates formulas.
_MATRICES = frozenset(
    ["matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix"]
)
_TEXTUAL = _names("text textbf textit textrm mathrm mbox begin end label tag mathbf")
# `3 + 4\mathrm{i}`, `\mathrm{e}^{x}`: the imaginary unit and e, set upright (ISO style)
_UPRIGHT_CONSTANTS = frozenset(["{i}", "{e}"])
_SEPARATORS = _names(
    "quad qquad implies Rightarrow rightarrow to iff Longrightarrow Leftrightarrow"
    " Longleftrightarrow"
    " therefore because and or \\"
)
_TRIG = _names("sin cos tan cot sec csc")
_BINOM = _names("binom dbinom tbinom")
_GREEK = _names(
    "alpha beta gamma delta epsilon varepsilon theta lambda mu nu rho sigma tau phi"
    " varphi omega psi xi eta zeta"
)
# Two-letter words that are prose or units even inside LaTeX math, never a product of variables.
_LATEX_WORDS = _names(
    "or if is of in at to as be by on so an cm mm km kg mg ml ft yd mi lb oz hr min"
)


def brace_end(text: str, pos: int, end: int) -> int | None:
    """Index after the brace group starting at text[pos] == '{' (bounded scan), else None."""
    depth = 0
    for j in range(pos, min(end, pos + MAX_GROUP_SCAN)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def _command(tokens: list[Tok], text: str, name: str, start: int, pos: int, end: int) -> int:
    """Append the token(s) for a LaTeX command; return where scanning resumes."""
    add = tokens.append
    if name in _FRAC:
        words = _WORD_FRACTION.match(text, pos, end)
        if words is not None:  # `\frac{\text{opposite}}{\text{adjacent}}`: words, as \text is
            add(Tok("SEP", name, start, words.end()))
            return words.end()
        # `\frac{d}{dx}`, `\frac{dy}{dx}`, `\frac{\partial f}{\partial x}`: a derivative
        kind = "POISON" if _DERIVATIVE.match(text, pos, end) else "FRAC"
        add(Tok(kind, name, start, pos))
    elif name == "sqrt":
        add(Tok("SQRT", name, start, pos))
    elif name in ("cdot", "times", "ast"):
        add(Tok("OP", "*", start, pos))
    elif name == "div":
        add(Tok("OP", "/", start, pos))
    elif name == "pi":
        add(Tok("PI", "pi", start, pos))
    elif name in _BINOM:
        add(Tok("BINOM", name, start, pos))
    elif name in _TRIG:
        add(Tok("TRIG", name, start, pos))
    elif name in ("log", "ln"):
        add(Tok("LOG", name, start, pos))
    elif name == "circ":
        add(Tok("DEG", name, start, pos))
    elif name == "%":
        add(Tok("PCT", name, start, pos))
    elif name in _GREEK:
        add(Tok("VAR", name, start, pos))
    elif name in _RELATIONS:
        add(Tok("REL", name, start, pos))
    elif name in _IGNORED:
        add(Tok("IGNORE", name, start, pos))
    elif name == "operatorname":  # `16 \operatorname{cis} 180^\circ`: a function not read
        close = brace_end(text, pos, end) if text[pos : pos + 1] == "{" else None
        add(Tok("POISON", name, start, close or pos))
        return close or pos
    elif name in _TEXTUAL:
        j = pos
        while j < end and text[j] == " ":
            j += 1
        close = brace_end(text, j, end) if j < end and text[j] == "{" else None
        if close is None:
            add(Tok("POISON", name, start, pos))
            return pos
        if name == "begin" and text[j + 1 : close - 1] in _MATRICES:
            # `\frac15\begin{pmatrix} 3 & 4 \\ -4 & 3 \end{pmatrix}`: a matrix, no number
            closing = text.find(f"\\end{{{text[j + 1 : close - 1]}}}", close, end)
            stop = end if closing < 0 else closing + len(text[j + 1 : close - 1]) + 6
            add(Tok("POISON", name, start, stop))
            return stop
        if name == "mathrm" and text[j:close] in _UPRIGHT_CONSTANTS:
            add(Tok("WORD", text[j + 1], start, close))  # read as the letter, like `i`, `e`
        elif _ARGUMENT.match(text, close, end) and _COEFFICIENT.search(text, 0, start):
            # `2\,\text{cis}\left(\frac{\pi}{4}\right)`: a function's name, applied; not a
            # word at which `z = 2` ends
            add(Tok("POISON", name, start, close))
        else:
            add(Tok("SEP", name, start, close))
        return close
    elif name in _SEPARATORS:
        add(Tok("SEP", name, start, pos))
    else:
        add(Tok("POISON", name, start, pos))  # \pm, \infty, \overline, ...: not checkable here
    return pos


# a number (or a group) right before a function's name: its coefficient
_COEFFICIENT = re.compile(r"[\d}](?:\s|\\[,;:! ])*$")
# what a function's name applies to, after it: a bracket, a fraction, π
_ARGUMENT = re.compile(r"(?:\s|\\[,;:! ])*(?:\(|\\left\b|\\[dt]?frac\b|\\pi\b)")
_WORD_GROUP = r"\s*\{\s*\\(?:text|textrm|mathrm|mbox)\s*\{[^{}]{1,80}\}\s*\}"
_WORD_FRACTION = re.compile(_WORD_GROUP + _WORD_GROUP)
_DERIVATIVE = re.compile(
    r"\s*\{\s*(?:d|\\partial)(?:\^\{?\d\}?)?\s*[A-Za-z]?\s*\}\s*\{\s*(?:d|\\partial)\s*[A-Za-z]"
)
_CONTINUES = re.compile(
    r"[=+\-<>*/^)\]}&]|\\(?:cdot|times|div|le|ge|leq|geq|approx|right|end)(?![A-Za-z])"
)


def _line_ends_formula(tokens: list[Tok], text: str, pos: int, end: int) -> bool:
    """In LaTeX, a line break between two formulas (`8 + y = 2` / `y = -6`) separates them;
    one inside a formula (after `=` or `+`, or before `= 5`) does not."""
    prev = next((t for t in reversed(tokens) if t.kind != "WS"), None)
    if prev is None or prev.kind in ("OP", "EQ", "REL", "LP", "SEP"):
        return False
    return pos < end and _CONTINUES.match(text, pos, end) is None


_DERIVATIVE_ORDER = re.compile(r"\{\s*\(\s*(?:\d{1,2}|[a-z])\s*\)\s*\}")
_FACTORIAL_BEFORE = frozenset("0123456789)}")
# A ratio's colon between spaces: a number or a closing brace before, a number or a command after
_SPACED_RATIO = re.compile(r"[\d})] : [\d\\]")


def _raw_tokens(text: str, start: int, end: int, latex: bool) -> list[Tok]:
    """First pass: classify characters into tokens (offsets index `text`)."""
    tokens: list[Tok] = []
    pos = start
    while pos < end:
        m = _TOKEN.match(text, pos, end)
        assert m is not None  # the last alternative matches any character
        kind, val, s, pos = m.lastgroup or "other", m.group(), m.start(), m.end()
        if kind == "ws":
            if "\n" in val and (not latex or _line_ends_formula(tokens, text, pos, end)):
                tokens.append(Tok("SEP", "\n", s, pos))
            else:
                tokens.append(Tok("WS", val, s, pos))
        elif kind == "cmd":
            pos = _command(tokens, text, val[1:], s, pos, end)
        elif kind == "word":
            if (
                val == "m"
                and text[pos : pos + 1] in ("<", "∠")
                and text[pos + 1 : pos + 2].isupper()
            ):
                # "m<P + m<Q + m<R = 180": the measure of angle P, written in ASCII
                pos += 1
                tokens.append(Tok("IGNORE", "m<", s, pos))
            else:
                tokens.append(Tok("WORD", val, s, pos))
        elif kind == "arrow":
            tokens.append(Tok("SEP", val, s, pos))
        elif kind == "op":
            after_letter = val == "^" and bool(tokens) and tokens[-1].kind == "WORD"
            order = _DERIVATIVE_ORDER.match(text, pos, end) if after_letter else None
            if order is not None:
                # `f^{(5)}(0)`: the fifth derivative at 0, no power of f
                tokens.append(Tok("POISON", "^", s, order.end()))
                pos = order.end()
                continue
            tokens.append(Tok("OP", _OPS.get(val, val), s, pos))
        elif kind == "num":
            tokens.append(Tok("NUM", val.replace("{,}", ","), s, pos))
        elif val == "!=" and s > start and text[s - 1] in _FACTORIAL_BEFORE:
            # `4!=24` (LaTeX writes "not equal" `\neq`): a factorial, then `=`
            tokens.append(Tok("FACT" if latex else "POISON", "!", s, s + 1))
            tokens.append(Tok("EQ", "=", s + 1, pos))
        elif kind in ("rel", "eq", "lp", "rp"):
            tokens.append(Tok(kind.upper(), val, s, pos))
        elif val in _CURRENCY:
            tokens.append(Tok("IGNORE", val, s, pos))
        elif val == ".":
            # A full stop ends a sentence; "0.\overline{6}" or "e.g" is not a formula.
            ends = pos >= end or text[pos].isspace() or text[pos] in ")]\"'”$"
            tokens.append(Tok("SEP" if ends else "POISON", val, s, pos))
        elif val in ",:" and s > start and text[s - 1].isdigit() and text[pos : pos + 1].isdigit():
            tokens.append(Tok("POISON", val, s, pos))  # 2:30, 3:4, 2,5: a time, ratio or list
        elif val == ":" and _SPACED_RATIO.match(text, max(start, s - 2), min(end, pos + 2)):
            tokens.append(Tok("POISON", val, s, pos))  # `3\tfrac{1}{2} : 2 = \frac{7}{2} : 2`
        elif val == "!" and latex:
            tokens.append(Tok("FACT", val, s, pos))
        elif val == "&":
            tokens.append(Tok("WS" if latex else "SEP", val, s, pos))
        elif val in _SUPERSCRIPTS and pos < end and text[pos] in _SUPERSCRIPTS:
            # `10²³`: an exponent of several digits (not (10²)³), `10⁻³`: not read here
            while pos < end and text[pos] in _SUPERSCRIPTS:
                pos += 1
            tokens.append(Tok("POISON", text[s:pos], s, pos))
        else:
            default = "SEP" if val in _PUNCTUATION or val.isspace() else "POISON"
            tokens.append(Tok(_CHARS.get(val, default), val, s, pos))
    return tokens


def _words(tokens: list[Tok], latex: bool) -> list[Tok]:
    """Second pass: single letters become variables; words split (LaTeX) or separate."""
    out: list[Tok] = []
    last = len(tokens) - 1
    for i, t in enumerate(tokens):
        if t.kind != "WORD":
            out.append(t)
            continue
        called = i < last and tokens[i + 1].start == t.end and tokens[i + 1].kind == "LP"
        if t.val == "π":
            out.append(Tok("PI", "pi", t.start, t.end, t.space))
        elif called and (_applied(tokens, i) or (not latex and len(t.val) == 2)):
            # `Var(X + Y)`, `n(A ∩ B)`, `P(A)`: a function of named things, not a product;
            # in plain text `np(1 − p)` is n·p·(1 − p) or a name: no word to cut the formula at
            out.append(Tok("POISON", t.val, t.start, t.end, t.space))
        elif len(t.val) == 1 and (t.val.isascii() or "α" <= t.val <= "ω" or called):
            # (`φ(36)`, `σ = 5`, `ŷ(1)`: a Greek letter is a symbol, as `\\varphi` is)
            out.append(Tok("VAR", t.val, t.start, t.end, t.space))
        elif latex and len(t.val) == 2 and t.val.isupper():
            out.append(Tok("POISON", t.val, t.start, t.end, t.space))  # AB: a segment's name
        elif (
            latex
            and len(t.val) == 2
            and t.val.isascii()
            and (t.val.lower() not in _LATEX_WORDS or _glued_to_math(tokens, i))
        ):
            out.append(Tok("VAR", t.val[0], t.start, t.start + 1, t.space))
            out.append(Tok("VAR", t.val[1], t.start + 1, t.end))
        else:
            out.append(Tok("WORD", t.val.lower(), t.start, t.end, t.space))
    return out


def _applied(tokens: list[Tok], i: int) -> bool:
    """For a word called on a bracket (no space before it): a function's name when it is a
    word (`Var(X)`, `SD(2X - Y)`), or a letter called on capitals and symbols only (`n(A -
    B)`, `P(A ∩ B)`; `x(x + 1)` is a product)."""
    if len(tokens[i].val) > 2:
        return True
    inside = []
    for t in tokens[i + 2 :]:
        if t.kind == "RP":
            break
        inside.append(t)
    words = [t.val for t in inside if t.kind == "WORD"]
    return bool(words) and all(w.isupper() for w in words) and len(tokens[i].val) == 1


_MATH_AFTER = frozenset(["TRIG", "LOG", "SQRT", "FRAC", "PI", "LP"])


def _glued_to_math(tokens: list[Tok], i: int) -> bool:
    """`mg\\cos 30^\\circ`: letters written against a command or a bracket are a product (a
    unit's letters, `5 mg`, stand apart), never a word that cuts the formula in two."""
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    return after is not None and after.start == tokens[i].end and after.kind in _MATH_AFTER


def _spaces(tokens: list[Tok]) -> list[Tok]:
    """Drop whitespace and ignored commands, recording whitespace on the next token."""
    out: list[Tok] = []
    space = False
    for t in tokens:
        if t.kind in ("WS", "IGNORE"):
            space = space or t.kind == "WS" or t.val in (",", ";", " ", ":")
            continue
        t.space = space
        space = False
        out.append(t)
    return out


def _subscripts(tokens: list[Tok]) -> list[Tok]:
    """Merge `x_1`, `x_{12}`, `a_n` into one variable name; any other `_` poisons."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind == "SUB" and out and out[-1].kind == "LOG":
            out.append(t)  # \log_2 8: the base follows
        elif t.kind == "SUB":
            out.append(Tok("POISON", "_", t.start, t.end, t.space))
        elif t.kind == "VAR" and nxt is not None and nxt.kind == "SUB" and not nxt.space:
            sub, j = _subscript_body(tokens, i + 2)
            if sub is None:
                out.append(Tok("POISON", "_", t.start, nxt.end, t.space))
                i += 2
                continue
            out.append(Tok("VAR", f"{t.val}_{sub}", t.start, tokens[j - 1].end, t.space))
            i = j
            continue
        else:
            out.append(t)
        i += 1
    return out


def _subscript_body(tokens: list[Tok], i: int) -> tuple[str | None, int]:
    """The subscript text after `_` and the index after it (None when not a simple label)."""
    if i >= len(tokens):
        return None, i
    t = tokens[i]
    if t.kind == "VAR" or (t.kind == "NUM" and len(t.val) == 1):
        return t.val, i + 1
    if t.kind == "LP" and t.val == "{":
        body: list[str] = []
        j = i + 1
        while j < len(tokens) and tokens[j].kind in ("NUM", "VAR") and len(body) < 4:
            body.append(tokens[j].val)
            j += 1
        if body and j < len(tokens) and tokens[j].kind == "RP" and tokens[j].val == "}":
            return "".join(body), j + 1
    return None, i


def _degrees(tokens: list[Tok]) -> list[Tok]:
    """`30^\\circ` and `30^{\\circ}` become one DEG token after the number."""
    if not any(t.kind == "DEG" for t in tokens):
        return tokens
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        kinds = [u.kind for u in tokens[i + 1 : i + 4]]
        if t.kind == "OP" and t.val == "^" and kinds[:1] == ["DEG"]:
            out.append(Tok("DEG", "circ", t.start, tokens[i + 1].end, t.space))
            i += 2
        elif t.kind == "OP" and t.val == "^" and kinds == ["LP", "DEG", "RP"]:
            out.append(Tok("DEG", "circ", t.start, tokens[i + 3].end, t.space))
            i += 4
        else:
            out.append(t if t.kind != "DEG" else Tok("POISON", t.val, t.start, t.end, t.space))
            i += 1
    return out


def _times_x(tokens: list[Tok]) -> None:
    """`5 x 2` and `5x2` use the letter x as a multiplication sign between two operands."""
    for i in range(1, len(tokens) - 1):
        t = tokens[i]
        if t.kind != "VAR" or t.val not in ("x", "X"):
            continue
        prev, nxt = tokens[i - 1], tokens[i + 1]
        if prev.kind not in ("NUM", "RP") or nxt.kind not in ("NUM", "LP"):
            continue
        spaced = t.space and nxt.space
        glued = not t.space and not nxt.space and prev.kind == "NUM" and nxt.kind == "NUM"
        if spaced or glued:
            tokens[i] = Tok("OP", "*", t.start, t.end, t.space)


def _unsafe(tokens: list[Tok]) -> None:
    """Mark tokens that make a formula ambiguous: `8th`, `5cm`, `x2`, `30 -55`."""
    mathy = ("NUM", "VAR", "RP", "PI")
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind == "WORD" and (
            (i > 0 and not t.space and tokens[i - 1].kind in mathy)
            or (nxt is not None and not nxt.space and nxt.kind in mathy)
        ):
            tokens[i] = Tok("POISON", t.val, t.start, t.end, t.space)
        elif t.kind == "VAR" and nxt is not None and nxt.kind == "NUM" and not nxt.space:
            tokens[i] = Tok("POISON", t.val, t.start, t.end, t.space)  # x2: x^2 or x_2?
        elif (
            t.kind == "OP"
            and t.val in "+-"
            and t.space
            and i > 0
            and tokens[i - 1].kind in mathy
            and nxt is not None
            and not nxt.space
            and nxt.kind in ("NUM", "VAR")
        ):
            # "x + y = 30 -55 + y = 30": two formulas run together; "30 -55" is not 30 - 55.
            tokens[i] = Tok("POISON", t.val, t.start, t.end, t.space)


def tokenize(
    text: str, start: int = 0, end: int | None = None, *, latex: bool = False
) -> list[Tok]:
    """Tokens of text[start:end]; `latex` treats spaces as insignificant and splits `xy`."""
    end = len(text) if end is None else end
    tokens = _spaces(_words(_raw_tokens(text, start, end, latex), latex))
    tokens = _degrees(_subscripts(tokens))
    _times_x(tokens)
    _unsafe(tokens)
    return tokens
