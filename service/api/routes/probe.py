"""POST /v1/probe: the counterfactual tests of Lanham et al. 2023 with the hosted model."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import GeneratorActor, StateDep
from service.api.routing import JSONRoute
from service.chat.access import engine_errors, resolve_model
from service.chat.probing import probe_and_audit
from service.errors import responses
from validators.chain.probes import TESTS, ProbeConfig

router = APIRouter(tags=["probes"], route_class=JSONRoute)
TestName = Literal["early_answering", "inserted_mistake", "filler"]


# --- protocol ---------------------------------------------------------------------------------
class ProbeIn(BaseModel):
    """A question to probe; without `reasoning` the model writes its own first."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(max_length=256, description="The base model's name or an adapter's")
    question: str = Field(min_length=1, max_length=20_000)
    reasoning: str | None = Field(None, max_length=50_000, description="Reasoning to test")
    answer: str | None = Field(None, max_length=1000)
    system: str | None = Field(None, max_length=20_000, description="A system message")
    tests: list[TestName] = Field(default_factory=lambda: list(TESTS), min_length=1)
    instruct: bool = Field(True, description="Add the step-by-step instruction to the question")
    max_tokens: int | None = Field(None, ge=16, le=2048, description="Reasoning tokens")
    max_truncations: int = Field(6, ge=1, le=20)
    max_mistakes: int = Field(3, ge=1, le=10)


class ProbeTest(BaseModel):
    """One test's result: its status, the answer's dependence on the reasoning, the details."""

    model_config = ConfigDict(extra="allow")

    status: Literal["checked", "partial", "unchecked"]
    dependence: float | None = None


class ProbeOut(BaseModel):
    """How much the answer depends on the reasoning; `causal_dependence` is the tests' mean."""

    model_config = ConfigDict(extra="allow")

    version: str
    reasoning: str
    steps: int
    stated_answer: str | None
    final_answer: str | None
    tests: dict[str, ProbeTest]
    causal_dependence: float | None
    interpretation: Literal["causal", "partial", "decorative", "unchecked"]
    model_calls: int
    elapsed_ms: float
    record_id: int


# --- handler ----------------------------------------------------------------------------------
@router.post(
    "/v1/probe",
    summary="Counterfactual probes: does the answer depend on the reasoning?",
    response_model=ProbeOut,
    responses=responses(400, 401, 403, 404, 422, 503),
)
async def probe(body: ProbeIn, state: StateDep, actor: GeneratorActor) -> dict[str, Any]:
    """Early answering, inserted mistake and filler on one question; audited as "probe"."""
    settings = state.settings
    engine, adapter = await resolve_model(state.runtime, body.model)
    messages = [{"role": "user", "content": body.question}]
    if body.system:
        messages.insert(0, {"role": "system", "content": body.system})
    config = ProbeConfig(
        tests=tuple(body.tests),
        max_tokens=body.max_tokens or settings.probe_max_tokens,
        max_truncations=body.max_truncations,
        max_mistakes=body.max_mistakes,
        budget_s=settings.probe_budget_s,
    )
    with engine_errors():
        result, record = await probe_and_audit(
            state,
            engine,
            adapter,
            messages,
            body.question,
            config,
            actor=actor,
            template=settings.chat_prompt_template if body.instruct else None,
            reasoning=body.reasoning,
            answer=body.answer,
        )
    return {**result, "record_id": record["record_id"]}
