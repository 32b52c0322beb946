"""Find the equations that a reasoning text states, conservatively (precision first).

Math is taken from `$...$`, `\\(...\\)`, `\\[...\\]` (LaTeX rules) and from plain text
(stricter rules: no juxtaposition across spaces, words end a formula). A formula next to
an operator word ("half of x = 5", "x = 2 times y"), with an unknown symbol, or with a
part that does not parse is skipped whole: an equation is only reported when every side
of it parses cleanly.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import sympy

from validators.text.mathparse import BoundError, ParseError, decimal_places, parse_tokens
from validators.text.mathtokens import Tok, brace_end, tokenize

MAX_MATH_SPAN = 4000  # characters inside one pair of math delimiters
MAX_CANDIDATES = 100  # equations taken from one text


def _names(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string."""
    return frozenset(text.split())


# Words that make the formula beside them mean something else ("half of x = 5").
MATH_WORDS = _names(
    "times plus minus divided over multiplied squared cubed percent percentage of per by"
    " root roots sqrt half halves twice thrice double triple quarter quarters third thirds"
    " fourth fifth less more than power into sum product difference quotient square cube"
    " dozen dozens hundred hundreds thousand thousands million millions billion degrees"
    " factorial log ln sin cos tan mod modulo exp inverse reciprocal average mean"
)
# Words after which a formula starts ("... produces 52 = B + 8"), unlike a label ("section 2").
_CONNECTIVES = _names(
    "gives give giving get gets got getting produces produce yields yield is are was so then"
    " thus hence therefore and or we have has obtain becomes become means equals leaves find"
    " found to which that as since because where implies simplifies reduces write rewrite"
    " now"
)
# (A command's name ends at any non-letter: `\cdot5` and `\frac12` are commands too. `$$`
# opens a display, never an amount: `$$1*2 = 3$$` is math where `$5 each` is money.)
_LATEX_HINT = re.compile(
    r"\\(?:frac|dfrac|sqrt|cdot|times|left|text|pi|div|begin)(?![A-Za-z])"
    r"|\\\(|\\\[|\$\$|\$\s*[A-Za-z\\(]|\^\{|\{,\}"
)
_ENVIRONMENT = r"\\(?:begin|end)\{(?:align|aligned|equation|gather|eqnarray|split)\*?\}"
_DELIM = re.compile(_ENVIRONMENT + r"|\\\[|\\\]|\\\(|\\\)|\$\$|\$")
_CLOSER = {"\\[": "\\]", "\\(": "\\)", "$$": "$$"}
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+(?:\{[^{}]{0,200}\})?")
_PROSE_WORD = re.compile(r"[A-Za-z]{3,}")
# "(cost of the recipe book)": an annotation inside a formula, read as whitespace.
_PARENTHESIS = re.compile(r"\([^()=]{0,200}\)")
_CONTINUATION = re.compile(r"\n(?=[ \t]*=(?!=))")
_BULLET = re.compile(r"^[ \t]*(?:\d{1,3}[.)][ \t]+)?[-*•+][ \t]+", re.M)  # `- `, `1. - `
_SPACE = re.compile(r"\s+")
_BOXED = re.compile(r"\\boxed\s*\{")
BARE_LATEX = re.compile(r"\\[A-Za-z]")  # a LaTeX command outside any delimiter
# Tokens the algebra validator does not read: binomials, trig, logs, factorials, degrees and
# percent are evaluated only in numeric claims (validators.arithmetic.mathclaims).
_NOT_ALGEBRA = frozenset(["POISON", "BINOM", "TRIG", "LOG", "FACT", "DEG", "PCT"])


@dataclass
class Candidate:
    """One equation `lhs = rhs` found in a text (sympy sides, or the bound it exceeds)."""

    start: int
    end: int
    lhs_text: str
    rhs_text: str
    lhs: sympy.Expr | None = None
    rhs: sympy.Expr | None = None
    problem: str | None = None  # a size bound it exceeds: reported as unchecked
    decimals: int = 0  # most digits after a decimal point in its literals
    unit: str | None = None  # the word after it ("= 20 minutes"), which may be a unit
    in_chain: bool = False  # one link of `a = b = c`

    @property
    def text(self) -> str:
        """The equation as written (whitespace collapsed)."""
        return f"{self.lhs_text} = {self.rhs_text}" if self.rhs_text else self.lhs_text


