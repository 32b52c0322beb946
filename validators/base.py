"""The protocol every validator follows."""

from __future__ import annotations

from typing import Protocol

from validators.types import Analysis


class Validator(Protocol):
    """A named, versioned, deterministic check that adds findings to an analysis."""

    name: str
    version: str

    def check(self, analysis: Analysis) -> None:
        """Add findings and claim counts to `analysis`; stop early once its budget expires."""
        ...
