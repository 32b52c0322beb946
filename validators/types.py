"""The chain and report contract shared by every validator (see DESIGN.md, "The report")."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
StepStatus = Literal["verified", "error", "unsupported", "unchecked"]
Verdict = Literal["faithful", "unfaithful", "unverifiable"]

# Size limits that keep every chain's work bounded; text beyond them is not parsed.
MAX_CHAIN_CHARS = 200_000
MAX_STEP_CHARS = 20_000
MAX_STEPS = 200


class ChainError(ValueError):
    """A chain that cannot be read; the message names the offending field."""


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ChainError(f"field '{name}' is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ChainError(f"field '{name}' must be a string")
    return str(value)


def _text_list(value: Any, name: str) -> list[str] | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ChainError(f"field '{name}' must be a string or a list of strings")


@dataclass
class Chain:
    """A question, optional context, the reasoning (text or steps) and the final answer."""

    question: str
    reasoning: str | list[str]
    id: str | None = None
    context: str | list[str] | None = None
    answer: str | None = None
    reference_answer: str | None = None
    domain: str | None = None
    rulepack: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Chain:
        """Build a chain from decoded JSON, raising ChainError that names the bad field."""
        if not isinstance(data, dict):
            raise ChainError("a chain must be a JSON object")
        reasoning = _text_list(data.get("reasoning"), "reasoning")
        if reasoning is None:
            raise ChainError("field 'reasoning' is required")
        return cls(
            id=_text(data.get("id"), "id"),
            question=_text(data.get("question"), "question") or "",
            reasoning=reasoning,
            context=_text_list(data.get("context"), "context"),
            answer=_text(data.get("answer"), "answer"),
            reference_answer=_text(data.get("reference_answer"), "reference_answer"),
            domain=_text(data.get("domain"), "domain"),
            rulepack=_text(data.get("rulepack"), "rulepack"),
        )

    def context_text(self) -> str:
        """The context as one string (list items joined by newlines)."""
        if self.context is None:
            return ""
        if isinstance(self.context, list):
            return "\n".join(self.context)
        return self.context

    def context_items(self) -> list[str]:
        """The context as a list of items (a string is split into its lines)."""
        if self.context is None:
            return []
        if isinstance(self.context, list):
            return list(self.context)
        return [line for line in self.context.splitlines() if line.strip()]


@dataclass
class Finding:
    """One observation of a validator, with the evidence behind it."""

    validator: str
    code: str
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The finding as in the report (chain findings carry `step`)."""
        out: dict[str, Any] = {
            "validator": self.validator,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        if self.evidence:
            out["evidence"] = self.evidence
        return out


@dataclass
class Step:
    """One reasoning step and what the validators found in it."""

    index: int
    text: str
    findings: list[Finding] = field(default_factory=list)
    held: int = 0  # checkable claims in this step that held
    failed: int = 0  # checkable claims in this step that did not
    unchecked_reason: str | None = None
    # Values this step states as results (filled by extraction, read by later validators).
    results: list[Fraction] = field(default_factory=list)

    @property
    def status(self) -> StepStatus:
        """verified / error / unsupported / unchecked, from the findings and claim counts."""
        if self.findings:  # most steps have none: skip the scans
            if any(f.severity == "error" for f in self.findings):
                return "error"
            if any(f.code.endswith(".unsupported") for f in self.findings):
                return "unsupported"
        if self.held and not self.unchecked_reason:
            return "verified"
        return "unchecked"


class Budget:
    """A per-chain wall-clock budget; validators stop and mark work unchecked when it runs out."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self.deadline = time.perf_counter() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        """True once the budget is spent."""
        return time.perf_counter() >= self.deadline


@dataclass
class Analysis:
    """The working state of one chain while validators run over it."""

    chain: Chain
    steps: list[Step]
    answer: str | None
    budget: Budget
    findings: list[Finding] = field(default_factory=list)  # chain-level findings
    derived_answer: str | None = None
    laundering: bool = False
    # Claims counted at chain level (e.g. the logic of a whole chain).
    held: int = 0
    failed: int = 0
    # Shared per-chain data that one validator computes and others read (e.g. grounded numbers).
    scratch: dict[str, Any] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        """Record a finding on its step (finding.step) or on the chain (step None)."""
        if finding.step is None:
            self.findings.append(finding)
        else:
            self.steps[finding.step].findings.append(finding)
