"""The whole loop on a tiny Llama: cases -> trained adapter -> promoted -> hot-loaded -> chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service.api_support import store_events
from tests.service.training_support import auth, start_app, wait_for
from tests.training.conftest import flagged_cases
from training.config import TrainConfig
from training.pipeline import Hooks, run


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.training.tiny import build

    return build(tmp_path_factory.mktemp("tiny") / "tiny-llama")


def test_a_trained_adapter_is_promoted_into_the_running_engine_and_chat_can_name_it(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.training.tiny import pass_the_gate

    pass_the_gate(monkeypatch)
    config = TrainConfig.from_dict(
        {
            "base": str(tiny),
            "name": "fg-hot",
            "cycles": 1,
            "output_dir": str(tmp_path / "training"),
            "registry_dir": str(tmp_path / "adapters"),
            "model": {"quantization": "nf4", "lora_r": 4, "lora_alpha": 8, "cpu_threads": 1},
            "data": {"general_eval_size": 2, "eval_max": 2, "eval_min": 2},
            "sft": {"max_steps": 2, "max_length": 160, "per_device_train_batch_size": 2},
            "dpo": {"max_steps": 1, "max_length": 160},
            "gate": {"max_new_tokens": 8},
        }
    )
    report = run(config, flagged_cases(16, seed=17), Hooks())
    assert report["adapter"]["status"] == "candidate"
    for app, client in start_app(
        tmp_path,
        None,
        engine="transformers",
        model=str(tiny),
        engine_threads=1,
        chat_default_max_tokens=8,
    ):
        wait_for(lambda app=app: app.state.faithgate.runtime.engine is not None, 120)
        engine = app.state.faithgate.runtime.engine
        assert engine.base_model_hash == report["base_model_hash"]
        r = client.post("/v1/adapters/fg-hot/promote", headers=auth(app, "train"))
        assert r.status_code == 200, r.text
        assert r.json()["hot_loaded"] is True and engine.adapters() == ["fg-hot"]
        assert engine.adapter_hash("fg-hot") == report["adapter"]["content_hash"]
        chat = client.post(
            "/v1/chat/completions",
            headers=auth(app, "generate"),
            json={
                "model": "fg-hot",
                "max_tokens": 8,
                "messages": [{"role": "user", "content": "Ana buys 3 pens at $2 each. Cost?"}],
            },
        )
        assert chat.status_code == 200, chat.text
        assert chat.json()["model"] == "fg-hot"
        models = client.get("/v1/models", headers=auth(app, "generate")).json()
        assert [m["id"] for m in models["data"]][1:] == ["fg-hot"]
        store = app.state.faithgate.store
        loaded = [rec for event, _, rec in store_events(store) if event == "adapter.loaded"]
        assert loaded and loaded[-1]["adapter_hash"] == report["adapter"]["content_hash"]
