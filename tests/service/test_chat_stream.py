"""Streaming under annotate: tokens as generated, step statuses as steps end, the record first.

The real openai client against the real service on loopback: a scripted engine (exact chains,
so the step statuses are known) and a tiny Llama on the transformers engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.chat.stream import complete_prefix
from service.engines.streaming import TextEmitter
from service.main import create_app
from service.settings import Settings
from tests.service.engine_support import (
    Live,
    ScriptedEngine,
    audit_records,
    serve,
    serve_engine,
    tiny_with_adapters,
)
from tests.service.stream_support import (
    GatedEngine,
    cancelled_after_first_delta,
    read_stream,
    same_report,
)

QUESTION = "Natalia sold clips to 48 friends in April and half as many in May. How many in all?"
BAD = "In May she sold 48 / 2 = 24 clips.\nIn all she sold 48 + 24 = 70 clips.\nThe answer is 70."
MESSAGES = [{"role": "user", "content": QUESTION}]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = Settings(
        workers=1, data_dir=tmp_path_factory.mktemp("stream"), engine="transformers"
    )
    app = create_app(settings)
    app.state.faithgate.runtime.engine = ScriptedEngine(replies=[BAD])
    yield from serve(app)


@pytest.fixture
def engine(live: Live) -> Iterator[ScriptedEngine]:
    e = live.app.state.faithgate.runtime.engine
    e.replies, e.calls, e.between, e.finished = [BAD], [], None, 0
    yield e
    e.between = None


def _generation_record(live: Live, record_id: int) -> dict:
    (record,) = [r for r in audit_records(live) if r["id"] == record_id]
    return record


def test_complete_prefix_is_what_no_later_token_can_change() -> None:
    assert complete_prefix("In May she sold 24.\nIn all she") == "In May she sold 24."
    assert complete_prefix("She sold 24. Then she") == "She sold 24."
    assert complete_prefix("She sold 24.") == ""  # the sentence may still go on: "24.5"


def test_the_emitter_holds_back_what_a_stop_sequence_could_still_cut() -> None:
    sent: list[str] = []
    emitter = TextEmitter(sent.append, stop=["END"])
    for text in ("The ans", "The answer E", "The answer EN", "The answer EN\ufffd"):
        emitter.update(text)
    assert "".join(sent) == "The answer "  # "EN" may become "END"; "\ufffd" is half a char
    emitter.finish("The answer ENx")
    assert "".join(sent) == "The answer ENx"


def test_tokens_steps_and_report_arrive_in_order(live: Live, engine: ScriptedEngine) -> None:
    client = live.openai(live.key("generate"))
    first_seen = threading.Event()
    seen: dict[str, int] = {}

    step_seen = threading.Event()
    line_end = next(i for i, w in enumerate(BAD.split(" ")) if "\n" in w)

    def between(i: int, cancel: object) -> None:  # gates: the engine waits for the client
        if i == 0:
            first_seen.wait(30)
            seen["finished_at_first_token"] = engine.finished
        if i == line_end:  # the first line is complete: its status comes before the rest
            step_seen.wait(30)

    engine.between = between
    raw = client.chat.completions.with_raw_response.create(
        model="scripted-base",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"policy": "annotate"},
    )
    assert raw.headers["x-faithgate-streaming"] == "incremental"
    got = read_stream(raw.parse(), on_first=first_seen.set, on_step=step_seen.set)
    assert seen["finished_at_first_token"] == 0  # the first token came before the engine ended
    assert got.text == BAD
    assert [s["index"] for s in got.steps] == [0, 1]  # each step once, in order
    assert [s["status"] for s in got.steps] == ["verified", "error"]
    assert got.provisional[0] is True  # step 0 was checked while step 1 was being generated
    assert got.steps[1]["findings"][0]["code"].startswith("arithmetic")
    # The first step's status went out while the answer was still being generated.
    assert got.order.index("step") < len(got.order) - 1 - got.order[::-1].index("text")
    assert got.order[-1] == "final" and got.usage.completion_tokens == len(BAD.split(" "))

    plain = client.chat.completions.create(
        model="scripted-base", messages=MESSAGES, extra_body={"policy": "annotate"}
    )
    assert same_report(got.report, plain.model_extra["faithfulness"])
    record = _generation_record(live, got.report["record_id"])
    assert record["event"] == "generation"
    assert record["payload"]["data"]["streamed"] is True
    assert record["payload"]["data"]["incomplete"] is False
    case = httpx.get(
        f"{live.url}/v1/cases/{got.report['case_id']}",
        headers={"Authorization": f"Bearer {live.key('review')}"},
    )
    assert case.status_code == 200, case.text  # a flagged streamed answer is a case like any


def test_block_and_retry_stream_only_after_validation(live: Live, engine: ScriptedEngine) -> None:
    client = live.openai(live.key("generate"))
    for policy in ("block", "retry"):
        raw = client.chat.completions.with_raw_response.create(
            model="scripted-base", messages=MESSAGES, stream=True, extra_body={"policy": policy}
        )
        assert raw.headers["x-faithgate-streaming"] == "after-validation"
        text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
        assert "70" not in text  # withheld: no token of the unfaithful answer was sent


def test_a_client_that_leaves_cancels_the_generation_and_is_recorded(
    live: Live, engine: ScriptedEngine
) -> None:
    client = live.openai(live.key("generate"))
    released: list[bool] = []

    def between(i: int, cancel: threading.Event) -> None:  # wait for the server to see it go
        if i == 0:
            released.append(cancel.wait(30))

    engine.between = between
    before = {r["id"] for r in audit_records(live)}
    stream = client.chat.completions.create(
        model="scripted-base", messages=MESSAGES, stream=True, extra_body={"policy": "annotate"}
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()
    deadline = time.monotonic() + 60
    new: list[dict] = []
    while time.monotonic() < deadline and not new:
        new = [
            r for r in audit_records(live) if r["id"] not in before and r["event"] == "generation"
        ]
        time.sleep(0.1)
    assert released == [True]  # the engine was told to stop
    assert engine.finished == 0  # and stopped before its end
    (record,) = new
    data = record["payload"]["data"]
    assert data["incomplete"] is True and data["outcome"] == "incomplete"
    assert data["finish_reason"] == "cancelled"
    completion = record["payload"]["input"]["completion"]
    assert BAD.startswith(completion) and completion != BAD
    # Nothing is left holding the engine: the next request is served in full.
    engine.between = None
    after = client.chat.completions.create(model="scripted-base", messages=MESSAGES)
    assert after.choices[0].message.content == BAD


# --- a real model: the transformers engine on a tiny Llama ------------------------------------
@pytest.fixture(scope="module")
def tiny_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tiny_with_adapters(tmp_path_factory.mktemp("tiny-stream"), "tiny-llama", {})
    limits = {"engine_threads": 1, "chat_default_max_tokens": 48}
    yield from serve_engine(
        Path(root) / "tiny-llama", tmp_path_factory.mktemp("data"), 120, **limits
    )


def test_transformers_streams_tokens_as_generated(tiny_live: Live) -> None:
    runtime = tiny_live.app.state.faithgate.runtime
    gated = GatedEngine(runtime.engine)
    runtime.engine = gated
    try:
        client = tiny_live.openai(tiny_live.key("generate"))
        # Seeded sampling: varied text (greedy decoding of a random tiny model repeats one token)
        # that is the same in both requests.
        options = {"model": "tiny-llama", "messages": MESSAGES, "max_tokens": 48}
        options.update(temperature=1.0, seed=3)
        got = read_stream(client.chat.completions.create(stream=True, **options), gated)
        assert got.finished_before_first_token is False
        assert got.order.count("text") > 1  # token by token, not one piece
        plain = client.chat.completions.create(**options)
    finally:
        runtime.engine = gated.engine
    assert got.text == plain.choices[0].message.content  # same seed: the same answer
    assert got.report is not None and same_report(got.report, plain.model_extra["faithfulness"])
    assert [s["index"] for s in got.steps] == list(range(len(got.report["steps"])))
    record = _generation_record(tiny_live, got.report["record_id"])
    assert record["payload"]["input"]["completion"] == got.text
    assert record["payload"]["data"]["streamed"] is True


def test_transformers_stream_stops_when_cancelled(tiny_live: Live) -> None:
    engine = tiny_live.app.state.faithgate.runtime.engine
    full, cut, delivered = cancelled_after_first_delta(engine, MESSAGES, 32)
    assert cut.finish_reason == "cancelled" and cut.completion_tokens < full.completion_tokens
    assert delivered == cut.text and full.text.startswith(cut.text)
