"""faithgate validators: reasoning chains in, faithfulness reports out (no HTTP, DB or torch)."""

from validators.pipeline import validate, validate_chain
from validators.types import Chain, ChainError

__all__ = ["Chain", "ChainError", "validate", "validate_chain"]
