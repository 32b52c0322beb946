"""Continuous batching in the transformers engine (service/engines/decoding.py), on a tiny Llama.

Every test compares concurrent requests with the same requests made one at a time: batching
changes how fast answers come, never what they say.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from service.engines import decoding
from service.engines.base import Generation, UnknownAdapter
from service.engines.transformers_engine import TransformersEngine
from tests.service.engine_support import tiny_with_adapters

QUESTIONS = [
    "Natalia sold 48 clips. How many?",
    "A shop has 7 apples.",
    "Weng earns $12 an hour for babysitting. Yesterday she did 50 minutes. How much?",
    "Hi",
]


def ask(question: str) -> list[dict]:
    """A one-message conversation."""
    return [{"role": "user", "content": question}]


# Prompts of different lengths (left padding) and every per-request option in one batch.
REQUESTS: list[tuple[list[dict], dict[str, Any]]] = [
    (ask(QUESTIONS[0]), {"max_tokens": 12}),
    (ask(QUESTIONS[1]), {"max_tokens": 3}),
    (ask(QUESTIONS[2]), {"max_tokens": 10, "logprobs": True, "top_logprobs": 2}),
    (ask(QUESTIONS[3]), {"max_tokens": 16, "temperature": 1.2, "seed": 5}),
    (ask(QUESTIONS[0]), {"max_tokens": 9, "temperature": 0.8, "top_p": 0.9, "seed": 11}),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model folder and an adapter folder beside it."""
    return tiny_with_adapters(tmp_path_factory.mktemp("tiny"), "base", {"a1": 1})


@pytest.fixture
def engine(tiny: Path):
    """A freshly loaded engine that decodes up to 8 requests together."""
    e = TransformersEngine(tiny / "base", threads=1, batch_size=8).load()
    yield e
    e.close()


def summary(g: Any) -> tuple:
    """What a request's answer is made of, log-probabilities aside."""
    return g.text, g.finish_reason, g.prompt_tokens, g.completion_tokens, g.tokens


def assert_same(together: list[Any], alone: list[Any]) -> None:
    """Batched answers equal the one-at-a-time ones; log-probabilities up to float rounding."""
    assert [summary(g) for g in together] == [summary(g) for g in alone]
    for a, b in zip(together, alone, strict=True):
        if b.token_logprobs is None:
            assert a.token_logprobs is None
        else:
            assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-4)


def in_threads(engine: TransformersEngine, jobs: list[tuple[list[dict], dict]]) -> list[Any]:
    """Start every job in its own thread while the engine is busy; their results in order."""
    results: list[Any] = [None] * len(jobs)

    def work(i: int) -> None:
        messages, options = jobs[i]
        try:
            results[i] = engine.generate(messages, **options)
        except Exception as exc:  # compared by the caller
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    with engine._lock:  # hold the model so that all of them queue and form one batch
        for t in threads:
            t.start()
        wait_until(lambda: len(engine._queue) == len(jobs))
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a request hung"
    return results


