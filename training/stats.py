"""Paired statistics for the gate: McNemar's exact test, a paired bootstrap interval, sample size.

The gate compares the base model and the adapter on the same held-back cases, so each case gives
a pair of outcomes (pass/fail before, pass/fail after). Only the discordant pairs carry
information about a change: b = passed before and failed after, c = failed before and passed
after. McNemar's exact test is the binomial test of c against b + c at p = 1/2. The interval of
the change (after - before, in points) is a percentile bootstrap over the pairs with a fixed
seed, so the same outcomes always give the same interval, byte for byte.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20260101
POWER = 0.8


@dataclass(frozen=True)
class Paired:
    """The comparison of one paired binary outcome before and after (rates in [0, 1])."""

    n: int
    before: float
    after: float
    worse: int  # b: 1 before, 0 after
    better: int  # c: 0 before, 1 after
    effect_points: float  # 100 * (after - before)
    ci_points: tuple[float, float]  # 95 % paired bootstrap interval of the effect
    p_increase: float  # one-sided exact McNemar p-value for "after > before"
    p_decrease: float  # one-sided exact McNemar p-value for "after < before"

    def as_dict(self) -> dict[str, Any]:
        """JSON form, rounded so that reports compare byte for byte."""
        return {
            "n": self.n,
            "before": round(self.before, 6),
            "after": round(self.after, 6),
            "worse": self.worse,
            "better": self.better,
            "effect_points": round(self.effect_points, 4),
            "ci95_points": [round(self.ci_points[0], 4), round(self.ci_points[1], 4)],
            "p_increase": round(self.p_increase, 6),
            "p_decrease": round(self.p_decrease, 6),
        }


def binomial_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), exact (1.0 when k <= 0)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return min(1.0, sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n)


def bootstrap_ci(
    before: list[int], after: list[int], level: float = 0.95, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(after - before), in points (pairs resampled)."""
    n = len(before)
    if n == 0:
        return (0.0, 0.0)
    diffs = [a - b for a, b in zip(after, before, strict=True)]
    rng = random.Random(seed)
    means = sorted(
        100.0 * sum(diffs[rng.randrange(n)] for _ in range(n)) / n
        for _ in range(BOOTSTRAP_RESAMPLES)
    )
    tail = (1 - level) / 2
    lo = means[int(math.floor(tail * (BOOTSTRAP_RESAMPLES - 1)))]
    hi = means[int(math.ceil((1 - tail) * (BOOTSTRAP_RESAMPLES - 1)))]
    return (lo, hi)


def paired(before: list[int], after: list[int]) -> Paired:
    """The paired comparison of two aligned 0/1 outcome lists (same cases, same order)."""
    if len(before) != len(after):
        raise ValueError("paired outcomes must have the same length")
    n = len(before)
    worse = sum(1 for b, a in zip(before, after, strict=True) if b and not a)
    better = sum(1 for b, a in zip(before, after, strict=True) if a and not b)
    rate_b = sum(before) / n if n else 0.0
    rate_a = sum(after) / n if n else 0.0
    discordant = worse + better
    return Paired(
        n=n,
        before=rate_b,
        after=rate_a,
        worse=worse,
        better=better,
        effect_points=100.0 * (rate_a - rate_b),
        ci_points=bootstrap_ci(before, after),
        p_increase=binomial_tail(better, discordant),
        p_decrease=binomial_tail(worse, discordant),
    )


def cases_needed(result: Paired, alpha: float, power: float = POWER) -> int | None:
    """Pairs a one-sided McNemar test needs to show the observed gain (Connor 1987); None if none.

    None when no gain was observed (no number of cases shows an effect that is not there).
    """
    n = result.n
    if n == 0 or result.better <= result.worse:
        return None
    p_disc = (result.better + result.worse) / n
    delta = (result.better - result.worse) / n
    z_a = NormalDist().inv_cdf(1 - alpha)
    z_b = NormalDist().inv_cdf(power)
    need = (z_a * math.sqrt(p_disc) + z_b * math.sqrt(max(p_disc - delta**2, 0.0))) ** 2
    return max(n, math.ceil(need / delta**2))
