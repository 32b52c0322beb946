"""Numeric claims read only from whole math: LaTeX spans and formulas made of math alone.

MATH-style solutions write their computations in `$...$`, `\\(...\\)`, `\\[...\\]` and
display environments. A claim `a = b` (or `a < b`, `a \\le b`, a chain `a = b = c`) is read
from such a span only where both sides parse completely with the safe LaTeX parser
(validators.text.mathparse: fractions, roots, binomials, factorials, percent, exact trig and
logs, implicit multiplication) and hold no unknown. Words are never spliced out of a
sentence to make a formula: a side that a prose word, `\\text{of}` or an operator outside the
span joins to something else is not a side. A claim is refuted only exactly: rational
arithmetic, or sympy showing that the difference is a non-zero constant, beyond the
rounding a decimal literal shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

from validators.text.mathparse import BoundError, ParseError, parse_tokens
from validators.text.mathspans import (
    BARE_LATEX,
    MATH_WORDS,
    Run,
    segments,
    token_runs,
    unbox,
    without_bullets,
)
from validators.text.mathtokens import Tok, tokenize

MAX_CLAIMS = 60  # numeric claims read from one step
_DOLLAR_MATH = re.compile(r"\$\s*[A-Za-z(]")  # `$x$`, `$(2, 3)$`: a math span may open here
_SUBSCRIPT = re.compile(r"(?<![A-Za-z])[A-Za-z]_\{?[\w]")  # x_0, a_{n}: math notation
_WORD = re.compile(r"[A-Za-z]+")
_CLOSING = re.compile(r"\s*(?:\$\$?|\\\)|\\\])")  # a span's closing delimiter
# `\boxed{x = 2, 3}`: a box holds an answer in answer notation, not a claim to check.
_BOXED_RELATION = re.compile(
    r"\\boxed\s*\{[^{}]*(?:\{[^{}]*\}[^{}]*)*[=<>][^{}]*(?:\{[^{}]*\}[^{}]*)*\}"
)
# Words that make a sentence suppose, test or deny what it writes rather than assert it.
_CONDITIONAL = re.compile(
    r"\b(?:suppose|supposing|assume|assuming|whether|verify|verifying|check|checking|test"
    r"|testing|incorrect|wrong|mistake|not|false|contradiction|impossible|cannot|can't"
    r"|fails?|violates?|violating)\b|\?",  # "which fails $13 < 13$"
    re.I,
)
_DENIAL = re.compile(r"[^.\n]{0,200}?(?:\\neq?\b|≠|\\not)")
# Words right after a relation that call it false: "For $n = 7$: $70 < 56$ fails", "… ✗".
_REJECTED = re.compile(
    r"[\s$)\\\]]{0,6}(?:,?\s*which\s+)?(?:fails?\b|is\s+false\b|is\s+not\s+true\b"
    r"|is\s+(?:impossible|absurd|a\s+contradiction)\b|does\s+not\s+hold\b"
    r"|doesn['’]t\s+hold\b|(?:has|gives|yields)\s+no\s+solutions?\b|never\s+holds\b|[✗✘]"
    # "gives 3 > 11, false", "Is 3 > 11? No."
    r"|[,?:]\s*(?:false|untrue|not\s+true|no)\b)",
    re.I,
)
# Later in its sentence: "$0x + 0y + 0z = 1$, i.e. $0 = 1$, which is impossible.", "Writing
# $(-2)^4 = -16$ is a sign error."
_CALLED_IMPOSSIBLE = re.compile(
    r"(?:[^.\n]|\.(?!\s)|(?<=i\.e)\.){0,80}?\b(?:is|are|was)\s+(?:impossible|absurd"
    r"|a\s+contradiction|inconsistent|wrong|incorrect|an?\s+(?:sign\s+)?(?:error|mistake))\b",
    re.I,
)
_EQUIVALENCES = frozenset(["iff", "Leftrightarrow", "Longleftrightarrow", "⇔", "⟺"])
# Words after a result that make it something else: "= 154 remainder 5", "= 3 mod 7".
_QUALIFIERS = frozenset(
    {"remainder", "remainders", "mod", "modulo", "r", "binary", "base", "octal", "hexadecimal"}
    | {"resto", "reste", "rest"}  # es/it/pt, fr, de
)
# (`**` is markdown's bold, not a product: "**Total:**" over a display)
_OPERATOR_BEFORE = re.compile(r"(?:[-+/×÷·=^(]|(?<!\*)\*)\s*$")
_LAST_WORD = re.compile(r"([A-Za-z]+)\s*$")
_ORDER = {"<": "<", ">": ">", "≤": "≤", "≥": "≥", "<=": "≤", ">=": "≥", "⩽": "≤", "⩾": "≥"}
_ORDER.update(lt="<", gt=">", le="≤", leq="≤", leqslant="≤", ge="≥", geq="≥", geqslant="≥")
_TINY = sympy.Rational(1, 10**30)
_PI_RELATIVE = sympy.Rational(1, 1000)


@dataclass(slots=True)
class MathClaim:
    """`left relation right` read from whole math, both sides numbers, and whether it holds."""

    expression: str
    claimed_text: str
    relation: str
    holds: bool
    computed: str  # the left side's value, shown
    position: int  # where the right side starts in the step's text
    value: sympy.Expr  # the right side's value: a result the step states
    exact: sympy.Expr | None = None  # the left side's value, where the right one rounds it (≈)


@dataclass(slots=True)
class MathClaims:
    """What a step's math spans claim, and what could not be evaluated."""

    claims: list[MathClaim] = field(default_factory=list)
    unevaluable: list[str] = field(default_factory=list)
    values: list[sympy.Expr] = field(default_factory=list)  # spans that are one value: $\\frac23$


