"""The embedded engine: transformers + peft on a CPU or one GPU, LoRA adapters on one base.

Decoding is a small loop over the model's forward pass with its KV cache rather than
`model.generate`: it gives exact per-token log-probabilities of the raw distribution (what the
OpenAI API reports), stop sequences checked as the text grows, and a per-request
`torch.Generator`, so a seeded request is reproducible without touching the global RNG.

One lock serialises requests: a model and its active adapter are shared state, and on a CPU
two concurrent forward passes only slow each other down.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from service.engines.base import (
    AdapterLoadError,
    EngineError,
    EngineUnavailable,
    Generation,
    SamplingParams,
    UnknownAdapter,
    cut_at_stop,
)
from service.engines.model_files import model_hash, offline
from service.engines.streaming import CANCELLED, OnText, TextEmitter, cancelled
from training.model import files_hash

log = logging.getLogger("faithgate.engines")

ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_STOP_WINDOW_TOKENS = 16  # tokens decoded past the longest stop sequence when checking for it


def default_threads() -> int:
    """Torch threads for the CPU: half the cores (the validation workers need the others)."""
    return max(1, (os.cpu_count() or 2) // 2)


class TransformersEngine:
    """A Hugging Face causal LM from a local folder, with hot-loadable PEFT LoRA adapters."""

    kind = "transformers"

    def __init__(
        self,
        model_dir: str | Path,
        *,
        name: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        threads: int | None = None,
        quantize: str | None = None,
        hash_weights: bool = True,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.base_model = name or self.model_dir.name
        self.base_model_hash: str | None = None
        self.device_name = device
        self.dtype_name = dtype
        self.threads = threads or default_threads()
        self.quantize = quantize
        self.hash_weights = hash_weights
        self.model: Any = None
        self.tokenizer: Any = None
        self.context_length = 2048
        self._adapters: dict[str, str] = {}  # name -> content hash
        self._lock = threading.Lock()
        self._eos: set[int] = set()
        self._cache_arg = "past_key_values"
        self._ready = False

    # --- lifecycle ----------------------------------------------------------------------------
    def load(self) -> TransformersEngine:
        """Load tokenizer and weights (seconds for SmolLM2); returns self."""
        offline()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (self.model_dir / "config.json").is_file():
            raise EngineError(f"{self.model_dir} is not a Hugging Face model folder")
        device = self._device(torch)
        if device == "cpu":
            torch.set_num_threads(self.threads)
        kwargs: dict[str, Any] = {"dtype": self._dtype(torch, device), "local_files_only": True}
        if self.quantize == "4bit":
            kwargs.update(self._four_bit(torch, device))
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(str(self.model_dir), **kwargs)
        if self.quantize != "4bit":
            model.to(device)
        model.eval()  # safe: torch inference mode, not text evaluation
        self.model = model
        self.device = device
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        self._eos = _eos_ids(model, self.tokenizer)
        # transformers 5.2x renamed the KV cache argument and output `past_key_values` -> `cache`.
        params = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        if self.hash_weights:
            self.base_model_hash = model_hash(self.model_dir)
        self._ready = True
        log.info("transformers engine ready: %s on %s", self.base_model, device)
        return self

    def ready(self) -> bool:
        """True once load() has finished."""
        return self._ready

    def close(self) -> None:
        """Drop the model (its memory is freed with the last reference)."""
        with self._lock:
            self._ready = False
            self.model = None

    def _device(self, torch: Any) -> str:
        if self.device_name != "auto":
            return self.device_name
        return "cuda" if torch.cuda.is_available() else "cpu"

    def _dtype(self, torch: Any, device: str) -> Any:
        if self.dtype_name != "auto":
            return getattr(torch, self.dtype_name)
        # float32 is faster than bf16 on CPUs without bf16 units; GPUs want bf16.
        return torch.bfloat16 if device.startswith("cuda") else torch.float32

    @staticmethod
    def _four_bit(torch: Any, device: str) -> dict[str, Any]:
        """QLoRA serving: NF4 base weights through bitsandbytes (GPUs only)."""
        if not device.startswith("cuda"):
            raise EngineError("4-bit quantisation (bitsandbytes) needs a CUDA GPU")
        from transformers import BitsAndBytesConfig

        config = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        return {"quantization_config": config, "device_map": {"": device}}

    # --- adapters -----------------------------------------------------------------------------
    def load_adapter(self, name: str, path: str) -> None:
        """Hot-load a PEFT LoRA adapter folder under `name` (AdapterLoadError if it cannot)."""
        self._require_ready()
        folder = Path(path)
        _check_adapter(name, folder, self.base_model)
        digest = files_hash(folder)
        from peft import PeftModel

        with self._lock:
            if name in self._adapters:
                raise AdapterLoadError(f"an adapter named {name!r} is already loaded")
            try:
                if isinstance(self.model, PeftModel):
                    self.model.load_adapter(str(folder), adapter_name=name, is_trainable=False)
                else:
                    self.model = PeftModel.from_pretrained(
                        self.model, str(folder), adapter_name=name, is_trainable=False
                    )
            except (ValueError, KeyError, RuntimeError, OSError) as exc:
                raise AdapterLoadError(f"adapter {name!r} could not be loaded: {exc}") from exc
            self.model.eval()  # safe: torch inference mode, not text evaluation
            self._adapters[name] = digest
        log.info("adapter %s loaded from %s", name, folder)

    def unload_adapter(self, name: str) -> None:
        """Remove a loaded adapter; with the last one gone the plain base model is restored."""
        self._require_ready()
        with self._lock:
            if name not in self._adapters:
                raise UnknownAdapter(f"no adapter named {name!r} is loaded")
            if len(self._adapters) == 1:
                self.model = self.model.unload()  # removes the LoRA layers without merging
            else:
                self.model.delete_adapter(name)
            del self._adapters[name]

    def adapters(self) -> list[str]:
        """Names of the loaded adapters."""
        return sorted(self._adapters)

    def adapter_hash(self, name: str) -> str | None:
        """SHA-256 of the adapter folder's files, as loaded."""
        return self._adapters.get(name)

    # --- generation ---------------------------------------------------------------------------
    def chat_prompt(self, messages: list[dict], *, adapter: str | None = None) -> str:
        """The chat template applied to `messages`, ending where the assistant's reply begins."""
        self._require_ready()
        try:
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        except Exception as exc:  # jinja errors: a template that refuses these messages
            raise EngineError(f"the chat template rejected the messages: {exc}") from exc

    def generate(self, messages: list[dict], **options: Any) -> Generation:
        """Chat completion: the chat template, then complete()."""
        return self.complete(self.chat_prompt(messages), **options)

    def stream(
        self,
        messages: list[dict],
        *,
        on_text: OnText,
        cancel: threading.Event | None = None,
        adapter: str | None = None,
        **sampling: Any,
    ) -> Generation:
        """generate(), calling on_text(delta) per token; stops early once `cancel` is set."""
        prompt = self.chat_prompt(messages)
        return self._complete(prompt, adapter, SamplingParams.of(sampling), on_text, cancel)

    def complete(self, prompt: str, *, adapter: str | None = None, **sampling: Any) -> Generation:
        """Continue `prompt` with the base model or one adapter (blocking, thread-safe)."""
        return self._complete(prompt, adapter, SamplingParams.of(sampling), None, None)

    def _complete(
        self,
        prompt: str,
        adapter: str | None,
        params: SamplingParams,
        on_text: OnText | None,
        cancel: threading.Event | None,
    ) -> Generation:
        self._require_ready()
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if not ids:
            raise EngineError("the prompt is empty")
        room = self.context_length - len(ids)
        if room < 1:
            raise EngineError(
                f"the prompt has {len(ids)} tokens; the model's context is {self.context_length}"
            )
        emitter = TextEmitter(on_text, params.stop) if on_text else None
        with self._lock:
            if adapter is not None and adapter not in self._adapters:
                raise UnknownAdapter(f"no adapter named {adapter!r} is loaded")
            self._apply_threads()
            generation = self._decode_loop(ids, adapter, params, room, emitter, cancel)
        if emitter is not None:
            emitter.finish(generation.text)
        return generation

    def _apply_threads(self) -> None:
        """Torch's CPU thread count in the calling thread.

        OpenMP keeps it per thread: set once in load(), it did not reach the request threads
        that decode, which then ran with every core and competed with the validation workers.
        """
        if self.device == "cpu":
            import torch

            torch.set_num_threads(self.threads)

    def _decode_loop(
        self,
        ids: list[int],
        adapter: str | None,
        params: SamplingParams,
        room: int,
        emitter: TextEmitter | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation:
        """Greedy or sampled decoding with the KV cache; the caller holds the lock."""
        import contextlib

        import torch

        max_tokens = min(params.max_tokens, room)
        temperature, top_p, seed = params.temperature, params.top_p, params.seed
        stop = [s for s in params.stop or [] if s]
        want_logprobs, top_logprobs = params.wants_logprobs, params.top_logprobs

        generator = None
        if temperature > 0:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed if seed is not None else int.from_bytes(os.urandom(7)))
        context = contextlib.nullcontext()
        if self._adapters:
            if adapter is None:
                context = self.model.disable_adapter()
            else:
                self.model.set_adapter(adapter)
        out_ids: list[int] = []
        chosen_lp: list[float] = []
        tops: list[dict[str, float]] = []
        eos: int | None = None
        stopped = False
        window = max((len(s) for s in stop), default=0) + _STOP_WINDOW_TOKENS
        with context, torch.inference_mode():
            input_ids = torch.tensor([ids], device=self.device)
            cache: dict[str, Any] = {}
            for _ in range(max_tokens):
                output = self.model(input_ids=input_ids, use_cache=True, **cache)
                cache = {self._cache_arg: getattr(output, self._cache_arg)}
                logits = output.logits[0, -1].float()
                token = _pick(torch, logits, temperature, top_p, generator)
                if want_logprobs:
                    lp = torch.log_softmax(logits, dim=-1)
                    chosen_lp.append(float(lp[token]))
                    if top_logprobs:
                        values, indices = torch.topk(lp, top_logprobs)
                        tops.append(self._top(values, indices))
                if token in self._eos:
                    eos = token
                    break
                out_ids.append(token)
                if stop and any(s in self._tail(out_ids, window) for s in stop):
                    break
                if emitter is not None:  # decoding the whole text keeps multi-token characters
                    emitter.update(self.tokenizer.decode(out_ids, skip_special_tokens=True))
                if cancelled(cancel):
                    stopped = True
                    break
                input_ids = torch.tensor([[token]], device=self.device)
        generation = self._result(ids, out_ids, eos, stop, want_logprobs, chosen_lp, tops)
        if stopped:
            generation.finish_reason = CANCELLED
        return generation

    def _result(
        self,
        prompt_ids: list[int],
        out_ids: list[int],
        eos: int | None,
        stop: list[str],
        want_logprobs: bool,
        chosen_lp: list[float],
        tops: list[dict[str, float]],
    ) -> Generation:
        text = self.tokenizer.decode(out_ids, skip_special_tokens=True)
        text, cut = cut_at_stop(text, stop)
        generation = Generation(
            text=text,
            finish_reason="stop" if cut or eos is not None else "length",
            prompt_tokens=len(prompt_ids),
            # The end-of-sequence token was generated too, though it is not part of the text.
            completion_tokens=len(out_ids) + (eos is not None),
        )
        if want_logprobs:
            pieces = [self.tokenizer.decode([t]) for t in out_ids]
            if eos is not None:
                pieces.append(self.tokenizer.decode([eos]))
            if cut:  # keep the tokens that make up the returned text
                pieces = _cover(pieces, len(text))
            generation.tokens = pieces
            generation.token_logprobs = chosen_lp[: len(pieces)]
            generation.top_logprobs = tops[: len(pieces)] if tops else None
        return generation

    def _tail(self, out_ids: list[int], window: int) -> str:
        return self.tokenizer.decode(out_ids[-window:], skip_special_tokens=True)

    def _top(self, values: Any, indices: Any) -> dict[str, float]:
        top: dict[str, float] = {}
        for v, i in zip(values.tolist(), indices.tolist(), strict=True):
            top.setdefault(self.tokenizer.decode([i]), float(v))
        return top

    def _require_ready(self) -> None:
        if not self._ready:
            raise EngineUnavailable("the model is not loaded yet")


