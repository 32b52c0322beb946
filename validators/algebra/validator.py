"""The algebra validator: is each equation a chain states implied by the earlier ones?

Equations in the question and in earlier steps form the known system; each new
equation with at least one variable is judged against it (see algebra_system). Pure
numeric equations are the arithmetic validator's. Hypothetical sentences ("if x = 2",
"try x = 5") are neither checked nor taken as known; "Let x be ..." starts x afresh.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from validators.algebra.blame import Miscopy, miscopied
from validators.algebra.system import Eq, Judgement, KnownSystem, Unchecked, determined_values
from validators.algebra.system import to_equation as _to_equation
from validators.arithmetic.exact import show
from validators.arithmetic.extract import numbers_in
from validators.arithmetic.mathclaims import has_markup
from validators.text.mathparse import BoundError
from validators.text.mathspans import Candidate, find_equations
from validators.types import MAX_CHAIN_CHARS, MAX_STEP_CHARS, Analysis, Finding

NAME = "algebra"
MAX_CHECKED = 100  # equations judged per chain
MARKUP_WINDOW = 2  # earlier steps whose equations a MATH-style step is read against
MAX_MARKUP_DENOMINATORS = 2  # symbolic denominators in one MATH-style equation
_HELD = {"identity", "implied", "narrows", "approx"}

# A cheap look for a letter used as a variable next to an operator; most chains have none.
# Four looks, each pattern beginning with a character class or a literal, so that the regex
# engine skips to where it can match (one alternation of them was tried at every character):
# a LaTeX command, `5x`, `= 3x` or `(a`, and `x =` (_letter_before_operator).
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]")
_DIGIT_LETTER = re.compile(r"\d[A-Za-z](?![A-Za-z])")
_OPERATOR_LETTER = re.compile(r"[=+\-*/^(]\s*\d*\.?\d*[A-Za-z](?![A-Za-z])")
_OPERATOR_AFTER_LETTER = re.compile(r"[=^*/+)²]")
_HYPOTHETICAL = re.compile(
    r"\b(?:if|suppose|supposing|assume|assuming|when|whenever|try|trying|tried|guess|test"
    r"|testing|check|checking|verify|verifying|plug|plugging|example|instance|e\.g|would"
    r"|could|might|incorrect|wrong|mistake|error|not|instead|otherwise|say|hypothetically)\b",
    re.I,
)
# A sentence that takes a value back: "undefined when x = 6, so we cannot include it".
_WITHDRAWS = re.compile(
    r"\b(?:cannot|can't|undefined|extraneous|reject(?:ed)?|exclude[sd]?|discard(?:ed)?"
    r"|invalid|not (?:a )?(?:valid|possible|allowed|a solution|a root))\b",
    re.I,
)
# In MATH-style chains also: case analyses and instantiations.
_ALTERNATIVES = re.compile(r"\b(?:cases?|either|set|setting|where)\b", re.I)
# A step that is one case of a case analysis ("Case 1:", "**Case 2:**", "Case A.")
_CASE_STEP = re.compile(r"[\s*_#>]*case\s*(?:\d{1,2}|[IVX]{1,4}|[A-D])\b", re.I)
# A step labelled with one period of several ("**Day 2:**", "Week 3:", "Round 1 -"): the
# chain's letters name this period's quantities ("if he had c cookies at the start of day 3")
_PERIOD_STEP = re.compile(
    r"[\s*_#>]*(?:day|week|month|year|round|stage|phase|trial|attempt|guess|level|turn)"
    r"\s*\d{1,3}\s*[*_]*\s*[:.)\-–—]",
    re.I,
)
# The words that bring in an equation as a supposition, right before it: "from $2x - 5 = -9$
# we get $x = -2$", "solving $x + 1 = 4$ gives". It starts a case; it claims nothing.
_SUPPOSED = re.compile(
    r"\b(?:from|solving|solve|for|with|substituting|plugging(?:\s+in)?|setting|considering"
    r"|taking)\s*(?:\$+|\\\(|\\\[)?\s*$",
    re.I,
)
_NO_SOLUTION = re.compile(
    r"\bno\s+(?:real\s+)?(?:solutions?|roots?)\b|\bextraneous\b|\\varnothing|\\emptyset|∅|无解|增根",
    re.I,
)
# In any chain: modular arithmetic. `136x = 184 (mod 203)` is a congruence, which no equation
# over the rationals decides.
_CONGRUENCE = re.compile(r"\b(?:mod|modulo|pmod|bmod|equiv)\b|≡", re.I)
_JOINING_WORDS = frozenset(["and", "or", "as well as", "and also"])
# A sentence with no word of three letters (LaTeX commands aside) is bare math.
_BARE_MATH = re.compile(r"[A-Za-z]{3,}")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_DEFINITIONS = [
    re.compile(r"\blet(?:'s|’s|\s+us)?\s+\$?([A-Za-z])\$?\s+(?:be|represent|denote|stand)\b", re.I),
    re.compile(
        r"\b(?:denote|call|define|represent)\b[^.\n]{0,80}?\bas\s+\$?([A-Za-z])\$?(?![A-Za-z])",
        re.I,
    ),
    re.compile(r"\blet\b[^.\n]{0,80}?\bbe\s+\$?([A-Za-z])\$?(?![A-Za-z])", re.I),
    re.compile(
        r"(?<![A-Za-z$])\$?([A-Za-z])\$?\s+(?:represents|denotes|stands\s+for"
        r"|is\s+the\s+(?:number|amount|cost|price|value|age|length|width|height|total))\b"
    ),
]
# Letters that abbreviate a unit (pence, grams, metres, seconds, hours, litres, cents,
# thousands, tonnes); one that a chain writes only glued after numbers is that unit there
# ("15 + 20 = 35p", "£2.80 = 280p"), not an unknown. (Never a power's base: `2p²`.)
_UNIT_LETTERS = "pgmshlLckKt"
_UNIT_SET = frozenset(_UNIT_LETTERS)
_POWER = ("^", "²", "³")
_LONE_LETTER = {c: re.compile(rf"(?<![A-Za-z]){c}(?![A-Za-z])") for c in _UNIT_LETTERS}
_NEW_EQUATION = re.compile(
    r"\b(?:equation|polynomial)\b[^.?\n]{0,30}\b(?:whose|with|having|that has)\b"
    r"[^.?\n]{0,20}\b(?:roots?|zeros?)\b",
    re.I,
)
# "(a) Solve ... (b) Find ...": a question of several problems that reuse their letters.
_PART_LABEL = re.compile(r"(?:^|\n)\s*(?:\(\s*[a-e]\s*\)|[a-e]\)|\d[.)])\s", re.I)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
# Coordinate geometry: `y = 2x + 1` is a line, not a fact about one x, and x names a
# different point from one step to the next; such chains are checked step by step only.
_GEOMETRY_WORDS = re.compile(
    r"\b(?:lines?|graphs?|parabolas?|curves?|circles?|slopes?|intercepts?|coordinates?|axis"
    r"|plane|ellipse|hyperbola|asymptotes?|tangent|perpendicular|midpoint)\b",
    re.I,
)
_CURVE = re.compile(
    r"(?<![A-Za-z])y\s*=[^=\n]{0,80}(?<![A-Za-z])x(?![A-Za-z])"
    r"|(?<![A-Za-z])x\s*=[^=\n]{0,80}(?<![A-Za-z])y(?![A-Za-z])"
)


def _withdrawn(text: str, cands: list[Candidate]) -> dict[str, int]:
    """Equations a sentence of the step takes back, with where that sentence starts: "The roots
    are x = 11 and x = 6. However, the equation is undefined when x = 6, so we cannot include
    it." An earlier statement of the same equation is then no claim of the step's."""
    out: dict[str, int] = {}
    for start, end in _sentences(text):
        if _WITHDRAWS.search(text, start, end) is None:
            continue
        for cand in cands:
            if start <= cand.start < end:
                out.setdefault(cand.text, start)
    return out


