"""The rules validator: domain rule packs (YAML, compiled to z3) applied to each step's conclusions.

For a step that asserts a conclusion of the chain's pack (chain.rulepack, else the pack of
chain.domain), the facts the step cites must entail the conclusion's requirement:

- entailed -> the step holds (step.held);
- contradicted (HbA1c 5.2 % -> diabetes) -> `rules.requirement_violated`;
- the step's stated reason has nothing to do with the requirement ("because their favourite food
  is pizza") -> `rules.reason_does_not_support` and laundering, whatever the context holds;
- relevant but not enough -> `rules.requirement_not_entailed` (warning);
- no reason and no fact anywhere -> `rules.unsupported` (warning).

Facts a step states that the question or context states differently are
`rules.fact_contradicts_context`; cited cases and statutes missing from the context are
`rules.citation_not_in_context`; "X is higher than Y" between stated rates is checked too.
Chains without a pack cost nothing.
"""

from __future__ import annotations

import re
from typing import Any

from validators.rules.citing import Materials, citations_in, introduced_as_authority
from validators.rules.compare import Compared, comparisons_in, parties
from validators.rules.facts import Mention, close, derive, extract
from validators.rules.formula import closed, literals, nnf, show_number, variables
from validators.rules.pack import Comparison, Conclusion, Pack, pack_for
from validators.rules.solve import all_of, any_of, compiled, entails, fact_constraint, satisfiable
from validators.rules.text import (
    Reason,
    Stated,
    conclusions_in,
    explicit_reason,
    reason_for,
    refers_elsewhere,
    states_conclusion,
)
from validators.types import MAX_CHAIN_CHARS, Analysis, Finding, Step

# A conclusion told as history ("has had diabetes since 2015") restates a diagnosis, not makes one.
_HISTORY = re.compile(
    r"\b(?:has|have)\s+had\b|\bsince\s+(?:\d|childhood|birth)|\bknown\b|\bhistory\s+of\b|\bpreviously\b"
    r"|\bin\s+\d{4}\b|\byears?\s+ago\b|\blong-?standing\b",
    re.I,
)
MAX_SHOWN = 200  # characters of a step's reason quoted in a message
MAX_CITATIONS = 50  # citations looked up per step


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


