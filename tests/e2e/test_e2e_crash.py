"""SIGKILL the service in the middle of a burst: every answered request must have been audited."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx

from service.store import Store
from tests.figures import record
from tests.service.api_support import BAD, GOOD, bundle_records, chain

THREADS = 6
ANSWERED_BEFORE_KILL = 60


def _burst(server, stop: threading.Event, outcomes: list[tuple[str, int | None]]) -> None:
    """Send validations until stopped; record (request id, status or None on a dropped request)."""
    headers = server.auth("validate")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        i = 0
        while not stop.is_set():
            i += 1
            rid = f"burst-{uuid.uuid4().hex}"
            body = chain(BAD if i % 4 == 0 else GOOD)
            try:
                if i % 5 == 0:
                    r = client.post(
                        "/v1/validate/batch",
                        json={"chains": [body, chain(GOOD)]},
                        headers={**headers, "X-Request-ID": rid},
                    )
                else:
                    r = client.post(
                        "/v1/validate", json=body, headers={**headers, "X-Request-ID": rid}
                    )
                outcomes.append((rid, r.status_code))
            except httpx.TransportError:
                outcomes.append((rid, None))
                return


def _audit_transactions(server) -> float:
    """Audit transactions that carried validation records, from the service's own histogram."""
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("faithgate_audit_group_records_count "):
            return float(line.split()[-1])
    raise AssertionError("no faithgate_audit_group_records_count in /metrics")


def _workers_of(data_dir: Path) -> list[int]:
    """Processes still running with this server's data dir in their environment."""
    marker = f"FAITHGATE_DATA_DIR={data_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _start_burst(server) -> tuple[threading.Event, list, list[threading.Thread]]:
    """THREADS senders of validations: (their stop event, their outcomes, the threads)."""
    stop = threading.Event()
    outcomes: list[tuple[str, int | None]] = []
    threads = [
        threading.Thread(target=_burst, args=(server, stop, outcomes), daemon=True)
        for _ in range(THREADS)
    ]
    for t in threads:
        t.start()
    return stop, outcomes, threads


def _wait_for_answers(server, outcomes: list, deadline: float, since: int = 0) -> None:
    """Until ANSWERED_BEFORE_KILL requests sent after outcomes[since] were answered 200."""
    while sum(1 for _, status in outcomes[since:] if status == 200) < ANSWERED_BEFORE_KILL:
        assert time.monotonic() < deadline, f"no answers coming:\n{server.tail()}"
        time.sleep(0.01)


def _recorded_request_ids(server) -> set[str | None]:
    """The request ids in the server's audit trail, after checking that its chain verifies."""
    store = Store(server.database_url, server.data_dir)
    try:
        assert store.verify_chain()["ok"] is True
        buf = io.BytesIO()
        store.export_bundle(buf)
    finally:
        store.close()
    return {r.get("request_id") for r in bundle_records(buf.getvalue())}


def test_sigkill_during_a_burst_loses_no_answered_record(fresh_server) -> None:
    server = fresh_server
    server.start()
    stop, outcomes, threads = _start_burst(server)
    deadline = time.monotonic() + 120
    _wait_for_answers(server, outcomes, deadline)
    answered_by_now = sum(1 for _, status in outcomes if status == 200)
    transactions = _audit_transactions(server)
    # Group commit under load: fewer transactions than answered requests (each of which was
    # committed before its answer), so requests shared them; the kill below tests that sharing.
    assert 0 < transactions < answered_by_now, (transactions, answered_by_now)
    server.kill()  # mid-burst: requests are in flight in every thread
    stop.set()
    for t in threads:
        t.join(60)

    answered = {rid for rid, status in outcomes if status == 200}
    assert len(answered) >= ANSWERED_BEFORE_KILL
    assert all(status in (200, None) for _, status in outcomes), outcomes

    # The validation workers notice that their service is gone and exit.
    gone_by = time.monotonic() + 30
    while _workers_of(server.data_dir):
        assert time.monotonic() < gone_by, "validation workers outlived the killed server"
        time.sleep(0.1)

    server.start()  # the restart recovers the database (SQLite WAL) and serves again
    with httpx.Client(base_url=server.url, timeout=30) as client:
        verify = client.get("/v1/audit/verify", headers=server.auth("audit:read"))
        assert verify.status_code == 200 and verify.json()["ok"] is True, verify.text
        after = client.post("/v1/validate", json=chain(GOOD), headers=server.auth("validate"))
        assert after.status_code == 200

    recorded = _recorded_request_ids(server)
    missing = answered - recorded
    backend = "postgresql" if server.database_url.startswith("postgresql") else "sqlite"
    record(f"kill9-{backend}", acknowledged=len(answered), found=len(answered & recorded))
    assert not missing, f"{len(missing)} answered requests have no audit record"


def _audit_child(server) -> int:
    """The pid of the server's audit writer process."""
    pid = server.proc.pid
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"service.audit_process" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise AssertionError("the server has no audit writer process")


def test_sigkill_of_the_audit_process_during_a_burst_loses_no_answered_record(
    fresh_server,
) -> None:
    server = fresh_server
    server.start()
    stop, outcomes, threads = _start_burst(server)
    deadline = time.monotonic() + 120
    _wait_for_answers(server, outcomes, deadline)
    first = _audit_child(server)
    os.kill(first, signal.SIGKILL)  # mid-burst: its writes are in flight
    killed_at = len(outcomes)
    _wait_for_answers(server, outcomes, deadline, since=killed_at)  # through the replacement
    stop.set()
    for t in threads:
        t.join(60)

    assert _audit_child(server) != first
    # The writes the dead child held were refused (503), never answered without their record.
    assert {status for _, status in outcomes} <= {200, 503}, outcomes
    answered = {rid for rid, status in outcomes if status == 200}
    recorded = _recorded_request_ids(server)
    backend = "postgresql" if server.database_url.startswith("postgresql") else "sqlite"
    refused = sum(1 for _, status in outcomes if status == 503)
    record(
        f"audit-kill9-{backend}",
        acknowledged=len(answered),
        found=len(answered & recorded),
        refused=refused,
    )
    assert not answered - recorded, f"{len(answered - recorded)} answered requests unrecorded"