# "$2x - 5 = 9$ or $2x - 5 = -9$", `x = 7 \quad \text{or} \quad x = -2`: between two equations
_OR = re.compile(r"[\s$,;:.\\()\[\]]*(?:\\quad\s*)*(?:\\text\{\s*)?or\b", re.I)


_SYMBOL = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?")
_LETTER = re.compile(r"(?<![\\A-Za-z])[A-Za-z]")  # a letter, not a command's (`\frac`)


def _alternatives(text: str, cands: list[Candidate]) -> set[int]:
    """Where the equations start that are cases: joined by "or", one expression's (`2x - 5 =
    9` or `2x - 5 = -9`, `2x − 7 = x + 2` or `2x − 7 = −(x + 2)`) or one value's (`n = 37` or
    `n + 1 = 37`); joined by anything, a number and its opposite for one side (_opposite_values);
    and list items, lines or clauses that are cases (_case_items). None is a fact. (A letter's
    cases, `x = 7 or x = -2`, are roots the system checks as such; "I get y - 15 = 2y - 6, or
    y = -9" restates, and is checked.)"""
    out: set[int] = set()
    for a, b in zip(cands, cands[1:], strict=False):
        if _opposite_values(a, b) or (
            "or" in text[a.end : b.start]
            and _OR.match(text, a.end, b.start)
            and (_one_expression(a, b) or _one_value(a, b) or _one_side_exclusive(a, b))
        ):
            out.update((a.start, b.start))
    return out | _case_items(text, cands)