def has_markup(text: str) -> bool:
    """Whether a text writes math as LaTeX (commands, `$...$` spans, `x_0`): a cheap test."""
    if "_" in text and _SUBSCRIPT.search(text):
        return True
    if "\\" in text:
        return bool(BARE_LATEX.search(text)) or any(latex for _, _, latex in segments(text))
    if (
        "^{" not in text
        and "{,}" not in text  # LaTeX's thousands separator: `$36^6 = 2{,}176{,}782{,}336$`
        and ("$" not in text or not _DOLLAR_MATH.search(text))
    ):
        return False  # GSM8K's "$5 each": currency, not math
    return any(latex for _, _, latex in segments(text))


_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]+`", re.S)


def read_claims(text: str) -> MathClaims:
    """The numeric claims of a step's formulas, each decided exactly or not at all.

    Delimited spans and bare LaTeX are read as LaTeX; plain text by the stricter plain rules
    (a line break or a word ends a formula, no juxtaposition across a space).
    """
    if "`" in text:  # code (`ways[0] = 1`) is no mathematics
        text = _CODE.sub(lambda m: " " * len(m.group()), text)
    delimited_text = unbox(_BOXED_RELATION.sub(lambda m: " " * len(m.group()), text))
    # Outside math delimiters a line's leading `- ` is a list's bullet, not a minus sign that
    # joins the line to the one before (inside them, `+ 3` on its own line goes on a sum).
    plain_text = without_bullets(delimited_text)
    out = MathClaims()
    for start, end, delimited in segments(delimited_text):
        work = delimited_text if delimited else plain_text
        latex = delimited or BARE_LATEX.search(work, start, end) is not None
        if delimited and "*" in work[start:end]:
            continue  # `$3*3$`: in LaTeX a bare asterisk is an operation the text defines
        toks = tokenize(work, start, end, latex=latex)
        if toks and not any(t.kind in ("EQ", "REL", "SEP", "WORD") for t in toks):
            value = _value(toks, out, work, delimited)
            if value is not None:
                out.values.append(value)
            continue
        for run in token_runs(toks):
            if any(t.kind in ("EQ", "REL") for t in run.toks):
                joined = _joined_left(work, plain_text, start, run)
                _claims_of_run(work, run, joined, out, delimited)
            if len(out.claims) >= MAX_CLAIMS:
                return out
    return out


