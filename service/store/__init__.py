"""faithgate's data layer: tamper-evident audit trail, API keys, cases, signed exports."""

from service.store.errors import AuditWriteError, CaseConflict, CaseNotFound
from service.store.keys import SCOPES, KeyInfo
from service.store.store import Store
from service.store.verify import VerifyResult, verify_bundle

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