def _opposite_values(a: Candidate, b: Candidate) -> bool:
    """One side in a letter given a number and its opposite, whatever joins them: "We split into
    $x^2 - 5x = 6$ and $x^2 - 5x = -6$", "x − 2 = 5 → x = 7\nx − 2 = −5 → x = −3". An absolute
    value's two cases; as a system they hold for nothing."""
    return (
        _one_side_in_a_letter(a, b)
        and _PLAIN_NUMBER.fullmatch(a.rhs_text.strip()) is not None
        and _PLAIN_NUMBER.fullmatch(b.rhs_text.strip()) is not None
        and a.rhs is not None
        and b.rhs is not None
        and a.rhs != 0
        and a.rhs == -b.rhs
    )


def _one_side_exclusive(a: Candidate, b: Candidate) -> bool:
    """One side in a letter that two equations give values it cannot have at once: `2x − 7 =
    x + 2` or `2x − 7 = −(x + 2)`."""
    return _one_side_in_a_letter(a, b) and _exclusive(a, b)


def _one_side_in_a_letter(a: Candidate, b: Candidate) -> bool:
    """Two equations of one left side that has a letter and is not a bare letter (a letter's
    cases, `x = 0` or `x = 8`, are its roots)."""
    side = a.lhs_text.strip()
    return (
        side == b.lhs_text.strip()
        and _LETTER.search(side) is not None
        and not _SYMBOL.fullmatch(side)
    )


def _split_sides(cands: list[Candidate], alternatives: set[int]) -> set[str]:
    """The sides (not bare letters) that a step's cases give several values."""
    sides = [c.lhs_text.strip() for c in cands if c.start in alternatives]
    return {s for s in sides if sides.count(s) > 1 and not _SYMBOL.fullmatch(s)}


def _one_value(a: Candidate, b: Candidate) -> bool:
    """Two expressions given one value, which cannot both have it: `n = 37` or `n + 1 = 37`.
    (Two sides both rewritten, "-y + 3 = -2y + 6, or y = -3", restate: checked.)"""
    return a.rhs_text.strip() == b.rhs_text.strip() and _exclusive(a, b)


def _exclusive(a: Candidate, b: Candidate) -> bool:
    """Whether two equations hold for no common value ("$n = 37$ or $n + 1 = 37$")."""
    if a.lhs is None or a.rhs is None or b.lhs is None or b.rhs is None:
        return False
    try:
        system = KnownSystem()
        system.add(_to_equation(a.lhs, a.rhs, a.text, a.decimals, a.unit))
        return system.judge(_to_equation(b.lhs, b.rhs, b.text, b.decimals, b.unit)).kind == (
            "contradicts"
        )
    except (Unchecked, BoundError):
        return False


# A list item's start: "- ", "* ", "• ", "1. ", "2) "
_ITEM = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+", re.M)
_CLAUSE_BREAK = re.compile(r"\n|;")
_PLAIN_NUMBER = re.compile(r"[-−–]?\s*(?:\d+(?:\.\d+)?|\\[dt]?frac\{\d+\}\{\d+\}|\d+/\d+)")


def _case_items(text: str, cands: list[Candidate]) -> set[int]:
    """Where the equations start in list items that are cases: items that give one expression
    different values ("- x − 3 = 7 → x = 10" and "- x − 3 = −7 → x = −4"). Every equation in
    such an item belongs to its case."""
    starts = [m.start() for m in _ITEM.finditer(text)]
    listed = len(starts) >= 2
    if not listed:
        # with no list, its lines or its clauses are the items, cases when one side takes a
        # value and its opposite ("x − 2 = 5 → x = 7\nx − 2 = −5 → x = −3", "$x - 3 = 6
        # \Rightarrow x = 9$; $x - 3 = -6 \Rightarrow x = -3$"): lines that give one side two
        # other values rewrite it ("48 / x = 15 - 7\n48 / x = 9"), and may slip
        starts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(text)]
        if len(starts) < 2:
            return set()
    bounds = list(zip(starts, starts[1:] + [len(text)], strict=True))
    items = [[c for c in cands if lo <= c.start < hi] for lo, hi in bounds]
    out: set[int] = set()
    for i, first in enumerate(items):
        for second in items[i + 1 :]:
            if any(_opposite_values(a, b) for a in first for b in second) or (
                listed
                and (
                    any(_two_values(a, b) for a in first for b in second)
                    or _zero_factors(first, second)
                    or _labelled_values(text, first, second)
                )
            ):
                out.update(c.start for c in first + second)
    return out


# "- $k = 2$: …": an item labelled with a letter's value
_LABEL_AFTER = re.compile(r"[$\\)\s]*:")


