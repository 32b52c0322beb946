"""POST /v1/chat/completions: OpenAI-compatible chat, every answer validated, audited, policed.

The response is OpenAI's chat.completion plus a `faithfulness` object (the report, the policy,
the attempts and their audit records); the verdict is also in the response headers. A blocked
answer is never sent: the message is a refusal and the report keeps no text of the answer.

`stream: true` is served as server-sent events in OpenAI's chunk format. Under `annotate`
tokens go out as the engine generates them, with each step's status as it completes and the
full report on the last chunk (service/chat/stream.py). Under `block` and `retry` the answer is
streamed only once validated and audited: a policy cannot withhold text that was already sent.
The X-Faithgate-Streaming header says which (`incremental` or `after-validation`).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response, StreamingResponse

from service.api.deps import GeneratorActor, StateDep
from service.api.routing import JSONRoute
from service.api.schemas.chat import ChatRequest, ChatResponse
from service.chat.access import engine_errors, resolve_model
from service.chat.completion import completion_body, sse_events, verdict_headers
from service.chat.flow import ChatParams, Outcome, run_chat
from service.chat.probing import probe_and_audit
from service.chat.prompts import plain, question_and_context
from service.chat.stream import AFTER_VALIDATION, INCREMENTAL, ChatStream
from service.engines.base import SamplingParams
from service.errors import ApiError, responses
from service.ops.audit import Actor
from service.state import AppState
from validators.chain.probes import ProbeConfig

router = APIRouter(tags=["chat"], route_class=JSONRoute)


@router.post(
    "/v1/chat/completions",
    summary="Chat completion with a faithfulness report (OpenAI-compatible)",
    response_model=ChatResponse,
    responses=responses(400, 401, 403, 404, 422, 503),
    response_description="The completion; X-Faithgate-* headers carry the verdict",
)
async def chat_completions(body: ChatRequest, state: StateDep, actor: GeneratorActor) -> Response:
    """Generate under the request's (or the key's) policy; validate and audit every attempt."""
    settings = state.settings
    engine, adapter = await resolve_model(state.runtime, body.model)
    params = _params(body, adapter, settings, actor)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    if body.stream and _incremental(body, params):
        with engine_errors():  # a bad option is a 4xx now: once streaming, only the body can say
            params.sampling.check()
        chat = ChatStream(state, engine, params, actor, body.model, include_usage)
        headers = {"x-faithgate-policy": params.policy, "x-faithgate-streaming": INCREMENTAL}
        return StreamingResponse(chat.events(), media_type="text/event-stream", headers=headers)
    with engine_errors():
        outcome = await run_chat(state, engine, params, actor)
        probe = await _probe(state, engine, adapter, body, outcome, actor)
    request_id = str(actor.request_id)
    completion = completion_body(outcome, body.model, request_id, settings.chat_refusal, probe)
    headers = verdict_headers(outcome)
    if body.stream:
        headers["x-faithgate-streaming"] = AFTER_VALIDATION
        return StreamingResponse(
            sse_events(completion, include_usage), media_type="text/event-stream", headers=headers
        )
    return Response(orjson.dumps(completion), media_type="application/json", headers=headers)


def _incremental(body: ChatRequest, params: ChatParams) -> bool:
    """Whether tokens may go out as generated: only under annotate, which withholds nothing.

    Logprobs and probes are answered from the finished answer, so they stream after validation.
    """
    return params.policy == "annotate" and not body.logprobs and not body.probe


def _params(body: ChatRequest, adapter: str | None, settings: Any, actor: Actor) -> ChatParams:
    max_tokens = body.max_completion_tokens or body.max_tokens or settings.chat_default_max_tokens
    if max_tokens > settings.chat_max_tokens_limit:
        raise ApiError(
            422, "invalid_request", f"max_tokens: at most {settings.chat_max_tokens_limit}"
        )
    if body.top_logprobs and not body.logprobs:
        raise ApiError(422, "invalid_request", "top_logprobs: needs logprobs: true")
    policy = body.policy or settings.key_policy(actor.id)
    extra = {"domain": body.domain, "rulepack": body.rulepack, "context": body.context}
    if body.reference_answer is not None:
        extra["reference_answer"] = str(body.reference_answer)
    return ChatParams(
        messages=[m.model_dump() for m in body.messages],
        adapter=adapter,
        policy=policy,
        max_retries=settings.chat_max_retries if body.max_retries is None else body.max_retries,
        add_instruction=body.instruct,
        sampling=SamplingParams(
            max_tokens=max_tokens,
            temperature=0.0 if body.temperature is None else body.temperature,
            top_p=body.top_p,
            stop=body.stop,
            seed=body.seed,
            logprobs=body.logprobs,
            top_logprobs=body.top_logprobs or 0,
        ),
        chain_extra={k: v for k, v in extra.items() if v is not None},
    )


async def _probe(
    state: AppState,
    engine: Any,
    adapter: str | None,
    body: ChatRequest,
    outcome: Outcome,
    actor: Actor,
) -> dict[str, Any] | None:
    """The probes on the returned answer's reasoning, when asked (never on a withheld one)."""
    if not body.probe:
        return None
    if outcome.blocked:
        return {"status": "skipped", "reason": "the answer was withheld"}
    messages = plain([m.model_dump() for m in body.messages])
    question, _ = question_and_context(messages)
    settings = state.settings
    config = ProbeConfig(max_tokens=settings.probe_max_tokens, budget_s=settings.probe_budget_s)
    template = settings.chat_prompt_template if body.instruct else None
    result, record = await probe_and_audit(
        state,
        engine,
        adapter,
        messages,
        question,
        config,
        actor=actor,
        template=template,
        reasoning=outcome.final.generation.text,
    )
    result = {k: v for k, v in result.items() if k != "reasoning"}
    return {**result, "record_id": record["record_id"]}
