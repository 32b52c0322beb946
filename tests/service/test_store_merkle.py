"""RFC 6962 Merkle tree heads and canonical record hashing (pure functions, no database)."""

from __future__ import annotations

import hashlib
import json

from service.store.canonical import canonical_json, record_hash, to_canonical_text
from service.store.merkle import merkle_root, merkle_root_recursive

# The Certificate Transparency reference leaves and the tree heads of sizes 0..8.
CT_HEX = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_LEAVES = [bytes.fromhex(h) for h in CT_HEX]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_merkle_root_matches_the_rfc_6962_reference_heads() -> None:
    for size, expected in enumerate(CT_ROOTS):
        assert merkle_root(CT_LEAVES[:size]).hex() == expected


def test_iterative_root_equals_the_recursive_definition_for_every_shape() -> None:
    leaves = [bytes([i, i * 7 % 256]) for i in range(70)]
    for size in range(70):
        assert merkle_root(leaves[:size]) == merkle_root_recursive(leaves[:size])


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'


def test_record_hash_is_sha256_of_the_canonical_header() -> None:
    header = {"id": 1, "prev_hash": "0" * 64, "event": "x"}
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert record_hash(header) == hashlib.sha256(text.encode()).hexdigest()


def test_text_json_cannot_hold_is_repaired_deterministically() -> None:
    text = to_canonical_text({"s": "bad \ud800 surrogate", "x": float("nan")})
    text.encode("utf-8")  # would raise on a lone surrogate
    assert json.loads(text) == {"s": "bad \ufffd surrogate", "x": "nan"}
    assert to_canonical_text(json.loads(text)) == text
