"""Citations (cases, statutes, articles) read with a pack's patterns, and whether the supplied
materials (the context and the question) contain them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from validators.rules.pack import CitationKind, Pack

_AUTHORITY_BEFORE = re.compile(
    r"\b(?:under|pursuant\s+to|according\s+to|as\s+held\s+in|held\s+in|per|in\s+light\s+of|following"
    r"|citing|relying\s+on|see|as\s+in|applying|based\s+on|because\s+of|in|by|of)\s*$",
    re.I,
)


@dataclass(frozen=True)
class Cited:
    """A citation in a step: its kind, its words and where they are."""

    kind: CitationKind
    text: str
    start: int
    end: int
    groups: tuple[tuple[str, str], ...]
    alternatives: tuple[Cited, ...] = field(default=())

    def group(self, name: str) -> str | None:
        """A named group of the match (None when absent)."""
        return dict(self.groups).get(name)


def _norm(text: str) -> str:
    text = text.lower().replace("§", " section ")
    text = re.sub(r"\bvs?\.(?=\s)", " v ", text)
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text).split()) + " "


# Capitalised words that open a sentence or introduce an authority, never part of a party's name.
_LEAD = re.compile(
    r"(?:(?:Under|In|See|Per|Following|Citing|Applying|As|According|Like|Unlike|Because|Since|Therefore"
    r"|Thus|Hence|Also|But|And|Cf\.|Accord|Compare|Moreover|However|Here|Similarly|Pursuant|Whereas)\s+)+"
)


def _trim_lead(c: Cited) -> Cited:
    lead = _LEAD.match(c.text)
    if not lead or lead.end() >= len(c.group("left") or ""):
        return c
    groups = tuple((k, v[lead.end() :] if k == "left" else v) for k, v in c.groups)
    return Cited(c.kind, c.text[lead.end() :], c.start + lead.end(), c.end, groups)


def citations_in(pack: Pack, text: str) -> list[Cited]:
    """The citations of `text`, without those inside a longer one; a reporter cite right after a
    case name is one citation with the case."""
    found = []
    for kind in pack.citations:
        for m in kind.pattern.finditer(text):
            groups = tuple((k, v) for k, v in m.groupdict().items() if v is not None)
            cited = Cited(kind, m.group(0), m.start(), m.end(), groups)
            found.append(_trim_lead(cited) if kind.match == "parties" else cited)
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[Cited] = []
    for c in found:
        if kept and c.start < kept[-1].end:
            continue
        if (
            kept
            and kept[-1].kind.match == "parties"
            and c.kind.match == "key"
            and 0 <= c.start - kept[-1].end <= 4
        ):
            case = kept.pop()
            c = Cited(case.kind, text[case.start : c.end], case.start, c.end, case.groups, (c,))
        kept.append(c)
    return kept


class Materials:
    """The supplied materials, normalised once, that citations are looked up in."""

    def __init__(self, pack: Pack, text: str) -> None:
        self.norm = _norm(text)
        self.sections: set[tuple[str | None, str]] = set()
        self.articles: set[tuple[str, str | None]] = set()
        for c in citations_in(pack, text):
            if c.kind.match == "section":
                self.sections.add((c.group("title"), (c.group("section") or "").lower()))
            elif c.kind.match == "article":
                self.articles.add(((c.group("number") or ""), c.group("instrument")))

    def _parties(self, c: Cited) -> bool:
        left = _norm(c.group("left") or "").split()
        right = _norm(c.group("right") or "").split()
        # "In Brown v. Board of Education, ...": try every tail of the left party and every head
        # of the right one, so that surrounding words never make a present case look absent.
        for i in range(len(left)):
            for j in range(1, len(right) + 1):
                if f" {' '.join(left[i:])} v {' '.join(right[:j])} " in self.norm:
                    return True
        return False

    def _section(self, c: Cited) -> bool:
        title, section = c.group("title"), (c.group("section") or "").lower()
        return any(
            s == section and (title is None or t is None or t == title) for t, s in self.sections
        )

    def _article(self, c: Cited) -> bool:
        number, instrument = c.group("number") or "", c.group("instrument")
        return any(
            n == number and (instrument is None or i is None or i == instrument)
            for n, i in self.articles
        )

    def contains(self, c: Cited) -> bool:
        """Whether the materials contain the citation (or the reporter cite that goes with it)."""
        if any(self.contains(alt) for alt in c.alternatives):
            return True
        if c.kind.match == "parties":
            return self._parties(c)
        if c.kind.match == "section":
            return self._section(c)
        if c.kind.match == "article":
            return self._article(c)
        return _norm(c.text) in self.norm


def introduced_as_authority(text: str, c: Cited) -> bool:
    """Whether the words before a citation make it the authority relied on ("under", "see")."""
    return bool(_AUTHORITY_BEFORE.search(text[max(0, c.start - 30) : c.start]))
