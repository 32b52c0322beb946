"""The logic validator: do the stated FOL premises and earlier steps entail each formula step (z3)?

Premises are the context items and question lines that are formulas; a question line labelled
"Conclusion:" (also Hypothesis/Statement/Claim/Goal) or asked with "?" states the conclusion
instead. A step is checked when its text (after "Step k:") is a formula, or states one after
"so"/"therefore"/"thus"/"hence" or a "label:". Only text that parses completely and applies a
predicate (`Man(socrates)`) counts as a formula, so prose and arithmetic are left alone.

Each formula step must follow from the premises plus the earlier formula steps: entailed -> held;
contradicted -> `logic.contradiction` (naming the earlier step it contradicts, if one does);
neither -> `logic.not_entailed` (only a `logic.symbol_mismatch` warning when the step spells a
premise symbol in another letter case, `Socrates` for `socrates`). Without any premise formula
only contradictions are reported (steps then stand as the chain's own hypotheses). z3 running
out of time leaves a step unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import z3

from validators.entail import Entailment, Prover
from validators.fol import Atom, FolError, Formula, Not, children, parse, show, symbols
from validators.segment import step_body
from validators.types import Analysis, Finding, Step

NAME = "logic"
STEP_TIMEOUT_MS = 1_000  # one z3 question; the chain's budget caps it further
MAX_EVIDENCE = 30  # premises listed in a finding's evidence

# Cheap gate: a chain without any of these never reaches the parser (GSM8K pays one regex scan).
_LOGIC_HINT = re.compile(r"[∀∃∧∨¬⊕→↔⇒⇔⊻]|->|=>|&|\||~|\bforall\b|\bexists\b")
_APPLICATION = re.compile(r"\w\s*\(")
_INFERENCE = re.compile(r"\b(?:so|therefore|thus|hence)\b\s*[,:]?\s*", re.I)
_LABEL = re.compile(r"^[^:()]{1,60}:\s*")
_CONCLUSION_LABEL = re.compile(
    r"^\s*(?:conclusion|hypothesis|statement|claim|goal|query)\s*[:.-]\s*", re.I
)
_ASKED = re.compile(r"^\s*(?:is it (?:true|the case) that|does it follow that)\s+", re.I)
_LABELS = {"true": "True", "false": "False", "uncertain": "Uncertain", "unknown": "Uncertain"}
_VERDICT_LABEL = {"entailed": "True", "contradicted": "False", "unknown": "Uncertain"}


@dataclass
class _Stated:
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
    """Whether some predicate with arguments occurs (rules out `x = 5` and `Tom & Jerry`)."""
    stack: list[object] = [formula]
    while stack:
        node = stack.pop()
        if isinstance(node, Atom) and node.args:
            return True
        stack.extend(children(node))
    return False


def _stated(text: str, *, inference: bool) -> Formula | None:
    """The formula of a line or step: the whole text, after a "label:", or after "therefore"."""
    body = step_body(text).strip()
    candidates = [body]
    if inference:
        found = list(_INFERENCE.finditer(body))
        if found:
            candidates.append(body[found[-1].end() :])
    label = _LABEL.match(body)
    if label:
        candidates.append(body[label.end() :])
    for candidate in candidates:
        formula = formula_in(candidate)
        if formula is not None:
            return formula
    return None


def _conclusion_line(line: str) -> Formula | None:
    """The formula a question line asks about ("Conclusion: F", "F?", "Is it true that F?")."""
    text = line.strip()
    labelled = _CONCLUSION_LABEL.match(text)
    if labelled is None and not text.endswith("?"):
        return None
    text = text[labelled.end() :] if labelled else text
    text = _ASKED.sub("", text.rstrip("?").strip())
    return formula_in(text)


class LogicValidator:
    """Checks FOL steps against the chain's FOL premises with z3."""

    name = NAME
    version = "1.0"

    def check(self, analysis: Analysis) -> None:
        """Add entailment findings for each formula step; nothing when the chain has no formula."""
        chain = analysis.chain
        texts = [chain.question, *chain.context_items(), *(s.text for s in analysis.steps)]
        if not any(_LOGIC_HINT.search(t) for t in texts):
            return
        steps = [
            (step, formula)
            for step in analysis.steps
            if not step.unchecked_reason and (formula := _stated(step.text, inference=True))
        ]
        if not steps:
            return
        premises, conclusion = _premises(analysis)
        prover = Prover(
            [p.formula for p in premises], timeout_ms=STEP_TIMEOUT_MS, budget=analysis.budget
        )
        if premises and prover.consistency() == z3.unsat:
            analysis.add(_inconsistent(premises))
            return
        _Checker(analysis, prover, premises).run(steps)
        if conclusion is not None:
            _compare_label(analysis, prover, conclusion, steps[-1])


def _premises(analysis: Analysis) -> tuple[list[_Stated], Formula | None]:
    """Formula premises from the context and question, and the question's conclusion if any."""
    premises = []
    for k, item in enumerate(analysis.chain.context_items()):
        formula = _stated(item, inference=False)
        if formula is not None:
            premises.append(_Stated(formula, f"context {k + 1}"))
    conclusion = None
    for k, line in enumerate(analysis.chain.question.splitlines()):
        asked = _conclusion_line(line)
        if asked is not None:
            conclusion = asked
            continue
        formula = _stated(line, inference=False)
        if formula is not None:
            premises.append(_Stated(formula, f"question line {k + 1}"))
    return premises, conclusion


