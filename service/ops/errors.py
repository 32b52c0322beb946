"""Domain errors of the operations layer; service/errors.py maps each kind to one HTTP status."""

from __future__ import annotations


class OpError(Exception):
    """An operation refused: a machine-readable code and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(OpError):
    """The thing the operation names does not exist (HTTP 404)."""


class Conflict(OpError):
    """The thing exists but is not in a state that allows the operation (HTTP 409)."""


class Invalid(OpError):
    """The request is well-formed but refused: a bad option, a guard, a missing model (HTTP 422)."""


class Unavailable(OpError):
    """A resource the operation needs did not answer (HTTP 503)."""


class BadRequest(OpError):
    """The request asks for something that cannot be done as asked (HTTP 400)."""
