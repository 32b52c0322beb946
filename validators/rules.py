"""The rules validator (scaffold: replaced by the real implementation)."""

from __future__ import annotations

from validators.types import Analysis


class RulesValidator:
    """Scaffold that checks nothing yet."""

    name = "rules"
    version = "0.0"

    def check(self, analysis: Analysis) -> None:
        """Check nothing (scaffold)."""
