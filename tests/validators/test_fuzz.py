"""Property-based fuzz of validators.validate: whatever the chain, a report, never an exception.

Profiles: `ci` (the default, a short run inside `make test`) and `long` (`make fuzz`,
FAITHGATE_FUZZ=long). The figures (examples, slowest chain, duration) go to the companion bench,
bench/reliability_bench.py, through tests/figures.py.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.figures import record
from validators import validate

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = os.environ.get("FAITHGATE_FUZZ", "ci")
VERDICTS = {"faithful", "unfaithful", "unverifiable"}
# A hang-detection bound, not a performance claim: the per-chain budget is 0.5 s here and a
# chain over it must come back `unchecked`; 10 s leaves room for a loaded 2-core CI machine.
HANG_S = 10.0

# Fragments the validators parse: numbers of every shape, operators, LaTeX, FOL, units, words.
TOKENS = st.sampled_from(
    [
        "48", "24", "-3", "0", "1/2", "3.75", "1e308", "10**400", "9**9**9", "½", "2 1/4", "$1.50",
        "20%", "=", "+", "-", "*", "×", "÷", "/", "^", "(", ")", "≈", "about", "half of",
        "x", "y", "2x + 3 = 11", "x = 4", "\\frac{1}{2}", "\\sqrt{2}", "\\boxed{72}", "$", "\\[",
        "∀x (P(x) → Q(x))", "P(a)", "¬", "∧", "∨", "⊕", "∃", "#### 72", "The answer is",
        "clips", "HbA1c 6.8 %", "because", "Step 1:", "\n", ".", ",", "NaN", "inf", "\x00",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.lists(TOKENS, max_size=25).map(" ".join),
    st.text(max_size=200),
)
CHAIN = st.fixed_dictionaries(
    {"reasoning": st.one_of(TEXT, st.lists(TEXT, max_size=8))},
    optional={
        "id": st.one_of(st.text(max_size=20), st.integers()),
        "question": TEXT,
        "context": st.one_of(TEXT, st.lists(TEXT, max_size=4)),
        "answer": st.one_of(TEXT, st.integers(), st.none()),
        "reference_answer": TEXT,
        "domain": st.sampled_from(["math", "logic", "medical", "finance", "legal", "nope", ""]),
        "rulepack": st.sampled_from(["medical", "finance", "legal", "unknown"]),
    },
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
STATS: dict[str, Any] = {"examples": 0, "slowest_s": 0.0, "started": time.monotonic()}


def _check(data: Any) -> None:
    started = time.perf_counter()
    report = validate(data, budget_s=0.5)
    took = time.perf_counter() - started
    STATS["examples"] += 1
    STATS["slowest_s"] = max(STATS["slowest_s"], took)
    assert report["verdict"] in VERDICTS
    assert isinstance(report["findings"], list) and isinstance(report["steps"], list)
    json.dumps(report)  # the service serialises it as it is
    assert took < HANG_S, f"{took:.1f} s for {data!r:.200}"


@settings(settings.get_profile(PROFILE))
@given(CHAIN)
def test_any_chain_gets_a_report(data: dict[str, Any]) -> None:
    _check(data)


@settings(settings.get_profile(PROFILE))
@given(JSON)
def test_any_json_value_gets_a_report(data: Any) -> None:
    _check(data)


def test_write_the_figures() -> None:
    """Runs last in this module: the figures for the bench (when it asks for them)."""
    record(
        "fuzz",
        profile=PROFILE,
        examples=STATS["examples"],
        slowest_s=round(STATS["slowest_s"], 3),
        duration_s=round(time.monotonic() - STATS["started"], 1),
    )
