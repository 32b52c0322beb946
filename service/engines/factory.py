"""Building the configured engine, loading it off the request path, and audited adapter changes.

The app holds one engine at `app.state.engine` (None until loaded) and this module's
EngineRuntime at `app.state.engine_runtime`: the engine's thread pool (generation blocks, so it
never runs on the event loop), its load status for /readyz, and the audited adapter operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from service.engines.base import Engine, EngineError
from service.engines.model_files import ensure_default_model, model_hash

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
        ).load()
    if kind == "vllm":
        from service.engines.vllm_engine import VLLMEngine, VLLMServer

        if settings.vllm_url:
            return VLLMEngine(
                settings.vllm_url, api_key=settings.vllm_api_key, model=settings.model_name
            )
        folder = model_folder(settings)
        server = VLLMServer(
            folder,
            python=settings.vllm_python,
            port=settings.vllm_port,
            served_name=settings.model_name or folder.name,
            dtype=settings.vllm_dtype,
            max_model_len=settings.vllm_max_model_len,
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

    def __init__(self, settings: Any, threads: int = 8) -> None:
        self.settings = settings
        self.threads = threads
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="faithgate-engine")
        self.error: str | None = None
        self._task: asyncio.Task | None = None
        self._watch: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        """False when the service runs without a model (FAITHGATE_ENGINE=none)."""
        return self.settings.engine != "none"

    def start(self, app: Any) -> None:
        """Load the engine in the background (unless one was set on app.state.engine already)."""
        engine = getattr(app.state, "engine", None)
        if engine is not None:
            self._supervise_if_revivable(app, engine)
            return
        if self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._load(app))

    def _supervise_if_revivable(self, app: Any, engine: Any) -> None:
        if hasattr(engine, "revive"):
            self._watch = asyncio.get_running_loop().create_task(self._supervise(app, engine))

    async def _load(self, app: Any) -> None:
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
            app.state.engine = engine
            self._supervise_if_revivable(app, engine)
            for spec in self.settings.adapters:
                name, _, path = spec.partition("=")
                await self.load_adapter(app, name.strip(), path.strip(), request_id="startup")
        except Exception as exc:  # the service keeps serving /v1/validate; /readyz says why
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the engine could not be loaded")

    async def _supervise(self, app: Any, engine: Any) -> None:
        """Restart an engine server that died (vLLM started by faithgate) and audit it."""
        while True:
            await asyncio.sleep(self.settings.vllm_watch_s)
            try:
                revived = await self.run(engine.revive)
            except Exception as exc:  # still down: /readyz says so; try again next round
                log.error("the engine server could not be restarted: %s", exc)
                continue
            if revived is not None:
                await self._audit(app, "engine.restarted", None, None, None, "supervisor", revived)

    async def stop(self, app: Any) -> None:
        """Cancel a load in progress and release the engine (stopping a server it started)."""
        for task in (self._task, self._watch):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        engine = getattr(app.state, "engine", None)
        if engine is not None and hasattr(engine, "close"):
            await self.run(engine.close)
            app.state.engine = None
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="faithgate-engine")

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking engine call on the engine's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))

    async def readiness(self, app: Any) -> tuple[bool, str]:
        """(ready, what) for /readyz: the engine's own check runs on the engine's threads."""
        if not self.enabled:
            return True, "none"
        engine = getattr(app.state, "engine", None)
        if engine is not None and await self.run(engine.ready):
            return True, "ready"
        return False, self.why_not(app)

    def why_not(self, app: Any) -> str:
        """Why no engine serves (for 503 messages)."""
        if not self.enabled:
            return "this service runs without a model (set FAITHGATE_ENGINE)"
        if self.error:
            return f"the engine failed to load: {self.error}"
        if getattr(app.state, "engine", None) is None:
            return "the model is loading"
        return "the engine is not answering"

    # --- audited adapter operations -----------------------------------------------------------
    async def load_adapter(
        self,
        app: Any,
        name: str,
        path: str,
        *,
        key_id: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Hot-load an adapter and audit it ("adapter.loaded"; failures "adapter.load_failed")."""
        engine = _engine(app)
        state = app.state.faithgate
        try:
            await self.run(engine.load_adapter, name, path)
        except EngineError as exc:
            state.metrics.adapter_operations.labels("load", "error").inc()
            await self._audit(
                app,
                "adapter.load_failed",
                name,
                None,
                key_id,
                request_id,
                {"name": name, "path": str(path), "error": str(exc)},
            )
            raise
        digest = engine.adapter_hash(name) if hasattr(engine, "adapter_hash") else None
        state.metrics.adapter_operations.labels("load", "ok").inc()
        record = await self._audit(
            app,
            "adapter.loaded",
            name,
            digest,
            key_id,
            request_id,
            {"name": name, "path": str(path), "sha256": digest, "engine": engine.kind},
        )
        return {"name": name, "sha256": digest, "record_id": record.get("id")}

    async def unload_adapter(
        self, app: Any, name: str, *, key_id: str | None = None, request_id: str | None = None
    ) -> dict[str, Any]:
        """Unload an adapter and audit it ("adapter.unloaded")."""
        engine = _engine(app)
        digest = engine.adapter_hash(name) if hasattr(engine, "adapter_hash") else None
        await self.run(engine.unload_adapter, name)
        app.state.faithgate.metrics.adapter_operations.labels("unload", "ok").inc()
        record = await self._audit(
            app,
            "adapter.unloaded",
            name,
            digest,
            key_id,
            request_id,
            {"name": name, "sha256": digest, "engine": engine.kind},
        )
        return {"name": name, "sha256": digest, "record_id": record.get("id")}

    async def _audit(
        self,
        app: Any,
        event: str,
        adapter: str | None,
        digest: str | None,
        key_id: str | None,
        request_id: str | None,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        state = app.state.faithgate
        engine = app.state.engine
        record = await asyncio.get_running_loop().run_in_executor(
            state.audit_executor,
            partial(
                state.store.append,
                event,
                request_id=request_id,
                key_id=key_id,
                model=engine.base_model,
                adapter=adapter,
                data=data,
                model_hash=engine.base_model_hash,
                adapter_hash=digest,
            ),
        )
        state.metrics.audit_records.labels(event).inc()
        return record


def _close_built(future: Any) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


def _engine(app: Any) -> Engine:
    engine = getattr(app.state, "engine", None)
    if engine is None:
        raise EngineError("no engine is loaded")
    return engine
