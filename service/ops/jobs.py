"""Training jobs: queued with their guards checked, whichever door asks; watched; cancelled.

The API, `faithgate train`, the Alertmanager hook and the automatic reviewed-case trigger all
queue through create_job(), so every job's config passes the same checks (the base model
exists, the options are known, the learning-rate guard) and its creation is audited with the
actor that asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from service.jobs import launch
from service.jobs.spec import job_config
from service.jobs.store import JobNotFound, JobStore
from service.ops.audit import Actor, record
from service.ops.cases import case_filter
from service.ops.errors import Conflict, Invalid, NotFound
from service.settings import Settings

ACTIVE = ("queued", "running")


@dataclass
class JobRequest:
    """A corrective fine-tuning run, as any door asks for it (unset fields take defaults)."""

    base: str | None = None  # default: the model the engine serves (Settings.training_base)
    cases: dict[str, Any] = field(default_factory=dict)  # case filter fields (ops.cases)
    cycles: int = 4
    mix: float | None = None  # share of general-reasoning examples (None: training's default)
    learning_rate: float | None = None
    force: bool = False
    name: str | None = None
    auto_promote: bool = False
    overrides: dict[str, Any] | None = None  # stage options by section: model, data, sft, dpo…


def build_config(settings: Settings, request: JobRequest) -> dict[str, Any]:
    """The stored job config with the guards checked now; Invalid says why it is refused."""
    from training.config import GuardError, TrainConfig, check
    from training.model import safetensors_parameters

    base = request.base or settings.training_base
    if not (Path(base) / "config.json").is_file():
        raise Invalid("base_model_not_found", f"no model folder at {base!r}")
    try:
        given = {f.name: getattr(request, f.name) for f in fields(request)}
        config = job_config(**{**given, "base": base, "cases": case_filter(request.cases)})
        warnings = check(TrainConfig.from_dict(config["train"]), safetensors_parameters(base))
    except GuardError as exc:
        raise Invalid("guard_refused", str(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise Invalid("invalid_request", str(exc)) from exc
    config["warnings"] = warnings
    return config


def create_job(
    store: Any,
    settings: Settings,
    request: JobRequest,
    actor: Actor,
    *,
    triggered_by: str,
    dedup_key: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Queue a job (audited as training.job_created): (job, created).

    With a dedup_key, the job already queued under that key is returned instead (created False).
    `extra` adds fields to the stored config (the alert that triggered the job).
    """
    config = {**build_config(settings, request), **(extra or {})}
    return JobStore(store).create(
        config,
        triggered_by=triggered_by,
        dedup_key=dedup_key,
        key_id=actor.id,
        request_id=actor.request_id,
    )


def get_job(store: Any, job_id: str) -> dict[str, Any]:
    """One job: status, progress, result or error."""
    try:
        return JobStore(store).get(job_id)
    except JobNotFound as exc:
        raise NotFound("job_not_found", f"no training job {job_id!r}") from exc


def list_jobs(
    store: Any, *, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of jobs, newest first, and the total."""
    return JobStore(store).list(status=status, limit=limit, offset=offset)


def cancel_job(store: Any, job_id: str, actor: Actor) -> dict[str, Any]:
    """Cancel (audited): a queued job ends now, a running one stops at its next step."""
    job = get_job(store, job_id)
    if job["status"] not in ACTIVE:
        raise Conflict("job_finished", f"job {job_id} already ended ({job['status']})")
    record(
        store,
        "training.cancel_requested",
        actor,
        data={"job_id": job_id, "status": job["status"]},
    )
    return JobStore(store).request_cancel(job_id)


def job_log(store: Any, settings: Settings, job_id: str) -> str:
    """The end of a job's worker log (16 KiB)."""
    get_job(store, job_id)
    return launch.tail(launch.log_path(Path(settings.data_dir), job_id))