def _joined_left(text: str, plain: str, seg_start: int, run: Run) -> bool:
    """Whether something before the run joins its first side to more ("20\\% of 80 = 16");
    `plain` is the text with its list bullets blanked, read before a span's delimiter."""
    before = run.before
    if before is None:
        prose = plain[max(0, seg_start - 40) : seg_start].rstrip("$([ \\")
        word = _LAST_WORD.search(prose)  # "20\\% of $80 = 16$", not "of $50$: $0.2 \\cdot 50$"
        return bool(_OPERATOR_BEFORE.search(prose)) or bool(
            word and word.group(1).lower() in MATH_WORDS
        )
    if before.kind == "WORD":
        return before.val in MATH_WORDS
    inside = text[before.start : before.end]  # \text{ of }, \operatorname{arctg}
    if inside.startswith("\\") and "{" in inside and not run.toks[0].space:
        return True  # `\operatorname{arctg}(1)`: the name belongs to what follows
    return any(w.lower() in MATH_WORDS for w in _WORD.findall(inside.partition("{")[2]))


def _qualified_right(text: str, run: Run) -> bool:
    """Whether words after the run make its last side something else ("= 154 remainder 5")."""
    after = run.after
    if after is None:
        # the span ends with the run: the first words after its closing delimiter, before the
        # next formula ("$17 \\div 5 = 3$ remainder $2$", "= 3$ with a remainder of 6"; not
        # "$r = 8$ and $r = -112$", nor "= 2048$, which has a remainder of 48")
        end = run.toks[-1].end
        closing = _CLOSING.match(text, end)
        prose = text[closing.end() if closing else end : end + 24]
        first = _WORD.findall(re.split(r"[$\\]", prose, maxsplit=1)[0].lower())[:3]
        return bool(set(first) & _QUALIFIERS)
    if after.kind not in ("WORD", "SEP"):
        return False
    words = set(_WORD.findall(text[after.start : after.end + 12].lower()))
    return bool(words & _QUALIFIERS)


def _split(toks: list[Tok]) -> tuple[list[list[Tok]], list[str]]:
    """The sides of `a = b < c` and the relation between each pair."""
    parts: list[list[Tok]] = [[]]
    rels: list[str] = []
    for t in toks:
        if t.kind in ("EQ", "REL"):
            parts.append([])
            rels.append("=" if t.kind == "EQ" else t.val)
        else:
            parts[-1].append(t)
    return parts, rels


def _value(part: list[Tok], out: MathClaims, text: str, delimited: bool) -> sympy.Expr | None:
    """The exact value of one side, or None when it is not a whole number expression.

    Outside math delimiters a space ends a product: "9\\left(7\\right) A = 63" is a run-on.
    """
    if not part:
        return None
    try:
        value = parse_tokens(part, latex=True, spaced_products=delimited)
    except ParseError:
        return None
    except BoundError as exc:
        out.unevaluable.append(f"{_shown(text, part)[:80]}: {exc}")
        return None
    except (RecursionError, ValueError, TypeError, ZeroDivisionError):
        return None
    if value.free_symbols or not value.is_number or value.has(sympy.zoo, sympy.nan):
        return None
    return value


def _claims_of_run(text: str, run: Run, joined: bool, out: MathClaims, delimited: bool) -> None:
    parts, rels = _split(run.toks)
    if joined:
        parts, rels = parts[1:], rels[1:]
    after, resumes = run.after, run.resumes
    if after is not None and after.kind == "WORD" and resumes is not None and resumes.kind == "OP":
        parts, rels = parts[:-1], rels[:-1]  # "= 29 inches + 12": the last side goes on
    elif _qualified_right(text, run):
        parts, rels = parts[:-1], rels[:-1]
    values = [_value(p, out, text, delimited) for p in parts]
    # `\log_{10} 2 < 0.3 \iff 2^{10} < 10^3`: what is asserted is the equivalence, which
    # holds between two false statements as well
    equivalent = any(t is not None and t.val in _EQUIVALENCES for t in (run.before, run.after))
    if rels and rels[-1] in ("=", "approx") and values[-1] is not None and values[0] is None:
        out.values.append(values[-1])  # `r = -112`, `d \approx 14.14`: a letter's value
    for i, rel in enumerate(rels):
        left, right = values[i], values[i + 1]
        relation = "=" if rel == "=" else "≈" if rel == "approx" else _ORDER.get(rel)
        if left is None or right is None or relation is None:
            continue
        if _bare_pi(parts[i]) or _bare_pi(parts[i + 1]):
            continue  # "Using $\pi = \frac{22}{7}$": the approximation a step uses, stated
        holds = _holds(left, right, relation, parts[i], parts[i + 1])
        if holds is None or (
            not holds
            and (equivalent or _not_asserted(text, parts[i][0].start, parts[i + 1][-1].end))
        ):
            continue
        if not holds and relation == "=" and _literal(parts[i]) and _literal(parts[i + 1]):
            continue  # "the equation becomes $0 = -7$": a contradiction stated, no computation
        lhs, rhs = parts[i], parts[i + 1]
        if relation == "=" and _literal(lhs) and not _literal(rhs):
            # `8192 = 2^{12}` claims 8192 for 2^{12}: "2^{12} = 4096, not 8192"
            lhs, rhs, left, right = rhs, lhs, right, left
        out.claims.append(
            MathClaim(
                expression=_shown(text, lhs),
                claimed_text=_shown(text, rhs),
                relation=relation,
                holds=holds,
                computed=show_value(left),
                position=rhs[0].start,
                value=right,
                exact=left if relation == "≈" and holds else None,
            )
        )


