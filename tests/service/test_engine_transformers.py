"""The transformers engine on a tiny Llama built in the test, with LoRA adapters made here too."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from service.engines.base import AdapterLoadError, EngineError, UnknownAdapter
from service.engines.transformers_engine import TransformersEngine
from tests.service.engine_support import tiny_with_adapters

MESSAGES = [{"role": "user", "content": "Natalia sold 48 clips. How many?"}]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model folder and two adapter folders beside it."""
    return tiny_with_adapters(tmp_path_factory.mktemp("tiny"), "base", {"a1": 1, "a2": 2})


@pytest.fixture
def engine(tiny: Path):
    """A freshly loaded engine (adapters change its state, so one per test)."""
    e = TransformersEngine(tiny / "base", threads=1).load()
    yield e
    e.close()


def test_load_reports_name_hash_and_readiness(tiny: Path) -> None:
    e = TransformersEngine(tiny / "base", name="tiny", threads=1)
    assert not e.ready()
    with pytest.raises(EngineError):
        e.generate(MESSAGES)
    e.load()
    assert e.ready() and e.base_model == "tiny" and e.kind == "transformers"
    assert e.base_model_hash is not None and len(e.base_model_hash) == 64
    assert e.adapters() == []


def test_greedy_is_deterministic_and_counts_tokens(engine: TransformersEngine) -> None:
    a = engine.generate(MESSAGES, max_tokens=12)
    b = engine.generate(MESSAGES, max_tokens=12)
    assert a.text == b.text and a.text
    assert 1 <= a.completion_tokens <= 12
    prompt_ids = engine.tokenizer(engine.chat_prompt(MESSAGES), add_special_tokens=False)
    assert a.prompt_tokens == len(prompt_ids["input_ids"])
    assert a.finish_reason in ("stop", "length")
    if a.finish_reason == "length":
        assert a.completion_tokens == 12


def test_generate_is_complete_of_the_chat_prompt(engine: TransformersEngine) -> None:
    prompt = engine.chat_prompt(MESSAGES)
    assert prompt.endswith("<|im_start|>assistant\n")
    assert (
        engine.generate(MESSAGES, max_tokens=10).text == engine.complete(prompt, max_tokens=10).text
    )


def test_seeded_sampling_is_reproducible(engine: TransformersEngine) -> None:
    options = {"max_tokens": 16, "temperature": 1.5}
    first = engine.generate(MESSAGES, seed=7, **options).text
    assert engine.generate(MESSAGES, seed=7, **options).text == first
    others = {engine.generate(MESSAGES, seed=s, **options).text for s in range(8, 14)}
    assert len(others | {first}) > 1  # a random tiny model at T=1.5 cannot repeat itself 7 times


def test_top_p_near_zero_is_greedy(engine: TransformersEngine) -> None:
    greedy = engine.generate(MESSAGES, max_tokens=10).text
    assert (
        engine.generate(MESSAGES, max_tokens=10, temperature=1.0, top_p=1e-6, seed=3).text == greedy
    )


def test_logprobs_describe_the_greedy_choice(engine: TransformersEngine) -> None:
    g = engine.generate(MESSAGES, max_tokens=10, logprobs=True, top_logprobs=3)
    assert g.tokens is not None and g.token_logprobs is not None and g.top_logprobs is not None
    assert len(g.tokens) == len(g.token_logprobs) == len(g.top_logprobs) == g.completion_tokens
    for lp, top in zip(g.token_logprobs, g.top_logprobs, strict=True):
        assert lp <= 0.0
        assert 1 <= len(top) <= 3
        assert math.isclose(lp, max(top.values()), abs_tol=1e-5)  # greedy picks the top token
    text_tokens = g.tokens[: len(g.tokens) - (g.finish_reason == "stop")]
    assert "".join(text_tokens).startswith(g.text[:5])


def test_stop_sequence_cuts_the_text(engine: TransformersEngine) -> None:
    full = engine.generate(MESSAGES, max_tokens=24)
    assert len(full.text) >= 6, full.text
    stop = full.text[3:6]
    cut = engine.generate(MESSAGES, max_tokens=24, stop=[stop])
    assert stop not in cut.text
    assert cut.text == full.text[: full.text.find(stop)]
    assert cut.finish_reason == "stop"
    assert cut.completion_tokens <= full.completion_tokens


