"""Where a chain states FOL formulas: premises, the conclusion asked about, and step formulas.

Only text that parses completely and applies a predicate (`Man(socrates)`) counts as a
formula, so prose, arithmetic (`x = 5`) and `Tom & Jerry` are never read as logic.

Lines of the context and of the question are premises, except the conclusion: a line labelled
"Conclusion:" (Hypothesis, Statement, Claim, Goal, Query, Question, Prove), a formula asked with
"?", or formula lines under a header that asks ("Is the following true?", "Conclusion:").
A header naming premises/facts/rules/given makes the lines under it premises again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from validators.logic.fol import Atom, FolError, Formula, children, parse
from validators.text.segment import step_body

_APPLICATION = re.compile(r"\w\s*\(")
_INFERENCE = re.compile(r"\b(?:so|therefore|thus|hence)\b\s*[,:]?\s*", re.I)
_STEP_LABEL = re.compile(r"^[^:()]{1,60}:\s*")
_CONCLUSION_WORDS = r"conclusion|hypothesis|statement|claim|goal|query|question|to prove|prove"
_PREMISE_WORDS = r"premises?|facts?|rules?|axioms?|given|assumptions?|context|p"
_CONCLUSION_LABEL = re.compile(rf"^(?:{_CONCLUSION_WORDS})\s*\d*\s*[:.)-]\s*", re.I)
_PREMISE_LABEL = re.compile(rf"^(?:{_PREMISE_WORDS})\s*\d*\s*[:.)-]\s*", re.I)
_PREMISE_HEADER = re.compile(r"\b(?:premises?|facts?|rules?|axioms?|given|assumptions?)\b", re.I)
_ASKING_HEADER = re.compile(rf"\b(?:{_CONCLUSION_WORDS}|following)\b", re.I)
_ASKED_HEAD = re.compile(r"^(?:is it (?:true|the case) that|does it follow that|is|does)\s+", re.I)
_ASKED_TAIL = re.compile(
    r"(?:\s+(?:or\s+)?(?:true|false|uncertain|unknown|follows?|holds?)\b,?)+\s*$", re.I
)


@dataclass
class Stated:
    """A formula found in the chain and where it came from."""

    formula: Formula
    where: str  # "context 2", "question line 1", "step index 3" (the report's 0-based index)
    step: int | None = None


def formula_in(text: str) -> Formula | None:
    """The formula a text states in full (a predicate must be applied somewhere), else None."""
    if not _APPLICATION.search(text):
        return None
    try:
        formula = parse(text).formula
    except FolError:
        return None
    return formula if _applies_predicate(formula) else None


def _applies_predicate(formula: Formula) -> bool:
    stack: list[object] = [formula]
    while stack:
        node = stack.pop()
        if isinstance(node, Atom) and node.args:
            return True
        stack.extend(children(node))
    return False


def step_formula(text: str) -> Formula | None:
    """A step's formula: its whole text, what follows "therefore"/"so", or a "label:"."""
    body = step_body(text).strip()
    candidates = [body]
    found = list(_INFERENCE.finditer(body))
    if found:
        candidates.append(body[found[-1].end() :])
    label = _STEP_LABEL.match(body)
    if label:
        candidates.append(body[label.end() :])
    for candidate in candidates:
        formula = formula_in(candidate)
        if formula is not None:
            return formula
    return None


def _asked(text: str) -> Formula | None:
    """The formula in "Is F true?", "Does it follow that F?", "F?"."""
    text = text.strip().rstrip("?").rstrip()
    return formula_in(text) or formula_in(_ASKED_TAIL.sub("", _ASKED_HEAD.sub("", text)))


def read_lines(lines: list[str], where: str) -> tuple[list[Stated], list[Stated]]:
    """(premises, conclusions) stated by context items or question lines."""
    premises: list[Stated] = []
    conclusions: list[Stated] = []
    asking = False  # under a header that asks about the formulas that follow
    for k, line in enumerate(lines):
        body = step_body(line).strip()
        label = f"{where} {k + 1}"
        # The whole line first: `Question-answering(x) → …` is a formula, not a label.
        whole = formula_in(body) if body else None
        if whole is not None:
            (conclusions if asking else premises).append(Stated(whole, label))
            continue
        marker = _CONCLUSION_LABEL.match(body)
        if marker or body.endswith("?"):
            rest = body[marker.end() :] if marker else body
            formula = _asked(rest)
            if formula is not None:
                conclusions.append(Stated(formula, label))
            elif body.endswith("?") or not rest.strip():
                asking = True  # "Is the following true?" or "Conclusion:" on its own line
            continue
        marker = _PREMISE_LABEL.match(body)
        formula = formula_in(body[marker.end() :]) if marker else None
        if formula is not None:
            premises.append(Stated(formula, label))
        elif body.endswith(":"):
            asking = bool(_ASKING_HEADER.search(body)) and not _PREMISE_HEADER.search(body)
    return premises, conclusions