def _math_like(content: str) -> bool:
    """`$...$` content that is a formula, not prose between two dollar amounts."""
    if not content.strip() or len(content) > MAX_MATH_SPAN:
        return False
    return not _PROSE_WORD.search(_LATEX_COMMAND.sub(" ", content))


def _closer(opener: str) -> str | None:
    """The delimiter that closes `opener` (None for a lone `$` or a closer)."""
    if opener.startswith("\\begin"):
        return opener.replace("begin", "end", 1)
    return _CLOSER.get(opener)


def _math_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the contents of each pair of math delimiters, in order."""
    delims = list(_DELIM.finditer(text))
    where: dict[str, list[int]] = defaultdict(list)  # delimiter -> its indices in delims
    for k, d in enumerate(delims):
        where[d.group()].append(k)
    maths: list[tuple[int, int]] = []
    i = 0
    while i < len(delims):
        d = delims[i]
        closer = _closer(d.group())
        if closer is not None:
            later = where.get(closer, [])
            p = bisect.bisect_right(later, i)
            j = later[p] if p < len(later) else None
            if j is not None and delims[j].start() - d.end() <= MAX_MATH_SPAN:
                maths.append((d.end(), delims[j].start()))
                i = j + 1
                continue
        elif (
            d.group() == "$"
            and i + 1 < len(delims)
            and delims[i + 1].group() == "$"
            and _math_like(text[d.end() : delims[i + 1].start()])
        ):
            maths.append((d.end(), delims[i + 1].start()))
            i += 2
            continue
        i += 1  # an unpaired delimiter, or a dollar sign that is currency
    return maths


def segments(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, latex) spans covering the text; LaTeX spans are inside math delimiters."""
    if not _LATEX_HINT.search(text):
        return [(0, len(text), False)]
    maths = _math_spans(text)
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for s, e in maths:
        out.append((pos, s, False))
        out.append((s, e, True))
        pos = e
    out.append((pos, len(text), False))
    return [(s, e, latex) for s, e, latex in out if e > s]


@dataclass
class Run:
    """A maximal token run between separators, with its neighbours."""

    toks: list[Tok]
    before: Tok | None  # the separator before
    after: Tok | None  # the separator after
    resumes: Tok | None  # the first token after the words that follow the run

    @property
    def unit(self) -> str | None:
        """The word right after the run ("x = 20 minutes"), singular, if any."""
        if self.after is None or self.after.kind != "WORD":
            return None
        word = self.after.val
        return word[:-1] if len(word) > 3 and word.endswith("s") else word


def token_runs(toks: list[Tok]) -> Iterator[Run]:
    """Maximal token runs between separators."""
    start, before = 0, None
    for i, t in enumerate(toks + [Tok("SEP", "", 0, 0)]):
        if t.kind not in ("SEP", "WORD"):
            continue
        if i > start:
            j = i
            while j < len(toks) and toks[j].kind == "WORD":
                j += 1
            resumes = toks[j] if j < len(toks) else None
            yield Run(toks[start:i], before, t if i < len(toks) else None, resumes)
        start, before = i + 1, t


def _safe_run(run: Run) -> bool:
    """A run that may hold an equation and has no unsafe neighbour or token."""
    toks, before = run.toks, run.before
    if not any(t.kind == "EQ" for t in toks) or any(t.kind in _NOT_ALGEBRA for t in toks):
        return False
    if toks[0].kind == "OP" and toks[0].val not in ("-", "−"):
        return False  # "(n-1) + ... + 1 = n(n-1)/2": the left operand is before the gap
    for side in (before, run.after):
        if side is not None and side.kind == "WORD" and side.val in MATH_WORDS:
            return False
    # "j = 29 inches + 12 inches": the formula goes on after a unit, so its end is not its end.
    after, resumes = run.after, run.resumes
    if after is not None and after.kind == "WORD" and resumes is not None and resumes.kind == "OP":
        return False
    if before is not None and before.kind == "WORD":
        # "apples + x = 10": the left operand is prose, so the formula is not what is claimed;
        # "spaces in section 2 = x + 200": the number is a label, not the left side.
        lone_number = toks[0].kind == "NUM" and len(toks) > 1 and toks[1].kind == "EQ"
        if toks[0].kind == "OP" or (lone_number and before.val not in _CONNECTIVES):
            return False
    return True