def test_adapters_switch_per_request(engine: TransformersEngine, tiny: Path) -> None:
    options = {"max_tokens": 8, "logprobs": True}
    base_before = engine.generate(MESSAGES, **options)
    engine.load_adapter("a1", str(tiny / "a1"))
    engine.load_adapter("a2", str(tiny / "a2"))
    assert engine.adapters() == ["a1", "a2"]
    assert engine.adapter_hash("a1") != engine.adapter_hash("a2")
    one = engine.generate(MESSAGES, adapter="a1", **options)
    two = engine.generate(MESSAGES, adapter="a2", **options)
    base = engine.generate(MESSAGES, **options)
    assert one.token_logprobs != base.token_logprobs
    assert one.token_logprobs != two.token_logprobs
    # The base is untouched by the adapters loaded beside it, before and after switching.
    assert base.text == base_before.text
    assert base.token_logprobs == pytest.approx(base_before.token_logprobs, abs=1e-5)
    assert engine.generate(MESSAGES, adapter="a1", **options).text == one.text


def test_unload_restores_the_base(engine: TransformersEngine, tiny: Path) -> None:
    before = engine.generate(MESSAGES, max_tokens=8, logprobs=True)
    engine.load_adapter("a1", str(tiny / "a1"))
    engine.load_adapter("a2", str(tiny / "a2"))
    engine.unload_adapter("a1")
    assert engine.adapters() == ["a2"]
    with pytest.raises(UnknownAdapter):
        engine.generate(MESSAGES, adapter="a1")
    engine.unload_adapter("a2")
    assert engine.adapters() == []
    after = engine.generate(MESSAGES, max_tokens=8, logprobs=True)
    assert after.text == before.text
    assert after.token_logprobs == pytest.approx(before.token_logprobs, abs=1e-5)
    with pytest.raises(UnknownAdapter):
        engine.unload_adapter("a2")


def test_bad_adapters_are_refused(engine: TransformersEngine, tiny: Path) -> None:
    with pytest.raises(AdapterLoadError):
        engine.load_adapter("x", str(tiny / "missing"))
    with pytest.raises(AdapterLoadError):
        engine.load_adapter("x", str(tiny / "base"))  # a model folder, not an adapter
    with pytest.raises(AdapterLoadError):
        engine.load_adapter("../evil", str(tiny / "a1"))
    with pytest.raises(AdapterLoadError):
        engine.load_adapter(engine.base_model, str(tiny / "a1"))
    engine.load_adapter("a1", str(tiny / "a1"))
    with pytest.raises(AdapterLoadError):
        engine.load_adapter("a1", str(tiny / "a2"))
    assert engine.adapters() == ["a1"]


def test_bad_options_and_long_prompts_are_refused(engine: TransformersEngine) -> None:
    with pytest.raises(EngineError):
        engine.generate(MESSAGES, max_tokens=0)
    with pytest.raises(EngineError):
        engine.generate(MESSAGES, temperature=3.0)
    with pytest.raises(EngineError):
        engine.generate(MESSAGES, top_p=0.0)
    with pytest.raises(EngineError):
        engine.complete("")
    with pytest.raises(EngineError):
        engine.complete("clips " * 2000)  # longer than the 1024-token context


def test_concurrent_requests_match_sequential_ones(engine: TransformersEngine, tiny: Path) -> None:
    engine.load_adapter("a1", str(tiny / "a1"))
    jobs = [None, "a1", None, "a1", None, "a1"]
    expected = {a: engine.generate(MESSAGES, adapter=a, max_tokens=8).text for a in (None, "a1")}
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int, adapter: str | None) -> None:
        try:
            results[i] = engine.generate(MESSAGES, adapter=adapter, max_tokens=8).text
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, a)) for i, a in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [results[i] for i in range(len(jobs))] == [expected[a] for a in jobs]
