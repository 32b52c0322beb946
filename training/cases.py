"""From review cases to training examples: SFT, DPO and PRM rows (TRL's dataset formats).

A case is the dict the audit store returns (chain, report, reviews). Every example built from
a corrected reasoning is re-validated: corrected steps that the validators do not pass are
refused with the reason, never trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from training.flagging import flagged
from training.judge import validate_safely
from training.prompts import prompt_messages, solution_text, user_content

# Generates sampled completions for a prompt (chat messages) -> texts; used to find a passing
# "chosen" chain when the reviewer's correction is missing or fails the validators.
Sampler = Callable[[list[dict]], list[str]]


@dataclass
class Rejection:
    """A case (or one use of it) left out of the data, and why."""

    case_id: str
    kind: str  # sft | dpo | prm | case
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"case_id": self.case_id, "kind": self.kind, "reason": self.reason}


@dataclass
class Item:
    """What the gate needs to ask the model one held-back question."""

    id: str
    question: str
    context: str | list[str] | None = None
    domain: str | None = None
    rulepack: str | None = None
    answer: str | None = None  # the expected final answer, when known
    codes: list[str] = field(default_factory=list)  # finding codes of the flagged chain


def latest_review(case: dict) -> dict | None:
    """The case's most recent review, or None."""
    reviews = [r for r in case.get("reviews") or [] if isinstance(r, dict) and not r.get("purged")]
    return reviews[-1] if reviews else None


def chain_of(case: dict) -> dict | None:
    """The flagged chain dict, or None when the case's content was purged or redacted."""
    chain = case.get("chain")
    if not isinstance(chain, dict) or not isinstance(chain.get("question"), str):
        return None
    if chain.get("reasoning") in (None, "", []):
        return None
    return chain


def finding_codes(report: dict | None) -> list[str]:
    """Error and warning finding codes of a report (chain and step findings), sorted, unique."""
    if not isinstance(report, dict):
        return []
    found = list(report.get("findings") or [])
    for step in report.get("steps") or []:
        found.extend(step.get("findings") or [])
    return sorted(
        {
            f["code"]
            for f in found
            if isinstance(f, dict) and f.get("severity") in ("error", "warning")
        }
    )


def item_of(case: dict, answer: str | None = None) -> Item | None:
    """The evaluation item of a case (its question, context and domain)."""
    chain = chain_of(case)
    if chain is None:
        return None
    return Item(
        id=str(case.get("id")),
        question=chain["question"],
        context=chain.get("context"),
        domain=chain.get("domain") or case.get("domain"),
        rulepack=chain.get("rulepack"),
        answer=answer,
        codes=finding_codes(case.get("report")),
    )


def laundered(report: dict) -> bool:
    """True when a report says the stated answer is not what the reasoning derives."""
    return report.get("laundering") is True


def passes(report: dict, accept_unverifiable: bool = False) -> bool:
    """True when a report says the chain is sound: not laundering, no error, reasoning checked.

    Faithful alone is not enough: a bare "I think it is 5. #### 5" is faithful (its answer is its
    last step) yet shows no reasoning; at least one step must be verified. With
    accept_unverifiable, chains with nothing checkable pass too (prose-only domains).
    """
    if flagged(report):
        return False
    if accept_unverifiable and report.get("verdict") in ("faithful", "unverifiable"):
        return True
    verified = any(s.get("status") == "verified" for s in report.get("steps") or [])
    return report.get("verdict") == "faithful" and verified


def why_not(report: dict) -> str:
    """A short reason a report does not pass (verdict, laundering, first error codes)."""
    codes = finding_codes(report)[:3]
    bits = [f"verdict {report.get('verdict')}"]
    if report.get("verdict") == "faithful" and not report.get("laundering"):
        bits.append("no step verified")
    if report.get("laundering"):
        bits.append("laundering")
    if codes:
        bits.append("findings " + ", ".join(codes))
    return "; ".join(bits)


def check_solution(
    chain: dict, text: str, *, budget_s: float = 2.0, accept_unverifiable: bool = False
) -> tuple[bool, dict]:
    """Validate `text` as the reasoning for the chain's question: (passes, report)."""
    candidate = {
        "question": chain["question"],
        "reasoning": text,
        "context": chain.get("context"),
        "domain": chain.get("domain"),
        "rulepack": chain.get("rulepack"),
    }
    report = validate_safely(
        {k: v for k, v in candidate.items() if v is not None}, budget_s=budget_s
    )
    return passes(report, accept_unverifiable), report


