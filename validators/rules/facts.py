"""Facts stated in text, read with a pack's patterns: "HbA1c of 6.8 %", "BP 142/91 mmHg".

A fact is a value (hba1c == 6.8) or a bound (hba1c > 6.5) in the fact's base unit, or a flag
(true/false). Statements of a rule rather than of a case ("diabetes needs HbA1c ≥ 6.5 %",
"target HbA1c below 7 %"), changes ("HbA1c fell by 0.5 %") and hypotheticals are not facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from validators.rules.formula import evaluate, show_number, variables
from validators.rules.pack import FactDef, Pack

# Words before a name or between it and its number that make the number a rule, a target or a
# hypothesis, not a fact of this case.
_NOT_A_CASE = re.compile(
    r"\b(?:targets?|goals?|aim|keep|maintain|normal|reference|ranges?|cut-?offs?|thresholds?|limits?"
    r"|if|unless|suppos\w*|assum\w*|whether|when|whenever|should|must|needs?|require[sd]?"
    r"|requirements?|defin\w*|criteri\w*|majority|minimum|maximum|recommend\w*|guidelines?"
    r"|would|could|might|expected|typical(?:ly)?|usually|ideal(?:ly)?"
    r"|combined|total|sum|together|difference|each|per"
    r"|(?:patients|people|anyone|individuals|those|someone|adults|a\s+person)\s+with)\b",
    re.I,
)
_CHANGE = re.compile(
    r"\b(?:by|twice|double|half|times|chang\w*|increas\w*|decreas\w*|drop\w*|fell|fall\w*|rose|rise|rising|reduc\w*"
    r"|improv\w*|lowered|raised|declin\w*|went\s+(?:up|down)|from|difference|delta)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(?:not|never|no)\b|n't\b", re.I)
_APPROX = re.compile(
    r"\b(?:about|approximately|approx|around|roughly|nearly|almost|circa|estimated)\b|~|≈", re.I
)
_COMPARATORS = [
    (
        re.compile(
            r"≥|>=|=>|\bat\s+least\b|\bno\s+(?:less|lower)\s+than\b|\bnot\s+(?:less|lower|below|under)\b"
            r"|\b(?:greater|higher|more)\s+than\s+or\s+equal\s+to\b",
            re.I,
        ),
        ">=",
    ),
    (
        re.compile(
            r"≤|<=|=<|\bat\s+most\b|\bno\s+(?:more|greater|higher)\s+than\b"
            r"|\bnot\s+(?:more|greater|higher|above|over)\b|\bup\s+to\b|\b(?:less|lower)\s+than\s+or\s+equal\s+to\b",
            re.I,
        ),
        "<=",
    ),
    (
        re.compile(
            r">|\babove\b|\bover\b|\b(?:greater|higher|more)\s+than\b|\bexceed\w*|\bin\s+excess\s+of\b",
            re.I,
        ),
        ">",
    ),
    (re.compile(r"<|\bbelow\b|\bunder\b|\b(?:less|lower)\s+than\b|\bbeneath\b", re.I), "<"),
]
# "6.5 % or higher", "the 6.5 % threshold": the number is a cut-off.
_THRESHOLD_AFTER = re.compile(
    r"\s*(?:(?:or|and)\s+(?:higher|above|more|greater|over|less|lower|below|under)\b"
    r"|(?:threshold|cut-?off|target|goal|limit)\b)",
    re.I,
)
# After a bound: "HbA1c ≥ 6.5 % is diagnostic", "... indicates diabetes": a rule, not a case.
_RULE_AFTER = re.compile(
    r"\b(?:diagnos\w*|required|requires?|needed|needs?|considered|defin\w*|indicat\w*|threshold"
    r"|cut-?off|criteri\w*|qualif\w*|means|suggests?|consistent)\b",
    re.I,
)
# A unit that belongs to another quantity ("75 g", "3 years"): the number is not this fact's value.
_FOREIGN_UNIT = re.compile(
    r"\s*-?\s*(?:%|percent|kg|mg|mcg|µg|g|lbs?|pounds?|hours?|hrs?|min(?:utes)?|days?|weeks?|months?"
    r"|years?|yrs?|ml|cm|mm|ft|feet|inch(?:es)?|units?|iu|times|points?|bpm|mmol\w*|mm ?hg)(?!\w)",
    re.I,
)
_BOUNDARY = re.compile(r"[.;!?\n]\s")
# "8 kg more than", "6 years older than": a difference, not a value.
_RELATIVE_AFTER = re.compile(
    r"\s*(?:[a-zA-Z%²]+(?:/[a-zA-Z²]+)?\s*)?(?:more|less|fewer|lighter|heavier|older|younger|taller"
    r"|shorter|higher|lower|greater|smaller|bigger|larger|longer)\s+than\b",
    re.I,
)
_AVERAGE = re.compile(r"\b(?:average|averaged|mean|median)\b", re.I)
_PROPER = re.compile(r"\b[A-Z][a-z]{1,30}\b")
# Capitalised words that do not say whom a fact is about.
_NOT_SUBJECT = frozenset(
    """The A An His Her Their Its Our My Your He She They It This That These Those Patient Patients
    In On At Since Because So Therefore Thus Hence Given With After Before Today Yesterday Step Lab
    Labs Results Result If When Then And But Also Mr Mrs Ms Dr January February March April May June
    July August September October November December Monday Tuesday Wednesday Thursday Friday
    Saturday Sunday Fasting Random Blood Body Systolic Diastolic Debt Credit Loan Down Statute Age
    Aged Weight Height Current Latest Last Recent Repeat Baseline""".split()  # noqa: SIM905
)
# Arithmetic around a number: an operand is no fact; a result ("... 62 cm = 124 cm") is computed.
_OPERATOR_BEFORE = re.compile(r"(?:[*×/+÷^]|\d\s*[-−])\s*$")
_OPERATOR_AFTER = re.compile(
    r"\s*(?:[a-zA-Z%²]+(?:/[a-zA-Z²]+)?\s*)?(?:[*×+÷^]\s*[\w(]|/\s*\d|[-−]\s*\d)"
)
_RESULT_BEFORE = re.compile(r"[\d)]\s*(?:\s[a-zA-Z%²/]+\s*)?=\s*$")
# Matches read per pattern and text: a text that states more facts than this is not a case record,
# and reading all of it would only spend the budget.
MAX_MATCHES = 500


@dataclass(frozen=True)
class Mention:
    """One stated fact: `fact op value` in the base unit (flags: op 'is', value bool)."""

    fact: str
    op: str
    value: Fraction | bool
    text: str  # the words that state it
    start: int
    end: int
    approx: bool = False
    tol: Fraction = Fraction(0)  # half a unit of the last stated digit, in the base unit
    derived: bool = False
    computed: bool = False  # the result of arithmetic in the text ("2 * 62 cm = 124 cm")
    subject: str | None = None  # the named person or thing it is stated of ("Jessica"), if any

    def describe(self, pack: Pack) -> str:
        """The fact in words: "HbA1c 6.8 %", "HbA1c > 6.5 %", "no classic symptoms"."""
        fact = pack.facts[self.fact]
        if isinstance(self.value, bool):
            return fact.label if self.value else f"no {fact.label}"
        op = {"==": "", ">=": "≥ ", ">": "> ", "<=": "≤ ", "<": "< "}[self.op]
        approx = "about " if self.approx or self.derived else ""
        value = round(self.value, 1) if self.derived else self.value  # type: ignore[call-overload]
        shown = f"{fact.label} {approx}{op}{show_number(value)} {fact.display_unit}".strip()
        return f"{shown} ({self.text})" if self.derived else shown


def _number(text: str) -> tuple[Fraction, Fraction]:
    """The value of a stated number and half a unit of its last digit."""
    text = text.replace(",", "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Fraction(text), Fraction(1, 2 * 10**decimals)


def _in_range(fact: FactDef, value: Fraction) -> bool:
    return fact.range is None or fact.range[0] <= value <= fact.range[1]


def _convert(
    fact: FactDef, text: str, number: str, unit_text: str | None
) -> tuple[Fraction, Fraction] | None:
    """The number in the fact's base unit (and its rounding tolerance), None when it cannot be read.

    Without a unit, the number must fall in the fact's plausible range in exactly one of its units
    (7.4 fasting glucose is mmol/L; a weight of 70 could be kg or lb and is left alone).
    """
    value, half = _number(number)
    if unit_text is not None:
        units = [u for u in fact.units if u.pattern and u.pattern.fullmatch(unit_text.strip())]
    else:
        units = [u for u in fact.units if _in_range(fact, value * u.factor + u.offset)]
        if len(units) != 1:
            return None
    if not units:
        return None
    unit = units[0]
    base = value * unit.factor + unit.offset
    return (base, half * abs(unit.factor)) if _in_range(fact, base) else None


def _sentence_before(text: str, start: int, width: int = 40) -> str:
    window = text[max(0, start - width) : start]
    cut = [m.end() for m in _BOUNDARY.finditer(window)]
    return window[cut[-1] :] if cut else window


def _read_fill(fill: str) -> tuple[str, bool] | None:
    """The comparison a filler states ("is above": '>') and if it is approximate (None: no fact)."""
    op = "=="
    for pattern, symbol in _COMPARATORS:
        found = list(pattern.finditer(fill))
        if found:
            op = symbol
            fill = fill[: found[-1].start()] + " " + fill[found[-1].end() :]
            break
    if _NOT_A_CASE.search(fill) or _CHANGE.search(fill) or _NEGATION.search(fill):
        return None
    return op, bool(_APPROX.search(fill))


def _operand(text: str, start: int, end: int) -> bool:
    """Whether the text at [start, end) is an operand of arithmetic ("4*27", "70 cm + 124") or a
    difference ("8 kg more than")."""
    return bool(
        _OPERATOR_BEFORE.search(text, max(0, start - 3), start)
        or _OPERATOR_AFTER.match(text, end)
        or _RELATIVE_AFTER.match(text, end)
    )


def _subject(text: str, start: int) -> str | None:
    """The last proper name before `start` in its sentence: whom the fact is about."""
    window = _sentence_before(text, start, 60)
    names = [m.group(0) for m in _PROPER.finditer(text, start - len(window), start)]
    names = [n for n in names if n not in _NOT_SUBJECT]
    return names[-1] if names else None


def _quantity(
    pack: Pack,
    fact: FactDef,
    text: str,
    span: tuple[int, int],
    number: tuple[int, int],
    unit: str | None,
    fill: str,
) -> Mention | None:
    """A mention of a quantity, once its filler, its surroundings and its unit pass."""
    read = _read_fill(fill)
    if read is None or _NOT_A_CASE.search(_sentence_before(text, span[0])):
        return None
    op, approx = read
    after = text[span[1] : span[1] + 40]
    if op == "==" and _THRESHOLD_AFTER.match(after):
        return None
    if op != "==" and _RULE_AFTER.search(re.split(r"[.;\n]", after, maxsplit=1)[0]):
        return None
    converted = _convert(fact, text, text[number[0] : number[1]], unit)
    if converted is None:
        return None
    value, tol = converted
    computed = bool(_RESULT_BEFORE.search(text, max(0, number[0] - 30), number[0])) or bool(
        _AVERAGE.search(_sentence_before(text, span[0], 30) + fill)
    )
    words = text[span[0] : span[1]].strip()
    subject = _subject(text, span[0])
    return Mention(fact.name, op, value, words, span[0], span[1], approx, tol, computed, subject)


def _unit_after(fact: FactDef, text: str, pos: int) -> tuple[str | None, int] | None:
    """The unit right after a number (and where it ends); None when a foreign unit follows."""
    if fact.unit_regex is not None:
        m = fact.unit_regex.match(text, pos)
        if m:
            return m.group(0), m.end()
    if _FOREIGN_UNIT.match(text, pos):
        return None
    return None, pos


def _named(pack: Pack, text: str) -> list[Mention]:
    out = []
    if pack.fact_regex is None:
        return out
    for count, m in enumerate(pack.fact_regex.finditer(text)):
        if count >= MAX_MATCHES:
            break
        name = next(k[2:] for k, v in m.groupdict().items() if k.startswith("f_") and v is not None)
        fact = pack.facts[name]
        unit = _unit_after(fact, text, m.end("num"))
        if unit is None or _operand(text, m.start("num"), m.end("num")):
            continue
        num = (m.start("num"), m.end("num"))
        mention = _quantity(pack, fact, text, (m.start(), unit[1]), num, unit[0], m.group("fill"))
        if mention:
            out.append(mention)
    return out


def _extracted(pack: Pack, text: str) -> list[Mention]:
    out = []
    for pattern in pack.extractors:
        for count, m in enumerate(pattern.finditer(text)):
            if count >= MAX_MATCHES:
                break
            unit = m.groupdict().get("unit")
            fill = m.groupdict().get("fill") or ""
            for name, number in m.groupdict().items():
                if name in ("unit", "fill") or number is None:
                    continue
                fact = pack.facts[name]
                if fact.kind != "quantity":
                    continue
                num = (m.start(name), m.end(name))
                if _operand(text, m.start(), m.end()):  # the whole match: "142/91" is one
                    continue
                mention = _quantity(pack, fact, text, (m.start(), m.end()), num, unit, fill)
                if mention:
                    out.append(mention)
    return out


def _flags(pack: Pack, text: str) -> list[Mention]:
    out = []
    for fact in pack.facts.values():
        if fact.kind != "flag" or fact.name_regex is None:
            continue
        for count, m in enumerate(fact.name_regex.finditer(text)):
            if count >= MAX_MATCHES:
                break
            before = _sentence_before(text, m.start(), 30)
            if _NOT_A_CASE.search(before):
                continue
            negated = bool(
                re.search(
                    r"\b(?:no|not|denies|denied|without|absen\w+|negative\s+for|free\s+of)\b|n't\b",
                    before,
                    re.I,
                )
            )
            out.append(Mention(fact.name, "is", not negated, m.group(0), m.start(), m.end()))
    return out


def extract(pack: Pack, text: str) -> list[Mention]:
    """Every fact of `pack` that `text` states, in order, without repeats."""
    seen, out = set(), []
    for mention in sorted(
        _named(pack, text) + _extracted(pack, text) + _flags(pack, text), key=lambda x: x.start
    ):
        key = (mention.fact, mention.op, mention.value)
        if key not in seen:
            seen.add(key)
            out.append(mention)
    return out


def derive(pack: Pack, mentions: list[Mention]) -> list[Mention]:
    """The mentions plus the derived facts (BMI from weight and height) that they determine."""
    values: dict[str, set[Fraction]] = {}
    for m in mentions:
        if m.op == "==" and not m.approx and not isinstance(m.value, bool):
            values.setdefault(m.fact, set()).add(m.value)  # type: ignore[arg-type]
    stated = {m.fact for m in mentions}
    out = list(mentions)
    for name, expr in pack.derived.items():
        inputs = variables(expr)
        if name in stated or not all(len(values.get(v, ())) == 1 for v in inputs):
            continue
        value = evaluate(expr, {v: next(iter(values[v])) for v in inputs})
        if value is None or not _in_range(pack.facts[name], value):
            continue
        used = [m for m in mentions if m.fact in inputs and m.op == "=="]
        text = ", ".join(m.describe(pack) for m in used)
        out.append(
            Mention(
                name,
                "==",
                value,
                f"from {text}",
                min(m.start for m in used),
                max(m.end for m in used),
                derived=True,
            )
        )
    return out


def close(a: Mention, b: Mention) -> bool:
    """Whether two stated values agree, allowing the rounding each one's digits declare."""
    tol = max(a.tol, b.tol, abs(b.value) / 200)  # type: ignore[arg-type]
    return abs(a.value - b.value) <= tol  # type: ignore[operator]
