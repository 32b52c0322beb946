"""QLoRA on a CPU: gradients after an evaluation equal those before it (no inference repack)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from training.model import ModelConfig, bitsandbytes_available, load, unpack_for_training

pytestmark = pytest.mark.skipif(not bitsandbytes_available(), reason="needs bitsandbytes")


def _grads(model, batch) -> tuple[float, dict[str, torch.Tensor]]:
    model.train()
    model.zero_grad()
    out = model(**batch, labels=batch["input_ids"])
    out.loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return float(out.loss), grads


def test_training_after_an_evaluation_keeps_exact_gradients(tiny_base: Path) -> None:
    from peft import get_peft_model

    loaded = load(str(tiny_base), ModelConfig(quantization="nf4", lora_dropout=0.0))
    assert loaded.quantization == "nf4" and loaded.compute_dtype == "float32"
    model = get_peft_model(loaded.model, loaded.lora)
    torch.manual_seed(0)
    for name, param in model.named_parameters():
        if "lora_B" in name:  # B starts at zero; make the LoRA path carry gradient
            torch.nn.init.normal_(param, std=0.02)
    batch = loaded.tokenizer(["Ana buys 3 pens at $2 each."] * 2, return_tensors="pt")
    loss0, grads0 = _grads(model, batch)
    model.eval()
    with torch.inference_mode():
        model(**batch)  # bitsandbytes may repack its 4-bit weights for inference here
    unpack_for_training(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "no autograd kernel" would mean a dropped gradient
        loss1, grads1 = _grads(model, batch)
    assert loss1 == pytest.approx(loss0, abs=1e-6)
    assert grads0.keys() == grads1.keys() and grads0
    for name in grads0:
        assert torch.equal(grads0[name], grads1[name]), name