class _Run:
    """One chain under one pack: the facts of the materials and of each step, and the findings."""

    def __init__(self, validator: str, pack: Pack, analysis: Analysis) -> None:
        self.name = validator
        self.pack = pack
        self.analysis = analysis
        chain = analysis.chain
        self.given_text = (chain.question + "\n" + chain.context_text())[:MAX_CHAIN_CHARS]
        self.given = derive(pack, extract(pack, self.given_text))
        self.flags = frozenset(f.name for f in pack.facts.values() if f.kind == "flag")
        self.materials = (
            Materials(pack, self.given_text)
            if pack.citations and chain.context_text().strip()
            else None
        )
        self.parties = {}
        self.stated_in_given: dict[str, bool] = {}
        if pack.comparisons:
            sources = [self.given_text] + [s.text for s in analysis.steps if not s.unchecked_reason]
            self.parties = {c.name: parties(c, sources) for c in pack.comparisons}

    # --- helpers -------------------------------------------------------------------------
    def ms(self) -> int:
        return int(self.analysis.budget.remaining() * 1000)

    def add(
        self, step: Step, code: str, severity: str, message: str, evidence: dict[str, Any]
    ) -> None:
        finding = Finding(self.name, f"rules.{code}", severity, message, evidence, step.index)  # type: ignore[arg-type]
        self.analysis.add(finding)

    def rule_evidence(self, c: Conclusion, facts: list[Mention]) -> dict[str, Any]:
        return {
            "pack": self.pack.name,
            "rule": c.name,
            "conclusion": c.label,
            "source": " ".join(c.source.split()),
            "requires": c.requires_text,
            "needs": c.needs,
            "facts": [
                {"fact": m.fact, "stated": m.text, "value": m.describe(self.pack)} for m in facts
            ],
        }

    def facts_text(self, facts: list[Mention]) -> str:
        return ", ".join(m.describe(self.pack) for m in facts) or "nothing"

    # --- the requirement of a conclusion ---------------------------------------------------
    def judge(self, c: Conclusion, basis: list[Mention]) -> str:
        """holds | violated | insufficient | unknown: the facts in `basis` against c.requires."""
        relevant = [m for m in basis if m.fact in c.facts]
        if not relevant:
            return "insufficient"  # e.g. a weight without a height: no BMI to judge
        constraints = []
        for fact in sorted({m.fact for m in relevant}):
            group = [fact_constraint(m.fact, m.op, m.value) for m in relevant if m.fact == fact]
            together = satisfiable(group, self.ms())
            if together is None:
                return "unknown"
            # Several readings that cannot all hold (6.1 % last year, 7.2 % now): one of them does.
            constraints.append(all_of(group) if together else any_of(group))
        requirement = compiled(c.requires, self.flags)
        held = entails(constraints, requirement, self.ms())
        if held is None:
            return "unknown"
        if held:
            return "holds"
        refuted = entails(
            constraints, compiled(nnf(c.requires, negate=True), self.flags), self.ms()
        )
        if refuted:
            return "violated"
        # The facts the step gives miss every way of meeting the requirement that they speak to
        # (HbA1c 5.2 % for "HbA1c >= 6.5 or FPG >= 126"): violated. Some part met, the rest
        # unstated (credit score given, DTI not): only insufficient.
        cited = {m.fact for m in relevant}
        normal = nnf(c.requires)
        closed_refuted = entails(
            constraints, compiled(nnf(closed(normal, cited), negate=True), self.flags), self.ms()
        )
        some_met = any(
            entails(constraints, compiled(lit, self.flags), self.ms())
            for lit in literals(normal)
            if variables(lit) <= cited
        )
        if closed_refuted is None:
            return "unknown"
        return "violated" if closed_refuted and not some_met else "insufficient"

    # --- per step --------------------------------------------------------------------------
    def conclusion(
        self,
        step: Step,
        stated: Stated,
        own: list[Mention],
        prior: list[Mention],
        previous: str | None,
    ) -> None:
        c = stated.conclusion
        reason = reason_for(step.text, stated, previous)
        if _facts(own) & c.inputs:
            basis, origin = self.basis([own, prior]), "the step cites"
        elif reason is not None and self.foreign(reason, c, prior):
            self.laundered(step, c, reason)
            return
        elif _facts(prior) & c.inputs:
            basis, origin = self.basis([prior]), "the earlier steps state"
        elif _facts(self.given) & c.inputs:
            basis, origin = self.given, "the question and context state"
        elif self.given_states(c) or _HISTORY.search(step.text):
            return  # the step repeats what the question or context already says of the case
        else:
            why = (
                f"the step's reason ({_short(reason.text)}) gives no value"
                if reason
                else "no step states a value"
            )
            self.add(
                step,
                "unsupported",
                "warning",
                f"{c.label} needs {c.needs}; {why} for it",
                self.rule_evidence(c, []),
            )
            return
        used = [m for m in basis if m.fact in c.facts] or [m for m in basis if m.fact in c.inputs]
        outcome = self.judge(c, basis)
        evidence = self.rule_evidence(c, used)
        if outcome == "holds":
            step.held += 1
        elif outcome == "violated":
            step.failed += 1
            self.add(
                step,
                "requirement_violated",
                "error",
                f"{c.label} needs {c.needs}; {origin} {self.facts_text(used)}, "
                "which does not meet it",
                evidence,
            )
        elif outcome == "insufficient":
            self.add(
                step,
                "requirement_not_entailed",
                "warning",
                f"{c.label} needs {c.needs}; {origin} only {self.facts_text(used)}, "
                "which is not enough",
                evidence,
            )
        else:
            self.add(
                step,
                "unchecked",
                "info",
                f"{c.label}: the requirement could not be decided in budget",
                evidence,
            )

    def basis(self, layers: list[list[Mention]]) -> list[Mention]:
        """The facts of the layers (earlier layers win for a fact), plus what they derive, with the
        question and context filling in a missing input of a derivation (height for a BMI)."""
        merged: list[Mention] = []
        for layer in [*layers, self.given]:
            known = _facts(merged)
            merged += [m for m in layer if m.fact not in known]
        stated = [m for layer in layers for m in layer]
        return stated + [m for m in derive(self.pack, merged) if m.derived]

    def given_states(self, c: Conclusion) -> bool:
        """Whether the question or context already states the conclusion ("known hypertension")."""
        if c.name not in self.stated_in_given:
            label = re.escape(c.label)
            known = re.compile(
                rf"\b(?:history\s+of|known|existing|established|long-?standing|diagnosed\s+with|with|has|had)"
                rf"\s+(?:\w+\s+){{0,2}}{label}\b",
                re.I,
            )
            self.stated_in_given[c.name] = bool(known.search(self.given_text)) or any(
                s.conclusion is c for s in conclusions_in(self.pack, self.given_text)
            )
        return self.stated_in_given[c.name]

    def foreign(self, reason: Reason, c: Conclusion, prior: list[Mention]) -> bool:
        """A reason that names none of the requirement's facts, gives none of their values and
        points at nothing else: it cannot support the conclusion under the pack."""
        if reason.kind == "previous" and _facts(prior) & c.inputs:
            return False  # "Therefore ..." after several steps: it may rest on any of them
        if c.related is not None and c.related.search(reason.text):
            return False
        if refers_elsewhere(reason):
            return False
        return not ({m.fact for m in extract(self.pack, reason.text)} & c.inputs)

    def laundered(self, step: Step, c: Conclusion, reason: Reason) -> None:
        step.failed += 1
        self.analysis.laundering = True
        would = [m for m in self.given if m.fact in c.facts]
        supports = bool(would) and self.judge(c, self.given) == "holds"
        evidence = self.rule_evidence(c, [])
        evidence["cited"] = _short(reason.text)
        evidence["context_facts"] = [m.describe(self.pack) for m in would]
        evidence["context_would_support"] = supports
        message = f"{c.label} needs {c.needs}; the step cites only: {_short(reason.text)}"
        if supports:
            message += (
                f" (the question and context state {self.facts_text(would)}, "
                "which would have supported it)"
            )
        self.add(step, "reason_does_not_support", "error", message, evidence)

    def contradictions(self, step: Step, own: list[Mention]) -> None:
        for m in own:
            if m.op != "==" or m.approx or m.derived or m.computed or isinstance(m.value, bool):
                continue
            stated = [
                g
                for g in self.given
                if g.fact == m.fact
                and g.op == "=="
                and not (g.approx or g.derived or g.computed)
                and (g.subject is None or m.subject is None or g.subject == m.subject)
            ]
            # Several values of one fact in the materials: several people, objects or times;
            # which one the step means cannot be told, so nothing is claimed.
            if len({g.value for g in stated}) != 1 or any(close(m, g) for g in stated):
                continue
            step.failed += 1
            label = self.pack.facts[m.fact].label
            self.add(
                step,
                "fact_contradicts_context",
                "error",
                f"the step states {m.describe(self.pack)} but the question and context state "
                f"{self.facts_text(stated)}",
                {
                    "pack": self.pack.name,
                    "fact": m.fact,
                    "label": label,
                    "step_states": m.text,
                    "context_states": [g.text for g in stated],
                },
            )

    def citations(self, step: Step) -> None:
        if self.materials is None:
            return
        concluding = states_conclusion(self.pack, step.text)
        for cited in citations_in(self.pack, step.text)[:MAX_CITATIONS]:
            if self.materials.contains(cited):
                step.held += 1
                continue
            step.failed += 1
            is_reason = concluding and (
                introduced_as_authority(step.text, cited) or self.in_reason(step.text, cited.start)
            )
            if is_reason:
                self.analysis.laundering = True
            self.add(
                step,
                "citation_not_in_context",
                "error",
                f"the {cited.kind.label} {_short(cited.text)!r} is cited but does not appear "
                "in the supplied context"
                + (" (it is the reason given for the conclusion)" if is_reason else ""),
                {
                    "pack": self.pack.name,
                    "citation": cited.text,
                    "kind": cited.kind.name,
                    "reason_of_conclusion": is_reason,
                },
            )

    def in_reason(self, text: str, pos: int) -> bool:
        spans = [(s.start, s.end) for s in conclusions_in(self.pack, text)]
        if self.pack.conclusion_markers is not None:
            spans += [(m.start(), m.end()) for m in self.pack.conclusion_markers.finditer(text)]
        for start, end in spans:
            reason = explicit_reason(text, start, end)
            if reason is not None and reason.start <= pos < reason.end:
                return True
        return False

    def comparisons(self, step: Step) -> None:
        for cmp in self.pack.comparisons:
            for claim in comparisons_in(cmp, step.text, self.parties.get(cmp.name, {})):
                if claim.holds:
                    step.held += 1
                else:
                    step.failed += 1
                    self.add(
                        step,
                        "comparison_wrong",
                        "error",
                        _compared(claim, cmp),
                        _compared_evidence(claim, cmp.source),
                    )

    def run(self) -> None:
        prior: list[Mention] = []
        previous: str | None = None
        for step in self.analysis.steps:
            if self.analysis.budget.expired():
                self.analysis.add(
                    Finding(
                        self.name,
                        "rules.unchecked",
                        "info",
                        f"the budget ran out at step {step.index}; later steps were not "
                        f"checked against the {self.pack.name} rule pack",
                    )
                )
                return
            if step.unchecked_reason:
                previous = None
                continue
            own = extract(self.pack, step.text)
            self.contradictions(step, own)
            for stated in conclusions_in(self.pack, step.text):
                self.conclusion(step, stated, own, prior, previous)
            self.citations(step)
            self.comparisons(step)
            prior += own
            previous = step.text