def _labelled_values(text: str, first: list[Candidate], second: list[Candidate]) -> bool:
    """Two items labelled with one letter's different values ("- $k = 2$: …", "- $k = 3$: …")."""
    labels = [
        (c.lhs_text.strip(), c.rhs_text.strip())
        for c in (first[:1] + second[:1])
        if _SYMBOL.fullmatch(c.lhs_text.strip()) and _LABEL_AFTER.match(text, c.end)
    ]
    return len(labels) == 2 and labels[0][0] == labels[1][0] and labels[0][1] != labels[1][1]


def _zero_factors(first: list[Candidate], second: list[Candidate]) -> bool:
    """Two items that each set a factor to zero, with no common root or giving a letter its own
    value ("- 12 - 2x = 0 ⇒ x = 6", "- 12 - 6x = 0 ⇒ x = 2"); items that only list equations
    are a system."""
    zeros = [c.lhs_text for c in first + second if c.rhs_text.strip() == "0"]
    if len(set(zeros)) < 2:
        return False
    if any(
        _exclusive(a, b)
        for a in first
        if a.rhs_text.strip() == "0"
        for b in second
        if b.rhs_text.strip() == "0"
    ):
        return True  # "- (x - 1)^2 = 0 gives x = 1", "- x^2 - 2x - 1 = 0 gives x = 1 ± √2"
    values = [
        {
            (c.lhs_text.strip(), c.rhs_text.strip())
            for c in item
            if _SYMBOL.fullmatch(c.lhs_text.strip())
        }
        for item in (first, second)
    ]
    return any(x == y and u != v for x, u in values[0] for y, v in values[1])


def _one_expression(a: Candidate, b: Candidate) -> bool:
    """One expression (not a bare letter) given letter-free values: two values, not rewritings."""
    return (
        a.lhs_text == b.lhs_text
        and not _SYMBOL.fullmatch(a.lhs_text.strip())
        and not _LETTER.search(a.rhs_text + b.rhs_text)
    )


def _two_values(a: Candidate, b: Candidate) -> bool:
    """One expression given two different values."""
    return a.rhs_text != b.rhs_text and _one_expression(a, b)


def _supposed(text: str, start: int) -> bool:
    """Whether the equation at `start` is brought in as a supposition (_SUPPOSED)."""
    return _SUPPOSED.search(text, max(0, start - 40), start) is not None


def _enumerates(text: str, cands: list[Candidate]) -> bool:
    """Whether a step supposes one letter two values ("For $x = 1$ … For $x = 2$ …")."""
    values: dict[str, str] = {}
    for c in cands:
        name, value = c.lhs_text.strip(), c.rhs_text.strip()
        supposed = _SYMBOL.fullmatch(name) is not None and _supposed(text, c.start)
        if supposed and values.setdefault(name, value) != value:
            return True
    return False


_ASSIGNED = re.compile(r"(?<![\\A-Za-z])([A-Za-z])\s*=")


def _lists_roots(answer: str) -> bool:
    """An answer that gives one letter several values (`x = 1, x = (−1 ± i√3)/2`): the roots
    of the chain's cases, not one system's."""
    letters = _ASSIGNED.findall(answer)
    return len(letters) != len(set(letters))


def _maybe_algebra(text: str) -> bool:
    """True when a text may hold an equation in a variable (a fast pre-check)."""
    if "=" not in text:
        return False
    if "\\" in text and _LATEX_COMMAND.search(text) is not None:
        return True
    return (
        _OPERATOR_LETTER.search(text) is not None
        or _DIGIT_LETTER.search(text) is not None
        or _letter_before_operator(text)
    )


def _is_letter(char: str) -> bool:
    return "a" <= char <= "z" or "A" <= char <= "Z"


def _letter_before_operator(text: str) -> bool:
    """A letter with no letter before it, then white space or nothing, then one of `=^*/+)²`
    (`x =`, `(a)`): looked for back from each operator, which prose has few of."""
    for m in _OPERATOR_AFTER_LETTER.finditer(text):
        j = m.start() - 1
        while j >= 0 and text[j].isspace():
            j -= 1
        if j >= 0 and _is_letter(text[j]) and (j == 0 or not _is_letter(text[j - 1])):
            return True
    return False


def _units(texts: list[str]) -> frozenset[sympy.Symbol]:
    """The unit letters (_UNIT_LETTERS) that the texts write only right after a digit."""
    units = []
    for c in _UNIT_LETTERS:
        spots = [(t, m.start()) for t in texts for m in _LONE_LETTER[c].finditer(t)]
        if spots and all(
            i and t[i - 1].isdigit() and t[i + 1 : i + 2] not in _POWER for t, i in spots
        ):
            units.append(sympy.Symbol(c))
    return frozenset(units)


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append((start, m.end()))
        start = m.end()
    out.append((start, len(text)))
    return out