def _bare_pi(part: list[Tok]) -> bool:
    """A side that is π alone."""
    return len(part) == 1 and part[0].kind == "PI"


def _literal(part: list[Tok]) -> bool:
    """A side that is one number as written (`8192`, `-3`, `2.5`)."""
    if len(part) == 2 and part[0].kind == "OP" and part[0].val == "-":
        part = part[1:]
    return len(part) == 1 and part[0].kind == "NUM"


def _not_asserted(text: str, start: int, end: int) -> bool:
    """Whether the sentence around a claim supposes, tests or denies it ("verify if: ...",
    "$70 < 56$ fails")."""
    if _REJECTED.match(text, end) or _CALLED_IMPOSSIBLE.match(text, end):
        return True
    sentence_start = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start), start - 300)
    return _CONDITIONAL.search(text, max(sentence_start, 0), start) is not None or bool(
        _DENIAL.match(text, start)
    )


def _in_degrees(part: list[Tok]) -> bool:
    """A side measured in degrees (`30^\\circ`; inside `\\sin 30^\\circ` they are an angle)."""
    return _has(part, "DEG") and not _has(part, "TRIG")


def _has(part: list[Tok], kind: str) -> bool:
    return any(t.kind == kind for t in part)


def _shown(text: str, part: list[Tok]) -> str:
    start = part[0].start
    if text.endswith("\\left", 0, start):  # `\left(`: its command is no token, but shown
        start -= len("\\left")
    return " ".join(text[start : part[-1].end].split())


def show_value(value: sympy.Expr) -> str:
    """A value as a reader checks it: exact when rational or short, else to six digits."""
    if value.is_Rational:
        if value.q == 1 or len(str(value)) <= 12:
            return str(value)
        return f"{float(value):.6g}"
    exact = str(value).replace("**", "^")
    return exact if len(exact) <= 24 else f"{complex(value.evalf(15)).real:.6g}"


def _difference(left: sympy.Expr, right: sympy.Expr) -> sympy.Expr | None:
    """left - right as a real number to 30 digits, None when sympy cannot tell its size."""
    diff = left - right
    if diff.is_Rational:
        return diff
    value = diff.evalf(40)
    if not value.is_real or not value.is_Number:
        return None
    return value


def _tolerance(left_part: list[Tok], right_part: list[Tok], right: sympy.Expr) -> sympy.Expr:
    """The rounding a lone decimal literal on either side shows (3.33 for 10/3: 0.01), or
    that of π written to a few places (`\\pi r^2 = 3.14 \\times 25 = 78.5`): a thousandth of
    the value, as the prose reading allows (validators.arithmetic.validator.PI_TOLERANCE)."""
    places = 0
    for part in (left_part, right_part):
        if len(part) == 1 and part[0].kind == "NUM" and "." in part[0].val:
            places = max(places, len(part[0].val.partition(".")[2]))
    if any(t.kind == "NUM" and t.val.startswith("3.14") for t in left_part + right_part):
        return max(sympy.Rational(1, 100), abs(right) * _PI_RELATIVE)
    return sympy.Rational(1, 10**places) if places else sympy.Integer(0)


