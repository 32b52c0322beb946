"""The embedded engine: transformers + peft on a CPU or one GPU, LoRA adapters on one base.

Decoding is a small loop over the model's forward pass with its KV cache rather than
`model.generate` (service/engines/decoding.py): it gives exact per-token log-probabilities of the
raw distribution (what the OpenAI API reports), stop sequences checked as the text grows, and a
per-request `torch.Generator`, so a seeded request is reproducible without touching the global
RNG.

Concurrent requests are decoded together: one lock guards the model and its active adapter, and
the requests that queue while a batch decodes form the next batch (up to `batch_size`, one
adapter per batch). On a CPU that multiplies throughput; two separate forward passes at once
would only slow each other down.
"""

from __future__ import annotations

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
)
from service.engines.decoding import BatchDecoder, DecodeRequest, ForwardArgs
from service.engines.model_files import model_hash, offline
from service.engines.streaming import OnText, TextEmitter
from training.model import files_hash

log = logging.getLogger("faithgate.engines")

ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


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
        batch_size: int = 8,
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
        self.batch_size = max(1, batch_size)
        self._lock = threading.Lock()  # held while a batch decodes or the adapters change
        self._queue: list[DecodeRequest] = []
        self._queue_lock = threading.Lock()
        self._eos: set[int] = set()
        self._forward = ForwardArgs("past_key_values", keep_last=False)  # read in load()
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
        self._forward = ForwardArgs.of(model)
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
        request = DecodeRequest(ids, adapter, params, room, emitter, cancel)
        self._decode(request)
        if request.error is not None:
            raise request.error
        assert request.result is not None
        if emitter is not None:
            emitter.finish(request.result.text)
        return request.result

    def _decode(self, request: DecodeRequest) -> None:
        """Queue the request; whichever waiting thread holds the model decodes the next batch.

        Requests that arrive while a batch is decoding wait together, and the next batch takes
        up to `batch_size` of them that use the same adapter (the oldest request first).
        """
        with self._queue_lock:
            self._queue.append(request)
        while not request.done.is_set():
            with self._lock:
                if request.done.is_set():
                    break
                batch = self._next_batch()
                if batch:
                    self._apply_threads()
                    self._decode_batch(batch)

    def _next_batch(self) -> list[DecodeRequest]:
        """The oldest queued request and the next ones with its adapter, up to batch_size."""
        with self._queue_lock:
            while self._queue and self._queue[0].adapter not in (None, *self._adapters):
                head = self._queue.pop(0)
                head.fail(UnknownAdapter(f"no adapter named {head.adapter!r} is loaded"))
            if not self._queue:
                return []
            return self._take(self._queue[0].adapter, self.batch_size)

    def _joining(self, adapter: str | None, room: int) -> list[DecodeRequest]:
        """Queued requests that can join a running batch with `adapter` (up to `room`).

        None while the oldest queued request wants another adapter: the batch then drains and
        that request's batch runs next, so no adapter waits behind a busy one for long.
        """
        with self._queue_lock:
            if not self._queue or self._queue[0].adapter != adapter:
                return []
            return self._take(adapter, room)

    def _take(self, adapter: str | None, limit: int) -> list[DecodeRequest]:
        """Remove and return up to `limit` queued requests with `adapter` (queue lock held)."""
        batch = [r for r in self._queue if r.adapter == adapter][:limit]
        self._queue = [r for r in self._queue if r not in batch]
        return batch

    def _decode_batch(self, batch: list[DecodeRequest]) -> None:
        """Decode one batch with its adapter active (the caller holds the lock)."""
        import contextlib

        adapter = batch[0].adapter
        context = contextlib.nullcontext()
        if self._adapters:
            if adapter is None:
                context = self.model.disable_adapter()
            else:
                self.model.set_adapter(adapter)
        decoder = BatchDecoder(self.model, self.tokenizer, self.device, self._forward, self._eos)
        taken = list(batch)

        def admit(room: int) -> list[DecodeRequest]:
            joining = self._joining(adapter, room)
            taken.extend(joining)
            return joining

        try:
            with context:
                decoder.run(batch, admit, self.batch_size)
        except BaseException as exc:  # every request of the batch gets the error, none hangs
            for r in taken:
                if not r.done.is_set():
                    r.fail(exc if isinstance(exc, Exception) else EngineError("decoding stopped"))
            if not isinstance(exc, Exception):
                raise

    def _apply_threads(self) -> None:
        """Torch's CPU thread count in the calling thread.

        OpenMP keeps it per thread: set once in load(), it did not reach the request threads
        that decode, which then ran with every core and competed with the validation workers.
        """
        if self.device == "cpu":
            import torch

            torch.set_num_threads(self.threads)

    def _require_ready(self) -> None:
        if not self._ready:
            raise EngineUnavailable("the model is not loaded yet")


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
