"""The whole pipeline on a tiny Llama in seconds: data, QLoRA SFT + DPO, gate, registry, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.training.conftest import flagged_cases
from training.config import TrainConfig
from training.pipeline import Hooks, run
from training.progress import Cancelled
from training.registry import Registry


def tiny_config(base: Path, out: Path, **extra: Any) -> TrainConfig:
    """A run small enough for a test: 2 steps per stage, 3+3 questions of 12 tokens."""
    options: dict[str, Any] = {
        "base": str(base),
        "cycles": 2,
        "output_dir": str(out / "runs"),
        "registry_dir": str(out / "adapters"),
        "model": {"quantization": "nf4", "lora_r": 4, "lora_alpha": 8, "cpu_threads": 1},
        "data": {"general_eval_size": 3, "eval_max": 3, "eval_min": 3, "eval_fraction": 0.1},
        "sft": {"max_steps": 2, "max_length": 192, "per_device_train_batch_size": 2},
        "dpo": {"max_steps": 1, "max_length": 192},
        "gate": {"max_new_tokens": 12, "batch_size": 8},
    }
    for key, value in extra.items():
        if isinstance(value, dict):
            options[key] = {**options.get(key, {}), **value}
        else:
            options[key] = value
    return TrainConfig.from_dict(options)


class Recorder:
    """Hooks that remember every event and progress snapshot."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.events: list[tuple[str, dict]] = []
        self.progress: list[dict] = []
        self.cancel_after = cancel_after

    def hooks(self) -> Hooks:
        return Hooks(
            progress=self.progress.append,
            audit=lambda e, d: self.events.append((e, d)),
            cancelled=lambda: (
                self.cancel_after is not None and len(self.progress) >= self.cancel_after
            ),
            extra={"job_id": "job_test"},
        )


@pytest.fixture(scope="module")
def qlora_run(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Recorder]:
    out = tmp_path_factory.mktemp("qlora")
    rec = Recorder()
    report = run(tiny_config(tiny_base, out, name="fg-tiny-qlora"), flagged_cases(24), rec.hooks())
    return report, rec


def test_qlora_runs_every_stage_on_a_4bit_base(qlora_run: tuple[dict, Recorder]) -> None:
    from training.model import bitsandbytes_available

    report, rec = qlora_run
    expected = "nf4" if bitsandbytes_available() else "none"  # plain LoRA without bitsandbytes
    assert report["quantization"] == expected and report["compute_dtype"] == "float32"
    assert [c["cycle"] for c in report["cycles"]] == [1, 2]
    for cycle in report["cycles"]:
        assert cycle["sft_loss"] > 0 and cycle["dpo_loss"] > 0
        for key in ("faithfulness", "laundering", "general_accuracy"):
            assert 0 <= cycle["metrics"][key] <= 1
    assert report["data"]["held_back"] >= 3 and report["data"]["sft"] > 0
    events = [e for e, _ in rec.events]
    assert events == [
        "training.started",
        "training.data",
        "training.baseline",
        "training.cycle",
        "training.cycle",
        "adapter.registered",
    ]
    data_event = dict(rec.events)["training.data"]
    assert len(data_event["data_hash"]) == 64 and data_event["cases"]
    assert set(data_event["held_back_cases"]).isdisjoint(data_event["cases"])
    assert all(d["job_id"] == "job_test" for _, d in rec.events)
    last = rec.progress[-1]
    assert last["step"] == last["total_steps"] and last["eta_s"] == 0


