"""Schemathesis over /openapi.json with an all-scope key: no 500, every answer as documented.

A short budget in CI (a few examples per operation, FAITHGATE_SCHEMA_EXAMPLES to change it); the
app runs in-process on SQLite with one validation worker and no training jobs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from service.main import create_app
from service.settings import Settings
from service.store import Store
from service.store.keys import SCOPE_ORDER
from tests.figures import record

EXAMPLES = int(os.environ.get("FAITHGATE_SCHEMA_EXAMPLES", "8"))
_DATA = Path(tempfile.mkdtemp(prefix="faithgate-schemathesis-"))
_URL = f"sqlite:///{_DATA / 'faithgate.db'}"
_store = Store(_URL, _DATA)
_, SECRET = _store.create_key("schemathesis", list(SCOPE_ORDER))
_store.close()
APP = create_app(
    Settings(workers=1, data_dir=_DATA, database_url=_URL, training_max_jobs=0, batch_max=8)
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CALLS: dict[str, int] = {}
SERVER_ERRORS: dict[int, int] = {}
CHECKS = [
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case) -> None:
    # The checks: every status documented, every body as its schema says, never a 500
    # (503 is a documented answer: no engine loaded, a worker busy). Schemathesis's stricter
    # extras (negative-data acceptance, Allow headers on 405) are not asked of this API.
    response = case.call(headers={"Authorization": f"Bearer {SECRET}"})
    CALLS[case.operation.label] = CALLS.get(case.operation.label, 0) + 1
    if response.status_code >= 500:
        SERVER_ERRORS[response.status_code] = SERVER_ERRORS.get(response.status_code, 0) + 1
    assert response.status_code != 500, response.text
    case.validate_response(response, checks=CHECKS)


def test_zz_figures() -> None:
    """Last in the module: calls per operation and 5xx answers (for the bench)."""
    record(
        "schemathesis",
        operations=len(CALLS),
        calls=sum(CALLS.values()),
        e500=SERVER_ERRORS.get(500, 0),
        e503=SERVER_ERRORS.get(503, 0),
    )
