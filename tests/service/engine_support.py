"""Engine test helpers: a tiny Llama built in code, LoRA adapters, a scripted engine, a live server.

Test modules import what they use from here (fixtures included), like api_support.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from service.engines.base import Generation, UnknownAdapter
from tests.processes import free_port
from tests.tiny_llama import save_tiny_llama

ROOT = Path(__file__).resolve().parents[2]
_CORPUS = [
    "Natalia sold 48 clips in April and half as many in May. 48 / 2 = 24. 48 + 24 = 72.",
    "Solve this step by step. Write each step on its own line. The answer is 72.",
    "Tom has 5 apples and buys 7 more: 5 + 7 = 12. He eats 3: 12 - 3 = 9.",
    "Each box holds 24 apples; 13 boxes hold 13 * 24 = 312 apples.",
]


def build_tiny_model(folder: Path, *, seed: int = 0) -> Path:
    """Save a randomly initialised 2-layer Llama and a byte-level BPE tokenizer to `folder`."""
    return save_tiny_llama(folder, _CORPUS * 4, vocab_size=400, seed=seed)


def build_lora_adapter(base: Path, folder: Path, *, seed: int, rank: int = 4) -> Path:
    """Save a LoRA adapter for `base` with random (non-zero) weights, so it changes the output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    torch.manual_seed(seed)
    config = LoraConfig(
        r=rank,
        lora_alpha=rank * 4,
        target_modules=["q_proj", "v_proj"],
        init_lora_weights=False,  # random A and B: a freshly made adapter that is not a no-op
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, config)
    peft_model.save_pretrained(str(folder))
    return folder


def tiny_with_adapters(root: Path, base: str, adapters: dict[str, int]) -> Path:
    """`root` holding a tiny model folder `base` and LoRA adapter folders (name -> seed)."""
    folder = build_tiny_model(root / base)
    for name, seed in adapters.items():
        build_lora_adapter(folder, root / name, seed=seed)
    return root


def smollm2_dir() -> Path:
    """The converted SmolLM2 folder in the repository's data dir (converted on first use)."""
    from service.engines.model_files import ensure_default_model

    data_dir = Path(os.environ.get("FAITHGATE_TEST_DATA_DIR", ROOT / ".faithgate"))
    try:
        return ensure_default_model(data_dir)
    except FileNotFoundError as exc:
        pytest.fail(f"the real SmolLM2 model is not available: {exc}", pytrace=False)


# --- a scripted engine: the policy logic without a model ----------------------------------------
@dataclass
class ScriptedEngine:
    """An Engine whose replies are scripted per call; records what it was asked."""

    replies: list[str] = field(default_factory=list)  # used in order; the last one repeats
    kind: str = "transformers"
    base_model: str = "scripted-base"
    base_model_hash: str | None = "0" * 64
    adapter_names: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    completer: Callable[[str, int], str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    between: Callable[[int, Any], None] | None = None  # stream(): a hook between words (gates)
    finished: int = 0  # streams that ran to their end

    def ready(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def chat_prompt(self, messages: list[dict], *, adapter: str | None = None) -> str:
        return "".join(f"<{m['role']}>{m['content']}\n" for m in messages) + "<assistant>"

    def generate(self, messages: list[dict], *, adapter: str | None = None, **options: Any):
        if adapter is not None and adapter not in self.adapter_names:
            raise UnknownAdapter(adapter)
        with self.lock:
            self.calls.append({"messages": messages, "adapter": adapter, **options})
            text = self.replies[min(len(self.calls), len(self.replies)) - 1]
        tokens = text.split(" ")
        generation = Generation(text, "stop", 10 * len(messages), len(tokens))
        if options.get("logprobs"):
            generation.tokens = [t if i == 0 else " " + t for i, t in enumerate(tokens)]
            generation.token_logprobs = [-0.5] * len(tokens)
            if options.get("top_logprobs"):
                generation.top_logprobs = [{t: -0.5} for t in generation.tokens]
        return generation

    def stream(
        self,
        messages: list[dict],
        *,
        on_text: Callable[[str], None],
        cancel: threading.Event | None = None,
        adapter: str | None = None,
        **options: Any,
    ) -> Generation:
        """generate(), its reply sent word by word; `between(i, cancel)` runs after word i."""
        generation = self.generate(messages, adapter=adapter, **options)
        words = generation.text.split(" ")
        for i, word in enumerate(words):
            on_text(word if i == 0 else " " + word)
            if self.between is not None:
                self.between(i, cancel)
            if cancel is not None and cancel.is_set():
                text = " ".join(words[: i + 1])
                return Generation(text, "cancelled", generation.prompt_tokens, i + 1)
        self.finished += 1
        return generation

    def complete(self, prompt: str, *, adapter: str | None = None, max_tokens: int = 256, **_: Any):
        assert self.completer is not None, "this scripted engine does not complete raw text"
        text = self.completer(prompt, max_tokens)
        return Generation(text, "stop", len(prompt.split()), len(text.split()))

    def load_adapter(self, name: str, path: str) -> None:
        self.adapter_names.append(name)

    def unload_adapter(self, name: str) -> None:
        if name not in self.adapter_names:
            raise UnknownAdapter(name)
        self.adapter_names.remove(name)

    def adapters(self) -> list[str]:
        return list(self.adapter_names)

    def adapter_hash(self, name: str) -> str | None:
        return "a" * 64 if name in self.adapter_names else None


# --- a live server for the openai client ------------------------------------------------------
@dataclass
class Live:
    """An app served by uvicorn on a loopback port, in a thread of this process."""

    app: Any
    url: str

    @property
    def store(self) -> Any:
        return self.app.state.faithgate.store

    def key(self, *scopes: str, redact: bool = False) -> str:
        """A fresh API key's secret."""
        return self.store.create_key("test", list(scopes), redact=redact)[1]

    def probe(self, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """POST /v1/probe with a fresh `generate` key; the result (asserting a 200)."""
        import httpx

        key = {"Authorization": f"Bearer {self.key('generate')}"}
        r = httpx.post(f"{self.url}/v1/probe", headers=key, json=body, timeout=timeout)
        assert r.status_code == 200, r.text
        return r.json()

    def openai(self, secret: str) -> Any:
        """An openai client pointed at this service."""
        import openai

        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=secret, max_retries=0, timeout=600)

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Wait until /readyz answers 200 (the engine loaded)."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = httpx.get(f"{self.url}/readyz", timeout=5)
            if response.status_code == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"not ready in {timeout} s: {response.text}")


def audit_records(live: Live) -> list[dict[str, Any]]:
    """Every audit record of a live app, read through its export API (payloads decoded)."""
    import json

    import httpx

    from tests.service.api_support import bundle_records

    key = live.key("audit:read")
    r = httpx.get(f"{live.url}/v1/audit/export", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    out = []
    for rec in bundle_records(r.content):
        rec["payload"] = json.loads(rec["payload"]) if rec["payload"] else None
        out.append(rec)
    return out


def serve(app: Any) -> Iterator[Live]:
    """Run `app` with uvicorn on a free port until the generator is closed."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Live(app=app, url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(60)


def serve_engine(model: Path, data_dir: Path, ready_s: float, **settings: Any) -> Iterator[Live]:
    """A served app with the transformers engine on `model`, once /readyz says it is loaded."""
    from service.main import create_app
    from service.settings import Settings

    config = Settings(
        workers=1, data_dir=data_dir, engine="transformers", model=str(model), **settings
    )
    for server in serve(create_app(config)):
        server.wait_ready(ready_s)
        yield server
