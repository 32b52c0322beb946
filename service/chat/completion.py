"""The OpenAI chat.completion body (and its SSE chunks) of a chat outcome, with `faithfulness`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from service.chat.flow import Attempt, Outcome
from service.store.records import redact_report

FINGERPRINT = "faithgate-0.1"
_STREAM_PIECE = 64  # characters per content chunk when streaming


def completion_body(
    outcome: Outcome, model: str, request_id: str, refusal: str, probe: dict[str, Any] | None
) -> dict[str, Any]:
    """The chat.completion body of an outcome (a refusal in place of a withheld answer)."""
    final = outcome.final
    generation = final.generation
    if outcome.blocked:
        message = {"role": "assistant", "content": refusal, "refusal": refusal}
        finish, logprobs = "content_filter", None
        report = {**redact_report(final.report), "withheld": True}
    else:
        message = {"role": "assistant", "content": generation.text, "refusal": None}
        finish, logprobs = generation.finish_reason, _logprobs(generation)
        report = final.report
    prompt = sum(a.generation.prompt_tokens for a in outcome.attempts)
    completion = sum(a.generation.completion_tokens for a in outcome.attempts)
    faithfulness = {
        **report,
        "policy": outcome.policy,
        "action": "blocked" if outcome.blocked else "returned",
        "attempts": [_attempt(a) for a in outcome.attempts],
        "record_id": final.generation_record["record_id"],
        "case_id": final.validation.get("case_id"),
    }
    if probe is not None:
        faithfulness["probe"] = probe
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": logprobs, "finish_reason": finish}
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
        "system_fingerprint": FINGERPRINT,
        "faithfulness": faithfulness,
    }


def _attempt(a: Attempt) -> dict[str, Any]:
    return {
        "attempt": a.index,
        "outcome": a.outcome,
        "verdict": a.report.get("verdict"),
        "laundering": a.report.get("laundering"),
        "score": a.report.get("score"),
        "first_error_step": a.report.get("first_error_step"),
        "finish_reason": a.generation.finish_reason,
        "completion_tokens": a.generation.completion_tokens,
        "engine_ms": round(a.engine_ms, 1),
        "record_id": a.generation_record["record_id"],
        "validation_record_id": a.validation["record_id"],
        "case_id": a.validation.get("case_id"),
    }


def _logprobs(generation: Any) -> dict[str, Any] | None:
    """OpenAI's chat logprobs: {"content": [{token, logprob, bytes, top_logprobs}]}."""
    if generation.tokens is None or generation.token_logprobs is None:
        return None
    tops = generation.top_logprobs or [{} for _ in generation.tokens]
    content = []
    for token, lp, top in zip(generation.tokens, generation.token_logprobs, tops, strict=False):
        content.append(
            {
                "token": token,
                "logprob": lp,
                "bytes": list(token.encode("utf-8")),
                "top_logprobs": [
                    {"token": t, "logprob": v, "bytes": list(t.encode("utf-8"))}
                    for t, v in top.items()
                ],
            }
        )
    return {"content": content}


def verdict_headers(outcome: Outcome) -> dict[str, str]:
    """The X-Faithgate-* headers: verdict, laundering, policy, action, attempts, records."""
    report = outcome.final.report
    headers = {
        "x-faithgate-verdict": str(report.get("verdict")),
        "x-faithgate-laundering": "true" if report.get("laundering") else "false",
        "x-faithgate-policy": outcome.policy,
        "x-faithgate-action": "blocked" if outcome.blocked else "returned",
        "x-faithgate-attempts": str(len(outcome.attempts)),
        "x-audit-record-id": str(outcome.final.generation_record["record_id"]),
    }
    if report.get("score") is not None:
        headers["x-faithgate-score"] = str(report["score"])
    if outcome.final.validation.get("case_id"):
        headers["x-case-id"] = str(outcome.final.validation["case_id"])
    return headers


def sse_events(completion: dict[str, Any], include_usage: bool) -> Iterator[bytes]:
    """The validated completion as OpenAI chat.completion.chunk events."""
    choice = completion["choices"][0]
    base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + orjson.dumps({**chunk, **extra}) + b"\n\n"

    yield event({"role": "assistant", "content": ""})
    text = choice["message"]["content"] or ""
    for i in range(0, len(text), _STREAM_PIECE):
        yield event({"content": text[i : i + _STREAM_PIECE]})
    if choice["message"].get("refusal"):
        yield event({"refusal": choice["message"]["refusal"]})
    yield event({}, choice["finish_reason"], faithfulness=completion["faithfulness"])
    if include_usage:
        usage_chunk = {**base, "choices": [], "usage": completion["usage"]}
        yield b"data: " + orjson.dumps(usage_chunk) + b"\n\n"
    yield b"data: [DONE]\n\n"
