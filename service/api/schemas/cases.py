"""Request models that several routers share: the case filter of the case list and of jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from service.store.canonical import utc_instant

Verdict = Literal["faithful", "unfaithful", "unverifiable"]
CaseStatus = Literal["open", "reviewed"]
# An instant of every query and filter: converted to UTC at the door (422 when UTC has none).
UtcTime = Annotated[datetime, AfterValidator(utc_instant)]
# The largest page offset: far past any real table, far below SQLite's 64-bit INTEGER.
MAX_OFFSET = 1_000_000_000


class CaseFields(BaseModel):
    """What a case is filtered by besides its status (every given field must match)."""

    domain: str | None = None
    model: str | None = None
    adapter: str | None = None
    laundering: bool | None = None
    verdict: Verdict | None = None
    since: UtcTime | None = None
    until: UtcTime | None = None


class CaseFilter(CaseFields):
    """Which cases a training run learns from (service.ops.cases.case_filter)."""

    model_config = ConfigDict(extra="forbid")

    status: CaseStatus | None = Field(
        "reviewed", description="reviewed unless given; null: every status"
    )


class CaseQuery(CaseFields):
    """The case list's query: the filters, any status unless given, and the page."""

    status: CaseStatus | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