def _inconsistent(premises: list[_Stated]) -> Finding:
    return Finding(
        NAME,
        "logic.inconsistent_premises",
        "warning",
        "the premise formulas are inconsistent (they entail everything): steps not checked",
        {"premises": [f"{p.where}: {show(p.formula)}" for p in premises[:MAX_EVIDENCE]]},
    )


class _Checker:
    """Walks the formula steps in order, each judged against premises plus earlier steps."""

    def __init__(self, analysis: Analysis, prover: Prover, premises: list[_Stated]) -> None:
        self.analysis = analysis
        self.prover = prover
        self.premises = premises
        self.earlier: list[_Stated] = []  # earlier step formulas that did not contradict

    def run(self, steps: list[tuple[Step, Formula]]) -> None:
        for step, formula in steps:
            if self.analysis.budget.expired():
                step.unchecked_reason = "logic: the time budget ran out"
                continue
            self.step(step, formula)

    def step(self, step: Step, formula: Formula) -> None:
        verdict = self.prover.check(formula, [e.formula for e in self.earlier])
        stated = _Stated(formula, f"step index {step.index}", step.index)
        if not verdict.decided or verdict.result == "error":
            step.unchecked_reason = f"logic: {verdict.message}"
        elif verdict.result == "entailed":
            step.held += 1
        elif verdict.result == "contradicted":
            step.failed += 1
            step.findings.append(self._contradiction(step, formula))
            return  # kept out of later checks: an inconsistent set would entail everything
        elif self.premises:  # with no premises, an underived step is the chain's hypothesis
            slip = self._case_slip(formula)
            if slip:  # `Mortal(Socrates)` against `socrates`: notation, not a reasoning error
                step.findings.append(self._symbol_warning(step, formula, slip))
            else:
                step.failed += 1
                step.findings.append(self._not_entailed(step, formula))
        self.earlier.append(stated)

    def _known_symbols(self) -> set[str]:
        return set().union(*(symbols(p.formula) for p in [*self.premises, *self.earlier]))

    def _case_slip(self, formula: Formula) -> dict[str, str]:
        """New symbols that match a known one but for letter case (new -> known)."""
        known = {name.lower(): name for name in self._known_symbols()}
        new = symbols(formula) - set(known.values())
        return {name: known[name.lower()] for name in sorted(new) if name.lower() in known}

    def _symbol_warning(self, step: Step, formula: Formula, slip: dict[str, str]) -> Finding:
        pairs = ", ".join(f"{new} (premises: {old})" for new, old in slip.items())
        return Finding(
            NAME,
            "logic.symbol_mismatch",
            "warning",
            f"{show(formula)} is not entailed as written, but it spells {pairs} differently",
            {**self._evidence(formula), "symbols": slip},
            step.index,
        )

    def _evidence(self, formula: Formula) -> dict:
        known = [*self.premises, *self.earlier]
        return {
            "formula": show(formula),
            "premises": [f"{p.where}: {show(p.formula)}" for p in known[:MAX_EVIDENCE]],
        }

    def _clash(self, formula: Formula, earlier: Formula) -> bool:
        return self.prover.check(formula, [earlier]).result == "contradicted"

    def _not_entailed(self, step: Step, formula: Formula) -> Finding:
        new = sorted(symbols(formula) - self._known_symbols())
        why = f"; it uses {', '.join(new)}, which no premise mentions" if new else ""
        return Finding(
            NAME,
            "logic.not_entailed",
            "error",
            f"{show(formula)} does not follow from the premises and earlier steps{why}",
            self._evidence(formula),
            step.index,
        )

    def _contradiction(self, step: Step, formula: Formula) -> Finding:
        evidence = self._evidence(formula)
        against = self.prover.check(formula)
        if self.earlier and against.result != "contradicted":
            clashing = [e for e in self.earlier if self._clash(formula, e.formula)]
            evidence["contradicts_steps"] = [e.step for e in clashing]
            whom = ", ".join(e.where for e in clashing) or "the premises and earlier steps"
        else:
            whom = "the premises"
        return Finding(
            NAME,
            "logic.contradiction",
            "error",
            f"{show(formula)} contradicts {whom}",
            evidence,
            step.index,
        )


def _compare_label(
    analysis: Analysis, prover: Prover, conclusion: Formula, last: tuple[Step, Formula]
) -> None:
    """A True/False/Uncertain answer against what the premises make of the conclusion."""
    stated = _LABELS.get((analysis.answer or "").strip().rstrip(".").lower())
    step, formula = last
    if stated is None or formula not in (conclusion, Not(conclusion)):
        return
    verdict: Entailment = prover.check(conclusion)
    expected = _VERDICT_LABEL.get(verdict.result) if verdict.decided else None
    if expected is None:
        return
    if expected == stated:
        analysis.held += 1
    else:
        analysis.failed += 1
        analysis.add(
            Finding(
                NAME,
                "logic.wrong_label",
                "error",
                f"the premises make {show(conclusion)} {expected}; the answer says {stated}",
                {"conclusion": show(conclusion), "expected": expected, "answer": stated},
            )
        )
    argued = "True" if formula == conclusion else "False"
    if stated != argued:
        analysis.laundering = True
        analysis.add(
            Finding(
                NAME,
                "logic.answer_not_derived",
                "error",
                f"the last step argues {show(formula)} ({argued}), but the answer says {stated}",
                {"last_step": step.index, "argued": argued, "answer": stated},
            )
        )