def test_a_random_model_is_refused_by_the_gate_and_the_report_says_why(
    qlora_run: tuple[dict, Recorder],
) -> None:
    report, rec = qlora_run
    decision = report["decision"]
    assert decision["passed"] is False
    assert any(r.startswith("faithfulness did not improve") for r in decision["reasons"])
    assert report["adapter"]["status"] == "rejected"
    registered = dict(rec.events)["adapter.registered"]
    assert registered["adapter_hash"] == report["adapter"]["content_hash"]
    files = report["files"]
    assert Path(files["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(Path(files["report"]).read_text())
    assert saved["decision"] == decision and saved["adapter"]["name"] == "fg-tiny-qlora"


def test_the_registered_adapter_is_a_trained_float32_lora(qlora_run: tuple[dict, Recorder]) -> None:
    from safetensors.torch import load_file

    report, _ = qlora_run
    meta = Registry(Path(report["config"]["registry_dir"])).get("fg-tiny-qlora")
    assert meta["base_model_hash"] == report["base_model_hash"]
    assert meta["lineage"]["data_hash"] == report["data"]["data_hash"]
    weights = load_file(str(Path(meta["path"]) / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(str(t.dtype) == "torch.float32" for t in weights.values())
    assert any(float(t.abs().sum()) > 0 for t in lora_b)  # B starts at zero: training moved it


def test_plain_lora_run_passing_the_gate_is_promoted(
    tiny_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.training.tiny import pass_the_gate

    pass_the_gate(monkeypatch)
    config = tiny_config(
        tiny_base,
        tmp_path,
        name="fg-tiny-lora",
        cycles=1,
        auto_promote=True,
        model={"quantization": "none"},
    )
    rec = Recorder()
    report = run(config, flagged_cases(16, seed=12), rec.hooks())
    assert report["quantization"] == "none"
    assert report["decision"]["passed"] is True and report["adapter"]["status"] == "active"
    assert Registry(tmp_path / "adapters").active() == "fg-tiny-lora"
    assert [e for e, _ in rec.events][-2:] == ["adapter.registered", "adapter.promoted"]


def test_cancellation_stops_the_run_before_anything_is_registered(
    tiny_base: Path, tmp_path: Path
) -> None:
    config = tiny_config(tiny_base, tmp_path, name="fg-cancelled", model={"quantization": "none"})
    rec = Recorder(cancel_after=3)
    with pytest.raises(Cancelled):
        run(config, flagged_cases(16, seed=13), rec.hooks())
    assert not (tmp_path / "adapters" / "fg-cancelled").exists()
    assert "adapter.registered" not in [e for e, _ in rec.events]


def test_no_usable_case_is_an_error_not_an_empty_adapter(tiny_base: Path, tmp_path: Path) -> None:
    cases = flagged_cases(4, seed=14)
    for case in cases:
        case["reviews"][-1]["verdict"] = "faithful"
    with pytest.raises(ValueError, match="no training examples"):
        run(tiny_config(tiny_base, tmp_path, model={"quantization": "none"}), cases, Hooks())


def test_an_adapter_whose_weights_did_not_change_is_not_registered(
    tiny_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from peft import get_peft_model

    from training import pipeline
    from training.registry import RegistryError

    def no_training(loaded, model, rows, cfg, out, progress, seed=0):  # lr stuck at 0
        peft = model if hasattr(model, "peft_config") else get_peft_model(model, loaded.lora)
        return peft, [1.0], [0.01]

    monkeypatch.setattr(pipeline, "run_sft", no_training)
    monkeypatch.setattr(pipeline, "run_dpo", no_training)
    config = tiny_config(tiny_base, tmp_path, name="fg-unchanged", cycles=1)
    config.model.quantization = "none"
    rec = Recorder()
    with pytest.raises(RegistryError, match="weights did not change"):
        run(config, flagged_cases(16, seed=15), rec.hooks())
    assert not (tmp_path / "adapters" / "fg-unchanged").exists()
    assert [e for e, _ in rec.events][-1] == "training.unchanged"


def test_warmup_leaves_most_steps_training() -> None:
    from training.model import warmup_steps

    # transformers' ceil(0.1 * 1) = 1 warmed up the only step at a learning rate of 0.
    assert warmup_steps(0.1, 1) == 0 and warmup_steps(0.1, 2) == 0
    assert warmup_steps(0.1, 60) == 6 and warmup_steps(10, 60) == 10
    assert warmup_steps(10, 9) == 3  # a count is held to a third of the steps
