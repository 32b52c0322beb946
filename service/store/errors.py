"""The store's exceptions; the HTTP layer maps them to status codes."""

from __future__ import annotations


class AuditWriteError(RuntimeError):
    """The audit record could not be committed (the HTTP layer answers 503)."""


class CaseNotFound(LookupError):
    """No case with that id."""


class CaseConflict(RuntimeError):
    """The case is not in the status the caller expected, or a review contradicts an earlier one."""


class DatabaseUnavailable(RuntimeError):
    """The database did not answer in time or refused the connection (the HTTP layer: 503)."""


class ChainHeadMismatch(RuntimeError):
    """The chain-head row names another record than the newest one (one was deleted or replaced).

    An export of such a chain would look intact while hiding the loss, so the exporter refuses.
    """