def _parts(run: list[Tok]) -> tuple[list[list[Tok]], list[str]] | None:
    """The sides of a chain `a = b = c` (and the relation between each pair)."""
    parts: list[list[Tok]] = [[]]
    rels: list[str] = []
    for t in run:
        if t.kind in ("EQ", "REL"):
            parts.append([])
            rels.append(t.kind)
        else:
            parts[-1].append(t)
    if not parts[0]:  # "Total = 4x + 16": the left side was prose
        parts, rels = parts[1:], rels[1:]
    if parts and not parts[-1]:  # "x = " followed by prose
        parts, rels = parts[:-1], rels[:-1]
    if len(parts) < 2 or any(not p for p in parts):
        return None
    return parts, rels


def _symbol_notation(part: list[Tok]) -> bool:
    """`(\\frac{a}{p})` as a whole side: a Legendre or Jacobi symbol, not a fraction."""
    if len(part) < 4 or part[0].val != "(" or part[-1].val != ")" or part[1].kind != "FRAC":
        return False
    depth = 0
    for t in part[:-1]:
        depth += t.kind == "LP"
        depth -= t.kind == "RP"
        if depth == 0:
            return False  # `(a)(b)`: the first parenthesis closes before the end
    return True


def _show(text: str, toks: list[Tok]) -> str:
    start = toks[0].start
    if text.endswith("\\left", 0, start):  # no token of its own, but its `\right` shows
        start -= len("\\left")
    return _SPACE.sub(" ", text[start : toks[-1].end]).strip()


# "k = 1, 2, \ldots, 6", "x = 1, (−1 + i√3)/2": the first of a list of values, not an equation
_LIST_GOES_ON = re.compile(
    r"\s*(?:\(\s*)?(?:[-−]\s*)?(?:\d|\\[lc]?dots\b|\.\.\.|…|⋯|\\[dt]?frac\b)"
)


def _lists_values(text: str, whole: Run) -> bool:
    """The run ends at `= number` and a list of numbers goes on after a comma."""
    toks, after = whole.toks, whole.after
    if after is None or after.val != "," or toks[-1].kind != "NUM" or len(toks) < 2:
        return False
    negative = toks[-2].val == "-" and len(toks) > 2
    eq = toks[-3] if negative else toks[-2]
    return eq.kind == "EQ" and _LIST_GOES_ON.match(text, after.end) is not None


def _from_run(text: str, whole: Run, latex: bool, spaced_products: bool) -> list[Candidate]:
    run = whole.toks
    if _lists_values(text, whole):
        return []
    split = _parts(run)
    if split is None:
        return []
    parts, rels = split
    has_var = any(t.kind == "VAR" for t in run)
    try:
        sides = [parse_tokens(p, latex=latex, spaced_products=spaced_products) for p in parts]
    except ParseError:
        return []
    except BoundError as exc:
        if not has_var:
            return []  # pure numbers belong to the arithmetic validator
        shown = _show(text, run)
        return [Candidate(run[0].start, run[-1].end, shown, "", problem=str(exc))]
    out = []
    for i, rel in enumerate(rels):
        lhs, rhs = sides[i], sides[i + 1]
        if rel != "EQ" or not (lhs.free_symbols or rhs.free_symbols):
            continue
        if latex and (_symbol_notation(parts[i]) or _symbol_notation(parts[i + 1])):
            continue
        nums = [t.val for t in parts[i] + parts[i + 1] if t.kind == "NUM"]
        out.append(
            Candidate(
                start=parts[i][0].start,
                end=parts[i + 1][-1].end,
                lhs_text=_show(text, parts[i]),
                rhs_text=_show(text, parts[i + 1]),
                lhs=lhs,
                rhs=rhs,
                decimals=max((decimal_places(n) for n in nums), default=0),
                unit=whole.unit if i + 1 == len(parts) - 1 else None,
                in_chain=len(parts) > 2,
            )
        )
    return out


