"""A job's stored config: which cases (a filter) and the training run (TrainConfig as JSON)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

CASE_FILTERS = ("status", "domain", "model", "adapter", "laundering", "verdict", "since", "until")
DEFAULT_FILTER = {"status": "reviewed"}
_PAGE = 500


def parse_filter(text: str | None) -> dict[str, Any]:
    """ "domain=math,status=reviewed" (or "all") -> list_cases keyword arguments."""
    if text is None or not text.strip():
        return dict(DEFAULT_FILTER)
    if text.strip() == "all":
        return {}
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in CASE_FILTERS:
            raise ValueError(
                f"bad case filter {part!r}: use key=value with keys {', '.join(CASE_FILTERS)}"
            )
        out[key] = value
    return check_filter(out)


def check_filter(filt: dict[str, Any]) -> dict[str, Any]:
    """The filter with typed values (ValueError naming a bad key or value)."""
    out: dict[str, Any] = {}
    for key, value in filt.items():
        if key not in CASE_FILTERS:
            raise ValueError(f"unknown case filter {key!r}")
        if value is None:
            continue
        if key == "laundering" and not isinstance(value, bool):
            if str(value).lower() not in ("true", "false"):
                raise ValueError("laundering must be true or false")
            value = str(value).lower() == "true"
        if key in ("since", "until") and not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        if key == "status" and value not in ("open", "reviewed"):
            raise ValueError("status must be open or reviewed")
        out[key] = value
    return out


def filter_json(filt: dict[str, Any]) -> dict[str, Any]:
    """The filter as JSON (datetimes in ISO form)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in filt.items()}


def fetch_cases(store: Any, filt: dict[str, Any], limit: int | None = None) -> list[dict]:
    """Every case matching the filter (paged through Store.list_cases), oldest first."""
    filt = check_filter(filt)
    out: list[dict] = []
    offset = 0
    while True:
        page, total = store.list_cases(**filt, limit=_PAGE, offset=offset)
        out.extend(page)
        offset += len(page)
        if not page or offset >= total or (limit is not None and len(out) >= limit):
            break
    out.reverse()
    return out[:limit] if limit is not None else out


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
    """The stored job config: {"cases": filter, "train": TrainConfig dict}, validated."""
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
    filt = check_filter(DEFAULT_FILTER if cases is None else cases)
    return {"cases": filter_json(filt), "train": train}
