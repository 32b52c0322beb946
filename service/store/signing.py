"""The Ed25519 key that signs export manifests: generated on first start into data_dir."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.store.verify import fingerprint

log = logging.getLogger(__name__)

PRIVATE_KEY_FILE = "audit_signing_key.pem"
PUBLIC_KEY_FILE = "audit_signing_key.pub.pem"


class SigningKey:
    """The operator's export-signing key pair."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fingerprint = fingerprint(self.public_pem)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of data."""
        return self._key.sign(data)


def _write_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Write data to path atomically unless it exists; False when another process won."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # link() fails if the name exists, so two replicas starting together never mix keys and
        # a reader never sees a half-written file.
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create(data_dir: Path) -> SigningKey:
    """Load data_dir's signing key, generating it (private file mode 0600) on first start."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # keys and the database: owner only
    path = data_dir / PRIVATE_KEY_FILE
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if _write_exclusive(path, pem, 0o600):
            log.info("generated the audit signing key %s", path)
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by group or others; chmod 600 it", path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    signing = SigningKey(key)
    pub = data_dir / PUBLIC_KEY_FILE
    if not pub.exists():
        _write_exclusive(pub, signing.public_pem, 0o644)
    return signing
