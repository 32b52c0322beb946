"""The one rule for a flagged report: unfaithful, or laundering.

A flagged validation opens a review case (service/store), makes the chat policies block or retry
(service/chat), and is never a passing example for training (training/cases.py).
"""

from __future__ import annotations

from typing import Any


def flagged(report: Any) -> bool:
    """True when the report is unfaithful or laundering (unverifiable ones are not flagged)."""
    return isinstance(report, dict) and (
        report.get("verdict") == "unfaithful" or report.get("laundering") is True
    )