def _defined(sentence: str) -> set[sympy.Symbol]:
    """Letters a sentence (re)defines: "Let x be ...", "denote ... as x", "x represents ..."."""
    return {sympy.Symbol(m.group(1)) for rx in _DEFINITIONS for m in rx.finditer(sentence)}


def _rewrite(eq: Eq) -> bool:
    """`P + 3 + P + 6 = 2P + 9 = 95`: a link between two expressions in variables.

    It claims a rewriting, not a new fact; when the rewriting is not implied it must not
    become known (it would turn the chain's next, right, step into a contradiction).
    """
    sides = (eq.lhs, eq.rhs)
    return all(s.free_symbols and not s.is_Symbol for s in sides)


def _show(value: sympy.Expr) -> str:
    return str(sympy.expand(value)).replace("**", "^")


def _expected(eq: Eq, sols: list[dict] | None) -> str | None:
    """What the known system says eq should read, e.g. "x = 4" or "2*x = 8"."""
    if not sols:
        return None
    var = eq.assigned
    if var is not None:
        return " or ".join(dict.fromkeys(f"{var} = {_show(s[var])}" for s in sols if var in s))
    shown = []
    for s in sols:
        lv, rv = eq.lhs.subs(s), eq.rhs.subs(s)
        if eq.rhs.is_number:
            shown.append(f"{_show(eq.lhs)} = {_show(lv)}")
        elif eq.lhs.is_number:
            shown.append(f"{_show(eq.rhs)} = {_show(rv)}")
        else:
            shown.append(f"{_show(eq.lhs)} = {_show(lv)} and {_show(eq.rhs)} = {_show(rv)}")
    return " or ".join(dict.fromkeys(shown))


def _contradiction(eq: Eq, j: Judgement, step: int | None) -> Finding:
    """The error finding for an equation that the earlier ones rule out."""
    evidence: dict = {"equation": eq.text}
    if not j.known:
        diff = sympy.cancel(eq.lhs - eq.rhs)
        evidence["difference"] = _show(diff)
        message = f"{eq.text} holds for no value: its two sides always differ by {_show(diff)}"
        return Finding(NAME, f"{NAME}.not_implied", "error", message, evidence, step)
    known = [e.text for e in j.known]
    evidence["known"] = known
    expected = _expected(eq, j.solutions)
    message = f"{eq.text} does not follow from {'; '.join(known)}"
    if j.solutions:
        evidence["solution"] = [{str(k): _show(v) for k, v in s.items()} for s in j.solutions]
    if expected:
        evidence["expected"] = expected
        message += f" (which give {expected})"
    return Finding(NAME, f"{NAME}.not_implied", "error", message, evidence, step)


def _miscopied(m: Miscopy, eq: Eq, step: int) -> Finding:
    """The error finding for an equation that wrote a number other than the one given."""
    message = (
        f"{m.premise.text} has {show(m.stated)}, a number given nowhere before it; with "
        f"{show(m.given)} from {m.source}, the next step's {eq.text} follows from it"
    )
    evidence = {
        "equation": m.premise.text,
        "stated": show(m.stated),
        "given": show(m.given),
        "source": m.source,
        "later": eq.text,
    }
    return Finding(NAME, f"{NAME}.miscopied", "error", message, evidence, step)


def _unconfirmed(eq: Eq, j: Judgement, step: int | None) -> Finding:
    """An equation at odds with earlier steps whose link to this one the text does not make."""
    known = [e.text for e in j.known]
    return Finding(
        NAME,
        f"{NAME}.unchecked",
        "info",
        f"{eq.text[:120]}: not judged: it does not follow from {'; '.join(known)[:200]}, "
        "but nothing shows those steps are its premises (a new case, an alternative or a "
        "letter used again)",
        {"equation": eq.text[:200], "earlier": known, "reason": "premises not identified"},
        step,
    )


_UPDATE_OPERATOR = re.compile(r"[-+*×·]|\\times|\\cdot")


def _updated(cand: Candidate, eq: Eq, j: Judgement) -> sympy.Symbol | None:
    """v for `x = 4 + 2` when the known system gives x = 4: the writer updates the letter ("each
    integer is increased by 2, so x = 4 + 2 = 6"), reusing it for a new value; no claim that x
    was 6 all along. The old value comes first, as an update writes it. None for any other
    equation, `x = 6` and `x = 16 - 4` included."""
    var = eq.assigned
    if var is None:
        return None
    side = cand.rhs_text if eq.lhs.is_Symbol else cand.lhs_text
    operands = numbers_in(side)
    # a sum or product (`\frac{9}{4}` after x = 9 is another value, not an update)
    computed = len(operands) >= 2 and _UPDATE_OPERATOR.search(side) is not None
    solutions = j.solutions if computed else None
    old = {s.get(var) for s in solutions or []}
    if len(old) != 1 or not isinstance(value := old.pop(), sympy.Rational):
        return None
    return var if operands[0] == Fraction(int(value.p), int(value.q)) else None


