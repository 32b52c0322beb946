"""The logic validator: do the stated FOL premises and earlier steps entail each formula step (z3)?

Premises are the context items and question lines that are formulas, less the conclusion asked
about (see validators.logic.fol_text). A step is checked when its text (after "Step k:") is a
formula, or states one after "so"/"therefore"/"thus"/"hence" or a "label:"; other steps are left
alone.

Each formula step must follow from the premises plus the earlier formula steps: entailed -> held;
contradicted -> `logic.contradiction` (naming the earlier step it contradicts, if one does);
neither -> `logic.not_entailed` (only a `logic.symbol_mismatch` warning when the step spells a
premise symbol in another letter case, `Socrates` for `socrates`). Without any premise formula
only contradictions are reported (steps then stand as the chain's own hypotheses). z3 running
out of time leaves a step unchecked.

With a True/False/Uncertain answer and a last formula step that states the conclusion (or its
negation), the answer is compared with what the premises make of the conclusion
(`logic.wrong_label`); when that step was validly derived and the answer says otherwise, the
answer is laundered (`logic.answer_not_derived`).
"""

from __future__ import annotations

import re

from validators.logic.entail import Entailment, Prover
from validators.logic.fol import Formula, Not, show, symbols
from validators.logic.fol_text import Stated, read_lines, step_formula
from validators.types import Analysis, Finding, Step

NAME = "logic"
STEP_TIMEOUT_MS = 1_000  # one z3 question; the chain's budget caps it further
MAX_EVIDENCE = 30  # premises listed in a finding's evidence

# Cheap gate: a chain without any of these never reaches the parser (GSM8K pays one regex scan).
_LOGIC_HINT = re.compile(r"[∀∃∧∨¬⊕→↔⇒⇔⊻]|->|=>|&|\||~|\bforall\b|\bexists\b")
# Necessary for a _LOGIC_HINT match and several times faster to search for (one character class).
_LOGIC_CHARS = re.compile(r"[∀∃∧∨¬⊕→↔⇒⇔⊻&|~>]")
_LABELS = {"true": "True", "false": "False", "uncertain": "Uncertain", "unknown": "Uncertain"}
_VERDICT_LABEL = {"entailed": "True", "contradicted": "False", "unknown": "Uncertain"}


class LogicValidator:
    """Checks FOL steps against the chain's FOL premises with z3."""

    name = NAME
    version = "1.0"

    def check(self, analysis: Analysis) -> None:
        """Add entailment findings for each formula step; nothing when the chain has no formula."""
        chain = analysis.chain
        texts = [chain.question, *chain.context_items(), *(s.text for s in analysis.steps)]
        if not _may_hold_logic("\n".join(texts)):
            return
        steps = [
            (step, formula)
            for step in analysis.steps
            if not step.unchecked_reason and (formula := step_formula(step.text))
        ]
        if not steps:
            return
        premises, conclusion = _premises(analysis)
        checker = _Checker(analysis, premises)
        try:
            checker.run(steps)
        except _Inconsistent:
            analysis.add(_inconsistent(premises))
            return
        if conclusion is not None and premises:
            derived = steps[-1][0].index in checker.entailed
            _compare_label(analysis, checker.base(), conclusion, steps[-1], derived=derived)


def _may_hold_logic(text: str) -> bool:
    """Whether a text has a logic symbol or keyword (no hint spans the newline joining texts)."""
    if _LOGIC_CHARS.search(text) is None and "forall" not in text and "exists" not in text:
        return False
    return _LOGIC_HINT.search(text) is not None


def _premises(analysis: Analysis) -> tuple[list[Stated], Formula | None]:
    """Formula premises from the context and question, and the one conclusion asked about."""
    chain = analysis.chain
    premises, conclusions = read_lines(chain.context_items(), "context")
    asked_premises, asked = read_lines(chain.question.splitlines(), "question line")
    conclusions += asked
    conclusion = conclusions[0].formula if len(conclusions) == 1 else None
    return premises + asked_premises, conclusion


def _inconsistent(premises: list[Stated]) -> Finding:
    return Finding(
        NAME,
        "logic.inconsistent_premises",
        "warning",
        "the premise formulas are inconsistent (they entail everything): steps not checked",
        {"premises": [f"{p.where}: {show(p.formula)}" for p in premises[:MAX_EVIDENCE]]},
    )


class _Inconsistent(Exception):
    """The premises contradict themselves, so no step can be judged against them."""


class _Checker:
    """Walks the formula steps in order, each judged against premises plus earlier steps.

    One prover holds the premises and then each step that stands (push/pop per question); a
    second one with the premises alone is made only to explain a contradiction or judge a label.
    """

    def __init__(self, analysis: Analysis, premises: list[Stated]) -> None:
        self.analysis = analysis
        self.premises = premises
        self.prover = self._prover()
        self._base: Prover | None = None
        self.earlier: list[Stated] = []  # earlier step formulas that did not contradict
        self.entailed: set[int] = set()  # indices of the steps that follow
        self.undecided = False  # an undecided step was assumed: "error" may be its fault

    def _prover(self) -> Prover:
        formulas = [p.formula for p in self.premises]
        return Prover(formulas, timeout_ms=STEP_TIMEOUT_MS, budget=self.analysis.budget)

    def base(self) -> Prover:
        """The premises alone."""
        if self._base is None:
            self._base = self._prover()
        return self._base

    def run(self, steps: list[tuple[Step, Formula]]) -> None:
        for step, formula in steps:
            if self.analysis.budget.expired():
                step.unchecked_reason = "logic: the time budget ran out"
                continue
            self.step(step, formula)

    def step(self, step: Step, formula: Formula) -> None:
        verdict = self.prover.check(formula)
        if verdict.result == "error" and not self.undecided:
            raise _Inconsistent
        if not verdict.decided or verdict.result == "error":
            step.unchecked_reason = f"logic: {verdict.message}"
            self.undecided = True
        elif verdict.result == "entailed":
            step.held += 1
            self.entailed.add(step.index)
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
        self.prover.assume(formula, verdict)
        self.earlier.append(Stated(formula, f"step index {step.index}", step.index))

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
        return self.base().check(formula, [earlier]).result == "contradicted"

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
        against = self.base().check(formula)
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
    analysis: Analysis,
    prover: Prover,
    conclusion: Formula,
    last: tuple[Step, Formula],
    *,
    derived: bool,
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
    if derived and stated != argued:  # a valid derivation, and an answer that ignores it
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