def _facts(mentions: list[Mention]) -> set[str]:
    return {m.fact for m in mentions}


def _compared(claim: Compared, cmp: Comparison) -> str:
    order = "higher" if claim.greater else "lower"
    left = f"{show_number(claim.left_value)} {cmp.display_unit}".strip()
    right = f"{show_number(claim.right_value)} {cmp.display_unit}".strip()
    return (
        f"{_short(claim.text)!r}: {claim.left} ({left}) is not {order} than "
        f"{claim.right} ({right}) among the {cmp.label}"
    )


def _compared_evidence(claim: Compared, source: str) -> dict[str, Any]:
    return {
        "claim": claim.text,
        "left": claim.left,
        "left_value": str(claim.left_value),
        "right": claim.right,
        "right_value": str(claim.right_value),
        "stated_order": "higher" if claim.greater else "lower",
        "source": source,
    }


class RulesValidator:
    """Applies the chain's domain rule pack: conclusions must follow from the facts they cite."""

    name = "rules"
    version = "1.0"

    def __init__(self, pack_dir: str | None = None) -> None:
        self.pack_dir = pack_dir  # None: the packaged rulepacks/

    def check(self, analysis: Analysis) -> None:
        """Check every step against the chain's rule pack; chains without one return at once."""
        chain = analysis.chain
        if not chain.rulepack and not chain.domain:
            return
        pack, note = pack_for(chain.rulepack, chain.domain, self.pack_dir)
        if note:
            analysis.add(Finding(self.name, "rules.unknown_pack", "warning", note))
        if pack is None:
            return
        _Run(self.name, pack, analysis).run()
