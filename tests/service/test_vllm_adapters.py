"""faithgate's own adapters on the real vLLM CPU server: `faithgate train` -> promote -> chat.

The trainer makes rank-16 LoRA adapters; faithgate sizes the server's --max-lora-rank to fit
every adapter in the registry (here above a configured floor of 8, the old fixed value), and
refuses, with an audited reason, to promote an adapter the running server cannot load. Slow: a
short real training run on SmolLM2-135M, then a vLLM server start (about a minute each).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from service.cli import main
from service.main import create_app
from service.settings import Settings
from tests.service.engine_support import ROOT, audit_records, build_lora_adapter, free_port, serve
from tests.service.training_support import seed_cases, tiny_train_options
from training.registry import Registry, adapter_rank

pytestmark = pytest.mark.slow

VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
MESSAGES = [{"role": "user", "content": "What is 2+3?"}]


@pytest.fixture(scope="module")
def trained(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose registry holds an adapter `faithgate train` made on SmolLM2 (rank 16)."""
    from service.store import Store

    if os.environ.get("FAITHGATE_SKIP_VLLM") == "1":
        pytest.skip("FAITHGATE_SKIP_VLLM=1: vLLM tests skipped on purpose")
    if not VLLM_PYTHON.exists():
        pytest.fail(f"{VLLM_PYTHON} is missing: build it with `make vllm-env`", pytrace=False)
    data_dir = tmp_path_factory.mktemp("vllm-train")
    store = Store(f"sqlite:///{data_dir / 'faithgate.db'}", data_dir)
    seed_cases(store, 12)
    store.close()
    options = tiny_train_options(
        model={"lora_r": 16, "lora_alpha": 32, "cpu_threads": 2},
        sft={"max_steps": 2, "max_length": 192},
        dpo={"max_steps": 1, "max_length": 192},
    )
    (data_dir / "options.json").write_text(json.dumps(options))
    args = ["train", "--base", str(model_dir), "--cycles", "1", "--name", "fg-vllm"]
    args += ["--options", str(data_dir / "options.json"), "--data-dir", str(data_dir)]
    code = main(args)
    assert code in (0, 3)  # 3: the gate refused it (a 3-step run proves nothing): forced below
    assert adapter_rank(Registry(data_dir / "adapters").path("fg-vllm") / "adapter") == 16
    return data_dir


def test_a_trained_adapter_is_promoted_and_served_by_vllm(model_dir: Path, trained: Path) -> None:
    settings = Settings(
        workers=1,
        data_dir=trained,
        engine="vllm",
        model=str(model_dir),
        vllm_python=str(VLLM_PYTHON),
        vllm_port=free_port(),
        vllm_max_lora_rank=8,  # the old fixed value: the registry's rank-16 adapter raises it
        vllm_start_timeout_s=420,
    )
    for live in serve(create_app(settings)):
        live.wait_ready(480)
        engine = live.app.state.faithgate.runtime.engine
        assert engine.kind == "vllm" and engine.max_lora_rank == 16
        trainer = {"Authorization": f"Bearer {live.key('train')}"}
        r = httpx.post(
            f"{live.url}/v1/adapters/fg-vllm/promote",
            headers=trainer,
            json={"force": True},
            timeout=120,
        )
        assert r.status_code == 200, r.text
        assert r.json()["hot_loaded"] is True and r.json()["engine"]["errors"] == {}
        client = live.openai(live.key("generate"))
        tuned = client.chat.completions.create(model="fg-vllm", messages=MESSAGES, max_tokens=16)
        assert tuned.model == "fg-vllm" and tuned.choices[0].message.content

        # A rank-32 adapter registered after the server started cannot be loaded by it.
        src = build_lora_adapter(model_dir, trained / "rank32-src", seed=4, rank=32)
        registry = Registry(trained / "adapters")
        meta = {"gate": {"passed": True, "reasons": []}, "base_model": str(model_dir)}
        registry.register(src, "fg-rank32", meta)
        r = httpx.post(f"{live.url}/v1/adapters/fg-rank32/promote", headers=trainer, timeout=60)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "adapter_unloadable"
        assert "LoRA rank 32 is above the vLLM server's --max-lora-rank 16" in r.text
        assert registry.active() == "fg-vllm"
        refused = [e for e in audit_records(live) if e["event"] == "adapter.promotion_refused"]
        assert len(refused) == 1 and refused[0]["adapter"] == "fg-rank32"
        assert "rank 32" in refused[0]["payload"]["data"]["reason"]
