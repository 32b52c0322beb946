"""Shared test helpers: where the public datasets live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    """The first `limit` records of a JSON Lines file."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(out) >= limit:
                break
            out.append(json.loads(line))
    return out


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """../shared/data, or skip loudly when the datasets are not beside the checkout."""
    if not DATA.is_dir():
        pytest.fail(f"public datasets not found at {DATA}")
    return DATA
