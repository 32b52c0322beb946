"""bench/gsm8k_bench.py --baseline: another commit's speed, measured in the same run."""

from __future__ import annotations

import subprocess

from bench import gsm8k_bench
from bench.common import ROOT


def _worktrees() -> str:
    return subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_a_baseline_commit_is_built_and_measured_beside_this_checkout(data_dir) -> None:
    before = _worktrees()
    # (without its compiled build, which would add most of a minute to CI: the build is
    # `make native`'s script, which `make test` runs before any test)
    measured = gsm8k_bench.baseline_speeds("HEAD", limit=40, seconds=0.3, rounds=2, build=False)
    assert _worktrees() == before  # its worktree is gone again
    for name in ("baseline", "this"):
        assert len(measured[name]["rates"]) == 2 and min(measured[name]["rates"]) > 0
    assert measured["baseline"]["state"] == "absent"  # its own tree, not this checkout's build
    assert measured["this"]["state"] == "native"
    text = gsm8k_bench._baseline_text("HEAD", 2, 0.3, measured)
    assert text.startswith("Against commit HEAD in the same run (2 rounds of 0.3 CPU-seconds")
    assert "ratio of medians" in text


def test_the_text_says_when_the_ranges_overlap() -> None:
    def runs(*rates: float) -> dict:
        return {"rates": list(rates), "state": "native"}

    apart = gsm8k_bench._baseline_text(
        "abc", 3, 8, {"this": runs(5, 6, 7), "baseline": runs(1, 2, 3)}
    )
    assert "ratio of medians 3.00×" in apart and "ranges do not overlap" in apart
    close = gsm8k_bench._baseline_text(
        "abc", 3, 8, {"this": runs(5, 6, 7), "baseline": runs(4, 5, 6)}
    )
    assert "ratio of medians 1.20×" in close and "within the noise" in close
