"""Verification of an audit chain and of an exported bundle; needs nothing but the bundle.

Imports only the standard library, `cryptography` and the pure helpers canonical.py and
merkle.py: nothing from the database side, so an auditor can run it on a bundle alone
(`faithgate audit verify BUNDLE`, or `python -m service.store.verify BUNDLE`).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from service.store.canonical import (
    GENESIS_HASH,
    HEADER_FIELDS,
    RECORD_SCHEMA,
    record_hash,
    sha256_hex,
)
from service.store.merkle import merkle_root

BUNDLE_FORMAT = "faithgate-audit-bundle"
BUNDLE_SCHEMA = 1
MANIFEST, RECORDS, SIGNATURE, PUBLIC_KEY = (
    "manifest.json",
    "records.jsonl",
    "signature.bin",
    "public_key.pem",
)
MEMBERS = (MANIFEST, SIGNATURE, PUBLIC_KEY, RECORDS)
_RECORD_KEYS = frozenset(HEADER_FIELDS) | {"hash", "payload"}
_SMALL_MEMBER_LIMIT = 1 << 20  # manifest, signature and key are tiny; refuse anything huge


@dataclass
class VerifyResult:
    """Outcome of a verification; first_bad is the id of the first altered/missing record."""

    ok: bool
    count: int
    first_bad: int | None
    message: str
    fingerprint: str | None = None
    manifest: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The {"ok", "count", "first_bad", "message"} form of the Store interface."""
        return {
            "ok": self.ok,
            "count": self.count,
            "first_bad": self.first_bad,
            "message": self.message,
        }


class ChainBroken(Exception):
    """A record that fails a check; `record_id` names it (None when it cannot be named)."""

    def __init__(self, record_id: int | None, message: str) -> None:
        super().__init__(message)
        self.record_id = record_id
        self.message = message


class ChainGap(ChainBroken):
    """A record id arrived later than expected: `record_id` is missing here (or moved)."""


@dataclass
class ChainChecker:
    """Checks records fed in chain order: ids consecutive, payload digests, hashes, links."""

    prev_hash: str = GENESIS_HASH
    next_id: int = 1
    # A payload may be absent (purged) only once its retain_until has passed this time.
    purge_horizon: str | None = None
    count: int = 0
    last_id: int | None = None
    leaves: list[bytes] = field(default_factory=list)
    validators_seen: dict[str, set[str]] = field(default_factory=dict)

    def feed(self, rec: Any) -> None:
        """Check the next record; raise ChainBroken naming the first bad record."""
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), int):
            raise ChainBroken(self.next_id, f"record {self.next_id} altered: no valid record id")
        rid = rec["id"]
        if rid != self.next_id:
            if rid > self.next_id:
                raise ChainGap(self.next_id, f"record {self.next_id} is missing")
            raise ChainBroken(rid, f"record {rid} is out of order (expected record {self.next_id})")
        if set(rec) != _RECORD_KEYS or rec["v"] != RECORD_SCHEMA:
            raise ChainBroken(
                rid, f"record {rid} altered: its fields are not those of schema {RECORD_SCHEMA}"
            )
        payload = rec["payload"]
        if payload is not None:
            if not isinstance(payload, str) or sha256_hex(payload) != rec["payload_sha256"]:
                raise ChainBroken(
                    rid, f"record {rid} altered: its payload does not match payload_sha256"
                )
        elif self.purge_horizon is not None and str(rec["retain_until"]) > self.purge_horizon:
            raise ChainBroken(
                rid, f"record {rid} altered: payload removed before its retention date"
            )
        try:
            computed = record_hash({k: rec[k] for k in HEADER_FIELDS})
        except (TypeError, ValueError):
            computed = None
        if computed != rec["hash"]:
            raise ChainBroken(rid, f"record {rid} altered: its content does not match its hash")
        if rec["prev_hash"] != self.prev_hash:
            if self.last_id is None:
                raise ChainBroken(
                    rid, f"record {rid} altered: its prev_hash is not the chain's start"
                )
            # Record rid is self-consistent, so the hash it recorded for its predecessor is
            # authentic: the predecessor is the record that changed.
            raise ChainBroken(
                self.last_id,
                f"record {self.last_id} altered: its hash is not the prev_hash in record {rid}",
            )
        self._accept(rec)

    def _accept(self, rec: dict[str, Any]) -> None:
        self.prev_hash = rec["hash"]
        self.last_id = rec["id"]
        self.next_id = rec["id"] + 1
        self.count += 1
        self.leaves.append(bytes.fromhex(rec["hash"]))
        if isinstance(rec["validators"], dict):
            for name, version in rec["validators"].items():
                self.validators_seen.setdefault(str(name), set()).add(str(version))

    def finish(self, last_id: int | None, last_hash: str | None) -> None:
        """Check that the chain ends where the trusted head (DB head row, manifest) says."""
        seen = self.last_id or 0  # 0: no record yet (an empty chain's head says 0)
        if last_id is not None and seen != last_id:
            if seen < last_id:
                raise ChainGap(
                    self.next_id, f"record {self.next_id} is missing (the chain ends at {last_id})"
                )
            raise ChainBroken(
                self.last_id, f"record {self.last_id} is beyond the end of the chain ({last_id})"
            )
        if last_hash is not None and self.prev_hash != last_hash:
            raise ChainBroken(
                self.last_id, f"record {self.last_id} altered: it is not the chain's last record"
            )


