"""The vLLM engine: faithgate drives a vLLM OpenAI-compatible server running as its own process.

The server is either one faithgate starts (VLLMServer runs
`python -m vllm.entrypoints.openai.api_server` from its own virtual environment, bound to the
loopback with a random API key, so faithgate is its only client) or one that already runs
(FAITHGATE_VLLM_URL, with its key). Adapters are hot-loaded through /v1/load_lora_adapter and
/v1/unload_lora_adapter, which need the server to run with --enable-lora and
VLLM_ALLOW_RUNTIME_LORA_UPDATING=True. vLLM batches concurrent requests itself, so this client
takes no lock.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from service.engines import AdapterLoadError, EngineUnavailable, UnknownAdapter
from service.engines.base import EngineError, Generation, SamplingParams
from service.engines.streaming import CANCELLED, OnText, cancelled
from service.engines.transformers_engine import _check_adapter
from training.model import files_hash
from training.registry import adapter_rank

log = logging.getLogger("faithgate.engines")

REQUEST_TIMEOUT_S = 600.0
# The --max-lora-rank values vLLM accepts.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def lora_limits(ranks: list[int], servable: int, min_rank: int, min_loras: int) -> tuple[int, int]:
    """(--max-lora-rank, --max-loras) that fit every adapter: the smallest vLLM rank >= them all.

    `ranks` are the registry's adapters' ranks, `servable` how many the engine holds at once.
    A rank beyond vLLM's largest is returned as is (the server then says why it refuses).
    """
    need = max([min_rank, *ranks])
    rank = next((r for r in VLLM_LORA_RANKS if r >= need), need)
    return rank, max(min_loras, servable + 1)  # + 1: a new promotion loads before the unload


class VLLMServer:
    """A vLLM OpenAI-compatible server process that faithgate starts and stops."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        python: str = ".venv-vllm/bin/python",
        host: str = "127.0.0.1",
        port: int = 8100,
        served_name: str | None = None,
        dtype: str = "bfloat16",
        max_model_len: int = 2048,
        max_lora_rank: int = 16,
        max_loras: int = 2,
        quantize: str | None = None,
        extra_args: list[str] | None = None,
        kv_cache_gb: int = 2,
        log_file: Path | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.python = python
        self.host = host
        self.port = port
        self.served_name = served_name or self.model_dir.name
        self.api_key = secrets.token_urlsafe(24)
        self.args = [
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(self.model_dir),
            "--served-model-name",
            self.served_name,
            "--host",
            host,
            "--port",
            str(port),
            "--enable-lora",
            "--max-lora-rank",
            str(max_lora_rank),
            "--max-loras",
            str(max_loras),
            "--dtype",
            dtype,
            "--max-model-len",
            str(max_model_len),
        ]
        if quantize == "4bit":  # QLoRA serving: a bitsandbytes-quantised base (GPUs)
            self.args += ["--quantization", "bitsandbytes"]
        self.args += extra_args or []
        self.env = {
            **os.environ,
            "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
            "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gb),
            "HF_HUB_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "VLLM_API_KEY": self.api_key,  # read by the server: every /v1 route needs it
        }
        self.log_file = log_file
        self.max_lora_rank = max_lora_rank
        self.max_loras = max_loras
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 300.0) -> VLLMServer:
        """Start the process and wait until /health answers 200 (EngineError otherwise)."""
        if not Path(self.python).exists():
            raise EngineError(
                f"{self.python} not found: build the vLLM environment first (make vllm-env)"
            )
        out: Any = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
        log.info("starting vLLM on %s for %s", self.url, self.model_dir)
        self.process = subprocess.Popen(
            [self.python, *self.args],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the engine core too
        )
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise EngineError(
                        f"vLLM exited with status {self.process.returncode} while starting "
                        f"(log: {self.log_file})"
                    )
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(1.0)
        self.stop()
        raise EngineError(f"vLLM did not become healthy within {timeout_s:g} s")

    def exit_status(self) -> int | None:
        """The exit status once the started process has died, else None (running or never run)."""
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after 20 s)."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass


