"""The gate's statistics on known answers, and a reproducible evaluation of one adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import stats
from training.cases import item_of
from training.gate import GateConfig, evaluate
from training.generator import problems


def test_mcnemar_exact_tail_on_known_values() -> None:
    assert stats.binomial_tail(0, 0) == 1.0
    assert stats.binomial_tail(1, 1) == 0.5
    assert stats.binomial_tail(6, 6) == 1 / 64
    assert stats.binomial_tail(8, 10) == pytest.approx(56 / 1024)  # 45 + 10 + 1 of 1024
    assert stats.binomial_tail(11, 10) == 0.0


def test_paired_counts_discordant_pairs_and_interval_is_seeded() -> None:
    before = [1, 1, 0, 0, 0, 1]
    after = [1, 0, 1, 1, 0, 1]
    p = stats.paired(before, after)
    assert (p.worse, p.better, p.n) == (1, 2, 6)
    assert p.effect_points == pytest.approx(100 / 6)
    assert p.p_increase == pytest.approx(0.5) and p.p_decrease == pytest.approx(0.875)
    assert stats.paired(before, after).as_dict() == p.as_dict()  # same input, same interval
    lo, hi = p.ci_points
    assert lo <= p.effect_points <= hi


def test_cases_needed_grows_as_the_gain_shrinks() -> None:
    big = stats.paired([0] * 100, [1] * 20 + [0] * 80)
    small = stats.paired([0] * 100, [1] * 3 + [0] * 97)
    assert stats.cases_needed(big, 0.05) == 100  # already enough: never fewer than measured
    need = stats.cases_needed(small, 0.05)
    # Connor: ((1.6449 * sqrt(.03) + 0.8416 * sqrt(.03 - .0009)) ** 2) / .0009 = 203.99.
    assert need == 204
    assert stats.cases_needed(stats.paired([1, 0], [1, 0]), 0.05) is None


def test_the_same_adapter_evaluated_twice_gives_byte_identical_metrics(tiny_base: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    from tests.training.conftest import flagged_cases
    from training.engine import LocalEngine
    from training.model import ModelConfig, load

    loaded = load(str(tiny_base), ModelConfig(quantization="none", device="cpu"))
    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    model = get_peft_model(loaded.model, lora)
    engine = LocalEngine(model, loaded.tokenizer, str(tiny_base), None)
    items = [i for c in flagged_cases(6) if (i := item_of(c, None)) is not None]
    general = list(problems(4, seed=5, prefix="g"))
    cfg = GateConfig(max_new_tokens=24, batch_size=3)
    first = evaluate(engine, items, general, adapter="default", cfg=cfg)
    torch.manual_seed(12345)  # whatever the global RNG holds in between
    torch.randn(100)
    second = evaluate(engine, items, general, adapter="default", cfg=cfg)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["outcomes"]["ids"] == [it.id for it in items]
