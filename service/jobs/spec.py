"""A job's stored config: which cases (a filter) and the training run (TrainConfig as JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.ops.cases import case_filter, check_filter, filter_json


def train_config(job_config: dict[str, Any], data_dir: Path) -> Any:
    """The TrainConfig of a job, with output and registry folders inside the data dir."""
    from training.config import TrainConfig

    train = dict(job_config.get("train") or {})
    train.setdefault("output_dir", str(data_dir / "training"))
    train.setdefault("registry_dir", str(data_dir / "adapters"))
    return TrainConfig.from_dict(train)


def job_config(
    *,
    base: str,
    cases: dict[str, Any] | None = None,
    cycles: int = 4,
    mix: float | None = None,
    learning_rate: float | None = None,
    force: bool = False,
    name: str | None = None,
    auto_promote: bool = False,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored job config: {"cases": filter, "train": TrainConfig dict}, validated.

    `cases` is a case filter as service.ops.cases.case_filter makes it (None: its default,
    the reviewed cases).
    """
    from training.config import TrainConfig

    train: dict[str, Any] = {**(overrides or {})}
    train.update(base=base, cycles=cycles, force=force, auto_promote=auto_promote)
    if name:
        train["name"] = name
    if learning_rate is not None:
        train["learning_rate"] = learning_rate
    if mix is not None:
        train["data"] = {**(train.get("data") or {}), "general_mix": mix}
    TrainConfig.from_dict(train)  # raises ValueError on a bad option
    filt = case_filter({}) if cases is None else check_filter(cases)
    return {"cases": filter_json(filt), "train": train}
