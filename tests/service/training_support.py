"""Helpers of the training service tests: reviewed cases in a real Store, apps, tiny configs."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from training.generator import corrupted, problems
from validators.pipeline import validate


def seed_cases(
    store: Any, n: int, *, seed: int = 3, domain: str = "math", review: bool = True
) -> list[str]:
    """`n` flagged chains recorded through the store (cases), reviewed with the right steps."""
    rng = random.Random(seed)
    ids: list[str] = []
    for p in problems(n * 3, seed=seed, prefix=f"seed{seed}"):
        if len(ids) == n:
            break
        flagged = corrupted(p, rng)
        if flagged is None:
            continue
        chain = {"id": p.id, "question": p.question, "reasoning": flagged, "domain": domain}
        (out,) = store.record_validations(
            [{"chain": chain, "report": validate(chain), "model": "m"}],
            request_id=f"r-{p.id}",
            key_id=None,
        )
        assert out["case_id"], "a corrupted chain must open a case"
        if review:
            store.review_case(
                out["case_id"],
                {"verdict": "unfaithful", "corrected_reasoning": p.solution},
                key_id=None,
                request_id=None,
            )
        ids.append(out["case_id"])
    return ids


def tiny_train_options(**extra: Any) -> dict[str, Any]:
    """Stage options for a seconds-long run on the tiny Llama."""
    options: dict[str, Any] = {
        "model": {"quantization": "none", "lora_r": 4, "lora_alpha": 8, "cpu_threads": 1},
        "data": {"general_eval_size": 2, "eval_max": 2, "eval_min": 2},
        "sft": {"max_steps": 1, "max_length": 160, "per_device_train_batch_size": 2},
        "dpo": {"max_steps": 1, "max_length": 160},
        "gate": {"max_new_tokens": 8, "batch_size": 8},
    }
    for key, value in extra.items():
        options[key] = {**options.get(key, {}), **value}
    return options


def wait_for(predicate: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Poll until predicate() is truthy; its value, or AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


def start_app(
    data_dir: Path, fake_engine: Any = None, **settings: Any
) -> Iterator[tuple[Any, TestClient]]:
    """An app on SQLite in data_dir; `fake_engine` is set as the loaded engine (no model load)."""
    options = {
        "workers": 1,
        "data_dir": data_dir,
        "engine": "none",
        "training_max_jobs": 0,
        **settings,
    }
    app = create_app(Settings(**options))
    app.state.faithgate.runtime.engine = fake_engine
    with TestClient(app) as client:
        yield app, client


def auth(app: Any, *scopes: str) -> dict[str, str]:
    """Headers of a fresh key holding `scopes`."""
    _, secret = app.state.faithgate.store.create_key("t", list(scopes))
    return {"Authorization": f"Bearer {secret}"}
