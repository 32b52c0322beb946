"""The summary printed at the end of a run: verdict counts, top finding codes, chains/s."""

from __future__ import annotations

import time
from collections import Counter

from service.datasets.work import RowResult

TOP_CODES = 8


class Summary:
    """Counts accumulated row by row."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.rows = 0
        self.kept = 0
        self.verdicts: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()

    @property
    def chains(self) -> int:
        """How many chains were validated so far."""
        return sum(self.verdicts.values())

    def add(self, result: RowResult) -> None:
        """Count one row's results."""
        self.rows += 1
        self.kept += result.passed
        self.verdicts.update(result.verdicts)
        self.codes.update(result.codes)

    def render(self, keep: str | None = None, kept_path: str | None = None) -> str:
        """Lines for stderr."""
        seconds = max(time.perf_counter() - self.started, 1e-9)
        lines = [
            f"{self.rows} rows, {self.chains} chains in {seconds:.1f} s "
            f"({self.chains / seconds:,.0f} chains/s)",
            "verdicts: "
            + ", ".join(
                f"{v} {self.verdicts[v]}" for v in ("faithful", "unfaithful", "unverifiable")
            ),
        ]
        if self.codes:
            top = self.codes.most_common(TOP_CODES)
            lines.append("top findings: " + ", ".join(f"{c} {n}" for c, n in top))
        if keep is not None:
            lines.append(f"kept {self.kept} of {self.rows} rows ({keep}) -> {kept_path}")
        return "\n".join(lines)
