"""The signals validator (scaffold: replaced by the real implementation)."""

from __future__ import annotations

from validators.types import Analysis


class SignalsValidator:
    """Scaffold that checks nothing yet."""

    name = "signals"
    version = "0.0"

    def check(self, analysis: Analysis) -> None:
        """Check nothing (scaffold)."""
