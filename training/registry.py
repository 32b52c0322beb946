"""The adapter registry: adapter folders with their metadata, promotion and rollback.

Layout under the registry root:
    <name>/adapter/adapter_model.safetensors, adapter_config.json   the PEFT adapter (what the
                                                                    engine loads and hashes)
    <name>/faithgate.json                        metadata (lineage, config, metrics, gate, hash)
    registry.json                                {"active": name, "history": [...]}

Statuses: candidate (gate passed, not promoted), rejected (gate failed), active (the promoted
one), superseded (promoted before, still servable), rolled_back (withdrawn). Several processes
(the service, a training worker, the CLI) share the folder: writes happen under a file lock and
replace files atomically.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.model import files_hash

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
META = "faithgate.json"
INDEX = "registry.json"
SERVABLE = ("active", "superseded")


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown name, gate refused, nothing to undo)."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    os.replace(tmp, path)


def adapter_rank(folder: Path | str) -> int | None:
    """The largest LoRA rank of an adapter folder (its adapter_config.json), None if unreadable."""
    try:
        config = json.loads((Path(folder) / "adapter_config.json").read_text())
        ranks = [int(config.get("r") or 0)]
        ranks += [int(v) for v in (config.get("rank_pattern") or {}).values()]
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return max(ranks) or None


def adapter_hash(folder: Path) -> str:
    """Content hash of an adapter folder (the engine's adapter_hash of the same files)."""
    return files_hash(folder)


class Registry:
    """Adapters on disk under `root`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _index(self) -> dict[str, Any]:
        path = self.root / INDEX
        if not path.exists():
            return {"active": None, "history": []}
        return json.loads(path.read_text())

    def history(self) -> list[dict[str, Any]]:
        """Promotions and rollbacks, oldest first ({"action", "name", "at", "by", ...})."""
        return [e for e in self._index().get("history") or [] if isinstance(e, dict)]

    def path(self, name: str) -> Path:
        """The folder of an adapter (RegistryError for a bad or unknown name)."""
        if not NAME.match(name or ""):
            raise RegistryError(f"invalid adapter name {name!r}")
        folder = self.root / name
        if not (folder / META).exists():
            raise RegistryError(f"no adapter {name!r}")
        return folder

    def get(self, name: str) -> dict[str, Any]:
        """An adapter's metadata."""
        return json.loads((self.path(name) / META).read_text())

    def list(self) -> list[dict[str, Any]]:
        """Every adapter's metadata, newest first."""
        if not self.root.is_dir():
            return []
        out = []
        for meta in self.root.glob(f"*/{META}"):
            try:
                out.append(json.loads(meta.read_text()))
            except (OSError, json.JSONDecodeError):
                continue
        return sorted(out, key=lambda m: m.get("created_at", ""), reverse=True)

    def active(self) -> str | None:
        """The name of the active adapter, or None."""
        return self._index().get("active")

    def servable(self) -> list[dict[str, Any]]:
        """Adapters the engine should hold: the active one and those it superseded."""
        return [m for m in self.list() if m.get("status") in SERVABLE]

    def ranks(self) -> dict[str, int]:
        """name -> LoRA rank of every adapter whose config is readable (what a server must fit)."""
        out = {}
        for meta in self.list():
            rank = adapter_rank(meta.get("path") or self.root / str(meta.get("name")) / "adapter")
            if rank is not None:
                out[str(meta.get("name"))] = rank
        return out

    def stamp(self) -> float:
        """Modification time of the index (changes on every promotion or rollback)."""
        try:
            return (self.root / INDEX).stat().st_mtime
        except OSError:
            return 0.0

    def register(self, src: Path, name: str, meta: dict[str, Any]) -> dict[str, Any]:
        """Copy a saved PEFT adapter into the registry with its metadata; returns the metadata."""
        if not NAME.match(name):
            raise RegistryError(f"invalid adapter name {name!r}")
        missing = [f for f in ADAPTER_FILES if not (Path(src) / f).exists()]
        if missing:
            raise RegistryError(f"{src} is not a PEFT adapter folder (missing {missing})")
        with self._locked():
            folder = self.root / name
            if folder.exists():
                raise RegistryError(f"adapter {name!r} already exists")
            tmp = self.root / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            (tmp / "adapter").mkdir(parents=True)
            for f in ADAPTER_FILES:
                shutil.copy2(Path(src) / f, tmp / "adapter" / f)
            gate = meta.get("gate") or {}
            full = {
                **meta,
                "name": name,
                "created_at": meta.get("created_at") or _now(),
                "content_hash": adapter_hash(tmp / "adapter"),
                "status": "candidate" if gate.get("passed") else "rejected",
                "path": str((folder / "adapter").resolve()),
            }
            _write_json(tmp / META, full)
            os.replace(tmp, folder)
        return full

    def _set_status(self, name: str, status: str, **extra: Any) -> dict[str, Any]:
        meta = self.get(name)
        meta.update(status=status, **extra)
        _write_json(self.path(name) / META, meta)
        return meta

    def promote(
        self,
        name: str,
        *,
        force: bool = False,
        by: str | None = None,
        before: Callable[[dict[str, Any], str | None], None] | None = None,
    ) -> dict[str, Any]:
        """Make `name` the active adapter (RegistryError if the gate refused it, unless forced).

        Promoting the active adapter changes nothing. `before(meta, previous)` runs under the
        lock just before the change is written (the caller's audit record: if it raises, the
        registry is left as it was).
        """
        with self._locked():
            meta = self.get(name)
            if meta.get("status") == "active":
                return meta
            if not (meta.get("gate") or {}).get("passed") and not force:
                reasons = "; ".join((meta.get("gate") or {}).get("reasons") or ["no gate result"])
                raise RegistryError(f"adapter {name!r} did not pass the gate: {reasons}")
            index = self._index()
            previous = index.get("active")
            if before is not None:
                before(meta, previous)
            if previous and previous != name:
                self._set_status(previous, "superseded")
            meta = self._set_status(name, "active", promoted_at=_now(), forced=bool(force))
            index["active"] = name
            index["history"].append(
                {
                    "action": "promote",
                    "name": name,
                    "previous": previous,
                    "at": meta["promoted_at"],
                    "by": by,
                    "forced": bool(force),
                }
            )
            _write_json(self.root / INDEX, index)
        return meta

    def rollback(
        self,
        *,
        by: str | None = None,
        before: Callable[[dict[str, Any], dict[str, Any] | None], None] | None = None,
    ) -> tuple[str, str | None]:
        """Withdraw the active adapter and reinstate the one active before it: (from, to).

        `before(withdrawn_meta, reinstated_meta_or_None)` runs under the lock just before the
        change is written (the caller's audit record; if it raises, nothing changes).
        """
        with self._locked():
            index = self._index()
            current = index.get("active")
            if not current:
                raise RegistryError("no active adapter to roll back")
            target = self._reinstatable(index, current)
            if before is not None:
                before(self.get(current), self.get(target) if target else None)
            self._set_status(current, "rolled_back", rolled_back_at=_now())
            if target:
                self._set_status(target, "active", promoted_at=_now())
            index["active"] = target
            index["history"].append(
                {"action": "rollback", "name": current, "to": target, "at": _now(), "by": by}
            )
            _write_json(self.root / INDEX, index)
        return current, target

    def _reinstatable(self, index: dict[str, Any], current: str) -> str | None:
        """The adapter a rollback of `current` reinstates: the last one it superseded."""
        for entry in reversed(index["history"]):
            if entry.get("action") != "promote" or entry.get("name") == current:
                continue
            try:
                if self.get(entry["name"]).get("status") == "superseded":
                    return entry["name"]
            except RegistryError:
                continue
        return None