def _blank(pattern: re.Pattern[str], text: str) -> str:
    """Each match of pattern becomes spaces of the same length (offsets stay valid)."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def without_bullets(text: str) -> str:
    """A list's bullets (`- `, `* `, `• ` opening a line) as spaces: a bullet is no minus sign,
    and no operator joins a line to the one before it."""
    return _blank(_BULLET, text)


# Markdown emphasis, which models put around labels and results ("**Total:** 12 + 8 = **20**",
# "*Then* 42 + 8 = 50"): a marker opens after a space or punctuation and before a non-space,
# and closes mirror-wise on the same line, so `2**3`, `5 * 3 * 2` and `a*b*c` are no emphasis.
_BOLD = re.compile(r"(?<![\w*])\*\*(?=[^\s*])([^\n]*?[^\s*])\*\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[A-Za-z])([^\n*]*?[A-Za-z.:!?,])\*(?![\w*])")
# Necessary for either: `**` or `*` before a letter (most `*` in GSM8K steps multiply numbers)
_EMPHASIS_HINT = re.compile(r"\*[*A-Za-z]")
# "How many eggs are left? ** She has 16 - 7 = 9 eggs.": GSM8K's socratic sub-question marker
_QUESTION_MARKER = re.compile(r"(?<=\?) \*\* ")


def without_emphasis(text: str) -> str:
    """Markdown's `**bold**` and `*italic*` markers as spaces (offsets stay valid): they are no
    products or powers."""
    if "*" not in text or _EMPHASIS_HINT.search(text) is None:
        return text
    text = _QUESTION_MARKER.sub("    ", text)
    text = _BOLD.sub(lambda m: "  " + m.group(1) + "  ", text)
    return _ITALIC.sub(lambda m: " " + m.group(1) + " ", text)


def _blank_annotations(text: str) -> str:
    """Parenthesised prose becomes spaces of the same length (offsets stay valid)."""

    def blank(m: re.Match[str]) -> str:
        return " " * len(m.group()) if _PROSE_WORD.search(m.group()) else m.group()

    return _PARENTHESIS.sub(blank, text)


def unbox(text: str) -> str:
    """`\\boxed{x = 4}` reads as `x = 4` (the command and its braces become spaces)."""
    if "boxed" not in text:
        return text
    chars = list(text)
    for m in _BOXED.finditer(text):
        close = brace_end(text, m.end() - 1, len(text))
        if close is not None:
            chars[m.start() : m.end()] = " " * (m.end() - m.start())
            chars[close - 1] = " "
    return "".join(chars)


def find_equations(text: str) -> list[Candidate]:
    """The equations with at least one variable that a text states, in order."""
    work = unbox(without_bullets(_CONTINUATION.sub(" ", text)))
    # A line of bare LaTeX (`\\frac{x}{2} = 3` with no delimiters) reads as LaTeX too, but
    # without products across a space: "A = 9\\left(7\\right) A = 63" is two formulas.
    spans = [
        (s, e, inside or BARE_LATEX.search(work, s, e) is not None, inside)
        for s, e, inside in segments(work)
    ]
    body = "".join(
        work[s:e] if latex else _blank_annotations(work[s:e]) for s, e, latex, _ in spans
    )
    out: list[Candidate] = []
    for start, end, latex, inside in spans:
        toks = tokenize(body, start, end, latex=latex)
        for run in token_runs(toks):
            if _safe_run(run):
                out.extend(_from_run(body, run, latex, spaced_products=inside))
            if len(out) >= MAX_CANDIDATES:
                return out[:MAX_CANDIDATES]
    return out