class VLLMEngine:
    """The engine protocol over a vLLM OpenAI-compatible server."""

    kind = "vllm"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        model: str | None = None,
        base_model_hash: str | None = None,
        server: VLLMServer | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
        max_lora_rank: int | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.server = server
        self.start_timeout_s = 300.0
        self.base_model_hash = base_model_hash
        self._hashes: dict[str, str | None] = {}
        self._paths: dict[str, str] = {}  # adapters to load again when the server is restarted
        # The largest LoRA rank the server loads: known for a server faithgate started (or
        # given for an external one); None: unknown, the server decides.
        self.max_lora_rank = server.max_lora_rank if server is not None else max_lora_rank
        self.base_model = model or self._served_base()

    @classmethod
    def launch(cls, server: VLLMServer, *, timeout_s: float = 300.0, **kwargs: Any) -> VLLMEngine:
        """Start `server` and connect to it; the engine stops it on close()."""
        server.start(timeout_s)
        try:
            engine = cls(
                server.url,
                api_key=server.api_key,
                model=server.served_name,
                server=server,
                **kwargs,
            )
        except Exception:
            server.stop()
            raise
        engine.start_timeout_s = timeout_s
        return engine

    def revive(self) -> dict[str, Any] | None:
        """Restart a server this engine started if it has died, and load its adapters again.

        None while it runs (or when the server is not ours); otherwise what happened, for the
        audit trail. A dead server loses its adapters, so a restart without them would answer
        requests for an adapter with the base model's output.
        """
        status = self.server.exit_status() if self.server is not None else None
        if status is None:
            return None
        log.warning("vLLM exited with status %s; restarting it", status)
        self.server.start(self.start_timeout_s)  # type: ignore[union-attr]
        loaded, failed = [], {}
        for name, path in list(self._paths.items()):
            response = self.client.post(
                "/v1/load_lora_adapter", json={"lora_name": name, "lora_path": path}
            )
            if response.status_code == 200:
                loaded.append(name)
            else:
                failed[name] = _error_text(response)
                self._paths.pop(name)
                self._hashes.pop(name, None)
        return {"exit_status": status, "adapters_reloaded": loaded, "adapters_failed": failed}

    # --- status -------------------------------------------------------------------------------
    def ready(self) -> bool:
        """True while the server answers its health check."""
        try:
            return self.client.get("/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        """Close the connection pool and stop the server if this engine started it."""
        self.client.close()
        if self.server is not None:
            self.server.stop()

    def _models(self) -> list[dict[str, Any]]:
        return self._request("GET", "/v1/models").get("data", [])

    def _served_base(self) -> str:
        for entry in self._models():
            if not entry.get("parent"):
                return str(entry["id"])
        raise EngineError("the vLLM server lists no base model")

    # --- adapters -----------------------------------------------------------------------------
    def adapters(self) -> list[str]:
        """The LoRA adapters the server has loaded (entries of /v1/models with a parent)."""
        return sorted(str(e["id"]) for e in self._models() if e.get("parent"))

    def adapter_hash(self, name: str) -> str | None:
        """SHA-256 of the adapter files this engine loaded (None for ones loaded elsewhere)."""
        return self._hashes.get(name)

    def unloadable(self, path: str) -> str | None:
        """Why the server cannot load the adapter folder at `path`, or None when it can."""
        rank = adapter_rank(path)
        if rank is not None and self.max_lora_rank is not None and rank > self.max_lora_rank:
            return (
                f"its LoRA rank {rank} is above the vLLM server's --max-lora-rank "
                f"{self.max_lora_rank}; restart faithgate (it sizes the server to fit every "
                "adapter in the registry) or set FAITHGATE_VLLM_MAX_LORA_RANK"
            )
        return None

    def load_adapter(self, name: str, path: str) -> None:
        """Hot-load a LoRA adapter folder (on the server's file system) under `name`."""
        folder = Path(path).resolve()
        _check_adapter(name, folder, self.base_model)
        if (reason := self.unloadable(str(folder))) is not None:
            raise AdapterLoadError(f"vLLM cannot load adapter {name!r}: {reason}")
        if name in self.adapters():
            raise AdapterLoadError(f"an adapter named {name!r} is already loaded")
        digest = files_hash(folder)
        body = {"lora_name": name, "lora_path": str(folder)}
        response = self.client.post("/v1/load_lora_adapter", json=body)
        if response.status_code != 200:
            raise AdapterLoadError(f"vLLM refused adapter {name!r}: {_error_text(response)}")
        self._hashes[name] = digest
        self._paths[name] = str(folder)

    def unload_adapter(self, name: str) -> None:
        """Unload an adapter from the server."""
        if name not in self.adapters():
            raise UnknownAdapter(f"no adapter named {name!r} is loaded")
        response = self.client.post("/v1/unload_lora_adapter", json={"lora_name": name})
        if response.status_code != 200:
            raise EngineError(f"vLLM could not unload {name!r}: {_error_text(response)}")
        self._hashes.pop(name, None)
        self._paths.pop(name, None)

    # --- generation ---------------------------------------------------------------------------
    def chat_prompt(self, messages: list[dict], *, adapter: str | None = None) -> str:
        """The server's chat template applied to `messages` (its /tokenize, then /detokenize)."""
        model = adapter or self.base_model
        tokens = self._request(
            "POST",
            "/tokenize",
            {"model": model, "messages": messages, "add_generation_prompt": True},
        )["tokens"]
        return self._request("POST", "/detokenize", {"model": model, "tokens": tokens})["prompt"]

    def generate(
        self, messages: list[dict], *, adapter: str | None = None, **sampling: Any
    ) -> Generation:
        """A chat completion from the server (/v1/chat/completions)."""
        params = SamplingParams.of(sampling)
        top_logprobs = params.top_logprobs
        body = self._body(adapter, params)
        body["messages"] = messages
        if params.wants_logprobs:
            body.update(logprobs=True, top_logprobs=top_logprobs)
        data = self._request("POST", "/v1/chat/completions", body, adapter=adapter)
        choice = data["choices"][0]
        generation = _generation(choice["message"].get("content") or "", choice, data)
        content = (choice.get("logprobs") or {}).get("content")
        if content is not None:
            generation.tokens = [t["token"] for t in content]
            generation.token_logprobs = [float(t["logprob"]) for t in content]
            if top_logprobs:
                generation.top_logprobs = [
                    {x["token"]: float(x["logprob"]) for x in t.get("top_logprobs") or []}
                    for t in content
                ]
        return generation

    def stream(
        self,
        messages: list[dict],
        *,
        on_text: OnText,
        cancel: threading.Event | None = None,
        adapter: str | None = None,
        **sampling: Any,
    ) -> Generation:
        """generate() streamed from the server; closing the connection on `cancel` aborts it."""
        params = SamplingParams.of(sampling)
        body = self._body(adapter, params)
        body.update(messages=messages, stream=True, stream_options={"include_usage": True})
        text, finish, usage = [], "stop", {}
        try:
            with self.client.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    self._check(response, "/v1/chat/completions", adapter)
                for line in response.iter_lines():
                    if cancelled(cancel):
                        finish = CANCELLED  # leaving the block closes the connection: vLLM aborts
                        break
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            text.append(delta)
                            on_text(delta)
                        finish = choice.get("finish_reason") or finish
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"the vLLM server did not stream its answer: {exc}") from exc
        return _generation("".join(text), {"finish_reason": finish}, {"usage": usage})

    def complete(self, prompt: str, *, adapter: str | None = None, **sampling: Any) -> Generation:
        """A raw text completion from the server (/v1/completions)."""
        params = SamplingParams.of(sampling)
        top_logprobs = params.top_logprobs
        body = self._body(adapter, params)
        body["prompt"] = prompt
        if params.wants_logprobs:
            body["logprobs"] = max(top_logprobs, 1) if top_logprobs else 0
        data = self._request("POST", "/v1/completions", body, adapter=adapter)
        choice = data["choices"][0]
        generation = _generation(choice.get("text") or "", choice, data)
        lp = choice.get("logprobs")
        if lp:
            generation.tokens = list(lp.get("tokens") or [])
            generation.token_logprobs = [float(x) for x in lp.get("token_logprobs") or []]
            if top_logprobs:
                generation.top_logprobs = [
                    {k: float(v) for k, v in (t or {}).items()}
                    for t in lp.get("top_logprobs") or []
                ]
        return generation

    def _body(self, adapter: str | None, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": adapter or self.base_model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            body["stop"] = [s for s in params.stop if s]
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    def _request(
        self, method: str, path: str, body: dict | None = None, adapter: str | None = None
    ) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"the vLLM server did not answer {path}: {exc}") from exc
        self._check(response, path, adapter)
        return response.json()

    @staticmethod
    def _check(response: httpx.Response, path: str, adapter: str | None) -> None:
        """The engine error an unsuccessful answer means (nothing for a 200)."""
        if response.status_code == 404 and adapter is not None:
            raise UnknownAdapter(f"no adapter named {adapter!r} is loaded")
        if response.status_code >= 500:
            raise EngineUnavailable(
                f"vLLM {path} answered {response.status_code}: {_error_text(response)}"
            )
        if response.status_code != 200:
            raise EngineError(
                f"vLLM {path} answered {response.status_code}: {_error_text(response)}"
            )


def _generation(text: str, choice: dict[str, Any], data: dict[str, Any]) -> Generation:
    usage = data.get("usage") or {}
    finish = choice.get("finish_reason") or "stop"
    return Generation(
        text=text,
        finish_reason=finish if finish in ("length", CANCELLED) else "stop",
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))[:300]
    return str(data.get("message") or data.get("detail") or data)[:300]