def _pick(torch: Any, logits: Any, temperature: float, top_p: float, generator: Any) -> int:
    """The next token: argmax at temperature 0, else a nucleus sample."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < top_p  # always keeps the first
        sorted_probs = sorted_probs * keep
        choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=generator))


def _cover(pieces: list[str], length: int) -> list[str]:
    """The shortest prefix of token texts whose concatenation reaches `length` characters."""
    total = 0
    for i, piece in enumerate(pieces):
        if total >= length:
            return pieces[:i]
        total += len(piece)
    return pieces


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(v for v in value if isinstance(v, int))
    return ids


def _check_adapter(name: str, folder: Path, base_name: str) -> None:
    """AdapterLoadError unless `name` is a safe label and `folder` a PEFT LoRA adapter."""
    import json

    if not ADAPTER_NAME.match(name) or name == base_name:
        raise AdapterLoadError(
            f"adapter name {name!r}: 1-64 letters, digits, '.', '_' or '-', not the base's name"
        )
    config_file = folder / "adapter_config.json"
    if not config_file.is_file():
        raise AdapterLoadError(f"{folder} is not a PEFT adapter folder (no adapter_config.json)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdapterLoadError(f"{config_file} is unreadable: {exc}") from exc
    if config.get("peft_type") != "LORA":
        raise AdapterLoadError(f"{folder} is a {config.get('peft_type')} adapter, not LoRA")
