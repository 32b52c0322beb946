"""An in-process engine over the model being trained (the Engine protocol's generate surface).

The gate asks questions through `generate(messages, adapter=...)` exactly as it would ask the
service's engine, so `training.gate.evaluate` runs against either. Here the weights are the
ones in training memory: no second copy of the model is loaded to evaluate a cycle. Adapter
None is the base model (LoRA disabled); any other name is the trained adapter.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Generation:
    """What one generation returned (the fields of service.engines.base.Generation it needs)."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


@contextlib.contextmanager
def _deterministic() -> Iterator[None]:
    """Deterministic torch kernels where torch has them (warns, not fails, where it has none)."""
    import torch

    was = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn_only)


class LocalEngine:
    """generate() and generate_batch() over an in-memory HF causal LM, with or without LoRA."""

    kind = "transformers"

    def __init__(self, model: Any, tokenizer: Any, base_model: str, base_model_hash: str | None):
        self.model = model
        self.tokenizer = tokenizer
        self.base_model = base_model
        self.base_model_hash = base_model_hash
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """Always ready once built."""
        return True

    def adapters(self) -> list[str]:
        """Names of the LoRA adapters on the model."""
        return sorted(getattr(self.model, "peft_config", {}) or {})

    def generate(self, messages: list[dict], *, adapter: str | None = None, **options: Any):
        """One chat completion (greedy unless temperature > 0)."""
        return self.generate_batch([messages], adapter=adapter, **options)[0]

    def generate_batch(
        self,
        conversations: list[list[dict]],
        *,
        adapter: str | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        **_: Any,
    ) -> list[Generation]:
        """Chat completions for several conversations in one left-padded batch."""
        import torch

        tok = self.tokenizer
        prompts = [
            tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
            for m in conversations
        ]
        old_side = tok.padding_side
        tok.padding_side = "left"
        try:
            enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            tok.padding_side = old_side
        device = next(self.model.parameters()).device
        enc = {k: v.to(device) for k, v in enc.items()}
        sample = temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "do_sample": sample,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id,
        }
        if sample:
            options.update(temperature=temperature, top_p=top_p)
        with self._lock, torch.inference_mode(), self._adapter(adapter), _deterministic():
            # Seeded even when greedy: identical weights must give identical answers.
            torch.manual_seed(0 if seed is None else seed)
            was_training = self.model.training
            self.model.eval()  # safe: torch inference mode, not text evaluation
            try:
                out = self.model.generate(**enc, **options)
            finally:
                self.model.train(was_training)
        width = enc["input_ids"].shape[1]
        results = []
        for row, mask in zip(out, enc["attention_mask"], strict=True):
            new = row[width:]
            ended = bool((new == tok.eos_token_id).any()) if tok.eos_token_id is not None else False
            text = tok.decode(new, skip_special_tokens=True)
            n_new = (
                int((new != tok.pad_token_id).sum()) if tok.pad_token_id is not None else len(new)
            )
            results.append(Generation(text, "stop" if ended else "length", int(mask.sum()), n_new))
        return results

    def _adapter(self, adapter: str | None) -> Any:
        """A context in which the model runs as the base (None) or with the named adapter."""
        peft_config = getattr(self.model, "peft_config", None)
        if not peft_config:
            if adapter is not None:
                raise ValueError(f"no adapter {adapter!r} on this model")
            return contextlib.nullcontext()
        if adapter is None:
            return self.model.disable_adapter()
        if adapter not in peft_config:
            raise ValueError(f"no adapter {adapter!r} on this model")
        self.model.set_adapter(adapter)
        return contextlib.nullcontext()
