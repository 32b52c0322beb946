"""A tiny Llama and a tokenizer trained in code, saved like a real base model folder."""

from __future__ import annotations

from pathlib import Path

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
