"""Training jobs: queue a corrective fine-tuning run (in a worker process), watch, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import StateDep, StoreDep, TrainerActor, require_scope
from service.api.routing import JSONRoute
from service.api.schemas.cases import MAX_OFFSET, CaseFilter
from service.errors import responses
from service.ops import jobs as job_ops

router = APIRouter(tags=["training"], route_class=JSONRoute)
TrainerKey = Annotated[Any, Depends(require_scope("train"))]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]


# --- protocol ---------------------------------------------------------------------------------
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
    status: JobStatus
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


# --- handlers ---------------------------------------------------------------------------------
@router.post(
    "/v1/training/jobs",
    summary="Start a corrective fine-tuning job",
    response_model=TrainingJob,
    status_code=202,
    responses=responses(400, 401, 403, 422, 503),
)
def create_job(body: TrainingJobIn, state: StateDep, actor: TrainerActor) -> dict[str, Any]:
    """Queue a job (audited as training.job_created); a worker process runs it."""
    fields = body.model_dump(exclude={"cases", "options"})
    cases = body.cases.model_dump(exclude_unset=True)
    request = job_ops.JobRequest(cases=cases, overrides=body.options, **fields)
    job, _ = job_ops.create_job(state.store, state.settings, request, actor, triggered_by="api")
    return job


@router.get(
    "/v1/training/jobs",
    summary="List training jobs",
    response_model=TrainingJobPage,
    responses=responses(401, 403, 422),
)
def list_jobs(
    store: StoreDep,
    _: TrainerKey,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Jobs, newest first."""
    jobs, total = job_ops.list_jobs(store, status=status, limit=limit, offset=offset)
    return {"jobs": jobs, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/v1/training/jobs/{job_id}",
    summary="Get a training job and its progress",
    response_model=TrainingJob,
    responses=responses(401, 403, 404),
)
def get_job(job_id: str, store: StoreDep, _: TrainerKey) -> dict[str, Any]:
    """The job: status, progress {stage, step, total_steps, loss, eta_s}, result or error."""
    return job_ops.get_job(store, job_id)


@router.post(
    "/v1/training/jobs/{job_id}/cancel",
    summary="Cancel a training job",
    response_model=TrainingJob,
    status_code=202,
    responses=responses(401, 403, 404, 409),
)
def cancel_job(job_id: str, store: StoreDep, actor: TrainerActor) -> dict[str, Any]:
    """A queued job ends at once; a running one stops at its next step (SIGTERM to its worker)."""
    return job_ops.cancel_job(store, job_id, actor)


@router.get(
    "/v1/training/jobs/{job_id}/log",
    summary="The end of a training job's worker log",
    response_class=PlainTextResponse,
    responses=responses(401, 403, 404),
)
def job_log(job_id: str, state: StateDep, _: TrainerKey) -> PlainTextResponse:
    """The last 16 KiB of the worker's output."""
    return PlainTextResponse(job_ops.job_log(state.store, state.settings, job_id))
