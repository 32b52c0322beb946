"""Where a step states a pack's conclusion, and which reason it gives for it.

A conclusion counts only when the step asserts it of the case: negated ("does not have"),
hedged ("may have"), conditional ("has diabetes if ...") and general ("a diagnosis of diabetes
requires ...") statements are not conclusions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from validators.rules.pack import Conclusion, Pack

_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
_CLAUSE_MARK = re.compile(
    r"[,:;()]|\b(?:because|since|as|so|therefore|thus|hence|but|although|though|while|whereas|which)\b",
    re.I,
)
# Before the conclusion, in its clause: negation, hedges, and the words of a general rule.
_NOT_ASSERTED = re.compile(
    r"\b(?:not|no|never|cannot|unlikely|doubt\w*|rule[sd]?\s+out|ruling\s+out|exclud\w*|den(?:y|ies|ied)"
    r"|may|might|could|would|should|possibl[ey]|probabl[ey]|likely|suspect\w*|consider\w*|if|whether"
    r"|unless|risk|screen\w*|test\w*\s+for|evaluat\w*\s+for|to\s+(?:diagnose|confirm|establish)"
    r"|criteri\w*|requires?|required|needs?|must|defin\w*|threshold|cut-?off|when|whenever"
    r"|(?:patients|people|anyone|someone|persons?|a\s+patient|individuals)\s+(?:who|with)"
    r"|chance|probability|family\s+history|assum\w*|suppos\w*)\b|n't\b|≥|≤|>|<",
    re.I,
)
# After the conclusion, in its sentence: a condition makes it a rule or a hypothesis.
_CONDITION_AFTER = re.compile(
    r"\b(?:if|when|whenever|unless|provided\s+that|only\s+if|requires?|needs?|is\s+defined)\b", re.I
)
_EXPLICIT = re.compile(
    r"\b(?:because(?:\s+of)?|since|due\s+to|given\s+that|owing\s+to|(?:as\s+)?evidenced\s+by|based\s+on"
    r"|in\s+view\s+of|in\s+light\s+of|on\s+account\s+of|as\s+shown\s+by|as\s+indicated\s+by)\b"
    r"|(?:^|[,:])\s*given\b"
    # ", as her HbA1c is ...": a reason; ", as do her siblings", ", as a result": not one.
    r"|(?:^|[,:])\s*as\s+(?!a\s+result)(?=(?:her|his|their|the|its|this|these|those|they|she|he|it|both|all|a|an)\b)",
    re.I,
)
# "since 2019", "since childhood": time, not a reason.
_TEMPORAL = re.compile(
    r"\s*(?:\d|then\b|childhood\b|birth\b|last\b|early\b|the\s+age\b|age\b|(?:jan|feb|mar|apr|may|jun|jul"
    r"|aug|sep|oct|nov|dec)\w*\b|her\s+\d|his\s+\d|diagnosis\b|being\s+diagnosed\b)",
    re.I,
)
_CONSEQUENCE = re.compile(
    r"\b(?:so(?!\s+(?:far|called|much|many|that)\b)|therefore|thus|hence|consequently|accordingly"
    r"|which\s+means|this\s+means|meaning|indicating|confirming|as\s+a\s+result|it\s+follows\s+that)\b",
    re.I,
)
# A reason that points elsewhere ("since this is above the cut-off"): not foreign to the rule.
_ANAPHORA = re.compile(
    r"\b(?:this|that|these|those|it|its|they|them|which|above|aforementioned|results?|levels?|values?"
    r"|readings?|measurements?|labs?|laboratory|tests?|testing|findings?|criteria|criterion|thresholds?"
    r"|cut-?offs?|numbers|data|records?|chart|work-?up|screening|same|figures?|ratio|score|documents?"
    r"|materials?|evidence|facts?|history|diagnos\w*|medications?|treat(?:ed|ment|ments)|prescri\w*)\b",
    re.I,
)


@dataclass(frozen=True)
class Stated:
    """A conclusion a step asserts, with where it is."""

    conclusion: Conclusion
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Reason:
    """The reason a step gives: its text, where it comes from, and where it is in the step."""

    text: str
    kind: str  # explicit | consequence | previous
    start: int = 0
    end: int = 0


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    after = _SENTENCE_END.search(text, end)
    return (before[-1] if before else 0), (after.start() if after else len(text))


def _clause_start(text: str, sent_start: int, start: int) -> int:
    marks = [m.end() for m in _CLAUSE_MARK.finditer(text, sent_start, start)]
    return marks[-1] if marks else sent_start


def asserted(text: str, start: int, end: int) -> bool:
    """Whether the text at [start, end) is asserted of the case (not negated, hedged, a rule)."""
    sent_start, sent_end = _sentence(text, start, end)
    if text[sent_end : sent_end + 1] == "?":
        return False
    if _NOT_ASSERTED.search(text, _clause_start(text, sent_start, start), start):
        return False
    return not _CONDITION_AFTER.search(text, end, sent_end)


def conclusions_in(pack: Pack, text: str) -> list[Stated]:
    """The conclusions of `pack` that `text` asserts, one per conclusion (the first assertion)."""
    out = []
    for conclusion in pack.conclusions.values():
        for pattern in conclusion.patterns:
            found = next(
                (m for m in pattern.finditer(text) if asserted(text, m.start(), m.end())), None
            )
            if found:
                out.append(Stated(conclusion, found.start(), found.end(), found.group(0)))
                break
    return sorted(out, key=lambda s: s.start)


def states_conclusion(pack: Pack, text: str) -> bool:
    """Whether the text asserts any conclusion of the pack (its rules or its conclusion markers)."""
    if conclusions_in(pack, text):
        return True
    markers = pack.conclusion_markers
    return bool(markers and any(asserted(text, m.start(), m.end()) for m in markers.finditer(text)))


def explicit_reason(text: str, start: int, end: int) -> Reason | None:
    sent_start, sent_end = _sentence(text, start, end)
    found = [
        m
        for m in _EXPLICIT.finditer(text, sent_start, sent_end)
        if not (m.group(0).strip().lower().startswith("since") and _TEMPORAL.match(text, m.end()))
    ]
    after = [m for m in found if m.start() >= end]
    before = [m for m in found if m.end() <= start]
    if after:
        m = after[0]
        return Reason(text[m.end() : sent_end].strip(" ,"), "explicit", m.end(), sent_end)
    if before:
        # "Since X, she has Y": the reason runs up to the conclusion's clause.
        m = before[-1]
        stop = max(m.end(), _clause_start(text, m.end(), start) - 1)
        return Reason(text[m.end() : stop].strip(" ,"), "explicit", m.end(), stop)
    return None


def reason_for(text: str, stated: Stated, previous: str | None) -> Reason | None:
    """The reason a step gives for a conclusion: after because/since/..., before so/therefore/...,
    or the previous step when the step opens with "therefore"; None when it gives none."""
    reason = explicit_reason(text, stated.start, stated.end)
    if reason is not None and reason.text:
        return reason
    sent_start, _ = _sentence(text, stated.start, stated.end)
    consequence = [m for m in _CONSEQUENCE.finditer(text, sent_start, stated.start)]
    if consequence:
        m = consequence[-1]
        before = text[sent_start : m.start()].strip(" ,")
        if len(before.split()) >= 2:
            return Reason(before, "consequence", sent_start, m.start())
        if previous:
            return Reason(previous.strip(), "previous")
    return None


def refers_elsewhere(reason: Reason) -> bool:
    """Whether a reason points at other text ("this", "the results") rather than stating its own."""
    return bool(_ANAPHORA.search(reason.text))
