"""A tiny Llama and a tokenizer trained in code, saved like a real base model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tiny_llama import save_tiny_llama


def corpus() -> list[str]:
    """Text the tokenizer learns from: generated problems and their solutions."""
    from training.generator import problems
    from training.prompts import STEP_INSTRUCTION

    out = [STEP_INSTRUCTION]
    for p in problems(200, seed=3):
        out += [p.question, p.solution]
    return out


def build(folder: Path, *, layers: int = 2, hidden: int = 64, seed: int = 0) -> Path:
    """Save a randomly initialised tiny Llama + BPE tokenizer (vocab ~600) to `folder`."""
    return save_tiny_llama(
        folder, corpus(), vocab_size=600, layers=layers, hidden=hidden, seed=seed
    )


def pass_the_gate(monkeypatch: Any) -> None:
    """Make every gate decision a pass (its figures kept): a random tiny model cannot improve
    significantly, and the tests that use this are about what happens after a pass."""
    from training import gate as gate_mod

    real = gate_mod.decide
    monkeypatch.setattr(
        gate_mod, "decide", lambda b, a, cfg: {**real(b, a, cfg), "passed": True, "reasons": []}
    )
