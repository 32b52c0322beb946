"""Figures the reliability tests hand to their companion bench (bench/reliability_bench.py).

Outside the bench this does nothing: FAITHGATE_BENCH_FIGURES names a JSON Lines file to append to.
"""

from __future__ import annotations

import json
import os
from typing import Any


def record(test: str, **figures: Any) -> None:
    """Append one test's figures to $FAITHGATE_BENCH_FIGURES, if the bench asked for them."""
    target = os.environ.get("FAITHGATE_BENCH_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"test": test, **figures}) + "\n")
