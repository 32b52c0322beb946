"""faithgate's data layer: tamper-evident audit trail, API keys, cases, signed exports.

Store and KeyInfo are imported on first use, so that the bundle verifier
(`python -m service.store.verify BUNDLE`) runs where SQLAlchemy is not installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from service.store.errors import AuditWriteError, CaseConflict, CaseNotFound
from service.store.verify import VerifyResult, verify_bundle

if TYPE_CHECKING:
    from service.store.keys import SCOPES, KeyInfo
    from service.store.store import Store

_LAZY = {
    "Store": "service.store.store",
    "KeyInfo": "service.store.keys",
    "SCOPES": "service.store.keys",
}

__all__ = [
    "SCOPES",
    "AuditWriteError",
    "CaseConflict",
    "CaseNotFound",
    "KeyInfo",
    "Store",
    "VerifyResult",
    "verify_bundle",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'service.store' has no attribute {name!r}")