def wait_until(condition: Any, timeout_s: float = 10.0) -> None:
    """Poll until `condition()` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def count_batches(engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch) -> list[list]:
    """Record the (adapter, size) of every batch the engine starts."""
    seen: list[list] = []
    original = engine._decode_batch

    def recording(batch: list) -> None:
        seen.append([batch[0].adapter, len(batch)])
        original(batch)

    monkeypatch.setattr(engine, "_decode_batch", recording)
    return seen


def test_a_batch_gives_every_request_its_one_at_a_time_answer(
    engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = [engine.generate(m, **o) for m, o in REQUESTS]
    batches = count_batches(engine, monkeypatch)
    together = in_threads(engine, REQUESTS)
    assert batches == [[None, len(REQUESTS)]]
    assert_same(together, alone)
    assert together[1].finish_reason == "length" and together[1].completion_tokens == 3


def test_a_stop_sequence_ends_only_its_own_row(engine: TransformersEngine) -> None:
    full = engine.generate(ask(QUESTIONS[0]), max_tokens=24)
    assert len(full.text) >= 6, full.text
    stop = full.text[3:6]
    jobs = [
        (ask(QUESTIONS[0]), {"max_tokens": 24, "stop": [stop]}),
        (ask(QUESTIONS[0]), {"max_tokens": 24}),
    ]
    cut, whole = in_threads(engine, jobs)
    assert cut.text == full.text[: full.text.find(stop)] and cut.finish_reason == "stop"
    assert_same([whole], [full])


def test_requests_join_a_running_batch(
    engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = [(ask(q), {"max_tokens": 6, "logprobs": True}) for q in QUESTIONS]
    alone = [engine.generate(m, **o) for m, o in late]
    longest = ask(QUESTIONS[2] + " Explain every step.")  # the joiners' caches get left-padded
    first_alone = engine.generate(longest, max_tokens=20, logprobs=True)
    batches = count_batches(engine, monkeypatch)
    results: list[Any] = [None] * len(late)

    def work(i: int) -> None:
        results[i] = engine.generate(late[i][0], **late[i][1])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(late))]
    started = threading.Event()

    def on_text(_: str) -> None:
        if not started.is_set():  # the first token: the others arrive while this one decodes
            started.set()
            for t in threads:
                t.start()
            wait_until(lambda: len(engine._queue) == len(late))

    first = engine.stream(longest, on_text=on_text, max_tokens=20, logprobs=True)
    for t in threads:
        t.join(timeout=60)
    assert batches == [[None, 1]]  # one batch: the late requests joined it
    assert_same([first, *results], [first_alone, *alone])


def test_another_adapter_waits_for_the_batch_to_drain_not_longer(
    engine: TransformersEngine, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.load_adapter("a1", str(tiny / "a1"))
    base_alone = engine.generate(ask(QUESTIONS[0]), max_tokens=6).text
    a1_alone = engine.generate(ask(QUESTIONS[0]), adapter="a1", max_tokens=6).text
    batches = count_batches(engine, monkeypatch)
    out: dict[str, str] = {}
    threads = [
        threading.Thread(
            target=lambda n=n, a=a: out.__setitem__(
                n, engine.generate(ask(QUESTIONS[0]), adapter=a, max_tokens=6).text
            )
        )
        for n, a in (("a1", "a1"), ("base", None))
    ]
    started = threading.Event()

    def on_text(_: str) -> None:
        if not started.is_set():
            started.set()
            threads[0].start()  # a1 first: the oldest waiting request wants another adapter
            wait_until(lambda: len(engine._queue) == 1)
            threads[1].start()
            wait_until(lambda: len(engine._queue) == 2)

    engine.stream(ask(QUESTIONS[1]), on_text=on_text, max_tokens=12)
    for t in threads:
        t.join(timeout=60)
    # The running base batch took no newcomer (a1 waited first); then a1; then the base request.
    assert [a for a, _ in batches] == [None, "a1", None]
    assert out == {"a1": a1_alone, "base": base_alone}


def test_an_unknown_adapter_fails_alone(engine: TransformersEngine) -> None:
    jobs = [
        (ask(QUESTIONS[0]), {"max_tokens": 4, "adapter": "missing"}),
        (ask(QUESTIONS[0]), {"max_tokens": 4}),
    ]
    missing, fine = in_threads(engine, jobs)
    assert isinstance(missing, UnknownAdapter)
    assert fine.text == engine.generate(ask(QUESTIONS[0]), max_tokens=4).text


def test_a_failing_forward_pass_fails_every_row_and_hangs_none(
    engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, batch: Any, torch: Any) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(decoding.BatchDecoder, "_step", broken)
    results = in_threads(engine, [(ask(q), {"max_tokens": 5}) for q in QUESTIONS])
    assert all(isinstance(r, RuntimeError) for r in results), results
    monkeypatch.undo()
    assert engine.generate(ask(QUESTIONS[0]), max_tokens=5).text  # the engine still answers


def test_prefill_computes_only_the_last_logits_with_an_adapter_too(
    engine: TransformersEngine, tiny: Path
) -> None:
    lengths: list[int] = []
    head = engine.model.get_output_embeddings()
    hook = head.register_forward_hook(lambda _m, _i, out: lengths.append(out.shape[1]))
    try:
        engine.generate(ask(QUESTIONS[2]), max_tokens=3)
        engine.load_adapter("a1", str(tiny / "a1"))  # PEFT's wrapper hides logits_to_keep
        engine.generate(ask(QUESTIONS[2]), adapter="a1", max_tokens=3)
    finally:
        hook.remove()
    assert lengths and set(lengths) == {1}, lengths


def test_batch_size_one_decodes_one_request_at_a_time(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = TransformersEngine(tiny / "base", threads=1, batch_size=1).load()
    batches = count_batches(engine, monkeypatch)
    results = in_threads(engine, [(ask(q), {"max_tokens": 5}) for q in QUESTIONS[:3]])
    assert batches == [[None, 1]] * 3
    assert all(isinstance(r, Generation) for r in results), results
    engine.close()