def corrected_solution(
    case: dict, *, budget_s: float = 2.0, accept_unverifiable: bool = False
) -> tuple[str | None, str | None, str | None]:
    """(solution text, its answer, None) from the latest review's correction, or a reason."""
    chain = chain_of(case)
    if chain is None:
        return None, None, "the case's chain was purged or redacted"
    review = latest_review(case)
    if review is None:
        return None, None, "not reviewed"
    corrected = review.get("corrected_reasoning")
    if corrected in (None, "", []):
        return None, None, "the review has no corrected reasoning"
    text = solution_text(corrected)
    ok, report = check_solution(
        chain, text, budget_s=budget_s, accept_unverifiable=accept_unverifiable
    )
    if not ok:
        return None, None, "corrected reasoning rejected by the validators: " + why_not(report)
    return solution_text(corrected, report.get("answer")), report.get("answer"), None


def flagged_solution(case: dict) -> str | None:
    """The flagged chain's reasoning in the answer format (a DPO "rejected")."""
    chain = chain_of(case)
    if chain is None:
        return None
    answer = chain.get("answer")
    return solution_text(chain["reasoning"], None if answer is None else str(answer))


def reviewer_cleared(case: dict) -> bool:
    """True when the latest review judged the flagged chain faithful (a false alarm)."""
    review = latest_review(case)
    return bool(review and review.get("verdict") == "faithful")


def sft_row(chain: dict, solution: str) -> dict[str, Any]:
    """A TRL conversational prompt-completion row."""
    return {
        "prompt": prompt_messages(chain["question"], chain.get("context")),
        "completion": [{"role": "assistant", "content": solution}],
    }


def dpo_row(chain: dict, chosen: str, rejected: str) -> dict[str, Any]:
    """A TRL conversational preference row (prompt, chosen, rejected)."""
    return {
        "prompt": prompt_messages(chain["question"], chain.get("context")),
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def regenerate(
    chain: dict,
    sampler: Sampler | None,
    *,
    budget_s: float = 2.0,
    accept_unverifiable: bool = False,
) -> str | None:
    """The first sampled regeneration that the validators pass, or None."""
    if sampler is None:
        return None
    for text in sampler(prompt_messages(chain["question"], chain.get("context"))):
        ok, report = check_solution(
            chain, text, budget_s=budget_s, accept_unverifiable=accept_unverifiable
        )
        if ok:
            return solution_text(text, report.get("answer"))
    return None


def _label(status: str, index: int, first_error: int | None) -> bool:
    if status in ("error", "unsupported"):
        return False
    if status == "verified":
        return True
    # Unchecked: nothing says it is wrong, unless it comes after the first wrong step (it then
    # builds on a wrong value, the Math-Shepherd convention).
    return first_error is None or index < first_error


def prm_row(case: dict) -> tuple[dict[str, Any] | None, str | None]:
    """A TRL stepwise-supervision row (prompt, completions, labels), or a reason.

    Labels come from the reviewer where they judged (wrong_steps, step_judgements), else from
    the report's step statuses.
    """
    chain, report = chain_of(case), case.get("report")
    if chain is None or not isinstance(report, dict):
        return None, "the case's chain or report was purged"
    steps = [s for s in report.get("steps") or [] if isinstance(s, dict)]
    if not steps:
        return None, "the report has no steps"
    statuses = {int(s.get("index", i)): str(s.get("status")) for i, s in enumerate(steps)}
    review = latest_review(case)
    wrong: set[int] = set()
    if review:
        wrong = set(review.get("wrong_steps") or [])
        for j in review.get("step_judgements") or []:
            if not j.get("agree") and j.get("status"):
                statuses[int(j["index"])] = j["status"]
            elif not j.get("agree"):
                statuses[int(j["index"])] = (
                    "verified" if statuses.get(int(j["index"])) == "error" else "error"
                )
    for i in wrong:
        statuses[i] = "error"
    bad = [i for i, st in statuses.items() if st in ("error", "unsupported")]
    first = min(bad) if bad else report.get("first_error_step")
    labels = [_label(statuses.get(i, "unchecked"), i, first) for i in range(len(steps))]
    completions = [str(s.get("text", "")) for s in steps]
    answer = report.get("answer")
    if answer not in (None, ""):
        # The stated final answer is a step of its own: a laundered answer (right steps, an
        # answer they do not give) is labelled False here, or the PRM would never see it.
        laundered = report.get("laundering") is True or (review or {}).get("laundering") is True
        codes = finding_codes(report)
        derived = not laundered and "linkage.answer_not_derived" not in codes
        completions.append(f"#### {answer}")
        labels.append(bool(derived and all(labels)))
    row = {
        "prompt": user_content(chain["question"], chain.get("context")),
        "completions": completions,
        "labels": labels,
    }
    return row, None


def normalize_text(text: str) -> str:
    """Whitespace-insensitive form of a solution (to spot chosen == rejected)."""
    return " ".join(text.split())
