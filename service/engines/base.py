"""The engine protocol: what the chat, probe and training code need from a model host.

Two implementations: TransformersEngine (embedded, transformers + peft) and VLLMEngine (a vLLM
OpenAI-compatible server that faithgate drives). See docs in /work/notes/engine_protocol.md.
Both also have `stream(messages, *, on_text, cancel=None, adapter=None, **sampling)`
(engines/streaming.py): generate() that hands over text as it grows and stops when cancelled;
streamed chat falls back to generate() for an engine without it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable


class EngineError(RuntimeError):
    """The engine could not do what was asked (a bad option, the server failed)."""


class EngineUnavailable(EngineError):
    """The engine cannot serve now (still loading, or its server is down or failing)."""


class UnknownAdapter(EngineError):
    """A request named an adapter that is not loaded."""


class AdapterLoadError(EngineError):
    """An adapter folder could not be loaded (missing, not LoRA, wrong base, rank too high)."""


@dataclass
class Generation:
    """One generated continuation and its token accounting."""

    text: str
    finish_reason: str  # "stop" | "length"
    prompt_tokens: int
    completion_tokens: int
    tokens: list[str] | None = None  # when logprobs were asked for
    token_logprobs: list[float] | None = None
    top_logprobs: list[dict[str, float]] | None = None


@dataclass(frozen=True)
class SamplingParams:
    """How one continuation is sampled: the options every engine takes, by keyword.

    Engines receive them as keyword arguments (`generate(messages, adapter=a, max_tokens=64)`)
    and read them through SamplingParams.of(), so that their names and defaults live here only.
    """

    max_tokens: int = 256
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    stop: list[str] | None = None
    seed: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0

    @classmethod
    def of(cls, options: dict[str, Any]) -> SamplingParams:
        """The options, checked: TypeError for an unknown one, EngineError for a bad value."""
        params = cls(**options)
        params.check()
        return params

    def check(self) -> None:
        """EngineError for sampling options no engine accepts."""
        if self.max_tokens < 1:
            raise EngineError("max_tokens must be at least 1")
        if not 0.0 <= self.temperature <= 2.0:
            raise EngineError("temperature must be between 0 and 2")
        if not 0.0 < self.top_p <= 1.0:
            raise EngineError("top_p must be in (0, 1]")
        if not 0 <= self.top_logprobs <= 20:
            raise EngineError("top_logprobs must be between 0 and 20")

    def options(self) -> dict[str, Any]:
        """The keyword arguments of generate() and complete()."""
        return asdict(self)

    @property
    def wants_logprobs(self) -> bool:
        """Whether token log-probabilities are asked for (logprobs or top_logprobs)."""
        return self.logprobs or self.top_logprobs > 0


@runtime_checkable
class Engine(Protocol):
    """A model host: the base model plus hot-loadable LoRA adapters, safe to call from threads."""

    kind: str  # "transformers" | "vllm"
    base_model: str  # the base model's id (a folder name or served name)
    base_model_hash: str | None  # content hash of the base weights when known

    def ready(self) -> bool:
        """True once the model is loaded and requests can be served."""
        ...

    def generate(
        self, messages: list[dict], *, adapter: str | None = None, **sampling: Any
    ) -> Generation:
        """Chat completion of OpenAI-format messages (blocking); `sampling`: SamplingParams."""
        ...

    def complete(self, prompt: str, *, adapter: str | None = None, **sampling: Any) -> Generation:
        """Raw text continuation of `prompt` (blocking; the probes use it); `sampling`: as above."""
        ...

    def chat_prompt(self, messages: list[dict], *, adapter: str | None = None) -> str:
        """The prompt text the chat template makes of `messages`, ready for the reply."""
        ...

    def load_adapter(self, name: str, path: str) -> None:
        """Hot-load a PEFT LoRA adapter folder under `name`."""
        ...

    def unload_adapter(self, name: str) -> None:
        """Unload a loaded adapter (UnknownAdapter if there is none of that name)."""
        ...

    def adapters(self) -> list[str]:
        """The names of the loaded adapters."""
        ...

    def adapter_hash(self, name: str) -> str | None:
        """Content hash of a loaded adapter's files (None when unknown)."""
        ...

    def close(self) -> None:
        """Release the model (and stop a server the engine started)."""
        ...


def cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """`text` up to the first stop sequence (excluded) and whether one was found."""
    if not stop:
        return text, False
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
