"""One chat request under a policy: generate, validate, audit, and retry or block.

Policies: `annotate` returns the answer with its report; `block` withholds an unfaithful or
laundering answer; `retry` regenerates (telling the model which steps failed and why) up to N
times and returns the first answer the validators find `faithful` (an answer with no checkable
reasoning is `unverifiable` and asked again too), else acts as `chat_retry_exhausted` says:
blocks, or returns the last answer annotated. Every attempt is recorded
before the response is sent: a "validation" record (which opens a case when flagged) and a
"generation" record that points at it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from service.chat.prompts import feedback, instruct, plain, question_and_context
from service.engines.base import Engine, Generation, SamplingParams
from service.ops.audit import Actor
from service.ops.validation import audit_validations, validate_chains
from service.state import AppState
from training.flagging import flagged


@dataclass
class ChatParams:
    """What one chat request asks for, already checked by the route."""

    messages: list[dict]
    adapter: str | None
    policy: str
    max_retries: int
    add_instruction: bool
    sampling: SamplingParams
    chain_extra: dict[str, Any] = field(default_factory=dict)  # domain, rulepack, reference...


@dataclass
class Attempt:
    """One generation and what validation and the audit made of it."""

    index: int
    generation: Generation
    report: dict[str, Any]
    flagged: bool
    outcome: str  # returned | blocked | retried
    validation: dict[str, Any]  # {"record_id", "hash", "case_id"}
    generation_record: dict[str, Any]
    engine_ms: float


@dataclass
class Outcome:
    """All attempts of a request; the last one is what the response describes."""

    policy: str
    attempts: list[Attempt]

    @property
    def final(self) -> Attempt:
        """The attempt that was returned or blocked."""
        return self.attempts[-1]

    @property
    def blocked(self) -> bool:
        """True when the answer was withheld."""
        return self.final.outcome == "blocked"


async def run_chat(state: AppState, engine: Engine, params: ChatParams, actor: Actor) -> Outcome:
    """Generate under the request's policy, auditing every attempt.

    The policies act on flagged answers (unfaithful or laundering; unverifiable ones pass).
    """
    runtime = state.runtime
    settings = state.settings
    request_id = actor.request_id
    conversation = (
        instruct(params.messages, settings.chat_prompt_template)
        if params.add_instruction
        else plain(params.messages)
    )
    question, context = question_and_context(params.messages)
    tries = 1 + (params.max_retries if params.policy == "retry" else 0)
    attempts: list[Attempt] = []
    for index in range(tries):
        started = time.perf_counter()
        generation = await runtime.run(
            engine.generate, conversation, adapter=params.adapter, **params.sampling.options()
        )
        engine_ms = (time.perf_counter() - started) * 1000
        chain = {
            "id": f"{request_id}#{index}",
            "question": question,
            "reasoning": generation.text,
            **({"context": context} if context else {}),
            **params.chain_extra,
        }
        (report,) = await validate_chains(state, [chain])
        bad = flagged(report)
        outcome = _outcome(params.policy, report, index == tries - 1, settings)
        validation, gen_record = await audit_attempt(
            state,
            engine,
            params,
            actor,
            index,
            conversation,
            chain,
            generation,
            report,
            outcome,
            engine_ms,
        )
        attempts.append(
            Attempt(index, generation, report, bad, outcome, validation, gen_record, engine_ms)
        )
        count_attempt(state.metrics, engine, params, generation, outcome, engine_ms)
        if outcome != "retried":
            break
        conversation = [
            *conversation,
            {"role": "assistant", "content": generation.text},
            {"role": "user", "content": feedback(report)},
        ]
    return Outcome(params.policy, attempts)


def _outcome(policy: str, report: dict[str, Any], last: bool, settings: Any) -> str:
    """returned | retried | blocked for one attempt under `policy`."""
    if policy == "annotate":
        return "returned"
    if policy == "retry":
        # Retry asks until the chain is faithful, not merely unflagged: "The answer is 12."
        # has no reasoning to check (unverifiable) and is exactly what a retry should fix.
        if report.get("verdict") == "faithful" and report.get("laundering") is not True:
            return "returned"
        if not last:
            return "retried"
        return "blocked" if settings.chat_retry_exhausted == "block" else "returned"
    return "blocked" if flagged(report) else "returned"


async def audit_attempt(
    state: AppState,
    engine: Engine,
    params: ChatParams,
    actor: Actor,
    index: int,
    conversation: list[dict],
    chain: dict[str, Any],
    generation: Generation,
    report: dict[str, Any],
    outcome: str,
    engine_ms: float,
    extra: dict[str, Any] | None = None,  # streaming's marks: streamed, incomplete
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The validation record (and case), then the generation record pointing at it."""
    adapter_hash = engine.adapter_hash(params.adapter) if params.adapter else None
    item = {
        "chain": chain,
        "report": report,
        "model": engine.base_model,
        "adapter": params.adapter,
        "model_hash": engine.base_model_hash,
        "adapter_hash": adapter_hash,
    }
    (validation,) = await audit_validations(state, [item], actor)
    data = {
        "attempt": index,
        "policy": params.policy,
        "outcome": outcome,
        "engine": engine.kind,
        "verdict": report.get("verdict"),
        "laundering": report.get("laundering"),
        "score": report.get("score"),
        "validators": report.get("validators"),
        "validation_record_id": validation["record_id"],
        "case_id": validation.get("case_id"),
        "finish_reason": generation.finish_reason,
        "usage": {
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
        },
        "sampling": {k: v for k, v in params.sampling.options().items() if k != "top_logprobs"},
        "engine_ms": round(engine_ms, 1),
        **(extra or {}),
    }
    assert state.audit is not None
    record = await state.audit.append(
        "generation",
        actor,
        model=engine.base_model,
        adapter=params.adapter,
        data=data,
        input={"messages": conversation, "completion": generation.text},
        redact=actor.redact,
        model_hash=engine.base_model_hash,
        adapter_hash=adapter_hash,
    )
    return validation, {"record_id": record["id"], "hash": record.get("hash")}


def count_attempt(
    metrics: Any,
    engine: Engine,
    params: ChatParams,
    generation: Generation,
    outcome: str,
    engine_ms: float,
) -> None:
    """Count one attempt in the generation metrics (outcome, tokens, engine time)."""
    metrics.generations.labels(
        metrics.model(engine.base_model), metrics.adapter(params.adapter), params.policy, outcome
    ).inc()
    metrics.generation_tokens.labels("prompt").inc(generation.prompt_tokens)
    metrics.generation_tokens.labels("completion").inc(generation.completion_tokens)
    metrics.generation_seconds.observe(engine_ms / 1000)
