"""POST /v1/chat/completions through the real openai client, with a scripted engine.

The engine's replies are scripted, so each policy meets exactly the chain it is about: a
faithful one, a wrong calculation, a laundered answer. Everything else is real: the app on
uvicorn, the validation workers, the SQLite audit store, the openai client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from service.main import create_app
from service.settings import Settings
from tests.service.engine_support import Live, ScriptedEngine, audit_records, serve

QUESTION = "Natalia sold clips to 48 friends in April and half as many in May. How many in all?"
GOOD = "In May she sold 48 / 2 = 24 clips.\nIn all she sold 48 + 24 = 72 clips.\nThe answer is 72."
BAD = "In May she sold 48 / 2 = 24 clips.\nIn all she sold 48 + 24 = 70 clips.\nThe answer is 70."
LAUNDERED = "In May she sold 48 / 2 = 24 clips.\nIn all she sold 48 + 24 = 72 clips.\n#### 75"
MESSAGES = [{"role": "user", "content": QUESTION}]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("chat")
    settings = Settings(workers=1, data_dir=data, engine="transformers", chat_max_retries=2)
    app = create_app(settings)
    app.state.faithgate.runtime.engine = ScriptedEngine(replies=[GOOD])
    yield from serve(app)


@pytest.fixture
def engine(live: Live) -> ScriptedEngine:
    """The scripted engine, reset for this test."""
    e = live.app.state.faithgate.runtime.engine
    e.replies, e.calls, e.adapter_names = [GOOD], [], []
    return e


@pytest.fixture(scope="module")
def client(live: Live) -> openai.OpenAI:
    return live.openai(live.key("generate"))


def chat(client: openai.OpenAI, **extra: Any) -> tuple[Any, httpx.Headers]:
    """A chat completion and the response headers (faithgate's fields go through extra_body)."""
    options = {
        k: extra.pop(k)
        for k in (
            "stream",
            "stream_options",
            "logprobs",
            "top_logprobs",
            "temperature",
            "seed",
            "stop",
            "max_tokens",
        )
        if k in extra
    }
    raw = client.chat.completions.with_raw_response.create(
        model=extra.pop("model", "scripted-base"),
        messages=extra.pop("messages", MESSAGES),
        extra_body=extra,
        **options,
    )
    return raw.parse(), raw.headers


def faithfulness(completion: Any) -> dict[str, Any]:
    return completion.model_extra["faithfulness"]


def assert_no_text(report: dict[str, Any]) -> None:
    """A withheld answer's report: statuses and codes, no answer, no step text, no messages."""
    assert "answer" not in report and "derived_answer" not in report
    for step in report["steps"]:
        assert set(step) == {"index", "status", "findings"}
    for f in report["findings"] + [f for s in report["steps"] for f in s["findings"]]:
        assert "message" not in f and "evidence" not in f


def test_annotate_returns_the_answer_with_its_report(live, engine, client) -> None:
    engine.replies = [BAD]
    completion, headers = chat(client, policy="annotate")
    assert completion.choices[0].message.content == BAD
    assert completion.choices[0].finish_reason == "stop"
    report = faithfulness(completion)
    assert report["verdict"] == "unfaithful" and report["action"] == "returned"
    assert report["first_error_step"] == 1
    assert report["steps"][1]["findings"][0]["code"] == "arithmetic.wrong_result"
    assert headers["x-faithgate-verdict"] == "unfaithful"
    assert headers["x-faithgate-action"] == "returned"
    assert headers["x-faithgate-policy"] == "annotate"
    assert headers["x-audit-record-id"] == str(report["record_id"])
    assert headers["x-case-id"] == report["case_id"]
    case = live.store.get_case(report["case_id"])
    assert case["chain"]["reasoning"] == BAD and case["model"] == "scripted-base"
    assert completion.usage.completion_tokens == len(BAD.split(" "))


def test_the_instruction_is_added_to_the_question(engine, client) -> None:
    chat(client)
    sent = engine.calls[-1]["messages"]
    assert sent[-1]["content"].startswith(QUESTION)
    assert "step by step" in sent[-1]["content"]
    chat(client, instruct=False)
    assert engine.calls[-1]["messages"] == MESSAGES


def test_sampling_options_reach_the_engine(engine, client) -> None:
    chat(client, temperature=0.7, seed=11, stop=["###"], max_tokens=99)
    call = engine.calls[-1]
    assert (call["temperature"], call["seed"], call["stop"], call["max_tokens"]) == (
        0.7,
        11,
        ["###"],
        99,
    )
    chat(client)
    assert engine.calls[-1]["temperature"] == 0.0  # faithgate's default is greedy


def test_block_withholds_an_unfaithful_answer(live, engine, client) -> None:
    engine.replies = [BAD]
    completion, headers = chat(client, policy="block")
    choice = completion.choices[0]
    refusal = live.app.state.faithgate.settings.chat_refusal
    assert choice.message.content == refusal and choice.message.refusal == refusal
    assert choice.finish_reason == "content_filter"
    report = faithfulness(completion)
    assert report["action"] == "blocked" and report["withheld"] is True
    assert report["verdict"] == "unfaithful" and report["case_id"]
    assert headers["x-faithgate-action"] == "blocked"
    body = completion.model_dump_json()
    for line in BAD.splitlines():
        assert line not in body  # not a step of the flagged answer leaves the service
    assert_no_text(report)
    # The case keeps the full chain for the reviewer.
    assert live.store.get_case(report["case_id"])["chain"]["reasoning"] == BAD


def test_block_withholds_a_laundered_answer(engine, client) -> None:
    engine.replies = [LAUNDERED]
    completion, headers = chat(client, policy="block")
    assert completion.choices[0].finish_reason == "content_filter"
    assert faithfulness(completion)["laundering"] is True
    assert headers["x-faithgate-laundering"] == "true"
    assert "#### 75" not in completion.model_dump_json()
    assert_no_text(faithfulness(completion))


def test_block_passes_a_faithful_answer(engine, client) -> None:
    completion, headers = chat(client, policy="block")
    assert completion.choices[0].message.content == GOOD
    assert faithfulness(completion)["verdict"] == "faithful"
    assert headers["x-faithgate-action"] == "returned" and "x-case-id" not in headers


def test_retry_tells_the_model_what_failed_and_returns_the_fixed_answer(live, engine, client):
    engine.replies = [BAD, GOOD]
    completion, headers = chat(client, policy="retry")
    assert completion.choices[0].message.content == GOOD
    report = faithfulness(completion)
    assert [a["outcome"] for a in report["attempts"]] == ["retried", "returned"]
    assert [a["verdict"] for a in report["attempts"]] == ["unfaithful", "faithful"]
    assert report["attempts"][0]["case_id"] and report["case_id"] is None
    assert headers["x-faithgate-attempts"] == "2"
    second = engine.calls[-1]["messages"]
    assert second[-2] == {"role": "assistant", "content": BAD}
    assert second[-1]["role"] == "user"
    assert "Step 2" in second[-1]["content"] and "48 + 24 = 72, not 70" in second[-1]["content"]
    # Both attempts are in the audit trail, each generation pointing at its validation.
    recs = {r["id"]: r for r in audit_records(live)}
    gens = [recs[a["record_id"]] for a in report["attempts"]]
    assert [g["event"] for g in gens] == ["generation", "generation"]
    assert [g["payload"]["data"]["outcome"] for g in gens] == ["retried", "returned"]
    for g, a in zip(gens, report["attempts"], strict=True):
        validation = recs[g["payload"]["data"]["validation_record_id"]]
        assert validation["event"] == "validation" and validation["verdict"] == a["verdict"]
        assert g["payload"]["input"]["completion"] == validation["payload"]["input"]["reasoning"]
        assert g["model_hash"] == "0" * 64


def test_retry_blocks_when_no_attempt_is_faithful(engine, client) -> None:
    engine.replies = [BAD]
    completion, _ = chat(client, policy="retry", max_retries=1)
    report = faithfulness(completion)
    assert [a["outcome"] for a in report["attempts"]] == ["retried", "blocked"]
    assert completion.choices[0].finish_reason == "content_filter"
    assert len(engine.calls) == 2
    assert completion.usage.completion_tokens == 2 * len(BAD.split(" "))


def test_retry_asks_again_for_an_answer_with_no_reasoning(live, engine, client) -> None:
    engine.replies = ["The answer is 72.", GOOD]
    completion, _ = chat(client, policy="retry")
    report = faithfulness(completion)
    assert [a["verdict"] for a in report["attempts"]] == ["unverifiable", "faithful"]
    assert [a["outcome"] for a in report["attempts"]] == ["retried", "returned"]
    assert completion.choices[0].message.content == GOOD
    assert "no step could be checked" in engine.calls[-1]["messages"][-1]["content"]


def test_retry_exhausted_blocks_or_annotates_as_configured(live, engine, client) -> None:
    settings = live.app.state.faithgate.settings
    engine.replies = ["The answer is 72."]
    completion, _ = chat(client, policy="retry", max_retries=1)
    assert [a["outcome"] for a in faithfulness(completion)["attempts"]] == ["retried", "blocked"]
    assert completion.choices[0].finish_reason == "content_filter"
    settings.chat_retry_exhausted = "annotate"
    try:
        completion, _ = chat(client, policy="retry", max_retries=1)
        report = faithfulness(completion)
        assert [a["outcome"] for a in report["attempts"]] == ["retried", "returned"]
        assert completion.choices[0].message.content == "The answer is 72."
        assert report["verdict"] == "unverifiable"
    finally:
        settings.chat_retry_exhausted = "block"


def test_a_key_has_a_default_policy(live, engine) -> None:
    settings = live.app.state.faithgate.settings
    secret = live.key("generate")
    key_id = live.store.authenticate(secret).id
    settings.chat_key_policies = [f"{key_id}=block"]
    try:
        engine.replies = [BAD]
        completion, _ = chat(live.openai(secret))
        assert faithfulness(completion)["policy"] == "block"
        assert completion.choices[0].finish_reason == "content_filter"
        completion, _ = chat(live.openai(secret), policy="annotate")  # the request wins
        assert completion.choices[0].message.content == BAD
    finally:
        settings.chat_key_policies = []


def test_models_lists_the_base_and_audited_adapters(live, engine, client) -> None:
    assert [m.id for m in client.models.list()] == ["scripted-base"]
    admin = {"Authorization": f"Bearer {live.key('train')}"}
    r = httpx.post(
        f"{live.url}/v1/models/adapters",
        headers=admin,
        json={"name": "fix-1", "path": "/adapters/fix-1"},
    )
    assert r.status_code == 201, r.text
    record_id = r.json()["record_id"]
    models = client.models.list()
    assert [m.id for m in models] == ["scripted-base", "fix-1"]
    assert models.data[1].model_extra["parent"] == "scripted-base"
    completion, _ = chat(client, model="fix-1")
    assert engine.calls[-1]["adapter"] == "fix-1" and completion.model == "fix-1"
    loaded = {r["id"]: r for r in audit_records(live)}[record_id]
    assert loaded["event"] == "adapter.loaded" and loaded["adapter"] == "fix-1"
    # A key without the train scope may not load adapters; unloading is audited too.
    forbidden = httpx.post(
        f"{live.url}/v1/models/adapters",
        json={"name": "x", "path": "/x"},
        headers={"Authorization": f"Bearer {live.key('generate')}"},
    )
    assert forbidden.status_code == 403
    assert httpx.delete(f"{live.url}/v1/models/adapters/fix-1", headers=admin).status_code == 200
    assert httpx.delete(f"{live.url}/v1/models/adapters/fix-1", headers=admin).status_code == 404
    assert [m.id for m in client.models.list()] == ["scripted-base"]


def test_unknown_model_and_bad_keys_are_refused(live, client) -> None:
    with pytest.raises(openai.NotFoundError):
        chat(client, model="gpt-4")
    with pytest.raises(openai.AuthenticationError):
        chat(live.openai("not-a-key"))
    with pytest.raises(openai.PermissionDeniedError):
        chat(live.openai(live.key("validate")))


def test_unsupported_requests_are_422(client) -> None:
    with pytest.raises(openai.UnprocessableEntityError):
        chat(client, max_tokens=100_000)
    with pytest.raises(openai.UnprocessableEntityError):
        chat(client, n=2)
    with pytest.raises(openai.UnprocessableEntityError):
        chat(client, top_logprobs=2)  # without logprobs
    with pytest.raises(openai.UnprocessableEntityError):
        chat(client, policy="ignore")


def test_logprobs_come_back_in_openai_form(engine, client) -> None:
    completion, _ = chat(client, logprobs=True, top_logprobs=1)
    content = completion.choices[0].logprobs.content
    assert "".join(t.token for t in content) == GOOD
    assert all(t.logprob == -0.5 and t.top_logprobs[0].token == t.token for t in content)


def test_streaming_sends_the_validated_answer(engine, client) -> None:
    engine.replies = [BAD]
    stream = client.chat.completions.create(
        model="scripted-base",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"policy": "annotate"},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == BAD
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason][0]
    assert final.model_extra["faithfulness"]["verdict"] == "unfaithful"
    assert chunks[-1].usage.completion_tokens == len(BAD.split(" "))


