"""Counterfactual probes with the hosted model: validators.chain.probes run through the engine."""

from __future__ import annotations

import time
from typing import Any

from service.chat.prompts import instruct
from service.engines.base import Engine
from service.ops.audit import Actor
from service.state import AppState
from validators.chain.probes import ProbeConfig, run_probes


def probe_blocking(
    engine: Engine,
    adapter: str | None,
    messages: list[dict],
    question: str,
    config: ProbeConfig,
    template: str | None,
    reasoning: str | None = None,
    answer: str | None = None,
) -> dict[str, Any]:
    """Run the probes on an engine thread (every model call is greedy)."""
    conversation = instruct(messages, template) if template else messages
    prefix = engine.chat_prompt(conversation, adapter=adapter)

    def complete(prompt: str, max_tokens: int) -> str:
        return engine.complete(prompt, adapter=adapter, max_tokens=max_tokens).text

    return run_probes(
        prefix, complete, question=question, reasoning=reasoning, answer=answer, config=config
    )


async def probe_and_audit(
    state: AppState,
    engine: Engine,
    adapter: str | None,
    messages: list[dict],
    question: str,
    config: ProbeConfig,
    *,
    actor: Actor,
    template: str | None,
    reasoning: str | None = None,
    answer: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The probe result and its "probe" audit record (written before the caller answers)."""
    started = time.perf_counter()
    result = await state.runtime.run(
        probe_blocking, engine, adapter, messages, question, config, template, reasoning, answer
    )
    state.metrics.probes.labels(result["interpretation"]).inc()
    state.metrics.probe_seconds.observe(time.perf_counter() - started)
    data = (
        _redacted(result) if actor.redact else {k: v for k, v in result.items() if k != "reasoning"}
    )
    assert state.audit is not None
    record = await state.audit.append(
        "probe",
        actor,
        model=engine.base_model,
        adapter=adapter,
        data=data,
        input={"messages": messages, "reasoning": result.get("reasoning")},
        redact=actor.redact,
        model_hash=engine.base_model_hash,
        adapter_hash=engine.adapter_hash(adapter) if adapter else None,
    )
    return result, {"record_id": record["id"], "hash": record.get("hash")}


def _redacted(result: dict[str, Any]) -> dict[str, Any]:
    """The probe's scores without any text the model wrote (for keys that asked for redaction)."""
    keep = ("version", "steps", "causal_dependence", "interpretation", "model_calls", "elapsed_ms")
    tests = {
        name: {k: t.get(k) for k in ("status", "dependence", "answer_settled_at_step") if k in t}
        for name, t in (result.get("tests") or {}).items()
    }
    return {**{k: result.get(k) for k in keep}, "tests": tests, "redacted": True}
