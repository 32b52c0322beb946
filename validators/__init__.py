"""faithgate validators: reasoning chains in, faithfulness reports out (no HTTP, DB or torch)."""

from validators import native

native.install()  # before any other validators module is imported: see validators/native.py

from validators.pipeline import validate, validate_chain  # noqa: E402
from validators.types import Chain, ChainError  # noqa: E402

__all__ = ["Chain", "ChainError", "validate", "validate_chain"]