def _unchecked(text: str, why: str, step: int | None) -> Finding:
    return Finding(
        NAME,
        f"{NAME}.unchecked",
        "info",
        f"{text[:120]}: not checked ({why})",
        {"equation": text[:200], "reason": why},
        step,
    )


def _beyond_markup_bounds(cand: Candidate) -> str | None:
    """Why a MATH-style equation is too costly to judge within its share of the budget."""
    denominators = {
        p.base
        for side in (cand.lhs, cand.rhs)
        if side is not None
        for p in side.atoms(sympy.Pow)
        if p.exp.is_negative and p.base.free_symbols
    }
    if len(denominators) > MAX_MARKUP_DENOMINATORS:
        return f"a rational equation over more than {MAX_MARKUP_DENOMINATORS} denominators"
    return None


class _Run:
    """The state of one chain's check: the known system and the count of judged equations."""

    def __init__(self, analysis: Analysis, relations: bool, markup: bool = False) -> None:
        self.analysis = analysis
        self.system = KnownSystem()
        self.checked = 0
        self.stopped = False
        self.relations = relations  # coordinate geometry: each step on its own
        # MATH-style chains reuse letters across cases, alternatives and sub-problems: an
        # earlier step is a premise only when the step itself states it (see _premises_known).
        self.markup = markup
        self.origin: dict[int, int | None] = {}  # eq.uid -> the step that stated it
        self.separate_problems = False  # the question's own equations contradict each other
        self.question_cases = False  # the question gives a letter two values: no premises
        self.no_solution: bool | None = None  # the chain says an equation has no solution
        self.units: frozenset[sympy.Symbol] | None = None  # letters that are units (in_units)
        self.case_sides: set[str] = set()  # sides a step split into cases (_split_sides)

    def concludes_no_solution(self) -> bool:
        """Whether the answer or a step says an equation has no solution (looked for once,
        when a step's equation holds for no value)."""
        if self.no_solution is None:
            texts = [self.analysis.answer or ""] + [s.text for s in self.analysis.steps]
            self.no_solution = any(_NO_SOLUTION.search(t[:MAX_STEP_CHARS]) for t in texts)
        return self.no_solution

    def in_units(self, eq: Eq) -> bool:
        """Whether eq's letters are all units of this prose chain (_units; read when first
        asked, for an equation in unit letters only)."""
        if self.markup or not eq.vars or not all(str(v) in _UNIT_SET for v in eq.vars):
            return False
        if self.units is None:
            a = self.analysis
            texts = [a.chain.question or "", a.answer or ""] + [s.text for s in a.steps]
            self.units = _units([t[:MAX_STEP_CHARS] for t in texts])
        return eq.vars <= self.units

    def start_afresh(self, cands: list[Candidate]) -> None:
        """Forget what is known of the letters a step's equations use."""
        for cand in cands:
            for side in (cand.lhs, cand.rhs):
                for var in side.free_symbols if side is not None else ():
                    self.system.forget(var)

    def suppose(self, cand: Candidate, step: int) -> None:
        """One case of a side split into cases in an earlier step ("Second: 2x − 7 = −x − 2 →
        3x = 5"): its letters start afresh from it; it claims nothing."""
        self.start_afresh([cand])
        eq = self.equation(cand, step)
        if eq is not None:
            self.add(eq, step)

    def add(self, eq: Eq, step: int | None) -> None:
        """Take eq as known, remembering which step stated it."""
        self.origin[eq.uid] = step
        self.system.add(eq)

    def window(self, step: int) -> None:
        """Keep the question's equations and the last few steps' (MATH-style chains only).

        A long olympiad solution states hundreds of equations in reused letters; a step builds
        on the question and what it just derived, and refutes only under those (refutation).
        """
        recent = step - MARKUP_WINDOW
        self.system.eqs = [
            e for e in self.system.eqs if (o := self.origin.get(e.uid, -1)) is None or o >= recent
        ]

    def refutation(self, eq: Eq, j: Judgement, step: int | None) -> Judgement | None:
        """The judgement that refutes eq for sure, or None (see docs/architecture.md)."""
        if not j.known:  # its two sides differ by a constant: false whatever the letters mean
            return None if eq.lhs.is_Symbol or eq.rhs.is_Symbol else j  # `c = (c+1)`: renamed
        if not self.markup:
            return j
        # Identified premises only: the question's equations and the step's own earlier ones.
        premises = KnownSystem()
        for e in self.system.component(eq.vars, limit=len(self.system.eqs)):
            origin = self.origin.get(e.uid, -1)
            if origin == step or (origin is None and not self.separate_problems):
                premises.add(e)
        try:
            local = premises.judge(eq)
        except Unchecked:
            return None
        return local if local.kind == "contradicts" and local.known else None

    def miscopy(self, eq: Eq, j: Judgement, step: int | None) -> tuple[int, Miscopy] | None:
        """The earlier step that miscopied a given number, when the evidence shows it (blame)."""
        if self.markup or step is None or not j.known:
            return None
        texts = [s.text for s in self.analysis.steps]
        question = self.analysis.chain.question or ""
        budget = self.analysis.budget
        return miscopied(eq, j.known, self.origin, texts, question, step, budget)

    def stop(self, why: str) -> None:
        if not self.stopped:
            self.analysis.add(Finding(NAME, f"{NAME}.unchecked", "info", f"algebra stopped: {why}"))
        self.stopped = True

    def equation(self, cand: Candidate, step: int | None) -> Eq | None:
        """The polynomial form of a candidate, or None (with an info finding) if beyond bounds."""
        if cand.problem is None and self.markup:
            cand.problem = _beyond_markup_bounds(cand)
        if cand.problem is None:
            try:
                return _to_equation(cand.lhs, cand.rhs, cand.text, cand.decimals, cand.unit)
            except (Unchecked, BoundError) as exc:
                cand.problem = str(exc)
        self.analysis.add(_unchecked(cand.text, cand.problem, step))
        return None

    def judge(self, eq: Eq, step: int | None) -> Judgement | None:
        if self.analysis.budget.expired():
            self.stop("the time budget ran out")
            return None
        if self.checked >= MAX_CHECKED:
            self.stop(f"more than {MAX_CHECKED} equations")
            return None
        self.checked += 1
        try:
            return self.system.judge(eq)
        except Unchecked as exc:
            self.analysis.add(_unchecked(eq.text, str(exc), step))
            return None

    def premise(self, cand: Candidate) -> None:
        """An equation of the question: known from the start (unless it contradicts the rest)."""
        if self.question_cases:
            return
        eq = self.equation(cand, None)
        if eq is not None and self.in_units(eq):
            return
        j = self.judge(eq, None) if eq is not None else None
        if j is None or eq is None:
            return
        if j.kind == "redefines":
            # "If $y=8$ when $x=3$, what is $y$ when $x=6$?": the question poses cases, and
            # none of its equations holds in every step
            self.system = KnownSystem()
            self.question_cases = self.separate_problems = True
            return
        if j.kind in ("premise", "narrows"):
            self.add(eq, None)
        elif j.kind == "contradicts":
            self.separate_problems = True  # "Solve: 1) ... 2) ...": no one system

    def claim(self, cand: Candidate, step: int | None) -> None:
        """An equation a step (or the answer) states: judge it, record the outcome."""
        eq = self.equation(cand, step)
        if eq is not None and self.relations and len(eq.vars) > 1 and not eq.expr.is_number:
            return  # a curve such as `y = 2x + 1`: not a fact to check or to build on
        j = self.judge(eq, step) if eq is not None else None
        if j is None or eq is None:
            return
        holder = self.analysis.steps[step] if step is not None else self.analysis
        if j.kind in _HELD:
            holder.held += 1
        elif self.in_units(eq):
            # "15 + 20 = 35p" then "£2.80 = 280p": in units, a value is no unknown's value
            self.analysis.add(_unchecked(eq.text, "its letters are units", step))
        elif j.kind == "premise" and not (cand.in_chain and _rewrite(eq)):
            self.add(eq, step)
        elif j.kind == "redefines":
            self.system.forget(eq.assigned or eq.formula_for)
            self.add(eq, step)
        elif j.kind == "contradicts" and (var := _updated(cand, eq, j)) is not None:
            self.analysis.add(
                _unchecked(eq.text, f"{var} takes a new value made from its old one", step)
            )
            self.system.forget(var)
            self.add(eq, step)
        elif j.kind == "contradicts":
            supposed = step is not None and _supposed(self.analysis.steps[step].text, cand.start)
            # "... so the equation has no solution": an equation that holds for no value is
            # what the chain shows, not a slip of it
            shown = not j.known and self.concludes_no_solution()
            refuted = None if supposed or shown else self.refutation(eq, j, step)
            blamed = self.miscopy(eq, refuted, step) if refuted is not None else None
            if blamed is not None:
                at, miscopy = blamed
                self.analysis.steps[at].failed += 1
                holder.held += 1  # it follows from the earlier step once that one is mended
                self.analysis.add(_miscopied(miscopy, eq, at))
            elif refuted is not None:
                holder.failed += 1
                self.analysis.add(_contradiction(eq, refuted, step))
            else:
                self.analysis.add(_unconfirmed(eq, j, step))
            self.system.replace_component(eq)
            self.origin[eq.uid] = step

    def step(self, text: str, index: int) -> None:
        """Judge a step's equations sentence by sentence (definitions first, hypotheses skipped)."""
        if _CASE_STEP.match(text):
            return  # "**Case 2:** 2x - 5 = -9 ...": one case, neither a fact nor a refutation
        cands = find_equations(text)  # in text order
        if _PERIOD_STEP.match(text):
            self.start_afresh(cands)
        if _enumerates(text, cands):
            return  # "For $x = 1$, … $y + z = 11$ … For $x = 2$: $y + z = 10$": cases, one each
        withdrawn = _withdrawn(text, cands)
        alternatives = _alternatives(text, cands)
        if alternatives:
            self.case_sides.update(_split_sides(cands, alternatives))
        i = 0
        carried = False  # the lines of bare math under a supposing sentence belong to it
        for start, end in _sentences(text):
            sentence = text[start:end]
            for var in _defined(sentence):
                self.system.forget(var)
            own = (
                _HYPOTHETICAL.search(sentence) is not None
                or _CONGRUENCE.search(sentence) is not None
                or (self.markup and _ALTERNATIVES.search(sentence) is not None)
            )
            # "... we set the denominator equal to zero and solve for x.\n\nx - 6 = 0": in
            # MATH-style chains the equation on its own line is the supposition, not a result.
            bare = self.markup and _BARE_MATH.search(_COMMAND.sub("", sentence)) is None
            # "... we set\n$$2 + x = x$$\nand\n$$2 - x = 4 - x$$": a line that only joins
            # two formulas goes on the sentence above it
            joins = carried and sentence.strip(" \t\n,;").lower() in _JOINING_WORDS
            hypothetical = own or (carried and (bare or joins))
            carried = hypothetical and (own or bare or joins)
            while i < len(cands) and cands[i].start < end:
                cand = cands[i]
                i += 1
                if hypothetical or self.stopped or cand.start in alternatives:
                    continue
                if cand.lhs_text.strip() in self.case_sides:
                    self.suppose(cand, index)
                elif withdrawn.get(cand.text, -1) > cand.end:
                    self.analysis.add(_unchecked(cand.text, "withdrawn later in the step", index))
                else:
                    self.claim(cand, index)


