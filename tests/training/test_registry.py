"""The adapter registry: metadata, hashes the engine agrees with, promotion, rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.model import files_hash
from training.registry import Registry, RegistryError


def fake_adapter(folder: Path, weights: bytes) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    (folder / "adapter_model.safetensors").write_bytes(weights)
    return folder


def register(reg: Registry, tmp: Path, name: str, passed: bool) -> dict:
    src = fake_adapter(tmp / f"src-{name}", name.encode())
    gate = {"passed": passed, "reasons": [] if passed else ["faithfulness did not improve"]}
    return reg.register(src, name, {"gate": gate, "base_model": "b", "lineage": {"cases": ["c1"]}})


def test_registration_keeps_metadata_and_a_hash_the_engine_computes_too(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "reg")
    meta = register(reg, tmp_path, "fg-a", passed=True)
    assert meta["status"] == "candidate" and meta["lineage"] == {"cases": ["c1"]}
    assert meta["content_hash"] == files_hash(Path(meta["path"]))
    assert reg.get("fg-a") == meta and [m["name"] for m in reg.list()] == ["fg-a"]
    with pytest.raises(RegistryError, match="already exists"):
        register(reg, tmp_path / "again", "fg-a", passed=True)
    with pytest.raises(RegistryError, match="invalid adapter name"):
        reg.get("../etc")


def test_a_refused_adapter_is_not_promoted_unless_forced(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "reg")
    register(reg, tmp_path, "fg-bad", passed=False)
    assert reg.get("fg-bad")["status"] == "rejected"
    with pytest.raises(RegistryError, match="did not pass the gate: faithfulness did not improve"):
        reg.promote("fg-bad")
    assert reg.active() is None
    assert reg.promote("fg-bad", force=True)["forced"] is True
    assert reg.active() == "fg-bad"


def test_promotion_supersedes_and_rollback_restores(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "reg")
    for name in ("fg-1", "fg-2"):
        register(reg, tmp_path, name, passed=True)
    reg.promote("fg-1")
    reg.promote("fg-2")
    assert reg.active() == "fg-2" and reg.get("fg-1")["status"] == "superseded"
    assert {m["name"] for m in reg.servable()} == {"fg-1", "fg-2"}
    assert reg.rollback() == ("fg-2", "fg-1")
    assert reg.active() == "fg-1" and reg.get("fg-2")["status"] == "rolled_back"
    assert {m["name"] for m in reg.servable()} == {"fg-1"}
    assert reg.rollback() == ("fg-1", None)
    with pytest.raises(RegistryError, match="no active adapter"):
        reg.rollback()
