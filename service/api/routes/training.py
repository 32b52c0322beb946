"""Training jobs: queue a corrective fine-tuning run, watch its progress, cancel it.

Jobs run in worker processes (service/jobs), never in the request path. This router's lifespan
starts the job runner after the app's own start (store open) and stops it before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RequestIdDep, require_scope
from service.api.routing import JSONRoute
from service.errors import ApiError, responses
from service.jobs import launch
from service.jobs.runner import JobRunner, default_base
from service.jobs.spec import job_config
from service.jobs.store import JobNotFound


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the job runner while the app runs (after the store is open)."""
    state = app.state.faithgate
    runner = JobRunner(app, state.settings, state.store, state.metrics)
    app.state.training = runner
    await runner.start()
    try:
        yield
    finally:
        await runner.stop()


router = APIRouter(tags=["training"], route_class=JSONRoute, lifespan=lifespan)
TrainerKey = Annotated[Any, Depends(require_scope("train"))]


def runner_of(request: Request) -> JobRunner:
    """The app's job runner."""
    return request.app.state.training


# --- protocol ---------------------------------------------------------------------------------
class CaseFilter(BaseModel):
    """Which cases the run learns from (every given field must match)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "reviewed"] | None = "reviewed"
    domain: str | None = None
    model: str | None = None
    adapter: str | None = None
    laundering: bool | None = None
    verdict: Literal["faithful", "unfaithful", "unverifiable"] | None = None
    since: datetime | None = None
    until: datetime | None = None


class TrainingJobIn(BaseModel):
    """A corrective fine-tuning run."""

    model_config = ConfigDict(extra="forbid")

    base: str | None = Field(None, description="Base model folder; default: the served model")
    cases: CaseFilter = Field(default_factory=CaseFilter)
    cycles: int = Field(4, ge=1, le=50, description="Refinement cycles")
    mix: float = Field(0.15, ge=0, lt=1, description="Share of general-reasoning examples")
    learning_rate: float | None = Field(None, gt=0, description="Both stages; guarded")
    force: bool = Field(False, description="Run despite a refused learning rate")
    name: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    auto_promote: bool = Field(False, description="Promote (hot-load) when the gate passes")
    options: dict[str, Any] | None = Field(
        None, description="Stage options by section: model, data, sft, dpo, gate (training/)"
    )


class TrainingJob(BaseModel):
    """A training job: its state, progress (step, loss, ETA) and, once done, its result."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
    triggered_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    cancel_requested: bool = False


class TrainingJobPage(BaseModel):
    """A page of jobs, newest first."""

    jobs: list[TrainingJob]
    total: int
    limit: int
    offset: int


def build_config(body: TrainingJobIn, settings: Any) -> dict[str, Any]:
    """The stored job config, with the guards checked now (422 with the reason otherwise)."""
    from training.config import GuardError, TrainConfig, check
    from training.model import safetensors_parameters

    base = body.base or default_base(settings)
    if not (Path(base) / "config.json").is_file():
        raise ApiError(422, "base_model_not_found", f"no model folder at {base!r}")
    try:
        config = job_config(
            base=base,
            cases=body.cases.model_dump(exclude_none=True),
            cycles=body.cycles,
            mix=body.mix,
            learning_rate=body.learning_rate,
            force=body.force,
            name=body.name,
            auto_promote=body.auto_promote,
            overrides=body.options,
        )
        warnings = check(TrainConfig.from_dict(config["train"]), safetensors_parameters(base))
    except GuardError as exc:
        raise ApiError(422, "guard_refused", str(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    config["warnings"] = warnings
    return config


# --- handlers ---------------------------------------------------------------------------------
@router.post(
    "/v1/training/jobs",
    summary="Start a corrective fine-tuning job",
    response_model=TrainingJob,
    status_code=202,
    responses=responses(400, 401, 403, 422, 503),
)
def create_job(
    body: TrainingJobIn, request: Request, key: TrainerKey, rid: RequestIdDep
) -> dict[str, Any]:
    """Queue a job (audited as training.job_created); a worker process runs it."""
    runner = runner_of(request)
    config = build_config(body, runner.settings)
    job, _ = runner.jobs.create(config, triggered_by="api", key_id=key.id, request_id=rid)
    return job


@router.get(
    "/v1/training/jobs",
    summary="List training jobs",
    response_model=TrainingJobPage,
    responses=responses(401, 403, 422),
)
def list_jobs(
    request: Request,
    _: TrainerKey,
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
    | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Jobs, newest first."""
    jobs, total = runner_of(request).jobs.list(status=status, limit=limit, offset=offset)
    return {"jobs": jobs, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/v1/training/jobs/{job_id}",
    summary="Get a training job and its progress",
    response_model=TrainingJob,
    responses=responses(401, 403, 404),
)
def get_job(job_id: str, request: Request, _: TrainerKey) -> dict[str, Any]:
    """The job: status, progress {stage, step, total_steps, loss, eta_s}, result or error."""
    try:
        return runner_of(request).jobs.get(job_id)
    except JobNotFound as exc:
        raise ApiError(404, "job_not_found", f"no training job {job_id!r}") from exc


@router.post(
    "/v1/training/jobs/{job_id}/cancel",
    summary="Cancel a training job",
    response_model=TrainingJob,
    status_code=202,
    responses=responses(401, 403, 404, 409),
)
def cancel_job(job_id: str, request: Request, key: TrainerKey, rid: RequestIdDep) -> dict[str, Any]:
    """A queued job ends at once; a running one stops at its next step (SIGTERM to its worker)."""
    runner = runner_of(request)
    try:
        job = runner.jobs.get(job_id)
    except JobNotFound as exc:
        raise ApiError(404, "job_not_found", f"no training job {job_id!r}") from exc
    if job["status"] not in ("queued", "running"):
        raise ApiError(409, "job_finished", f"job {job_id} already ended ({job['status']})")
    runner.store.append(
        "training.cancel_requested",
        request_id=rid,
        key_id=key.id,
        data={"job_id": job_id, "status": job["status"]},
    )
    return runner.cancel(job_id)


@router.get(
    "/v1/training/jobs/{job_id}/log",
    summary="The end of a training job's worker log",
    response_class=PlainTextResponse,
    responses=responses(401, 403, 404),
)
def job_log(job_id: str, request: Request, _: TrainerKey) -> PlainTextResponse:
    """The last 16 KiB of the worker's output."""
    runner = runner_of(request)
    try:
        runner.jobs.get(job_id)
    except JobNotFound as exc:
        raise ApiError(404, "job_not_found", f"no training job {job_id!r}") from exc
    return PlainTextResponse(launch.tail(launch.log_path(Path(runner.settings.data_dir), job_id)))
