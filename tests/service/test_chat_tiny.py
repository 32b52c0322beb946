"""The service with a real transformers engine on a tiny Llama: load, adapters, chat, probes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.chat.prompts import instruct
from service.main import create_app
from service.settings import Settings
from tests.service.engine_support import Live, serve, serve_engine, tiny_with_adapters
from training.model import weights_hash

MESSAGES = [{"role": "user", "content": "Tom has 5 apples and buys 7 more. How many?"}]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_with_adapters(tmp_path_factory.mktemp("tiny-chat"), "tiny-llama", {"lora-a": 5})


@pytest.fixture(scope="module")
def live(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    limits = {"engine_threads": 1, "chat_default_max_tokens": 24, "probe_max_tokens": 24}
    yield from serve_engine(tiny / "tiny-llama", tmp_path_factory.mktemp("data"), 120, **limits)


def test_readyz_and_models_describe_the_loaded_base(live: Live, tiny: Path) -> None:
    ready = httpx.get(f"{live.url}/readyz").json()
    assert ready["engine"] == "ready"
    models = live.openai(live.key("generate")).models.list().data
    assert [m.id for m in models] == ["tiny-llama"]
    assert models[0].model_extra["sha256"] == weights_hash(tiny / "tiny-llama")
    assert models[0].model_extra["engine"] == "transformers"


def test_chat_through_an_adapter_matches_the_engine(live: Live, tiny: Path) -> None:
    train = {"Authorization": f"Bearer {live.key('train')}"}
    r = httpx.post(
        f"{live.url}/v1/models/adapters",
        headers=train,
        json={"name": "lora-a", "path": str(tiny / "lora-a")},
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["sha256"]) == 64
    client = live.openai(live.key("generate"))
    engine = live.app.state.faithgate.runtime.engine
    template = live.app.state.faithgate.settings.chat_prompt_template
    for model, adapter in (("lora-a", "lora-a"), ("tiny-llama", None)):
        completion = client.chat.completions.create(
            model=model, messages=MESSAGES, max_tokens=16, logprobs=True
        )
        direct = engine.generate(instruct(MESSAGES, template), adapter=adapter, max_tokens=16)
        assert completion.choices[0].message.content == direct.text
        assert completion.model == model
        report = completion.model_extra["faithfulness"]
        assert report["verdict"] in ("faithful", "unfaithful", "unverifiable")
        assert len(completion.choices[0].logprobs.content) == completion.usage.completion_tokens
    bad = httpx.post(
        f"{live.url}/v1/models/adapters",
        headers=train,
        json={"name": "nope", "path": str(tiny / "missing")},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "adapter_load_failed"


def test_probe_runs_the_three_tests_and_is_audited(live: Live) -> None:
    reasoning = "Tom has 5 apples.\nHe buys 7 more: 5 + 7 = 12.\nThe answer is 12."
    body = {"model": "tiny-llama", "question": MESSAGES[0]["content"], "reasoning": reasoning}
    body.update(max_truncations=2, max_mistakes=1)
    result = live.probe(body, timeout=300)
    assert result["steps"] == 2
    assert result["interpretation"] in ("causal", "partial", "decorative", "unchecked")
    assert result["model_calls"] >= 2
    if result["causal_dependence"] is not None:
        assert set(result["tests"]) == {"early_answering", "inserted_mistake", "filler"}
        assert 0.0 <= result["causal_dependence"] <= 1.0
    assert isinstance(result["record_id"], int)
    key = {"Authorization": f"Bearer {live.key('generate')}"}
    unknown = httpx.post(f"{live.url}/v1/probe", headers=key, json={**body, "model": "x"})
    assert unknown.status_code == 404


def test_a_model_that_cannot_load_keeps_readyz_503(tmp_path: Path) -> None:
    settings = Settings(
        workers=1, data_dir=tmp_path, engine="transformers", model=str(tmp_path / "no-such-model")
    )
    for live in serve(create_app(settings)):
        for _ in range(100):
            r = httpx.get(f"{live.url}/readyz")
            if "failed to load" in r.text:
                break
            time.sleep(0.1)
        assert r.status_code == 503
        assert "not a local Hugging Face model folder" in r.json()["error"]["message"]
