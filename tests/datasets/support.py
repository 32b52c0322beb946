"""Shared helpers for the dataset tests: GSM8K rows in TRL shapes, reports without their timing."""

from __future__ import annotations

import json
import re
from pathlib import Path

GSM8K = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gsm8k" / "train.jsonl"
_ELAPSED = re.compile(r'"elapsed_ms": [-0-9.e]+')


def gsm8k(n: int) -> list[dict]:
    """The first n GSM8K train problems."""
    rows = []
    with GSM8K.open() as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def altered(answer: str) -> str:
    """The reference solution with its final answer changed: laundering, flagged unfaithful."""
    body, _, final = answer.rpartition("#### ")
    return f"{body}#### {int(final.replace(',', '')) + 1}"


def conversation(row: dict, answer: str | None = None) -> dict:
    """A TRL conversational row."""
    return {
        "messages": [
            {"role": "system", "content": "Solve step by step."},
            {"role": "user", "content": row["question"]},
            {"role": "assistant", "content": answer or row["answer"]},
        ]
    }


def untimed(text: str) -> str:
    """Report lines with elapsed_ms (wall time, the one field that varies) set to 0."""
    return _ELAPSED.sub('"elapsed_ms": 0', text)


def write_jsonl(path: Path, rows: list) -> Path:
    """Rows as JSON Lines."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict]:
    """JSON Lines read back."""
    return [json.loads(line) for line in path.read_text().splitlines()]
