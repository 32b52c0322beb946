"""What a vLLM server must fit (rank, slots), and promotions an engine cannot serve (fast)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from service.engines.vllm_engine import lora_limits
from tests.service.api_support import store_events
from tests.service.engine_support import ScriptedEngine
from tests.service.training_support import auth, start_app
from training.registry import Registry, adapter_rank


def test_lora_limits_fit_every_adapter_in_the_registry() -> None:
    assert lora_limits([], 0, 16, 2) == (16, 2)  # nothing registered: the trainer's rank
    assert lora_limits([16, 8], 1, 8, 2) == (16, 2)  # a floor of 8 is raised to fit rank 16
    assert lora_limits([20], 4, 8, 2) == (32, 5)  # vLLM's next rank; every servable + 1
    assert lora_limits([600], 0, 8, 2) == (600, 2)  # beyond vLLM's ranks: the server says why


def _adapter(registry: Registry, tmp: Path, name: str, rank: int) -> None:
    src = tmp / f"src-{name}"
    src.mkdir()
    (src / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": rank}))
    (src / "adapter_model.safetensors").write_bytes(name.encode())
    meta = {"gate": {"passed": True, "reasons": []}, "base_model": "scripted-base"}
    registry.register(src, name, meta)


class RankLimited(ScriptedEngine):
    """A scripted engine that, like a vLLM server, loads adapters up to a LoRA rank."""

    kind = "vllm"

    def unloadable(self, path: str) -> str | None:
        rank = adapter_rank(path)
        return None if rank is None or rank <= 16 else f"its LoRA rank {rank} is above 16"


def test_promoting_an_adapter_the_engine_cannot_load_is_refused_and_audited(
    tmp_path: Path,
) -> None:
    engine = RankLimited(replies=["ok"])
    for app, client in start_app(tmp_path, engine):
        registry = Registry(tmp_path / "adapters")
        _adapter(registry, tmp_path, "fg-r16", 16)
        _adapter(registry, tmp_path, "fg-r64", 64)
        assert registry.ranks() == {"fg-r16": 16, "fg-r64": 64}
        headers = auth(app, "train")
        for body in (None, {"force": True}):  # forcing overrides the gate, not the engine
            r = client.post("/v1/adapters/fg-r64/promote", headers=headers, json=body)
            assert r.status_code == 409, r.text
            error: dict[str, Any] = r.json()["error"]
            assert error["code"] == "adapter_unloadable"
            assert "fg-r64" in error["message"] and "rank 64 is above 16" in error["message"]
        assert registry.active() is None and registry.get("fg-r64")["status"] == "candidate"
        events = [
            (e, d) for e, d, _ in store_events(app.state.faithgate.store)
            if e == "adapter.promotion_refused"
        ]  # fmt: skip
        assert len(events) == 2 and events[0][1]["reason"] == "its LoRA rank 64 is above 16"
        r = client.post("/v1/adapters/fg-r16/promote", headers=headers)
        assert r.status_code == 200 and registry.active() == "fg-r16"
