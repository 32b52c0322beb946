"""Monitoring triggers: an Alertmanager webhook that starts a corrective training job.

Point an Alertmanager receiver at POST /v1/hooks/alertmanager with a `train`-scoped key
(http_config.authorization.credentials). A firing alert whose name matches
FAITHGATE_TRAINING_ALERT_PATTERN (faithfulness or laundering alerts by default) queues one job
per alert group episode: Alertmanager's repeated notifications of the same group return the
job already queued.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RequestIdDep, require_scope
from service.api.routing import JSONRoute
from service.errors import responses
from service.jobs.runner import default_base
from service.jobs.spec import job_config
from service.jobs.triggers import alert_domain, group_key, matching_alerts

router = APIRouter(tags=["hooks"], route_class=JSONRoute)
TrainerKey = Annotated[Any, Depends(require_scope("train"))]


class AlertmanagerIn(BaseModel):
    """Alertmanager's webhook payload (version 4); unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    version: str | None = None
    groupKey: str | None = None  # noqa: N815 (Alertmanager's field names)
    status: str | None = None
    receiver: str | None = None
    groupLabels: dict[str, Any] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, Any] = Field(default_factory=dict)  # noqa: N815
    alerts: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


class HookOut(BaseModel):
    """What the webhook did: the job it queued (or found), or why it did nothing."""

    action: str  # created | existing | ignored
    job_id: str | None = None
    reason: str | None = None


@router.post(
    "/v1/hooks/alertmanager",
    summary="Alertmanager webhook: start a training job",
    response_model=HookOut,
    responses=responses(400, 401, 403, 422, 503),
)
def alertmanager(
    body: AlertmanagerIn, request: Request, response: Response, key: TrainerKey, rid: RequestIdDep
) -> dict[str, Any]:
    """Queue one corrective job per firing faithfulness/laundering alert group (idempotent)."""
    runner = request.app.state.training
    payload = body.model_dump()
    alerts = matching_alerts(payload, runner.settings.training_alert_pattern)
    if not alerts:
        return {"action": "ignored", "reason": "no firing faithfulness or laundering alert"}
    domain = alert_domain(payload, alerts)
    cases = {"status": "reviewed", **({"domain": domain} if domain else {})}
    config = job_config(base=default_base(runner.settings), cases=cases)
    config["alert"] = {
        "group_key": payload.get("groupKey"),
        "alertnames": sorted({a["labels"].get("alertname") for a in alerts}),
    }
    job, created = runner.jobs.create(
        config,
        triggered_by="alert",
        dedup_key=group_key(payload, alerts),
        key_id=key.id,
        request_id=rid,
    )
    response.status_code = 202 if created else 200
    return {"action": "created" if created else "existing", "job_id": job["id"]}
