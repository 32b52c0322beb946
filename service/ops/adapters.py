"""The adapter registry: promote and roll back, each recorded before the registry changes.

The audit record is written under the registry's lock just before the change, so the trail and
the registry (from which the promotion metrics are read) always agree: promoting the adapter
that is already active changes nothing and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.ops.audit import Actor, record
from service.ops.errors import Conflict, NotFound
from training.registry import Registry, RegistryError


@dataclass
class Promotion:
    """What a promotion did: the adapter, the one active before, and whether anything changed."""

    adapter: dict[str, Any]
    previous: str | None
    changed: bool


def _header(meta: dict[str, Any]) -> dict[str, Any]:
    """The record header fields of an adapter: its base model and both content hashes."""
    return {
        "model": meta.get("base_model"),
        "model_hash": meta.get("base_model_hash"),
        "adapter": meta.get("name"),
        "adapter_hash": meta.get("content_hash"),
    }


def get_adapter(registry: Registry, name: str) -> dict[str, Any]:
    """One adapter's metadata (lineage, config, metrics, gate decision, content hash)."""
    try:
        return registry.get(name)
    except RegistryError as exc:
        raise NotFound("adapter_not_found", str(exc)) from exc


def promote(
    store: Any,
    registry: Registry,
    name: str,
    actor: Actor,
    *,
    force: bool = False,
    engine: Any = None,
) -> Promotion:
    """Make `name` active (audited as adapter.promoted); refused if the gate refused it.

    Refused too (audited as adapter.promotion_refused, even when forced) when the running
    `engine` cannot load it: an active adapter the engine does not serve would answer 404s.
    """
    meta = get_adapter(registry, name)
    gate = meta.get("gate") or {}
    if not gate.get("passed") and not force:
        reasons = "; ".join(gate.get("reasons") or ["no gate result"])
        raise Conflict("gate_refused", f"adapter {name!r} did not pass the gate: {reasons}")
    check = getattr(engine, "unloadable", None)
    reason = check(str(meta.get("path"))) if check is not None else None
    if isinstance(reason, str):
        data = {"name": name, "engine": getattr(engine, "kind", None), "reason": reason}
        record(store, "adapter.promotion_refused", actor, **_header(meta), data=data)
        raise Conflict(
            "adapter_unloadable", f"adapter {name!r} cannot be served by the engine: {reason}"
        )
    changes: list[str | None] = []

    def audit(meta: dict[str, Any], previous: str | None) -> None:
        data = {"name": name, "previous": previous, "forced": force, "gate": gate}
        record(store, "adapter.promoted", actor, **_header(meta), data=data)
        changes.append(previous)

    try:
        promoted = registry.promote(name, force=force, by=actor.id, before=audit)
    except RegistryError as exc:  # withdrawn or re-registered meanwhile
        raise Conflict("gate_refused", str(exc)) from exc
    previous = changes[0] if changes else registry.active()
    return Promotion(promoted, previous, bool(changes))


def rollback(store: Any, registry: Registry, actor: Actor) -> tuple[str, str | None]:
    """Withdraw the active adapter and reinstate the one before it: (withdrawn, reinstated).

    Audited as adapter.rolled_back: the header names the withdrawn adapter and its hash, the
    payload both adapters and their hashes.
    """

    def audit(withdrawn: dict[str, Any], reinstated: dict[str, Any] | None) -> None:
        back = reinstated or {}
        data = {
            "name": withdrawn.get("name"),
            "withdrawn_hash": withdrawn.get("content_hash"),
            "reinstated": back.get("name"),
            "reinstated_hash": back.get("content_hash"),
        }
        record(store, "adapter.rolled_back", actor, **_header(withdrawn), data=data)

    if registry.active() is None:
        raise Conflict("nothing_to_roll_back", "no adapter is active")
    try:
        return registry.rollback(by=actor.id, before=audit)
    except RegistryError as exc:
        raise Conflict("nothing_to_roll_back", str(exc)) from exc
