"""The /v1/chat/completions protocol: OpenAI's chat completion, plus faithgate's fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Policy = Literal["annotate", "block", "retry"]


class TextPart(BaseModel):
    """One part of a content list (only text parts are accepted)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class Message(BaseModel):
    """One chat message (OpenAI format)."""

    model_config = ConfigDict(extra="ignore")  # name, tool_call_id, ... are not used

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None


class StreamOptions(BaseModel):
    """OpenAI's stream_options."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; faithgate's own fields are marked as such."""

    # Fields OpenAI clients send that change nothing here (user, metadata, ...) are ignored;
    # ones that would change the answer and are not supported (n > 1, tools) are refused.
    model_config = ConfigDict(extra="ignore")

    model: str = Field(max_length=256, description="The base model's name or an adapter's")
    messages: list[Message] = Field(min_length=1, max_length=256)
    temperature: float | None = Field(None, ge=0, le=2, description="Default 0 (greedy)")
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)
    n: int = Field(1, ge=1, le=1, description="Only one choice per request")
    tools: list[Any] | None = Field(None, max_length=0, description="Not supported")
    # faithgate's extensions (the openai client sends them through extra_body).
    policy: Policy | None = Field(None, description="annotate, block or retry (default: the key's)")
    max_retries: int | None = Field(None, ge=0, le=5, description="Regenerations under `retry`")
    instruct: bool = Field(True, description="Add the step-by-step instruction to the question")
    domain: str | None = Field(None, max_length=128)
    rulepack: str | None = Field(None, max_length=128)
    reference_answer: str | int | float | None = None
    context: str | list[str] | None = Field(None, description="Source documents for grounding")
    probe: bool = Field(False, description="Also run the counterfactual probes on the answer")

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: str | list[str] | None) -> list[str] | None:
        if value is None:
            return None
        stops = [value] if isinstance(value, str) else value
        if len(stops) > 4 or any(not s or len(s) > 256 for s in stops):
            raise ValueError("at most 4 stop sequences of 1 to 256 characters")
        return stops


class ChatMessageOut(BaseModel):
    """The assistant's message; `refusal` holds the notice when the answer was withheld."""

    role: Literal["assistant"]
    content: str | None
    refusal: str | None = None


class ChoiceOut(BaseModel):
    """The one choice."""

    index: int
    message: ChatMessageOut
    logprobs: dict[str, Any] | None = None
    finish_reason: Literal["stop", "length", "content_filter"]


class UsageOut(BaseModel):
    """Tokens of all attempts together."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(BaseModel):
    """OpenAI's chat.completion, plus `faithfulness`: the report, the policy and the attempts."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChoiceOut]
    usage: UsageOut
    system_fingerprint: str | None = None
    faithfulness: dict[str, Any]
