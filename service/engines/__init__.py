"""Model hosting: one engine protocol (base.py), the embedded transformers engine and vLLM."""

from service.engines.base import (
    AdapterLoadError,
    Engine,
    EngineError,
    EngineUnavailable,
    Generation,
    SamplingParams,
    UnknownAdapter,
)

__all__ = [
    "AdapterLoadError",
    "Engine",
    "EngineError",
    "EngineUnavailable",
    "Generation",
    "SamplingParams",
    "UnknownAdapter",
]
