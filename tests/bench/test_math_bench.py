"""bench/math_bench.py --baseline: per-chain CPU time under two commits, shown side by side."""

from __future__ import annotations

from bench import math_bench
from bench.common import ROOT


def test_a_pass_in_a_child_process_times_every_chain_of_every_set(data_dir) -> None:
    times = math_bench._child_times(ROOT)
    sets = math_bench.sets()
    assert list(times) == list(sets)
    assert all(len(times[name]) == len(items) for name, items in sets.items())
    assert all(ms > 0 for chains in times.values() for ms in chains)


def test_the_table_gives_median_and_range_over_the_passes() -> None:
    chains = [float(ms) for ms in range(1, 101)]  # p99 of 1..100 ms: 99 ms, total 5.05 s
    slower = [2 * ms for ms in chains]
    passes = {
        "this": [{"set": chains}, {"set": chains}, {"set": slower}],
        "baseline": [{"set": slower}, {"set": slower}, {"set": slower}],
    }
    table = math_bench.baseline_table("abc", passes)
    assert "| set | p99 ms, this | total s, this | p99 ms, abc | total s, abc |" in table
    assert "| set | 99.0 (99.0–198.0) | 5.05 (5.05–10.10) | 198.0 (198.0–198.0) |" in table
    assert math_bench.p99([]) == 0.0


def test_a_set_the_baseline_lacks_is_shown_as_a_dash() -> None:
    chains = [float(ms) for ms in range(1, 101)]
    passes = {"this": [{"old": chains, "new": chains}], "baseline": [{"old": chains}]}
    table = math_bench.baseline_table("abc", passes)
    assert "| new | 99.0 (99.0–99.0) | 5.05 (5.05–5.05) | – | – |" in table
    assert "| old | 99.0 (99.0–99.0) | 5.05 (5.05–5.05) | 99.0 (99.0–99.0) | 5.05" in table
