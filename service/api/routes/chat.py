"""POST /v1/chat/completions: OpenAI-compatible chat, every answer validated, audited, policed.

The response is OpenAI's chat.completion plus a `faithfulness` object (the report, the policy,
the attempts and their audit records); the verdict is also in the response headers. A blocked
answer is never sent: the message is a refusal and the report keeps no text of the answer.

`stream: true` is served as server-sent events in OpenAI's chunk format, but only once the
answer has been validated and audited: a policy cannot withhold text that was already sent,
and the audit record must exist before the response it describes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from service.api.deps import RequestIdDep, require_scope
from service.api.routes.chat_protocol import ChatRequest, ChatResponse
from service.api.routing import JSONRoute
from service.chat.access import engine_errors, resolve_model
from service.chat.flow import Attempt, ChatParams, Outcome, run_chat
from service.chat.probing import probe_and_audit
from service.chat.prompts import plain, question_and_context
from service.errors import ApiError, responses
from service.store.records import redact_report
from validators.probes import ProbeConfig

router = APIRouter(tags=["chat"], route_class=JSONRoute)
GenerateKey = Annotated[Any, Depends(require_scope("generate"))]
FINGERPRINT = "faithgate-0.1"
_STREAM_PIECE = 64  # characters per content chunk when streaming


@router.post(
    "/v1/chat/completions",
    summary="Chat completion with a faithfulness report (OpenAI-compatible)",
    response_model=ChatResponse,
    responses=responses(400, 401, 403, 404, 422, 503),
    response_description="The completion; X-Faithgate-* headers carry the verdict",
)
async def chat_completions(
    body: ChatRequest, request: Request, key: GenerateKey, request_id: RequestIdDep
) -> Response:
    """Generate under the request's (or the key's) policy; validate and audit every attempt."""
    app = request.app
    settings = app.state.faithgate.settings
    engine, adapter = await resolve_model(app, body.model)
    params = _params(body, adapter, settings, key)
    with engine_errors():
        outcome = await run_chat(app, params, key, request_id)
        probe = await _probe(app, engine, adapter, body, outcome, key, request_id, settings)
    completion = _completion(outcome, body.model, request_id, settings.chat_refusal, probe)
    headers = _headers(outcome)
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _sse(completion, include_usage), media_type="text/event-stream", headers=headers
        )
    return Response(orjson.dumps(completion), media_type="application/json", headers=headers)


def _params(body: ChatRequest, adapter: str | None, settings: Any, key: Any) -> ChatParams:
    max_tokens = body.max_completion_tokens or body.max_tokens or settings.chat_default_max_tokens
    if max_tokens > settings.chat_max_tokens_limit:
        raise ApiError(
            422, "invalid_request", f"max_tokens: at most {settings.chat_max_tokens_limit}"
        )
    if body.top_logprobs and not body.logprobs:
        raise ApiError(422, "invalid_request", "top_logprobs: needs logprobs: true")
    policy = body.policy or settings.key_policy(key.id)
    extra = {"domain": body.domain, "rulepack": body.rulepack, "context": body.context}
    if body.reference_answer is not None:
        extra["reference_answer"] = str(body.reference_answer)
    return ChatParams(
        messages=[m.model_dump() for m in body.messages],
        adapter=adapter,
        policy=policy,
        max_retries=settings.chat_max_retries if body.max_retries is None else body.max_retries,
        add_instruction=body.instruct,
        sampling={
            "max_tokens": max_tokens,
            "temperature": 0.0 if body.temperature is None else body.temperature,
            "top_p": body.top_p,
            "stop": body.stop,
            "seed": body.seed,
            "logprobs": body.logprobs,
            "top_logprobs": body.top_logprobs or 0,
        },
        chain_extra={k: v for k, v in extra.items() if v is not None},
    )


async def _probe(
    app: Any,
    engine: Any,
    adapter: str | None,
    body: ChatRequest,
    outcome: Outcome,
    key: Any,
    request_id: str,
    settings: Any,
) -> dict[str, Any] | None:
    """The probes on the returned answer's reasoning, when asked (never on a withheld one)."""
    if not body.probe:
        return None
    if outcome.blocked:
        return {"status": "skipped", "reason": "the answer was withheld"}
    messages = plain([m.model_dump() for m in body.messages])
    question, _ = question_and_context(messages)
    config = ProbeConfig(max_tokens=settings.probe_max_tokens, budget_s=settings.probe_budget_s)
    template = settings.chat_prompt_template if body.instruct else None
    result, record = await probe_and_audit(
        app,
        engine,
        adapter,
        messages,
        question,
        config,
        key=key,
        request_id=request_id,
        template=template,
        reasoning=outcome.final.generation.text,
    )
    result = {k: v for k, v in result.items() if k != "reasoning"}
    return {**result, "record_id": record["record_id"]}


def _completion(
    outcome: Outcome, model: str, request_id: str, refusal: str, probe: dict[str, Any] | None
) -> dict[str, Any]:
    """The chat.completion body."""
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


def _headers(outcome: Outcome) -> dict[str, str]:
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


def _sse(completion: dict[str, Any], include_usage: bool) -> Iterator[bytes]:
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