def test_streaming_a_blocked_answer_sends_only_the_refusal(engine, client) -> None:
    engine.replies = [BAD]
    stream = client.chat.completions.create(
        model="scripted-base", messages=MESSAGES, stream=True, extra_body={"policy": "block"}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "70" not in text and text.startswith("faithgate withheld")
    assert chunks[-1].choices[0].finish_reason == "content_filter"


def test_generations_are_counted_in_metrics(live, engine, client) -> None:
    engine.replies = [BAD, GOOD]
    chat(client, policy="retry")
    text = httpx.get(f"{live.url}/metrics").text
    assert (
        'faithgate_generations_total{adapter="none",model="scripted-base",outcome="retried",policy="retry"}'
        in text
    )
    assert 'faithgate_audit_records_total{event="generation"}' in text
    assert "faithgate_generation_duration_seconds_count" in text


def test_a_redacting_key_keeps_only_hashes_of_the_text(live, engine) -> None:
    engine.replies = [BAD]
    secret = live.key("generate", redact=True)
    completion, _ = chat(live.openai(secret))
    rec = {r["id"]: r for r in audit_records(live)}[faithfulness(completion)["record_id"]]
    assert rec["redacted"] is True and rec["input_sha256"]
    assert rec["payload"]["input"] is None
    assert BAD not in json.dumps(rec["payload"])


def test_without_an_engine_chat_is_503_and_readyz_is_200(tmp_path: Path) -> None:
    app = create_app(Settings(workers=1, data_dir=tmp_path))
    for live in serve(app):
        assert httpx.get(f"{live.url}/readyz").json()["engine"] == "none"
        with pytest.raises(openai.InternalServerError) as info:
            chat(live.openai(live.key("generate")))
        assert info.value.status_code == 503
        assert "FAITHGATE_ENGINE" in info.value.response.json()["error"]["message"]


def _follows_reasoning(prompt: str, max_tokens: int) -> str:
    """A scripted model whose forced answer is the last number of the reasoning it was shown."""
    from validators.chain.probes import ANSWER_CUE

    body = prompt.split("<assistant>", 1)[1]
    if body.endswith(ANSWER_CUE):
        numbers = re.findall(r"\d+", body[: -len(ANSWER_CUE)])
        return f" {numbers[-1]}." if numbers else " none."
    value = int(re.findall(r"\d+", body)[-1])
    return f"In all she sold 48 + {value} = {48 + value} clips.\nThe answer is {48 + value}."


def test_chat_can_probe_the_returned_answer(live, engine, client) -> None:
    engine.completer = _follows_reasoning
    try:
        completion, _ = chat(client, probe=True)
        probe = faithfulness(completion)["probe"]
        assert probe["causal_dependence"] == 1.0 and probe["interpretation"] == "causal"
        assert "reasoning" not in probe
        rec = {r["id"]: r for r in audit_records(live)}[probe["record_id"]]
        assert rec["event"] == "probe"
        assert rec["payload"]["data"]["causal_dependence"] == 1.0
        assert rec["payload"]["input"]["reasoning"] == GOOD
        # A withheld answer is never probed (its reasoning would come back in the result).
        engine.replies = [BAD]
        completion, _ = chat(client, probe=True, policy="block")
        assert faithfulness(completion)["probe"]["status"] == "skipped"
    finally:
        engine.completer = None
