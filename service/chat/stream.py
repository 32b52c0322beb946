"""`stream: true` under policy annotate: tokens as the engine makes them, steps checked as they end.

The engine generates on its thread and hands each text delta to the event loop, which forwards
it at once as an OpenAI chat.completion.chunk. Whenever the text gains a complete step (a line
ended by a newline, or in one-line text a sentence followed by the next one), the text up to
there is validated in the worker pool, one validation at a time, and each newly checked step's
status goes out as `faithfulness_step` on a chunk of its own (empty delta).

Those statuses are provisional (`"provisional": true`): a step is checked against the steps
before it, but the prefix's answer is only inferred (its last line), so linkage and answer
findings, and even the step split (a one-line text that later gains lines), can change. After
the last token the whole text is validated and audited exactly as a non-streamed answer (same
chain, same report), the steps not yet reported are sent from that report
(`"provisional": false`), and the last chunk carries the authoritative `faithfulness` object.
The audit record is committed before that chunk. A client that leaves early cancels the
generation in the engine; what was generated is still validated and recorded, marked
`incomplete`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson

from service.chat.completion import FINGERPRINT, completion_body
from service.chat.flow import Attempt, ChatParams, Outcome, audit_attempt, count_attempt
from service.chat.prompts import instruct, plain, question_and_context
from service.engines.base import Engine, Generation
from service.ops.audit import Actor
from service.ops.validation import validate_chains
from service.state import AppState
from training.flagging import flagged
from validators.text.segment import SENTENCE_END  # the segmenter's own sentence boundary

log = logging.getLogger("faithgate.chat")

INCREMENTAL = "incremental"  # X-Faithgate-Streaming: tokens forwarded as generated
AFTER_VALIDATION = "after-validation"  # block/retry: streamed only once validated and audited


def complete_prefix(text: str) -> str:
    """The part of a growing answer whose steps are complete (nothing may be added to them)."""
    if "\n" in text:
        return text[: text.rindex("\n")].rstrip()
    ends = list(SENTENCE_END.finditer(text))
    return text[: ends[-1].start()] if ends else ""


class ChatStream:
    """One streamed annotate request: the engine's deltas, step statuses, the final report."""

    def __init__(
        self,
        state: AppState,
        engine: Engine,
        params: ChatParams,
        actor: Actor,
        model: str,
        include_usage: bool,
    ) -> None:
        self.state, self.engine, self.params, self.actor = state, engine, params, actor
        self.model, self.include_usage = model, include_usage
        self.cancel = threading.Event()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.text = ""
        self.sent_steps = 0  # step statuses sent so far
        self.checking: asyncio.Task | None = None
        self.checked_prefix = ""
        self.recorded = False
        self.generation_task: asyncio.Future | None = None
        self.started = time.perf_counter()
        settings = state.settings
        self.conversation = (
            instruct(params.messages, settings.chat_prompt_template)
            if params.add_instruction
            else plain(params.messages)
        )
        self.question, self.context = question_and_context(params.messages)
        request_id = str(actor.request_id)
        self.base = {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": FINGERPRINT,
        }

    # --- the response body --------------------------------------------------------------------
    async def events(self) -> AsyncIterator[bytes]:
        """The SSE body; on an early disconnect the generation is cancelled and recorded."""
        try:
            async for event in self._events():
                yield event
        finally:
            if not self.recorded:
                self.cancel.set()
                # The client is gone (this task is being cancelled): finish the record anyway.
                with anyio.CancelScope(shield=True):
                    await self._record_incomplete()

    async def _events(self) -> AsyncIterator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        self.generation_task = asyncio.ensure_future(self._generate())
        self.generation_task.add_done_callback(lambda _: self.queue.put_nowait(("done", None)))
        while True:
            kind, value = await self.queue.get()
            if kind == "text":
                self.text += value
                yield self._chunk({"content": value})
                self._check_steps()
            elif kind == "steps":
                for step in value[self.sent_steps :]:
                    yield self._step_chunk(step, provisional=True)
                self.sent_steps = max(self.sent_steps, len(value))
                self._check_steps()
            else:  # done
                break
        async for event in self._finish():
            yield event

    async def _finish(self) -> AsyncIterator[bytes]:
        assert self.generation_task is not None
        self.recorded = True  # from here on this method records, or there is nothing to record
        if self.checking is not None:
            self.checking.cancel()  # the final report supersedes it
        try:
            generation = self.generation_task.result()
            # Shielded: a client leaving now must not cost the record of a finished answer.
            with anyio.CancelScope(shield=True):
                attempt = await self._record(generation, incomplete=False)
        except Exception as exc:  # the status line is sent: say it in the stream
            log.warning("streamed chat failed: %s", exc)
            yield _error(exc)
            return
        for step in attempt.report.get("steps", [])[self.sent_steps :]:
            yield self._step_chunk(step, provisional=False)
        outcome = Outcome(self.params.policy, [attempt])
        body = completion_body(outcome, self.model, str(self.actor.request_id), "", None)
        finish = body["choices"][0]["finish_reason"]
        yield self._chunk({}, finish, faithfulness=body["faithfulness"])
        if self.include_usage:
            usage = {**self.base, "choices": [], "usage": body["usage"]}
            yield b"data: " + orjson.dumps(usage) + b"\n\n"
        yield b"data: [DONE]\n\n"

    # --- generation ---------------------------------------------------------------------------
    async def _generate(self) -> Generation:
        loop = asyncio.get_running_loop()

        def on_text(delta: str) -> None:  # on the engine's thread
            loop.call_soon_threadsafe(self.queue.put_nowait, ("text", delta))

        options = self.params.sampling.options()
        stream = getattr(self.engine, "stream", None)
        if stream is None:  # an engine without streaming: its whole answer is one delta
            generation = await self.state.runtime.run(
                self.engine.generate, self.conversation, adapter=self.params.adapter, **options
            )
            on_text(generation.text)
            return generation
        return await self.state.runtime.run(
            stream,
            self.conversation,
            on_text=on_text,
            cancel=self.cancel,
            adapter=self.params.adapter,
            **options,
        )

    # --- incremental validation ---------------------------------------------------------------
    def _check_steps(self) -> None:
        """Validate the complete steps so far, unless a check is running (it asks again)."""
        if self.checking is not None and not self.checking.done():
            return
        prefix = complete_prefix(self.text)
        if prefix and prefix != self.checked_prefix:
            self.checked_prefix = prefix
            self.checking = asyncio.ensure_future(self._check(prefix))

    async def _check(self, prefix: str) -> None:
        try:
            (report,) = await validate_chains(self.state, [self._chain(prefix)])
        except Exception as exc:  # provisional only: the final report still comes
            log.warning("step validation failed: %s", exc)
            return
        self.queue.put_nowait(("steps", report.get("steps", [])))

    def _chain(self, text: str) -> dict[str, Any]:
        """The chain of `text`, exactly as the non-streaming flow builds it."""
        return {
            "id": f"{self.actor.request_id}#0",
            "question": self.question,
            "reasoning": text,
            **({"context": self.context} if self.context else {}),
            **self.params.chain_extra,
        }

    # --- the record ---------------------------------------------------------------------------
    async def _record(self, generation: Generation, *, incomplete: bool) -> Attempt:
        """Validate the whole text and audit it as attempt 0 (a case opens when flagged)."""
        engine_ms = (time.perf_counter() - self.started) * 1000
        chain = self._chain(generation.text)
        (report,) = await validate_chains(self.state, [chain])
        bad = flagged(report)
        outcome = "incomplete" if incomplete else "returned"
        extra = {"streamed": True, "incomplete": incomplete}
        validation, record = await audit_attempt(
            self.state,
            self.engine,
            self.params,
            self.actor,
            0,
            self.conversation,
            chain,
            generation,
            report,
            outcome,
            engine_ms,
            extra,
        )
        count_attempt(self.state.metrics, self.engine, self.params, generation, outcome, engine_ms)
        return Attempt(0, generation, report, bad, outcome, validation, record, engine_ms)

    async def _record_incomplete(self) -> None:
        """After a disconnect: wait for the engine to stop, then record what it generated."""
        self.recorded = True
        if self.checking is not None:
            self.checking.cancel()
        if self.generation_task is None:
            return
        try:
            generation = await self.generation_task
            await self._record(generation, incomplete=True)
        except Exception as exc:
            log.warning("the record of a disconnected stream failed: %s", exc)

    # --- chunks -------------------------------------------------------------------------------
    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        chunk = {**self.base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + orjson.dumps({**chunk, **extra}) + b"\n\n"

    def _step_chunk(self, step: dict[str, Any], *, provisional: bool) -> bytes:
        status = {
            "index": step["index"],
            "text": step["text"],
            "status": step["status"],
            "findings": step["findings"],
            "provisional": provisional,
        }
        return self._chunk({}, faithfulness_step=status)


def _error(exc: Exception) -> bytes:
    """An error event in OpenAI's stream form (the openai client raises APIError on it)."""
    error = {"error": {"message": str(exc)[:300], "type": "engine_error", "code": "engine_error"}}
    return b"data: " + orjson.dumps(error) + b"\n\n"