class AlgebraValidator:
    """sympy: each equation in a variable must follow from the question and earlier steps."""

    name = NAME
    version = "1.12"

    def check(self, analysis: Analysis) -> None:
        """Judge every equation in a variable, in order; stop when the budget expires."""
        question = analysis.chain.question or ""
        texts = [question, analysis.answer or ""] + [s.text for s in analysis.steps]
        if not any(_maybe_algebra(t) for t in texts):
            return
        head = [t[:MAX_STEP_CHARS] for t in texts]
        relations = any(_GEOMETRY_WORDS.search(t) for t in head) and any(
            _CURVE.search(t) for t in head
        )
        run = _Run(analysis, relations, any(has_markup(t) for t in head))
        run.separate_problems = len(_PART_LABEL.findall(head[0])) >= 2
        # "α, β are the roots of x² − 3x − 5 = 0; form the equation whose roots are α + 1 and
        # β + 1": x names no one value, the equations are polynomials
        run.question_cases = _NEW_EQUATION.search(head[0]) is not None
        if len(question) > MAX_STEP_CHARS:
            analysis.add(_unchecked("question", f"longer than {MAX_STEP_CHARS} characters", None))
        elif _maybe_algebra(question) and not relations:
            for cand in find_equations(question):
                run.premise(cand)
        seen = 0
        for step in analysis.steps:
            if step.unchecked_reason is not None:
                continue
            if not _maybe_algebra(step.text):
                for var in _defined(step.text):  # "Let x be Ann's age." starts x afresh
                    run.system.forget(var)
                continue
            seen += len(step.text)
            if seen > MAX_CHAIN_CHARS:
                run.stop(f"the chain is longer than {MAX_CHAIN_CHARS} characters")
            if run.stopped:
                break
            if relations:
                run.system = KnownSystem()
            elif run.markup:
                run.window(step.index)
            run.step(step.text, step.index)
        answer = (analysis.answer or "").strip()
        restated = any(answer in s.text for s in analysis.steps)  # the last line, or a copy
        if (
            not run.stopped
            and not restated
            and len(answer) <= MAX_STEP_CHARS
            and _maybe_algebra(answer)
            and not _lists_roots(answer)
        ):
            for cand in find_equations(answer):
                run.claim(cand, None)
        if not run.stopped:
            values = determined_values(run.system, analysis.budget)
            if values:
                analysis.scratch["algebra_solution"] = {
                    str(k): Fraction(int(v.p), int(v.q)) for k, v in values.items()
                }
