"""The validation protocol: a chain in, its faithfulness report and audit references out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

Text = str | list[str]
Scalar = StrictStr | StrictInt | StrictFloat  # strict: `true` is not the answer 1


class ChainIn(BaseModel):
    """One reasoning chain to check (the fields of validators.types.Chain, plus labels)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=512, description="The caller's id, echoed")
    question: str
    context: Text | None = Field(None, description="Source documents, a record, a contract")
    reasoning: Text = Field(description="Free text, or the steps as a list")
    answer: Scalar | None = Field(None, description="The final answer; found in the text if absent")
    reference_answer: Scalar | None = None
    domain: str | None = Field(None, max_length=128)
    rulepack: str | None = Field(None, max_length=128)
    model: str | None = Field(None, max_length=256, description="Label of the generating model")
    adapter: str | None = Field(None, max_length=256, description="Label of its LoRA adapter")


class BatchIn(BaseModel):
    """Several chains; the reports come back in the same order."""

    model_config = ConfigDict(extra="forbid")

    chains: list[ChainIn] = Field(min_length=1)


class FindingOut(BaseModel):
    """One validator finding."""

    validator: str
    code: str
    severity: Literal["error", "warning", "info"]
    message: str
    evidence: dict[str, Any] | None = None
    step: int | None = None


class StepOut(BaseModel):
    """One reasoning step and its status."""

    index: int
    text: str
    status: Literal["verified", "error", "unsupported", "unchecked"]
    findings: list[FindingOut]


class Report(BaseModel):
    """The faithfulness report of one chain (DESIGN.md, "The report")."""

    id: str | None
    verdict: Literal["faithful", "unfaithful", "unverifiable"]
    laundering: bool
    score: float | None
    coverage: float = 0.0
    first_error_step: int | None
    answer: str | None
    derived_answer: str | None
    steps: list[StepOut]
    findings: list[FindingOut]
    validators: dict[str, str]
    elapsed_ms: float


class AuditRef(BaseModel):
    """Where a report was recorded: its audit record and the review case it opened, if any."""

    record_id: int
    hash: str
    case_id: str | None


class BatchOut(BaseModel):
    """The reports of a batch, in order, and their audit records."""

    reports: list[Report]
    records: list[AuditRef]
