"""Building the configured engine, loading it off the request path, and audited adapter changes.

The app state holds this module's EngineRuntime (`state.runtime`): the engine once loaded
(`runtime.engine`, None until then), its thread pool (generation blocks, so it never runs on the
event loop), its load status for /readyz, and the audited adapter operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.engines.base import Engine, EngineError
from service.engines.model_files import ensure_default_model, model_hash
from service.ops.audit import Actor, service_actor

if TYPE_CHECKING:
    from service.audit_writer import AuditWriter
    from service.metrics import Metrics

log = logging.getLogger("faithgate.engines")


def model_folder(settings: Any) -> Path:
    """The base model folder: FAITHGATE_MODEL, else SmolLM2 converted into the data directory."""
    if settings.model:
        folder = Path(settings.model).expanduser()
        if not (folder / "config.json").is_file():
            raise EngineError(f"FAITHGATE_MODEL={folder} is not a local Hugging Face model folder")
        return folder
    return ensure_default_model(settings.data_dir)


def build_engine(settings: Any) -> Engine:
    """The engine the settings name, loaded and ready (blocking: seconds to minutes)."""
    kind = settings.engine
    quantize = None if settings.quantize == "none" else settings.quantize
    if kind == "transformers":
        from service.engines.transformers_engine import TransformersEngine

        folder = model_folder(settings)
        return TransformersEngine(
            folder,
            name=settings.model_name or folder.name,
            device=settings.engine_device,
            dtype=settings.engine_dtype,
            threads=settings.engine_threads,
            quantize=quantize,
            batch_size=settings.engine_batch_size,
        ).load()
    if kind == "vllm":
        from service.engines.vllm_engine import VLLMEngine, VLLMServer, lora_limits
        from training.registry import Registry

        if settings.vllm_url:
            return VLLMEngine(
                settings.vllm_url, api_key=settings.vllm_api_key, model=settings.model_name
            )
        folder = model_folder(settings)
        registry = Registry(settings.registry_dir)
        rank, loras = lora_limits(
            list(registry.ranks().values()),
            len(registry.servable()),
            settings.vllm_max_lora_rank,
            settings.vllm_max_loras,
        )
        server = VLLMServer(
            folder,
            python=settings.vllm_python,
            port=settings.vllm_port,
            served_name=settings.model_name or folder.name,
            dtype=settings.vllm_dtype,
            max_model_len=settings.vllm_max_model_len,
            max_lora_rank=rank,
            max_loras=loras,
            quantize=quantize,
            extra_args=settings.vllm_args.split() if settings.vllm_args else None,
            log_file=Path(settings.data_dir) / "logs" / "vllm.log",
        )
        return VLLMEngine.launch(
            server, timeout_s=settings.vllm_start_timeout_s, base_model_hash=model_hash(folder)
        )
    raise EngineError(f"unknown engine {kind!r} (transformers, vllm or none)")


class EngineRuntime:
    """The engine's life in the app: background load, a thread pool, audited adapter changes."""

    def __init__(self, settings: Any, metrics: Metrics, threads: int = 8) -> None:
        self.settings = settings
        self.metrics = metrics
        # One waiting thread per request that can be in a batch, plus room for adapter calls.
        self.threads = threads = max(threads, getattr(settings, "engine_batch_size", 1) + 2)
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="faithgate-engine")
        self.engine: Engine | None = None  # set once loaded (or by whoever embeds the app)
        self.error: str | None = None
        self._audit: AuditWriter | None = None
        self._task: asyncio.Task | None = None
        self._watch: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        """False when the service runs without a model (FAITHGATE_ENGINE=none)."""
        return self.settings.engine != "none"

    def start(self, audit: AuditWriter) -> None:
        """Load the engine in the background (unless one was set already); audit through `audit`."""
        self._audit = audit
        if self.engine is not None:
            self._supervise_if_revivable(self.engine)
        elif self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._load())

    def _supervise_if_revivable(self, engine: Engine) -> None:
        if hasattr(engine, "revive"):
            self._watch = asyncio.get_running_loop().create_task(self._supervise(engine))

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, build_engine, self.settings)
        try:
            try:
                engine = await asyncio.shield(future)
            except asyncio.CancelledError:
                # The build goes on in its thread: whatever it makes (a vLLM server process
                # included) is closed when it is done, not left running.
                future.add_done_callback(_close_built)
                raise
            self.engine = engine
            self._supervise_if_revivable(engine)
            startup = service_actor("engine", "startup")
            for spec in self.settings.adapters:
                name, _, path = spec.partition("=")
                await self.load_adapter(name.strip(), path.strip(), startup)
        except Exception as exc:  # the service keeps serving /v1/validate; /readyz says why
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the engine could not be loaded")

    async def _supervise(self, engine: Engine) -> None:
        """Restart an engine server that died (vLLM started by faithgate) and audit it."""
        actor = service_actor("engine", "supervisor")
        while True:
            await asyncio.sleep(self.settings.vllm_watch_s)
            try:
                revived = await self.run(engine.revive)  # type: ignore[attr-defined]
            except Exception as exc:  # still down: /readyz says so; try again next round
                log.error("the engine server could not be restarted: %s", exc)
                continue
            if revived is not None:
                await self._record("engine.restarted", None, None, actor, revived)

    async def stop(self) -> None:
        """Cancel a load in progress and release the engine (stopping a server it started)."""
        for task in (self._task, self._watch):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.engine is not None and hasattr(self.engine, "close"):
            await self.run(self.engine.close)
            self.engine = None
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="faithgate-engine")

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking engine call on the engine's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))

    async def readiness(self) -> tuple[bool, str]:
        """(ready, what) for /readyz: the engine's own check runs on the engine's threads."""
        if not self.enabled:
            return True, "none"
        if self.engine is not None and await self.run(self.engine.ready):
            return True, "ready"
        return False, self.why_not()

    def why_not(self) -> str:
        """Why no engine serves (for 503 messages)."""
        if not self.enabled:
            return "this service runs without a model (set FAITHGATE_ENGINE)"
        if self.error:
            return f"the engine failed to load: {self.error}"
        if self.engine is None:
            return "the model is loading"
        return "the engine is not answering"

    # --- audited adapter operations -----------------------------------------------------------
    async def load_adapter(self, name: str, path: str, actor: Actor) -> dict[str, Any]:
        """Hot-load an adapter and audit it ("adapter.loaded"; failures "adapter.load_failed")."""
        engine = self._loaded()
        try:
            await self.run(engine.load_adapter, name, path)
        except EngineError as exc:
            self.metrics.adapter_operations.labels("load", "error").inc()
            await self._changed(
                "adapter.load_failed", name, None, actor, path=str(path), error=str(exc)
            )
            raise
        self.metrics.adapter_operations.labels("load", "ok").inc()
        digest = engine.adapter_hash(name) if hasattr(engine, "adapter_hash") else None
        return await self._changed("adapter.loaded", name, digest, actor, path=str(path))

    async def unload_adapter(self, name: str, actor: Actor) -> dict[str, Any]:
        """Unload an adapter and audit it ("adapter.unloaded")."""
        engine = self._loaded()
        digest = engine.adapter_hash(name) if hasattr(engine, "adapter_hash") else None
        await self.run(engine.unload_adapter, name)
        self.metrics.adapter_operations.labels("unload", "ok").inc()
        return await self._changed("adapter.unloaded", name, digest, actor)

    async def _changed(
        self, event: str, name: str, digest: str | None, actor: Actor, **extra: Any
    ) -> dict[str, Any]:
        """Audit an adapter change; what the API answers about it."""
        kind = self.engine.kind if self.engine else None
        data = {"name": name, "sha256": digest, "engine": kind, **extra}
        record = await self._record(event, name, digest, actor, data)
        return {"name": name, "sha256": digest, "record_id": record.get("id")}

    async def _record(
        self,
        event: str,
        adapter: str | None,
        digest: str | None,
        actor: Actor,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        assert self._audit is not None, "start() first"
        engine = self.engine
        return await self._audit.append(
            event,
            actor,
            model=engine.base_model if engine else None,
            adapter=adapter,
            data=data,
            model_hash=engine.base_model_hash if engine else None,
            adapter_hash=digest,
        )

    def _loaded(self) -> Engine:
        if self.engine is None:
            raise EngineError("no engine is loaded")
        return self.engine


def _close_built(future: Any) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()