def fingerprint(public_key_pem: bytes) -> str:
    """SHA256:<hex> of the raw 32-byte Ed25519 public key (what the operator publishes)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_key_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def _check_signature(public_key_pem: bytes, signature: bytes, manifest_bytes: bytes) -> str | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except ValueError:
        return f"{PUBLIC_KEY} is not a valid public key (altered)"
    if not isinstance(key, Ed25519PublicKey):
        return f"{PUBLIC_KEY} is not an Ed25519 key"
    try:
        key.verify(signature, manifest_bytes)
    except InvalidSignature:
        return (
            f"bad signature: {SIGNATURE} does not sign {MANIFEST} "
            "(the manifest or the signature was altered)"
        )
    return None


def _members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    found: dict[str, tarfile.TarInfo] = {}
    for info in tar.getmembers():
        if info.name in found:
            raise ChainBroken(None, f"bundle holds {info.name} twice")
        if info.name not in MEMBERS:
            raise ChainBroken(None, f"bundle holds an unexpected member {info.name!r}")
        if not info.isfile():
            raise ChainBroken(None, f"bundle member {info.name} is not a regular file")
        found[info.name] = info
    missing = [m for m in MEMBERS if m not in found]
    if missing:
        raise ChainBroken(None, f"bundle lacks {', '.join(missing)}")
    return found


def _read_small(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    if info.size > _SMALL_MEMBER_LIMIT:
        raise ChainBroken(None, f"{info.name} is implausibly large ({info.size} bytes)")
    fh = tar.extractfile(info)
    assert fh is not None
    return fh.read()


def _later_ids(lines: IO[bytes]) -> set[int]:
    ids = set()
    for raw in lines:
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("id"), int):
            ids.add(rec["id"])
    return ids


def _check_records(
    lines: IO[bytes], manifest: dict[str, Any], state: dict[str, Any]
) -> ChainChecker:
    """Stream records.jsonl through a ChainChecker and compare the totals with the manifest."""
    period = manifest.get("period") or {}
    since, until = period.get("since"), period.get("until")
    checker = ChainChecker(
        prev_hash=manifest["prev_hash"] or GENESIS_HASH,
        next_id=manifest["first_id"] or 1,
        purge_horizon=manifest["exported_at"],
    )
    state["checker"] = checker
    digest = hashlib.sha256()
    for raw in lines:
        digest.update(raw)
        try:
            rec = json.loads(raw)
        except ValueError:
            raise ChainBroken(
                checker.next_id, f"record {checker.next_id} altered: not valid JSON"
            ) from None
        try:
            checker.feed(rec)
        except ChainGap as gap:
            # A later id here means the expected one is either gone or moved further down.
            moved = gap.record_id in _later_ids(lines)
            what = "out of order" if moved else "missing"
            raise ChainBroken(gap.record_id, f"record {gap.record_id} is {what}") from None
        ts = rec["ts"]
        if (since and ts < since) or (until and ts >= until):
            raise ChainBroken(rec["id"], f"record {rec['id']} lies outside the exported period")
        if checker.count > manifest["count"]:
            raise ChainBroken(rec["id"], f"record {rec['id']} is not covered by the manifest")
    checker.finish(manifest["last_id"], manifest["last_hash"])
    if checker.count != manifest["count"]:
        raise ChainBroken(
            checker.next_id, f"record {checker.next_id} is missing (manifest count differs)"
        )
    _check_head(manifest)
    if digest.hexdigest() != manifest["records_sha256"]:
        raise ChainBroken(None, f"{RECORDS} altered: its SHA-256 differs from the manifest's")
    if merkle_root(checker.leaves).hex() != manifest["merkle_root"]:
        raise ChainBroken(None, "Merkle root of the records differs from the manifest's")
    seen = {k: sorted(v) for k, v in checker.validators_seen.items()}
    if seen != manifest["validator_versions"]:
        raise ChainBroken(None, "validator versions in the records differ from the manifest's")
    return checker


def _check_head(manifest: dict[str, Any]) -> None:
    """The records must reach the chain head the manifest names wherever the period does."""
    head = manifest.get("chain_head_at_export")
    if not isinstance(head, dict):
        return  # bundles before the head was recorded
    head_id, head_hash = int(head["id"]), head["hash"]
    last_id = manifest["last_id"] or 0
    period = manifest.get("period") or {}
    if last_id > head_id:
        raise ChainBroken(last_id, f"record {last_id} lies beyond the chain head {head_id}")
    if last_id == head_id and last_id and manifest["last_hash"] != head_hash:
        raise ChainBroken(head_id, f"record {head_id} is not the chain head at export")
    whole_tail = not period.get("until") and (manifest["count"] or not period.get("since"))
    if whole_tail and last_id < head_id:
        raise ChainBroken(
            last_id + 1, f"record {last_id + 1} is missing (the chain head at export is {head_id})"
        )


_MANIFEST_KEYS = (
    "format", "schema_version", "exported_at", "period", "count", "first_id", "last_id",
    "first_hash", "last_hash", "prev_hash", "merkle_root", "records_sha256",
    "validator_versions", "public_key_fingerprint",
)  # fmt: skip


def _parse_manifest(manifest_bytes: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise ChainBroken(None, f"{MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise ChainBroken(None, f"{MANIFEST} is not a faithgate audit manifest")
    if manifest.get("schema_version") != BUNDLE_SCHEMA:
        raise ChainBroken(None, f"unsupported bundle schema {manifest.get('schema_version')!r}")
    absent = [k for k in _MANIFEST_KEYS if k not in manifest]
    if absent:
        raise ChainBroken(None, f"{MANIFEST} lacks {', '.join(absent)}")
    return manifest


def _open(path: str | Path | IO[bytes]) -> tarfile.TarFile:
    try:
        if isinstance(path, (str, Path)):
            return tarfile.open(path, "r:*")
        return tarfile.open(fileobj=path, mode="r:*")
    except (tarfile.TarError, OSError) as exc:
        raise ChainBroken(None, f"not a readable bundle: {exc}") from None


def _verify_tar(tar: tarfile.TarFile, state: dict[str, Any]) -> ChainChecker:
    members = _members(tar)
    manifest_bytes = _read_small(tar, members[MANIFEST])
    public_pem = _read_small(tar, members[PUBLIC_KEY])
    problem = _check_signature(public_pem, _read_small(tar, members[SIGNATURE]), manifest_bytes)
    if problem:
        raise ChainBroken(None, problem)
    state["fingerprint"] = fingerprint(public_pem)
    manifest = state["manifest"] = _parse_manifest(manifest_bytes)
    if manifest["public_key_fingerprint"] != state["fingerprint"]:
        raise ChainBroken(None, f"the manifest names another signing key than {PUBLIC_KEY}")
    lines = tar.extractfile(members[RECORDS])
    assert lines is not None
    return _check_records(lines, manifest, state)


def verify_bundle(path: str | Path | IO[bytes]) -> VerifyResult:
    """Verify a bundle: signature, manifest, every record's hash and link, the Merkle root."""
    state: dict[str, Any] = {"fingerprint": None, "manifest": None, "checker": None}
    try:
        with _open(path) as tar:
            checker = _verify_tar(tar, state)
    except ChainBroken as bad:
        count = state["checker"].count if state["checker"] else 0
        return VerifyResult(
            False, count, bad.record_id, bad.message, state["fingerprint"], state["manifest"]
        )
    except (tarfile.TarError, OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return VerifyResult(
            False,
            0,
            None,
            f"bundle unreadable or altered: {exc}",
            state["fingerprint"],
            state["manifest"],
        )
    manifest = state["manifest"]
    span = (
        f"records {manifest['first_id']}..{manifest['last_id']}" if checker.count else "no records"
    )
    message = f"intact: {checker.count} records ({span}), Merkle root {manifest['merkle_root']}"
    return VerifyResult(True, checker.count, None, message, state["fingerprint"], manifest)


def main(argv: list[str] | None = None) -> int:
    """`python -m service.store.verify BUNDLE`: 0 when intact, 1 otherwise."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m service.store.verify BUNDLE", file=sys.stderr)
        return 2
    result = verify_bundle(args[0])
    print(("OK: " if result.ok else "FAILED: ") + result.message)
    if result.fingerprint:
        print(f"signing key fingerprint: {result.fingerprint}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
