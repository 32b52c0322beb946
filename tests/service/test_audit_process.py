"""Validation records written by the audit writer process: its writes, its death, its absence."""
# The fixtures imported from api_support reappear as test parameters (pytest injects them).
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import time

import pytest
import uvloop

from service.audit_process import AuditProcess, write_groups
from service.store.errors import AuditWriteError
from service.store.records import validation_entry
from tests.service.api_support import (  # noqa: F401 (fixtures)
    BAD,
    GOOD,
    chain,
    records_of,
    sqlite_api_factory,
)
from validators import validate


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_validation_records_are_written_by_a_process_of_their_own(sqlite_api_factory) -> None:
    api = sqlite_api_factory()
    child = api.app.state.faithgate.audit_process
    assert child is not None and child.pid not in (None, os.getpid()) and _alive(child.pid)
    headers = {**api.auth("validate"), "X-Request-ID": "req-child-1"}
    r = api.client.post(
        "/v1/validate/batch", json={"chains": [chain(GOOD), chain(BAD)]}, headers=headers
    )
    assert r.status_code == 200, r.text
    refs = r.json()["records"]
    assert refs[0]["case_id"] is None and refs[1]["case_id"]  # the flagged one opened a case
    written = records_of(api, "req-child-1")
    assert [rec["id"] for rec in written] == [ref["record_id"] for ref in refs]
    assert [rec["verdict"] for rec in written] == ["faithful", "unfaithful"]
    assert "Natalia" in written[0]["payload"]  # the chain, as the worker encoded it
    assert api.store.verify_chain()["ok"] is True


def test_a_killed_audit_process_is_replaced_and_no_answer_goes_unrecorded(
    sqlite_api_factory,
) -> None:
    api = sqlite_api_factory()
    child = api.app.state.faithgate.audit_process
    first = child.pid
    os.kill(first, signal.SIGKILL)
    statuses, answered = [], []
    deadline = time.monotonic() + 60
    while not answered:
        assert time.monotonic() < deadline, statuses
        rid = f"after-kill-{len(statuses)}"
        r = api.client.post(
            "/v1/validate", json=chain(GOOD), headers={**api.auth("validate"), "X-Request-ID": rid}
        )
        statuses.append(r.status_code)
        if r.status_code == 200:
            answered.append(rid)
        else:  # a write that met the dead child: refused, never answered without its record
            assert r.status_code == 503 and r.json()["error"]["code"] == "audit_unavailable"
    assert child.pid not in (None, first) and _alive(child.pid) and not _alive(first)
    assert child.restarts == 1
    metrics = api.client.get("/metrics").text
    assert "faithgate_audit_process_restarts_total 1.0" in metrics
    assert len(records_of(api, answered[0])) == 1
    assert api.store.verify_chain()["ok"] is True


def test_a_child_that_cannot_start_is_not_respawned_for_every_write(tmp_path) -> None:
    process = AuditProcess({"database_url": "nosuchdb://", "data_dir": str(tmp_path)})

    async def scenario() -> list[str]:
        errors = []
        for _ in range(3):
            try:
                await process.write([])
            except AuditWriteError as exc:
                errors.append(str(exc))
        await process.close()
        return errors

    errors = asyncio.run(scenario())
    assert len(errors) == 3 and "could not start" in errors[0]
    assert all("is down" in e for e in errors[1:])  # within the back-off: refused at once
    assert process.restarts == 1


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_write_after_the_pipe_closed_goes_to_a_new_child(tmp_path, loop) -> None:
    """A killed child's pipe may close before its exit is read (CI saw a 500 for it): the write
    must go to a new child, neither raise from the transport nor wait for a dead one."""
    from service.store import Store

    store = Store(f"sqlite:///{tmp_path / 'faithgate.db'}", tmp_path)  # migrates, as the service
    store.close()
    process = AuditProcess(store.open_args)

    async def scenario() -> tuple[int | None, int | None, list]:
        await process.write([])  # started
        first = process.pid
        os.kill(first, signal.SIGKILL)
        process._proc.stdin.close()  # the transport closed; its end not yet read from stdout
        outcome = await asyncio.wait_for(process.write([]), 30)
        second = process.pid
        await process.close()
        return first, second, outcome

    runner = uvloop.run if loop == "uvloop" else asyncio.run
    first, second, outcome = runner(scenario())
    assert outcome == [] and second not in (None, first)
    assert process.restarts == 2  # the first start and the replacement


def test_without_the_process_the_audit_thread_writes_them(sqlite_api_factory) -> None:
    api = sqlite_api_factory(audit_process=False)
    assert api.app.state.faithgate.audit_process is None
    headers = {**api.auth("validate"), "X-Request-ID": "req-thread-1"}
    r = api.client.post("/v1/validate", json=chain(GOOD), headers=headers)
    assert r.status_code == 200
    (written,) = records_of(api, "req-thread-1")
    assert written["id"] == int(r.headers["x-audit-record-id"])


def test_one_bad_group_does_not_fail_the_groups_it_shared_a_write_with(store) -> None:
    body = chain(GOOD)
    good = {"chain": body, "report": validate(body), "model": "m"}
    entry = pickle.dumps(validation_entry(good, "r-entry", None, False))
    bad = {"chain": body, "report": {"verdict": "faithful", "odd": object()}}
    groups = [
        {"items": [entry], "request_id": "r-entry", "key_id": None, "redact": False},
        {"items": [bad], "request_id": "r-bad", "key_id": None, "redact": False},
        {"items": [good], "request_id": "r-dict", "key_id": None, "redact": False},
    ]
    outcomes = write_groups(store, groups)
    assert isinstance(outcomes[1], AuditWriteError)
    assert [len(o) for o in (outcomes[0], outcomes[2])] == [1, 1]
    assert store.count_records() == 2
    assert store.verify_chain()["ok"] is True
