"""End to end: a TRL conversational dataset cleaned by faithgate goes straight into SFTTrainer."""

from __future__ import annotations

import pytest

from service.cli import main
from tests.datasets.support import altered, conversation, gsm8k, read_jsonl, write_jsonl
from tests.tiny_llama import save_tiny_llama

N_ROWS = 200


def test_kept_rows_load_and_train_through_trl_sft(tmp_path, capsys):
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    problems = gsm8k(N_ROWS)
    rows = [
        conversation(p, altered(p["answer"]) if k % 4 == 0 else None)
        for k, p in enumerate(problems)
    ]
    src = write_jsonl(tmp_path / "sft.jsonl", rows)
    assert (
        main(["validate", str(src), "-o", str(tmp_path / "reports.jsonl"), "--keep", "faithful"])
        == 0
    )
    reports = read_jsonl(tmp_path / "reports.jsonl")
    faithful = sum(r["verdict"] == "faithful" for r in reports)
    assert f"kept {faithful} of {N_ROWS} rows" in capsys.readouterr().err
    assert faithful <= N_ROWS - N_ROWS // 4  # every altered row is gone

    kept = datasets.load_dataset("json", data_files=str(tmp_path / "sft.kept.jsonl"), split="train")
    assert kept.num_rows == faithful and kept.column_names == ["messages"]
    texts = [m["content"] for p in problems for m in conversation(p)["messages"]]
    model_dir = save_tiny_llama(tmp_path / "tiny", texts, vocab_size=400, layers=1, hidden=32)
    config = trl.SFTConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=2,
        max_length=256,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = trl.SFTTrainer(
        model=str(model_dir), args=config, train_dataset=kept, processing_class=None
    )
    assert trainer.train_dataset.num_rows == faithful
    assert "input_ids" in trainer.train_dataset.column_names
    assert trainer.train().global_step == 1
