"""RFC 6962 (section 2.1) Merkle tree hash, pure standard library.

MTH({})      = SHA-256()
MTH({d0})    = SHA-256(0x00 || d0)
MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n.

faithgate's leaves are the records' hashes as 32 raw bytes (not their hex text), so an
inclusion proof for one record needs only that record's hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree head over `leaves` (raw leaf data, hashed here with the 0x00 prefix)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    # Bottom-up: pairing left to right and carrying an odd last node up unchanged builds exactly
    # the tree of the RFC's recursive split (left subtree = largest power of two < n).
    level = [leaf_hash(leaf) for leaf in leaves]
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def merkle_root_recursive(leaves: Sequence[bytes]) -> bytes:
    """The RFC's recursive definition verbatim (used by tests to check merkle_root)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root_recursive(leaves[:k]), merkle_root_recursive(leaves[k:]))
