"""'X is higher than Y' between stated values of one unit (a pack's `comparisons`, e.g. rates in %).

Two shapes are checked: numbers side by side ("the 5.2 % rate is higher than the 4.8 % one") and
named parties whose values the question, the context or an earlier step states ("Bank A's rate
is higher than Bank B's", with "Bank A: 5.2 %" in the context). A party stated with two different
values is ambiguous and left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from validators.rules.formula import show_number
from validators.rules.pack import NUMBER, Comparison

_REL = r"(?P<rel>higher|greater|larger|bigger|more|lower|less|smaller|cheaper)\s+than"
_GREATER = {"higher", "greater", "larger", "bigger", "more"}
_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b", re.I)
# Capitalised words that begin sentences or name the quantity, never a party.
_NOT_PARTY = {
    "the",
    "a",
    "an",
    "this",
    "that",
    "its",
    "their",
    "his",
    "her",
    "our",
    "your",
    "it",
    "if",
    "in",
    "on",
    "at",
    "for",
    "while",
    "whereas",
    "but",
    "and",
    "however",
    "since",
    "because",
    "both",
    "each",
    "so",
    "rate",
    "rates",
    "apr",
    "apy",
    "interest",
    "loan",
    "mortgage",
    "step",
    "then",
    "therefore",
    "thus",
}


@dataclass(frozen=True)
class Compared:
    """One comparison a step states, with the values it compares and whether it holds."""

    text: str
    left: str
    right: str
    left_value: Fraction
    right_value: Fraction
    greater: bool  # the step says left > right (else left < right)

    @property
    def holds(self) -> bool:
        """Whether the stated order is the order of the values."""
        if self.greater:
            return self.left_value > self.right_value
        return self.left_value < self.right_value


def _value(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


def _numeric(cmp: Comparison, text: str) -> list[Compared]:
    gap = r"(?:[^\d\n;.]|\.(?!\s))"
    pattern = re.compile(
        rf"(?P<a>{NUMBER})\s*(?:{cmp.unit})(?P<mid>{gap}{{0,60}}?)\b{_REL}\b(?P<mid2>{gap}{{0,40}}?)"
        rf"(?P<b>{NUMBER})\s*(?:{cmp.unit})",
        re.I,
    )
    out = []
    for m in pattern.finditer(text):
        if _NEGATED.search(m.group("mid")):
            continue
        a, b = _value(m.group("a")), _value(m.group("b"))
        out.append(
            Compared(
                m.group(0), show_number(a), show_number(b), a, b, m.group("rel").lower() in _GREATER
            )
        )
    return out


def _party(name: str) -> str | None:
    words = name.split()
    while words and words[0].lower() in _NOT_PARTY:
        words = words[1:]
    return " ".join(words) if words else None


_CAPITALISED = re.compile(r"[A-Z][\w&'-]*(?:\s+[A-Z0-9][\w&'-]*){0,3}")
_WINDOW = 80  # characters before a value in which its party is named


def parties(cmp: Comparison, sources: list[str]) -> dict[str, Fraction]:
    """Each named party and the one value the sources give it (ambiguous parties are left out).

    A value's party is the last capitalised name before it in its clause, after the previous
    value ("Bank A offers a 30-year loan at 6.1 % APR; Bank B offers 5.7 %").
    """
    value = re.compile(rf"(?P<v>{NUMBER})\s*(?:{cmp.unit})", re.I)
    seen: dict[str, set[Fraction]] = {}
    for text in sources:
        floor = 0
        for m in value.finditer(text):
            lo = max(floor, m.start() - _WINDOW)
            stops = [b.end() for b in re.finditer(r"[;\n]|\.\s", text[lo : m.start()])]
            lo += stops[-1] if stops else 0
            floor = m.end()
            names = [(n, _party(n.group(0))) for n in _CAPITALISED.finditer(text, lo, m.start())]
            named = [(n, name) for n, name in names if name]
            if not named:
                continue
            n, name = named[-1]
            if not _NEGATED.search(text, n.end(), m.start()):
                seen.setdefault(name, set()).add(_value(m.group("v")))
    return {name: next(iter(values)) for name, values in seen.items() if len(values) == 1}


def _named(cmp: Comparison, text: str, known: dict[str, Fraction]) -> list[Compared]:
    if len(known) < 2:
        return []
    names = "|".join(re.escape(n) for n in sorted(known, key=len, reverse=True))
    pattern = re.compile(
        rf"(?<![\w])(?P<x>{names})(?:'s|’s)?(?P<mid>[^\d\n;.]{{0,60}}?)\b{_REL}\s+"
        rf"(?:(?:that|those)\s+of\s+|the\s+(?:one|rate|APR|offer|loan)\s+(?:from|at|of|by)\s+)?(?P<y>{names})(?![\w])"
    )
    out = []
    for m in pattern.finditer(text):
        x, y = m.group("x"), m.group("y")
        subject = cmp.subject.search(m.group(0))
        if x == y or _NEGATED.search(m.group("mid")) or not subject:
            continue
        out.append(
            Compared(m.group(0), x, y, known[x], known[y], m.group("rel").lower() in _GREATER)
        )
    return out


def comparisons_in(cmp: Comparison, text: str, known: dict[str, Fraction]) -> list[Compared]:
    """The comparisons of `cmp`'s kind in a step (numbers side by side, or named parties)."""
    numeric = [c for c in _numeric(cmp, text) if cmp.subject.search(text)]
    return numeric + _named(cmp, text, known)