def _pi_applied(part: list[Tok], other: sympy.Expr) -> bool:
    r"""`\pi(10)` against a whole number: π(n) counts primes as often as it multiplies (against
    `16\pi` or `50.27` only the product can be meant)."""
    glued = any(
        t.kind == "PI" and u.kind == "LP" and not u.space
        for t, u in zip(part, part[1:], strict=False)
    )
    return glued and other.is_Integer


def _holds(
    left: sympy.Expr, right: sympy.Expr, relation: str, left_part: list[Tok], right_part: list[Tok]
) -> bool | None:
    """True / False when the relation is decided exactly; None when it cannot be."""
    if _in_degrees(left_part) != _in_degrees(right_part):
        return None  # `\frac{\pi}{6} = 30^\circ`: radians against degrees
    if _pi_applied(left_part, right) or _pi_applied(right_part, left):
        return None  # `\pi(10) = 4`: the count of primes up to 10, not 10π
    if relation == "≈":
        return _approximates(left, right, right_part)
    readings = [(left, right)]
    if any(t.kind == "PCT" for t in left_part + right_part):
        readings += [(left * 100, right), (left, right * 100)]  # "0.2 = 20\\%" either way round
    decided = []
    for a, b in readings:
        diff = _difference(a, b)
        if diff is None:
            return None
        decided.append(_relation_holds(diff, relation, _tolerance(left_part, right_part, b)))
    if any(d is True for d in decided):
        return True
    if relation == "=" and _within_new_roundings(left, right, left_part, right_part):
        return True
    return False if all(d is False for d in decided) else None


def _within_new_roundings(
    left: sympy.Expr, right: sympy.Expr, left_part: list[Tok], right_part: list[Tok]
) -> bool:
    r"""`2\pi\sqrt{\frac{1.0}{9.8}} = 2\pi \times 0.3194`, `\frac{400 \sin 60^\circ}{9.8} =
    \frac{400 \times 0.8660}{9.8}`: equal within the rounding of the decimals the right side
    brings in (one unit in each one's last place, relative, doubled for a square). The data's
    own decimals (1.0, 9.8) are as exact as the question gives them."""
    if len(right_part) < 2:
        return False  # a lone literal: _tolerance has its places
    given = {t.val for t in left_part if t.kind == "NUM"}
    relative = sympy.Integer(0)
    for t in right_part:
        if t.kind == "NUM" and "." in t.val and t.val not in given:
            value = sympy.Rational(t.val.replace(",", ""))
            if value:
                unit = sympy.Rational(1, 10 ** len(t.val.partition(".")[2]))
                relative += unit / abs(value)
    if not relative:
        return False
    diff = _difference(left, right)
    scale = _difference(right, sympy.Integer(0))
    if diff is None or scale is None:
        return False
    return bool(abs(diff) <= 2 * relative * abs(scale))


def _approximates(left: sympy.Expr, right: sympy.Expr, right_part: list[Tok]) -> bool | None:
    """`\frac{117}{58.44} \approx 2.00`: holds within one unit in the last place the literal
    shows (rounded or cut). Otherwise None, never refuted: models round loosely (`1.0087^{10}
    \approx 1.0903` for 1.09049), and human raters pass such steps (PRM800K). None too when the
    right side is no literal."""
    literal = right_part[1:] if right_part[:1] and right_part[0].val == "-" else right_part
    if len(literal) != 1 or literal[0].kind != "NUM":
        return None
    digits = literal[0].val.replace(",", "")
    whole, _, places = digits.partition(".")
    zeros = len(whole) - len(whole.rstrip("0")) if not places and whole.strip("0") else 0
    unit = sympy.Rational(1, 10 ** len(places)) if places else sympy.Integer(10) ** zeros
    diff = _difference(left, right)
    if diff is None:
        return None
    return True if abs(diff) <= unit else None


def _relation_holds(diff: sympy.Expr, relation: str, tolerance: sympy.Expr) -> bool | None:
    if abs(diff) <= _TINY and not diff.is_Rational:
        return None if relation in ("<", ">") else True  # equal to 40 digits: not refuted
    if relation == "=":
        return bool(diff == 0 or abs(diff) < tolerance)
    if relation == "<":
        return bool(diff < 0)
    if relation == ">":
        return bool(diff > 0)
    if relation == "≤":
        return bool(diff <= tolerance)
    return bool(diff >= -tolerance)
