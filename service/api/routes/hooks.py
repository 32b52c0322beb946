"""Monitoring triggers: an Alertmanager webhook that starts a corrective training job.

Point an Alertmanager receiver at POST /v1/hooks/alertmanager with a `train`-scoped key
(http_config.authorization.credentials). A firing alert whose name matches
FAITHGATE_TRAINING_ALERT_PATTERN (faithfulness or laundering alerts by default) queues one job
per alert group episode: Alertmanager's repeated notifications of the same group return the
job already queued.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import StateDep, TrainerActor
from service.api.routing import JSONRoute
from service.errors import responses
from service.jobs.triggers import alert_domain, group_key, matching_alerts
from service.ops import jobs as job_ops

router = APIRouter(tags=["hooks"], route_class=JSONRoute)


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
    body: AlertmanagerIn, response: Response, state: StateDep, actor: TrainerActor
) -> dict[str, Any]:
    """Queue one corrective job per firing faithfulness/laundering alert group (idempotent).

    The job passes the same guards as one queued through the API (422 when they refuse).
    """
    payload = body.model_dump()
    alerts = matching_alerts(payload, state.settings.training_alert_pattern)
    if not alerts:
        return {"action": "ignored", "reason": "no firing faithfulness or laundering alert"}
    domain = alert_domain(payload, alerts)
    request = job_ops.JobRequest(cases={"domain": domain} if domain else {})
    alert = {
        "group_key": payload.get("groupKey"),
        "alertnames": sorted({a["labels"].get("alertname") for a in alerts}),
    }
    job, created = job_ops.create_job(
        state.store,
        state.settings,
        request,
        actor,
        triggered_by="alert",
        dedup_key=group_key(payload, alerts),
        extra={"alert": alert},
    )
    response.status_code = 202 if created else 200
    return {"action": "created" if created else "existing", "job_id": job["id"]}
