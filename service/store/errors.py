"""The store's exceptions; the HTTP layer maps them to status codes."""

from __future__ import annotations


class AuditWriteError(RuntimeError):
    """The audit record could not be committed (the HTTP layer answers 503)."""


class CaseNotFound(LookupError):
    """No case with that id."""


class CaseConflict(RuntimeError):
    """The case is not in the status the caller expected, or a review contradicts an earlier one."""
